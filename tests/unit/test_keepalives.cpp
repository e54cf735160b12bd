// Unit tests for tap/keepalives: the one keepalive series (interval per
// flow, per-SA stats with the reservoir median) and the idle NAT mapping.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include "tap/keepalives.h"
#include "ike_builder.h"

using namespace natt;
using natt_test::IkeBuilder;

namespace {

const Endpoint kI = Endpoint::v4(0xC6336417u, 4500);
const Endpoint kR = Endpoint::v4(0xCB00710Au, 4500);

void test_series(void**) {
    KeepaliveSeries k;
    k.add(10, 1000);
    assert_int_equal(k.count, 1);
    assert_int_equal(k.first_frame, 10);
    assert_int_equal(k.median_interval_ns(), 0);  // no interval yet
    k.add(11, 1300);
    k.add(12, 1400);
    k.add(13, 1900);
    assert_int_equal(k.count, 4);
    assert_int_equal(k.last_frame, 13);
    assert_int_equal(k.min_interval_ns, 100);
    assert_int_equal(k.max_interval_ns, 500);
    assert_int_equal(k.median_interval_ns(), 300);  // of 100, 300, 500
    assert_int_equal(k.intervals_seen, 3);
}

void test_flows_and_directions(void**) {
    Keepalives ka;
    IkeBuilder b;
    IkeSa sa;
    sa.number = 1;
    auto send = [&](const Endpoint& src, const Endpoint& dst, Direction dir) {
        FrameAnalysis fa;
        fa.dir = dir;
        ka.observe(sa, b.keepalive(src, dst, 20 * kSecondNs), fa);
        return fa;
    };
    FrameAnalysis fa = send(kI, kR, Direction::FromInitiator);
    assert_int_equal(fa.keepalive_prev_frame, 0);
    fa = send(kR, kI, Direction::FromResponder);
    assert_int_equal(fa.keepalive_prev_frame, 0);  // another flow
    fa = send(kI, kR, Direction::FromInitiator);
    assert_int_equal(fa.keepalive_prev_frame, 1);
    assert_int_equal(fa.keepalive_interval_ns, 40 * kSecondNs);
    assert_int_equal(sa.keepalives[1].count, 2);
    assert_int_equal(sa.keepalives[2].count, 1);
    // Unknown direction, or the other side of a NAT (side 1): in no series.
    send(kI, kR, Direction::Unknown);
    b.side = 1;
    send(Endpoint::v4(0x0A000002u, 4500), kR, Direction::FromInitiator);
    assert_int_equal(sa.keepalives[1].count, 2);
    b.side = 0;
    send(kI, kR, Direction::FromInitiator);
    assert_int_equal(sa.keepalives[1].count, 3);
}

// One keepalive captured twice (within kDuplicateWindowNs on the same flow):
// a duplicate of the first copy, neither an interval nor counted.
void test_duplicates(void**) {
    Keepalives ka;
    IkeBuilder b;
    IkeSa sa;
    sa.number = 1;
    auto send = [&](const Endpoint& src, const Endpoint& dst, int64_t step_ns) {
        FrameAnalysis fa;
        fa.dir = src == kI ? Direction::FromInitiator : Direction::FromResponder;
        const Datagram d = b.keepalive(src, dst, step_ns);
        ka.observe(sa, d, fa);
        if (fa.copy != Copy::Duplicate) sa.last_new_frame = d.frame;  // as the Analyzer does
        return fa;
    };
    const FrameAnalysis first = send(kI, kR, 20 * kSecondNs);
    assert_int_equal(static_cast<int>(first.copy), static_cast<int>(Copy::None));
    const FrameAnalysis dup = send(kI, kR, 100000);  // 0.1 ms later
    assert_int_equal(static_cast<int>(dup.copy), static_cast<int>(Copy::Duplicate));
    assert_int_equal(dup.related_frame, 1);
    assert_int_equal(dup.keepalive_prev_frame, 0);
    assert_int_equal(sa.keepalives[1].count, 1);
    // At the window's edge still a duplicate of the first copy.
    const FrameAnalysis dup2 = send(kI, kR, kDuplicateWindowNs - 100000);
    assert_int_equal(static_cast<int>(dup2.copy), static_cast<int>(Copy::Duplicate));
    assert_int_equal(dup2.related_frame, 1);
    // The other flow at once: not a duplicate.
    const FrameAnalysis back = send(kR, kI, 1000);
    assert_int_equal(static_cast<int>(back.copy), static_cast<int>(Copy::None));
    assert_int_equal(sa.keepalives[2].count, 1);
    // The next keepalive: its interval is from the first copy, not the duplicates.
    const FrameAnalysis next = send(kI, kR, 20 * kSecondNs);
    assert_int_equal(static_cast<int>(next.copy), static_cast<int>(Copy::None));
    assert_int_equal(next.keepalive_prev_frame, 1);
    assert_int_equal(next.keepalive_interval_ns, 20 * kSecondNs + kDuplicateWindowNs + 1000);
    assert_int_equal(sa.keepalives[1].count, 2);
    assert_int_equal(sa.keepalives[1].median_interval_ns(), next.keepalive_interval_ns);
    // Just past the window: a keepalive of its own (a short interval).
    const FrameAnalysis quick = send(kI, kR, kDuplicateWindowNs + 1);
    assert_int_equal(static_cast<int>(quick.copy), static_cast<int>(Copy::None));
    assert_int_equal(sa.keepalives[1].count, 3);
}

void test_mapping_idle(void**) {
    IkeBuilder b;
    IkeSa sa;
    sa.nat.verdict = NatVerdict::Peers;
    sa.nat.initiator = PeerNat::Behind;
    sa.nat.initiator_behind = true;
    const int64_t timeout = 30 * kSecondNs;
    FrameAnalysis fa;
    check_mapping_idle(sa, b.esp(kI, kR, 0x1000, 1), fa, timeout);  // the first packet
    assert_int_equal(fa.findings, 0);
    Datagram late = b.base(kI, kR, timeout + 1);
    check_mapping_idle(sa, late, fa, timeout);
    assert_int_equal(fa.findings, kFindSilence | kFindNoKeepalive);
    assert_int_equal(fa.silence_ns, timeout + 1);
    assert_int_equal(sa.finding_count, 1);
    // With keepalives from the peer behind the NAT, only the silence.
    sa.keepalives[1].count = 1;
    FrameAnalysis fa2;
    check_mapping_idle(sa, b.base(kI, kR, timeout + 1), fa2, timeout);
    assert_int_equal(fa2.findings, kFindSilence);
    // No NAT, no finding.
    sa.nat.verdict = NatVerdict::Peers;
    sa.nat.initiator = sa.nat.responder = PeerNat::NotBehind;
    FrameAnalysis fa3;
    check_mapping_idle(sa, b.base(kI, kR, timeout + 1), fa3, timeout);
    assert_int_equal(fa3.findings, 0);
}

// Only side 0's packets tell the mapping's idle time (the other side has its
// own NAT mapping, seen twice), and a duplicate tells nothing.
void test_mapping_idle_side_and_duplicates(void**) {
    IkeBuilder b;
    IkeSa sa;
    sa.nat.verdict = NatVerdict::Peers;
    sa.nat.initiator = PeerNat::Behind;
    sa.nat.initiator_behind = true;
    const int64_t timeout = 30 * kSecondNs;
    FrameAnalysis fa;
    check_mapping_idle(sa, b.base(kI, kR), fa, timeout);
    const int64_t noted = sa.last_natt_ns;
    assert_int_equal(noted, b.time_ns);
    // Side 1, long after: neither a finding nor noted.
    b.side = 1;
    FrameAnalysis other;
    check_mapping_idle(sa, b.base(kI, kR, timeout + 1), other, timeout);
    assert_int_equal(other.findings, 0);
    assert_int_equal(sa.last_natt_ns, noted);
    // A duplicate on side 0: neither.
    b.side = 0;
    FrameAnalysis dup;
    dup.copy = Copy::Duplicate;
    check_mapping_idle(sa, b.base(kI, kR, 1), dup, timeout);
    assert_int_equal(dup.findings, 0);
    assert_int_equal(sa.last_natt_ns, noted);
    // Side 0 itself: the silence.
    FrameAnalysis own;
    check_mapping_idle(sa, b.base(kI, kR, 1), own, timeout);
    assert_true(own.findings & kFindSilence);
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_flows_and_directions),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_mapping_idle),
        cmocka_unit_test(test_mapping_idle_side_and_duplicates),
    };
    return cmocka_run_group_tests_name("keepalives", tests, nullptr, nullptr);
}
