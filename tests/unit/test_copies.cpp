// Unit tests for tap/copies: twins of a message on both sides of a NAT, the
// NAT mappings they show, payload alteration, the inside interface.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

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

    explicit TwoSides(uint32_t first_interface = 0) {
        sa.number = 1;
        sa.first_interface = first_interface;
        b.interface = first_interface;
        FrameAnalysis fa;
        fa.dir = Direction::FromInitiator;
        const Datagram d = b.ike(kInside, kR, 0x1111, 0, kExIdentityProtection, 0, 0x10, 0, 1);
        assert_null(copies.find_twin(sa, d, fa.dir, exchanges));
        exchanges.observe(sa, d, fa, kDefaultMaxSas);
        copies.remember(d);
        first = &sa.phase1[0];
    }
    // The message again on interface 1, from the NAT's outside address.
    Datagram copy(uint8_t fill, int64_t after_ns = 1000000, uint32_t interface = 1) {
        b.interface = interface;
        Datagram d = b.ike(kOutside, kR, 0x1111, 0, kExIdentityProtection, 0, 0x10, 0, fill);
        d.time_ns = first->time_ns + after_ns;
        return d;
    }
};

void test_twin_and_mapping(void**) {
    TwoSides t;
    const Datagram d = t.copy(1);
    MessageRecord* orig = t.copies.find_twin(t.sa, d, Direction::FromInitiator, t.exchanges);
    assert_ptr_equal(orig, t.first);
    FrameAnalysis fa;
    fa.dir = Direction::FromInitiator;
    t.copies.observe_twin(t.sa, *orig, d, fa);
    assert_int_equal(fa.related_frame, 1);
    assert_int_equal(t.first->twin_frame, d.frame);
    assert_int_equal(fa.findings, 0);  // same bytes
    assert_int_equal(t.sa.nat_mappings.size(), 1);
    const NatMapping& m = t.sa.nat_mappings[0];
    assert_int_equal(static_cast<int>(m.peer), static_cast<int>(Direction::FromInitiator));
    assert_true(m.first == kInside && m.second == kOutside);
    assert_int_equal(m.first_interface, 0);
    assert_int_equal(m.second_interface, 1);
    assert_int_equal(fa.mapping_index, 1);
    assert_int_equal(t.first->mapping_index, 1);
    // The private address is the inside.
    assert_int_equal(inside_interface(t.sa, m), 0);
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
    // Beyond the twin window, or on the same interface: not a copy.
    assert_null(t.copies.find_twin(t.sa, t.copy(1, kTwinWindowNs + 1), Direction::FromInitiator, t.exchanges));
    Datagram same_if = t.copy(1);
    same_if.interface = 0;
    assert_null(t.copies.find_twin(t.sa, same_if, Direction::FromInitiator, t.exchanges));
    // The other direction.
    assert_null(t.copies.find_twin(t.sa, t.copy(1), Direction::FromResponder, t.exchanges));
}

// Capture interfaces are 32-bit (pcapng IDB index): interface 300 and 44 are
// two interfaces even though they agree in their low 8 bits, and the mapping
// names them in full.
void test_interfaces_beyond_8_bits(void**) {
    TwoSides t(300);
    const Datagram d = t.copy(1, 1000000, 44);  // 300 & 0xff == 44
    MessageRecord* orig = t.copies.find_twin(t.sa, d, Direction::FromInitiator, t.exchanges);
    assert_ptr_equal(orig, t.first);
    FrameAnalysis fa;
    fa.dir = Direction::FromInitiator;
    t.copies.observe_twin(t.sa, *orig, d, fa);
    assert_int_equal(t.sa.nat_mappings.size(), 1);
    assert_int_equal(t.sa.nat_mappings[0].first_interface, 300);
    assert_int_equal(t.sa.nat_mappings[0].second_interface, 44);
    assert_int_equal(inside_interface(t.sa, t.sa.nat_mappings[0]), 300);
    // 256 against 0: still two interfaces.
    TwoSides u(0);
    assert_ptr_equal(u.copies.find_twin(u.sa, u.copy(1, 1000000, 256), Direction::FromInitiator, u.exchanges), u.first);
    // The same interface in full is never a twin.
    assert_null(t.copies.find_twin(t.sa, t.copy(1, 1000000, 300), Direction::FromInitiator, t.exchanges));
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
    assert_int_equal(inside_interface(sa, m), -1);  // neither private
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twin_and_mapping),
        cmocka_unit_test(test_payload_altered),
        cmocka_unit_test(test_not_twins),
        cmocka_unit_test(test_interfaces_beyond_8_bits),
        cmocka_unit_test(test_private_address),
    };
    return cmocka_run_group_tests_name("copies", tests, nullptr, nullptr);
}
