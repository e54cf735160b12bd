// Unit tests for tap/esp_tracker: evidence before ESP without IKE gets an
// SA, SPI-to-child inference, (pair, SPI) records, SPI owners.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include "tap/esp_tracker.h"
#include "ike_builder.h"

using namespace natt;
using natt_test::IkeBuilder;

namespace {

const Endpoint kI = Endpoint::v4(0xC6336417u, 4500);
const Endpoint kR = Endpoint::v4(0xCB00710Au, 4500);

void test_evidence(void**) {
    EspTracker esp;
    IkeBuilder b;
    // Reserved SPIs and sequence number 0 are never ESP.
    for (uint32_t s = 1; s <= 5; ++s) assert_false(esp.record_esp_evidence(b.esp(kI, kR, 255, s), 1));
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x1000, 0), 1));
    // kEspEvidencePackets packets with rising sequence numbers.
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x1000, 10), 1));
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x1000, 11), 1));
    assert_true(esp.record_esp_evidence(b.esp(kI, kR, 0x1000, 12), 1));
    // A jump beyond kEspSeqStep, or a step back, starts over.
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x2000, 1), 1));
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x2000, 2), 1));
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x2000, 2 + kEspSeqStep + 1), 1));
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x2000, 2 + kEspSeqStep + 2), 1));
    assert_true(esp.record_esp_evidence(b.esp(kI, kR, 0x2000, 2 + kEspSeqStep + 2 + kEspSeqStep), 1));
    // The same packet captured twice (a repeated sequence number) is no evidence.
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x4000, 1), 1));
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x4000, 1), 1));
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x4000, 2), 1));
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x4000, 2), 1));
    assert_true(esp.record_esp_evidence(b.esp(kI, kR, 0x4000, 3), 1));
    // ... and does not start the count over either.
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x5000, 1), 1));
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x5000, 2), 1));
    assert_false(esp.record_esp_evidence(b.esp(kI, kR, 0x5000, 2), 1));
    assert_true(esp.record_esp_evidence(b.esp(kI, kR, 0x5000, 3), 1));
    // Per port pair: the same SPI elsewhere has its own evidence.
    assert_false(esp.record_esp_evidence(b.esp(kR, Endpoint::v4(1, 9), 0x3000, 1), 1));
}

ChildExchange completed(uint32_t frame, uint32_t linked_from_i = 0) {
    ChildExchange cx;
    cx.completed = true;
    cx.completed_frame = frame;
    cx.esp_spis_linked[1] = linked_from_i;
    return cx;
}

void test_infer_child(void**) {
    IkeSa sa;
    assert_int_equal(infer_child(sa, 100, Direction::FromInitiator), 0);
    sa.children.push_back(completed(10, 1));  // 1: has its SPI
    sa.children.push_back(completed(20));     // 2
    sa.children.push_back(completed(30));     // 3
    ChildExchange open;
    sa.children.push_back(open);              // 4: not completed
    sa.children.push_back(completed(500));    // 5: after the packet
    // The oldest of the latest run without an SPI in this direction.
    assert_int_equal(infer_child(sa, 100, Direction::FromInitiator), 2);
    // The other direction has no SPI anywhere: the whole run, back to 1.
    assert_int_equal(infer_child(sa, 100, Direction::FromResponder), 1);
    // Every one linked: the latest completed one.
    sa.children[1].esp_spis_linked[1] = 1;
    sa.children[2].esp_spis_linked[1] = 1;
    assert_int_equal(infer_child(sa, 100, Direction::FromInitiator), 3);
    // Before any completed exchange: none.
    assert_int_equal(infer_child(sa, 5, Direction::FromInitiator), 0);
}

