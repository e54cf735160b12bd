// Unit tests for tap/copies: twins of a message on both sides of a NAT, the
// NAT mappings they show, payload alteration, the inside side; duplicates
// of a datagram on one side.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <utility>
#include <vector>

#include "tap/copies.h"
#include "ike_builder.h"

using namespace natt;
using natt_test::IkeBuilder;

namespace {

const Endpoint kInside = Endpoint::v4(0x0A000005u, 500);    // 10.0.0.5
const Endpoint kOutside = Endpoint::v4(0xC6336417u, 500);   // 198.51.100.23
const Endpoint kR = Endpoint::v4(0xCB00710Au, 500);

struct TwoSides {
    Copies copies;
    Exchanges exchanges;
    IkeBuilder b;
    IkeSa sa;
    MessageRecord* first = nullptr;

    TwoSides() {
        sa.number = 1;
        FrameAnalysis fa;
        fa.dir = Direction::FromInitiator;
        Datagram d = b.ike(kInside, kR, 0x1111, 0, kExIdentityProtection, 0, 0x10, 0, 1);
        d.side = sa.sides.of(d.src, d.dst);  // as SaRegistry::create and the Analyzer do
        assert_int_equal(d.side, 0);
        assert_null(copies.find_twin(sa, d, fa.dir, exchanges));
        exchanges.observe(sa, d, fa, kDefaultMaxSas);
        copies.remember(d, sa.number);
        first = &sa.phase1[0];
    }
    // The message again, between other hosts: from the NAT's outside address
    // (the other side of the NAT), or from src. Its side as the Analyzer
    // gives it: by its host pair.
    Datagram copy(uint8_t fill, int64_t after_ns = 1000000, const Endpoint& src = kOutside) {
        Datagram d = b.ike(src, kR, 0x1111, 0, kExIdentityProtection, 0, 0x10, 0, fill);
        d.time_ns = sa.phase1[0].time_ns + after_ns;  // (first may move as phase1 grows)
        d.side = sa.sides.of(d.src, d.dst);
        return d;
    }
};

void test_twin_and_mapping(void**) {
    TwoSides t;
    const Datagram d = t.copy(1);
    assert_int_equal(d.side, 1);  // other hosts: the other side
    MessageRecord* orig = t.copies.find_twin(t.sa, d, Direction::FromInitiator, t.exchanges);
    assert_ptr_equal(orig, t.first);
    FrameAnalysis fa;
    fa.dir = Direction::FromInitiator;
    t.copies.observe_twin(t.sa, *orig, d, fa);
    assert_int_equal(static_cast<int>(fa.copy), static_cast<int>(Copy::Twin));
    assert_int_equal(fa.related_frame, 1);
    assert_int_equal(t.first->twin_frame, d.frame);
    assert_int_equal(fa.findings, 0);  // same bytes
    assert_int_equal(t.sa.nat_mappings.size(), 1);
    const NatMapping& m = t.sa.nat_mappings[0];
    assert_int_equal(static_cast<int>(m.peer), static_cast<int>(Direction::FromInitiator));
    assert_true(m.first == kInside && m.second == kOutside);
    assert_int_equal(m.first_side, 0);
    assert_int_equal(m.second_side, 1);
    assert_int_equal(fa.mapping_index, 1);
    assert_int_equal(t.first->mapping_index, 1);
    // The private address is the inside.
    assert_int_equal(inside_side(t.sa, m), 0);
    // The same mapping again is not added twice.
    FrameAnalysis again;
    again.dir = Direction::FromInitiator;
    t.copies.observe_twin(t.sa, *orig, t.copy(1), again);
    assert_int_equal(t.sa.nat_mappings.size(), 1);
    assert_int_equal(again.mapping_index, 1);
}

void test_payload_altered(void**) {
    TwoSides t;
    const Datagram d = t.copy(2);  // a NAT "helper" rewrote the body
    MessageRecord* orig = t.copies.find_twin(t.sa, d, Direction::FromInitiator, t.exchanges);
    assert_ptr_equal(orig, t.first);  // still its copy: same exchange, ID, length
    FrameAnalysis fa;
    fa.dir = Direction::FromInitiator;
    t.copies.observe_twin(t.sa, *orig, d, fa);
    assert_true(fa.findings & kFindPayloadAltered);
    assert_int_equal(fa.altered_offset, 32);  // the first body byte
    assert_int_equal(t.sa.finding_count, 1);
}

void test_not_twins(void**) {
    TwoSides t;
    // Beyond the twin window, either way in time: not a copy.
    assert_null(t.copies.find_twin(t.sa, t.copy(1, kTwinWindowNs + 1), Direction::FromInitiator, t.exchanges));
    assert_null(t.copies.find_twin(t.sa, t.copy(1, -kTwinWindowNs - 1), Direction::FromInitiator, t.exchanges));
    // The same hosts and ports (the same side): a retransmission or a
    // duplicate, never a twin.
    const Datagram same_hosts = t.copy(1, 1000000, kInside);
    assert_int_equal(same_hosts.side, 0);
    assert_null(t.copies.find_twin(t.sa, same_hosts, Direction::FromInitiator, t.exchanges));
    // The same hosts from another port: the same bytes within the duplicate
    // window are a NAT that translates ports only; later, not a copy.
    const Datagram new_port = t.copy(1, 1000000, Endpoint::v4(0x0A000005u, 4500));
    assert_int_equal(new_port.side, 0);
    assert_ptr_equal(t.copies.find_twin(t.sa, new_port, Direction::FromInitiator, t.exchanges), t.first);
    const Datagram new_port_later = t.copy(1, kDuplicateWindowNs + 1, Endpoint::v4(0x0A000005u, 4500));
    assert_null(t.copies.find_twin(t.sa, new_port_later, Direction::FromInitiator, t.exchanges));
    // The other direction.
    assert_null(t.copies.find_twin(t.sa, t.copy(1), Direction::FromResponder, t.exchanges));
}

// Two capturing machines' clocks disagree: a copy seen "before" its original
// (up to kTwinWindowNs) is still its twin.
void test_twin_with_skewed_clock(void**) {
    TwoSides t;
    const Datagram early = t.copy(1, -3 * kSecondNs);
    assert_ptr_equal(t.copies.find_twin(t.sa, early, Direction::FromInitiator, t.exchanges), t.first);
    TwoSides u;
    const Datagram late = u.copy(1, 3 * kSecondNs);
    assert_ptr_equal(u.copies.find_twin(u.sa, late, Direction::FromInitiator, u.exchanges), u.first);
    // At the edge of the window, either way.
    TwoSides v;
    assert_ptr_equal(v.copies.find_twin(v.sa, v.copy(1, -kTwinWindowNs), Direction::FromInitiator, v.exchanges),
                     v.first);
}

// Sides are host pairs, ports ignored; an SA tells kMaxSidesPerSa apart.
void test_sides_by_hosts(void**) {
    SaSides s;
    const Endpoint a = Endpoint::v4(0x0A000005u, 500), b = Endpoint::v4(0xCB00710Au, 500);
    assert_int_equal(s.find(a, b), -1);
    assert_int_equal(s.next(), 0);
    assert_int_equal(s.of(a, b), 0);
    assert_int_equal(s.of(b, a), 0);  // either way
    assert_int_equal(s.of(Endpoint::v4(0x0A000005u, 4500), Endpoint::v4(0xCB00710Au, 4500)), 0);  // ports float
    assert_int_equal(s.count, 1);
    assert_int_equal(s.next(), 1);
    for (uint8_t i = 1; i < kMaxSidesPerSa; ++i) assert_int_equal(s.of(Endpoint::v4(0xC6336400u + i, 500), b), i);
    assert_int_equal(s.next(), kUnlistedSide);
    assert_int_equal(s.of(Endpoint::v4(0xC63364F0u, 500), b), kUnlistedSide);  // no room
    assert_int_equal(s.find(Endpoint::v4(0xC63364F0u, 500), b), -1);
    assert_int_equal(s.count, kMaxSidesPerSa);
    // IPv4 and IPv6 hosts are different sides.
    SaSides t;
    assert_int_equal(t.of(a, b), 0);
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
    v6[15] = 5;
    assert_int_equal(t.of(Endpoint::from_bytes(6, v6, 500), b), 1);
}

// A message sent twice on one side (the original and a retransmission), each
// seen on the other side too: the copies pair in order, the oldest record
// without a twin first, whatever the clocks say.
void test_twins_pair_in_order(void**) {
    TwoSides t;
    // The retransmission on side 0, 0.5 s later, the same bytes.
    FrameAnalysis fa;
    fa.dir = Direction::FromInitiator;
    Datagram re = t.b.ike(kInside, kR, 0x1111, 0, kExIdentityProtection, 0, 0x10, 0, 1);
    re.time_ns = t.sa.phase1[0].time_ns + 500000000;
    re.side = t.sa.sides.of(re.src, re.dst);
    assert_null(t.copies.find_twin(t.sa, re, fa.dir, t.exchanges));
    t.exchanges.observe(t.sa, re, fa, kDefaultMaxSas);
    assert_true(fa.retransmission);
    assert_int_equal(t.sa.phase1.size(), 2);
    const uint32_t f1 = t.sa.phase1[0].frame, f2 = t.sa.phase1[1].frame;
    // The other side's copies, its clock 3 s behind: both before either original.
    for (int k = 0; k < 2; ++k) {
        const Datagram c = t.copy(1, -3 * kSecondNs + k * 500000000);
        MessageRecord* orig = t.copies.find_twin(t.sa, c, Direction::FromInitiator, t.exchanges);
        assert_non_null(orig);
        assert_int_equal(orig->frame, k == 0 ? f1 : f2);
        FrameAnalysis cf;
        cf.dir = Direction::FromInitiator;
        t.copies.observe_twin(t.sa, *orig, c, cf);
        assert_int_equal(cf.related_frame, k == 0 ? f1 : f2);
    }
    assert_true(t.sa.phase1[0].twin_frame != 0 && t.sa.phase1[1].twin_frame != 0);
    assert_true(t.sa.phase1[0].twin_frame < t.sa.phase1[1].twin_frame);
    // A third copy: every record has its twin, the latest is taken.
    MessageRecord* third = t.copies.find_twin(t.sa, t.copy(1, 0), Direction::FromInitiator, t.exchanges);
    assert_non_null(third);
    assert_int_equal(third->frame, f2);
}

// The same datagram captured twice on one side: same addresses, ports and
// bytes within kDuplicateWindowNs.
void test_duplicate_of(void**) {
    TwoSides t;
    Datagram orig = t.b.ike(kInside, kR, 0x1111, 0, kExIdentityProtection, 0, 0x10, 0, 1);
    // The builder reuses its buffer: keep these bytes.
    const std::vector<uint8_t> bytes = t.b.bytes;
    orig.ike_bytes = bytes.data();
    // TwoSides remembered frame 1 with these bytes; orig is frame 2, 10 ms later.
    Copies::Original o = t.copies.duplicate_of(orig);
    assert_int_equal(o.frame, 1);
    assert_int_equal(o.sa, 1);
    // At the edge of the window, and beyond it (a retransmission).
    Datagram edge = orig;
    edge.time_ns = t.first->time_ns + kDuplicateWindowNs;
    assert_int_equal(t.copies.duplicate_of(edge).frame, 1);
    Datagram late = orig;
    late.time_ns = t.first->time_ns + kDuplicateWindowNs + 1;
    assert_int_equal(t.copies.duplicate_of(late).frame, 0);
    // Other bytes, other addresses, other ports: not the same datagram.
    const Datagram other_bytes = t.b.ike(kInside, kR, 0x1111, 0, kExIdentityProtection, 0, 0x10, 0, 2);
    assert_int_equal(t.copies.duplicate_of(other_bytes).frame, 0);
    Datagram other_hosts = orig;
    other_hosts.src = kOutside;
    assert_int_equal(t.copies.duplicate_of(other_hosts).frame, 0);
    Datagram other_port = orig;
    other_port.src = Endpoint::v4(0x0A000005u, 501);
    assert_int_equal(t.copies.duplicate_of(other_port).frame, 0);
    Datagram reversed = orig;
    std::swap(reversed.src, reversed.dst);
    assert_int_equal(t.copies.duplicate_of(reversed).frame, 0);
    // Only earlier frames are originals (later passes replay nothing here).
    Datagram earlier = orig;
    earlier.frame = 1;
    assert_int_equal(t.copies.duplicate_of(earlier).frame, 0);
    // Three copies: each later one names the first (the Analyzer remembers
    // no duplicate).
    Datagram third = orig;
    third.frame = orig.frame + 1;
    third.time_ns = orig.time_ns + 1000;
    assert_int_equal(t.copies.duplicate_of(third).frame, 1);
}

void test_private_address(void**) {
    assert_true(private_address(Endpoint::v4(0x0A000001u, 1)));    // 10/8
    assert_true(private_address(Endpoint::v4(0xAC1F0001u, 1)));    // 172.31/12
    assert_false(private_address(Endpoint::v4(0xAC200001u, 1)));   // 172.32
    assert_true(private_address(Endpoint::v4(0xC0A80001u, 1)));    // 192.168/16
    assert_true(private_address(Endpoint::v4(0x64400001u, 1)));    // 100.64/10
    assert_false(private_address(Endpoint::v4(0x64800001u, 1)));   // 100.128
    assert_false(private_address(Endpoint::v4(0xC6336417u, 1)));
    NatMapping m;
    m.first = Endpoint::v4(0xC6336417u, 1);
    m.second = Endpoint::v4(0xCB00710Au, 1);
    IkeSa sa;
    assert_int_equal(inside_side(sa, m), -1);  // neither private
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twin_and_mapping),
        cmocka_unit_test(test_payload_altered),
        cmocka_unit_test(test_not_twins),
        cmocka_unit_test(test_twin_with_skewed_clock),
        cmocka_unit_test(test_sides_by_hosts),
        cmocka_unit_test(test_twins_pair_in_order),
        cmocka_unit_test(test_duplicate_of),
        cmocka_unit_test(test_private_address),
    };
    return cmocka_run_group_tests_name("copies", tests, nullptr, nullptr);
}
