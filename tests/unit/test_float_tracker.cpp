// Unit tests for tap/float_tracker: the port-pair index, the float, and the
// one rebinding path (floated IKE from a new ip:port, a new pair after the
// old one idled out, an ESP SPI on a new pair).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include "tap/float_tracker.h"
#include "ike_builder.h"

using namespace natt;
using natt_test::IkeBuilder;

namespace {

const Endpoint kI500 = Endpoint::v4(0xC6336417u, 500);
const Endpoint kR500 = Endpoint::v4(0xCB00710Au, 500);
const Endpoint kI4500 = Endpoint::v4(0xC6336417u, 4500);
const Endpoint kR4500 = Endpoint::v4(0xCB00710Au, 4500);
const Endpoint kIRebound = Endpoint::v4(0xC6336417u, 61001);

struct World {
    SaRegistry reg;
    PairIndex pairs;
    FloatTracker floats;
    IkeBuilder b;
    IkeSa* sa = nullptr;
    uint8_t last_side = 0;

    World() {
        const Datagram mm1 = b.ike(kI500, kR500, 0x1111, 0, kExIdentityProtection, 0);
        sa = &reg.create(mm1);
        reg.adopt_identity(*sa, mm1);
        sa->rcookie = 0x2222;
    }
    FrameAnalysis floated(const Endpoint& src, const Endpoint& dst) {
        FrameAnalysis fa;
        fa.dir = Direction::FromInitiator;
        Datagram d = b.ike(src, dst, 0x1111, 0x2222, kExIdentityProtection, 0, 0x10, 0, 0, true);
        d.side = sa->sides.of(d.src, d.dst);  // as the Analyzer does: by host pair
        last_side = d.side;
        floats.observe_floated_ike(*sa, d, fa, pairs, reg);
        sa->last_frame = d.frame;
        return fa;
    }
};

void test_pair_index(void**) {
    PairIndex p;
    const PortPair a(kI4500, kR4500), b(kR500, kI500);
    assert_int_equal(p.sa_on(a), 0);
    const uint32_t slot = p.slot_of(a);
    assert_int_equal(p.slot_of(PortPair(kR4500, kI4500)), slot);  // either way
    assert_int_equal(p.sa_on(a), 0);
    p.set_latest(a, 3);
    assert_int_equal(p.sa_on(a), 3);
    assert_int_equal(p.sa_in_slot(slot), 3);
    assert_true(p.slot_of(b) != slot);
    for (uint32_t n = 1; n <= 20; ++n) p.add_floated(a, n % 12 + 1);
    assert_int_equal(p.floated_on(a)->size(), kMaxSasPerPair);
    assert_null(p.floated_on(b));
}

void test_float(void**) {
    World w;
    const FrameAnalysis fa = w.floated(kI4500, kR4500);
    assert_true(fa.floated_now);
    assert_int_equal(fa.findings, 0);
    const Float& fl = w.sa->floating;
    assert_true(fl.floated);
    assert_int_equal(fl.frame, w.b.frame);
    assert_true(fl.initiator == kI4500 && fl.responder == kR4500);
    assert_true(w.sa->sides.natt(0).initiator == kI4500 && w.sa->sides.natt(0).responder == kR4500);
    assert_int_equal(w.pairs.sa_on(PortPair(kI4500, kR4500)), 1);
    // Again on the same pair: nothing new.
    assert_false(w.floated(kI4500, kR4500).floated_now);
    assert_int_equal(w.sa->finding_count, 0);
}

void test_rebinding_by_ike(void**) {
    World w;
    w.floated(kI4500, kR4500);
    const uint32_t before = w.sa->last_frame;
    const FrameAnalysis fa = w.floated(kIRebound, kR4500);
    assert_true(fa.findings & kFindRebinding);
    assert_int_equal(fa.related_frame, before);
    assert_int_equal(w.sa->finding_count, 1);
    const Float& fl = w.sa->floating;
    assert_true(fl.initiator == kI4500);  // the first float stays
    assert_true(w.sa->sides.natt(0).initiator == kIRebound);
    assert_true(w.reg.alias_matches(1, kIRebound, kR4500));
    assert_int_equal(w.pairs.sa_on(PortPair(kIRebound, kR4500)), 1);
    assert_int_equal(w.last_side, 0);  // the same hosts, another port
    // Between other hosts it is the other side of a NAT, not a rebinding.
    const Endpoint inside = Endpoint::v4(0x0A000002u, 4500);
    assert_int_equal(w.floated(inside, kR4500).findings, 0);
    assert_int_equal(w.last_side, 1);
    assert_true(w.sa->sides.natt(0).initiator == kIRebound);
    assert_true(w.sa->sides.natt(1).initiator == inside);
    assert_int_equal(w.sa->finding_count, 1);
    // That side's own port change is a rebinding on that side, not on side 0.
    assert_true(w.floated(Endpoint::v4(0x0A000002u, 4501), kR4500).findings & kFindRebinding);
    assert_int_equal(w.sa->finding_count, 2);
    assert_true(w.sa->sides.natt(0).initiator == kIRebound);
    // The float's side again, from yet another port: a rebinding.
    assert_true(w.floated(Endpoint::v4(0xC6336417u, 61002), kR4500).findings & kFindRebinding);
    assert_int_equal(w.sa->finding_count, 3);
}

void test_rebinding_found_after_timeout(void**) {
    World w;
    w.floated(kI4500, kR4500);
    w.sa->major = 1;
    w.sa->last_natt_ns = w.b.time_ns;
    const int64_t timeout = 30 * kSecondNs;
    Datagram ka = w.b.keepalive(kIRebound, kR4500);
    // Within the NAT timeout another peer behind the same NAT may use the address.
    assert_null(w.floats.find_rebound(ka, w.reg, timeout));
    ka.time_ns = w.sa->last_natt_ns + timeout + 1;
    assert_ptr_equal(w.floats.find_rebound(ka, w.reg, timeout), w.sa);
    // Not to the SA's other end: no candidate.
    Datagram elsewhere = ka;
    elsewhere.dst = Endpoint::v4(0xCB00710Au, 4501);
    assert_null(w.floats.find_rebound(elsewhere, w.reg, timeout));
    // A deleted SA is not rebound.
    w.sa->state = SaState::Deleted;
    assert_null(w.floats.find_rebound(ka, w.reg, timeout));
}

void test_rebind_without_endpoints(void**) {
    // ESP: the SPI moved, which peer's mapping is unknown: only the finding.
    World w;
    w.floated(kI4500, kR4500);
    FrameAnalysis fa;
    w.floats.rebind(*w.sa, fa, w.reg);
    assert_true(fa.findings & kFindRebinding);
    assert_int_equal(w.sa->finding_count, 1);
    assert_true(w.sa->sides.natt(0).initiator == kI4500);
    assert_int_equal(w.reg.aliases(*w.sa).size(), 1);
}

void test_placeholder(void**) {
    SaRegistry reg;
    PairIndex pairs;
    FloatTracker floats;
    IkeBuilder b;
    const Datagram esp = b.esp(kR4500, Endpoint::v4(0xC6336417u, 7000), 0x1000, 1);
    IkeSa& sa = reg.create(esp);
    floats.float_placeholder(sa, esp, pairs, reg);
    assert_true(sa.floating.floated);
    assert_int_equal(sa.major, 0);
    // The 4500 side is taken as the responder.
    assert_true(sa.floating.responder == kR4500);
    assert_true(sa.floating.initiator == esp.dst);
    // The pair it is on now is the current one: IKE on it later is no rebinding.
    assert_true(sa.sides.natt(0).responder == kR4500);
    assert_true(sa.sides.natt(0).initiator == esp.dst);
    assert_int_equal(sa.floating.frame, 0);  // the float itself is not in the capture
    assert_true(sa.roles_guessed);
    assert_int_equal(pairs.sa_on(PortPair(esp.src, esp.dst)), 1);
    assert_true(reg.alias_matches(1, esp.src, esp.dst));
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pair_index),
        cmocka_unit_test(test_float),
        cmocka_unit_test(test_rebinding_by_ike),
        cmocka_unit_test(test_rebinding_found_after_timeout),
        cmocka_unit_test(test_rebind_without_endpoints),
        cmocka_unit_test(test_placeholder),
    };
    return cmocka_run_group_tests_name("float_tracker", tests, nullptr, nullptr);
}