void test_observe_records(void**) {
    EspTracker esp;
    SaRegistry reg;
    PairIndex pairs;
    IkeBuilder b;
    IkeSa& sa = reg.create(b.esp(kI, kR, 0x1000, 1));
    sa.children.push_back(completed(1));
    const Datagram d = b.esp(kI, kR, 0x1000, 2);
    assert_true(esp.observe(sa, d, Direction::FromInitiator, pairs, reg, true, 1));
    assert_int_equal(sa.esp.size(), 1);
    assert_int_equal(sa.esp[0].packets, 1);
    assert_int_equal(sa.esp[0].child_index, 1);
    assert_int_equal(sa.children[0].esp_spis_linked[1], 1);
    const EspRef* ref = esp.find(kI, kR, 0x1000);
    assert_non_null(ref);
    assert_int_equal(ref->sa, 1);
    assert_int_equal(ref->index, 0);
    assert_true(ref->natt_pair);
    assert_int_equal(ref->pair_slot, pairs.slot_of(PortPair(kI, kR)));
    // The record: its first frame, the latest packet, its side.
    assert_int_equal(ref->first_frame, d.frame);
    assert_int_equal(ref->last_frame, d.frame);
    assert_int_equal(ref->last_seq, 2);
    assert_int_equal(ref->last_ns, d.time_ns);
    assert_int_equal(ref->side, 0);
    // Counted on the SA's side 0 only (a two-sided capture shows each packet
    // twice).
    const Endpoint kOutside = Endpoint::v4(0x0A000002u, 4500);
    Datagram other_side = b.esp(kOutside, kR, 0x1000, 3);
    other_side.side = 1;
    assert_true(esp.observe(sa, other_side, Direction::FromInitiator, pairs, reg, true, 1));
    assert_int_equal(sa.esp[0].packets, 1);
    const EspRef* other_ref = esp.find(kOutside, kR, 0x1000);
    assert_non_null(other_ref);
    assert_int_equal(other_ref->side, 1);
    assert_int_equal(other_ref->first_frame, other_side.frame);
    assert_true(esp.find(kI, kR, 0x1000)->first_frame < other_ref->first_frame);
    // Side 0 again: counted.
    assert_true(esp.observe(sa, b.esp(kI, kR, 0x1000, 3), Direction::FromInitiator, pairs, reg, true, 1));
    assert_int_equal(sa.esp[0].packets, 2);
    // The budget of SPI stats (kEspRecordsPerSa x max_sas).
    for (uint32_t spi = 0x2000; spi < 0x2000 + 40; ++spi)
        esp.observe(sa, b.esp(kI, kR, spi, 1), Direction::FromInitiator, pairs, reg, true, 1);
    assert_int_equal(sa.esp.size(), kEspRecordsPerSa);
}

void test_spi_owner(void**) {
    EspTracker esp;
    IkeBuilder b;
    assert_null(esp.owner_of_spi(0x1000));
    Datagram first = b.esp(kI, kR, 0x1000, 1);
    first.side = 1;
    esp.set_owner(0x1000, 7, first, 1);
    assert_true(esp.spi_owned(0x1000));
    const EspTracker::SpiOwner* o = esp.owner_of_spi(0x1000);
    assert_int_equal(o->sa, 7);
    // Where it was first seen: its other side's copies show the NAT's mapping.
    assert_true(o->src == kI && o->dst == kR);
    assert_int_equal(o->side, 1);
    assert_int_equal(o->frame, first.frame);
    // kSpiOwnersPerSa x max_sas owners at most.
    for (uint32_t spi = 0x2000; spi < 0x2010; ++spi) esp.set_owner(spi, 7, first, 1);
    assert_true(esp.spi_owned(0x2000 + kSpiOwnersPerSa - 2));
    assert_false(esp.spi_owned(0x2000 + kSpiOwnersPerSa - 1));
    // An SA's SPIs follow it to kMaxEspPairsPerSa new port pairs.
    for (unsigned i = 0; i < kMaxEspPairsPerSa; ++i) assert_true(esp.follow_to_new_pair(7));
    assert_false(esp.follow_to_new_pair(7));
    assert_true(esp.follow_to_new_pair(2));
}

// The same packet twice on one port pair: a duplicate within
// kDuplicateWindowNs, never counted; the same sequence number later is a
// replay, not a duplicate.
void test_duplicates(void**) {
    IkeBuilder b;
    EspRef ref;
    const Datagram first = b.esp(kI, kR, 0x1000, 7);
    assert_false(esp_duplicate(ref, first));  // nothing seen yet
    ref.last_seq = 7;
    ref.last_ns = first.time_ns;
    ref.last_frame = first.frame;
    Datagram again = b.esp(kI, kR, 0x1000, 7);
    again.time_ns = first.time_ns + kDuplicateWindowNs;
    assert_true(esp_duplicate(ref, again));
    again.time_ns = first.time_ns + kDuplicateWindowNs + 1;
    assert_false(esp_duplicate(ref, again));
    assert_false(esp_duplicate(ref, b.esp(kI, kR, 0x1000, 8)));
}

// count_esp: side 0 only.
void test_count(void**) {
    IkeBuilder b;
    EspSpiStats st;
    st.spi = 0x1000;
    const Datagram p1 = b.esp(kI, kR, 0x1000, 10);
    count_esp(st, p1);
    assert_int_equal(st.packets, 1);
    assert_int_equal(st.bytes, 100);
    assert_int_equal(st.last_frame, p1.frame);
    Datagram p2 = b.esp(kI, kR, 0x1000, 11);
    p2.side = 1;
    count_esp(st, p2);
    assert_int_equal(st.packets, 1);  // the other side: not counted
    assert_int_equal(st.last_frame, p1.frame);
    count_esp(st, b.esp(kI, kR, 0x1000, 12));
    assert_int_equal(st.packets, 2);
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evidence),
        cmocka_unit_test(test_infer_child),
        cmocka_unit_test(test_observe_records),
        cmocka_unit_test(test_spi_owner),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_count),
    };
    return cmocka_run_group_tests_name("esp_tracker", tests, nullptr, nullptr);
}
