// Unit tests for tap/limits.h: whole-file budgets scale with max_sas.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include "tap/ike_sa.h"
#include "tap/limits.h"

using namespace natt;

namespace {

void test_budget_has_room(void**) {
    const Budget b(4);
    assert_true(b.has_room(0, 1));
    assert_true(b.has_room(3, 1));
    assert_false(b.has_room(4, 1));
    // A multiple of max_sas.
    assert_true(b.has_room(39, 10));
    assert_false(b.has_room(40, 10));
    assert_int_equal(b.taken(), 0);
}

void test_budget_try_take(void**) {
    Budget b(3);
    for (int i = 0; i < 6; ++i) assert_true(b.try_take(2));
    assert_int_equal(b.taken(), 6);
    assert_false(b.try_take(2));
    assert_int_equal(b.taken(), 6);  // a refused take counts nothing
    // A larger max_sas gives room again (the preference changed).
    assert_true(b.try_take(3));
    assert_int_equal(b.taken(), 7);
    b.reset();
    assert_int_equal(b.taken(), 0);
    assert_true(b.try_take(1));
}

void test_limits_consistent(void**) {
    // Windows are ordered as the model relies on: a twin is within two
    // capturing clocks' disagreement, inside the NAT timeout; a duplicate is
    // far closer than a retransmission (0.5 s or more) or a twin.
    assert_true(kTwinWindowNs < kDefaultNatTimeoutNs);
    assert_true(kDuplicateWindowNs < kSecondNs / 2);
    assert_true(kDuplicateWindowNs < kTwinWindowNs);
    // Both sides of a NAT, and a side that is none of them.
    assert_true(kMaxSidesPerSa >= 2);
    assert_true(kUnlistedSide >= kMaxSidesPerSa);
    assert_int_equal(abs_ns(-5), 5);
    assert_int_equal(abs_ns(5), 5);
    assert_true(kSharedSocketWindowNs <= kPendingResponseWindowNs);
    // The per-message arrays fit their counters (uint8_t).
    assert_true(kMaxPayloads < 256 && kMaxNatDObservations < 256 && kMaxNatMappingsPerSa < 256);
    assert_true(kMaxAliasesPerSa >= 2);  // each side of a NAT gives one
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_has_room),
        cmocka_unit_test(test_budget_try_take),
        cmocka_unit_test(test_limits_consistent),
    };
    return cmocka_run_group_tests_name("limits", tests, nullptr, nullptr);
}
