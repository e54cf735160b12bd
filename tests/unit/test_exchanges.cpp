// Unit tests for tap/exchanges: retransmissions (one scan for phase 1 and
// child exchanges), message numbering, SA state, the record budget.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <vector>

#include "tap/exchanges.h"
#include "ike_builder.h"

using namespace natt;
using natt_test::IkeBuilder;

namespace {

const Endpoint kI = Endpoint::v4(0xC6336417u, 500);
const Endpoint kR = Endpoint::v4(0xCB00710Au, 500);

MessageRecord rec(Direction dir, uint64_t digest, bool retrans = false) {
    MessageRecord m;
    m.dir = dir;
    m.digest = digest;
    m.retransmission = retrans;
    return m;
}

void test_retransmission_scan(void**) {
    std::vector<MessageRecord> v;
    assert_false(is_retransmission(v, Direction::FromInitiator, 1, false));
    v.push_back(rec(Direction::FromInitiator, 1));
    // IKEv1 phase 1: any second message from the same side.
    assert_true(is_retransmission(v, Direction::FromInitiator, 2, false));
    // Child exchanges and IKEv2: only the same bytes.
    assert_false(is_retransmission(v, Direction::FromInitiator, 2, true));
    assert_true(is_retransmission(v, Direction::FromInitiator, 1, true));
    assert_false(is_retransmission(v, Direction::FromResponder, 1, true));
    // Retransmissions are skipped: the latest first copy decides.
    v.push_back(rec(Direction::FromResponder, 7, true));
    assert_true(is_retransmission(v, Direction::FromInitiator, 1, true));
}

void test_first_copies(void**) {
    std::vector<MessageRecord> v;
    assert_int_equal(first_copies(v), 0);
    v.push_back(rec(Direction::FromInitiator, 1));
    v.push_back(rec(Direction::FromInitiator, 1, true));
    v.push_back(rec(Direction::FromResponder, 2));
    assert_int_equal(first_copies(v), 2);
    std::vector<MessageRecord> many(300, rec(Direction::FromInitiator, 1));
    assert_int_equal(first_copies(many), 255);  // saturates
}

void test_main_mode(void**) {
    Exchanges ex;
    IkeBuilder b;
    IkeSa sa;
    sa.number = 1;
    sa.flavour = IkeFlavour::MainMode;
    auto send = [&](bool from_i, uint8_t fill) {
        FrameAnalysis fa;
        fa.dir = from_i ? Direction::FromInitiator : Direction::FromResponder;
        const Datagram d = b.ike(from_i ? kI : kR, from_i ? kR : kI, 0x1111, from_i ? 0 : 0x2222,
                                 kExIdentityProtection, 0, 0x10, 0, fill);
        ex.observe(sa, d, fa, kDefaultMaxSas);
        return fa;
    };
    FrameAnalysis fa = send(true, 1);
    assert_int_equal(fa.phase1_message, 1);
    assert_int_equal(fa.record_index, 1);
    assert_int_equal(static_cast<int>(fa.exchange_class), static_cast<int>(ExchangeClass::Phase1));
    // MM1 again, unanswered: a retransmission and a finding.
    fa = send(true, 1);
    assert_true(fa.retransmission);
    assert_true(fa.findings & kFindUnanswered);
    assert_int_equal(fa.phase1_message, 1);
    assert_int_equal(sa.finding_count, 1);
    assert_int_equal(static_cast<int>(sa.state), static_cast<int>(SaState::InProgress));
    fa = send(true, 1);
    assert_int_equal(static_cast<int>(sa.state), static_cast<int>(SaState::Failed));  // twice unanswered
    // Answered at last: numbering goes on, the SA recovers and completes.
    for (int i = 0; i < 5; ++i) {
        fa = send(i % 2 == 0 ? false : true, static_cast<uint8_t>(10 + i));
        assert_false(fa.retransmission);
        assert_int_equal(fa.phase1_message, 2 + i);
    }
    assert_int_equal(static_cast<int>(sa.state), static_cast<int>(SaState::Established));
    assert_int_equal(sa.phase1.size(), 8);
    assert_int_equal(sa.phase1_retransmissions, 2);
}

void test_quick_mode(void**) {
    Exchanges ex;
    IkeBuilder b;
    IkeSa sa;
    sa.number = 1;
    auto qm = [&](bool from_i, uint8_t fill) {
        FrameAnalysis fa;
        fa.dir = from_i ? Direction::FromInitiator : Direction::FromResponder;
        ex.observe(sa, b.ike(from_i ? kI : kR, from_i ? kR : kI, 1, 2, kExQuickMode, 0x77, 0x10, 0, fill), fa,
                   kDefaultMaxSas);
        return fa;
    };
    qm(true, 1);
    FrameAnalysis fa = qm(true, 1);  // the same bytes again
    assert_true(fa.retransmission);
    assert_int_equal(fa.findings & kFindUnanswered, 0);  // only phase 1 says so
    qm(false, 2);
    assert_false(sa.children[0].completed);
    fa = qm(true, 3);
    assert_int_equal(fa.child_index, 1);
    assert_int_equal(fa.child_message, 3);  // the resend is not a message of its own
    assert_true(sa.children[0].completed);
    assert_int_equal(sa.children[0].completed_frame, b.frame);
    assert_ptr_equal(ex.child(sa, 0x77), &sa.children[0]);
    assert_null(ex.child(sa, 0x78));
    assert_int_equal(sa.quick_modes(), 1);
    assert_int_equal(sa.quick_modes_completed(), 1);
}

void test_delete(void**) {
    Exchanges ex;
    IkeBuilder b;
    IkeSa sa;
    sa.number = 1;
    FrameAnalysis fa;
    Datagram d = b.ike(kI, kR, 1, 2, kExInformational, 5);
    ex.observe(sa, d, fa, kDefaultMaxSas);
    assert_int_equal(static_cast<int>(sa.state), static_cast<int>(SaState::InProgress));
    IkeMessage with_delete = *d.ike;
    with_delete.has_delete = true;
    d.ike = &with_delete;
    ex.observe(sa, d, fa, kDefaultMaxSas);
    assert_int_equal(static_cast<int>(sa.state), static_cast<int>(SaState::Deleted));
}

void test_record_budget(void**) {
    Exchanges ex;
    IkeBuilder b;
    IkeSa sa;
    sa.number = 1;
    for (int i = 0; i < 100; ++i) {
        FrameAnalysis fa;
        fa.dir = Direction::FromInitiator;
        ex.observe(sa, b.ike(kI, kR, 1, 0, kExIdentityProtection, 0), fa, 1);
        assert_int_equal(fa.record_index, i < static_cast<int>(kRecordsPerSa) ? i + 1 : 0);
    }
    assert_int_equal(sa.phase1.size(), kRecordsPerSa);
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retransmission_scan),
        cmocka_unit_test(test_first_copies),
        cmocka_unit_test(test_main_mode),
        cmocka_unit_test(test_quick_mode),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_record_budget),
    };
    return cmocka_run_group_tests_name("exchanges", tests, nullptr, nullptr);
}
