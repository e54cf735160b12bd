// natt: the Analyzer's ESP paths: ESP-in-UDP of a known (port pair, SPI)
// (nearly every frame of a busy capture), ESP on a new pair or with a new
// SPI, raw ESP (IP protocol 50), and what later passes look up for them.
#include "analyzer.h"

namespace natt {

// Nearly every frame of a busy capture is ESP on a (port pair, SPI) seen
// before: one lookup (the SPI's record, which points at the pair's latest
// SA) and a few counters. false: not seen before, take the general path.
bool Analyzer::observe_known_esp(const Datagram& in, FrameAnalysis& fa) {
    EspRef* ref = esp_.find(in.src, in.dst, in.esp_spi);
    if (!ref) return false;
    const uint32_t on_pair = pairs_.sa_in_slot(ref->pair_slot);
    if (on_pair == 0) return false;
    IkeSa& pair_sa = registry_.at(on_pair);
    IkeSa& owner = registry_.at(ref->sa);
    EspSpiStats& st = owner.esp[ref->index];
    fa.dir = st.dir;  // as later passes show it (esp_lookup)
    if (esp_duplicate(*ref, in)) {
        // The same packet captured twice: counted once, linked to the first.
        fa.copy = Copy::Duplicate;
        fa.related_frame = ref->last_frame;
        attribute_frame(owner, in, fa);
        return true;
    }
    count_esp(st, ref->side, in.udp_payload_len, in.frame);
    ref->last_seq = in.esp_seq;
    ref->last_ns = in.time_ns;
    ref->last_frame = in.frame;
    if (in.kind == DatagramKind::EspInUdp && in.transport == Transport::Udp) check_mapping_idle(pair_sa, ref->side, in.time_ns, fa, nat_timeout_ns_);
    attribute_frame(owner, in, fa);
    return true;
}

IkeSa* Analyzer::observe_esp(const Datagram& in, FrameAnalysis& fa) {
    const PortPair pp(in.src, in.dst);
    Datagram d = in;
    IkeSa* sa = nullptr;
    const uint32_t on_pair = pairs_.sa_on(pp);
    const EspTracker::SpiOwner* owner = esp_.owner_of_spi(d.esp_spi);
    // The SPI already known as another SA's that was seen between these
    // hosts: a phase-1 rekey sharing the pair, whose copies on this side of
    // the NAT (twins) did not make it the pair's latest SA here.
    const bool owner_here =
        on_pair && owner && owner->sa != on_pair && registry_.at(owner->sa).sides.find(d.src, d.dst) >= 0;
    if (on_pair && !owner_here) {
        sa = &registry_.at(on_pair);
    } else if (owner) {
        // A known SPI on a new port pair: the same SA on the other side of a
        // NAT, or after a NAT rebinding.
        if (!esp_.follow_to_new_pair(owner->sa)) {
            fa.findings |= kFindEspPairCap;  // replayed from ever more ports: not followed
            return nullptr;
        }
        const EspTracker::SpiOwner first = *owner;
        sa = &registry_.at(first.sa);
        if (first.sa > on_pair) pairs_.set_latest(pp, sa->number);
        // Other hosts: the other side of a NAT, whose mapping the two pairs
        // show. The same hosts on a new ip:port: a rebinding.
        d.side = sa->sides.of(d.src, d.dst);
        const Direction dir = registry_.direction_of(*sa, d);
        if (d.side != first.side) {
            const Copies::FirstCopy orig{first.src, first.dst, first.side, first.frame, true};
            fa.mapping_index = Copies::learn_mappings(*sa, orig, d, dir);
            if (fa.mapping_index) fa.copy = Copy::OtherSide;  // kept: the frame shows the mapping
        }
        floats_.on_natt_pair(*sa, d, dir, fa, registry_);
    } else if (esp_.record_esp_evidence(d, max_sas())) {
        sa = sa_on_pair(d, fa);
        if (!sa) return nullptr;  // the table or the placeholders' share is full
    } else {
        return nullptr;  // not (yet) credible ESP: no SA
    }
    if (d.transport == Transport::Udp) learn(d.src, d.dst, PairRole::Natt);
    const bool new_spi = !esp_.spi_owned(d.esp_spi);
    if (new_spi) sa = esp_.owner_of_new_spi(*sa, d, fa.dir, pairs_, registry_);
    d.side = sa->sides.of(d.src, d.dst);
    fa.dir = registry_.direction_of(*sa, d);
    if (esp_.observe(*sa, d, fa.dir, pairs_, registry_, roles_.contains(pp), max_sas()) && new_spi)
        esp_.set_owner(d.esp_spi, sa->number, d, max_sas());
    // The idle time is the NAT mapping's, i.e. the port pair's: checked on
    // the pair's latest SA, as the fast path does, not on the SPI's owner
    // (an older SA sharing the pair after a phase-1 rekey).
    const uint32_t latest = pairs_.sa_on(pp);
    if (d.transport == Transport::Udp) check_mapping_idle(latest ? registry_.at(latest) : *sa, d, fa, nat_timeout_ns_);
    return sa;
}

// Raw ESP belongs to the latest SA between its two hosts (IKE made it); no SA
// is made from it. Its (host pair, SPI) record then serves the fast path.
IkeSa* Analyzer::observe_raw_esp(const Datagram& in, FrameAnalysis& fa) {
    const uint32_t n = registry_.sa_of_addresses(in.src, in.dst);
    if (n == 0) return nullptr;
    IkeSa* sa = &registry_.at(n);
    Datagram d = in;
    const PortPair pp(d.src, d.dst);
    pairs_.set_latest(pp, n);
    const bool new_spi = !esp_.spi_owned(d.esp_spi);
    if (new_spi) sa = esp_.owner_of_new_spi(*sa, d, fa.dir, pairs_, registry_);
    d.side = sa->sides.of(d.src, d.dst);
    fa.dir = registry_.direction_of(*sa, d);
    if (esp_.observe(*sa, d, fa.dir, pairs_, registry_, false, max_sas()) && new_spi)
        esp_.set_owner(d.esp_spi, sa->number, d, max_sas());
    return sa;
}

EspLookup Analyzer::esp_lookup(const Endpoint& src, const Endpoint& dst, uint32_t spi, uint32_t frame) const {
    EspLookup r;
    const EspRef* ref = esp_.find(src, dst, spi);
    // Before its record the flow was not yet credible ESP: no SA then.
    if (!ref || frame < ref->first_frame) return r;
    const IkeSa& sa = registry_.at(ref->sa);
    const EspSpiStats& st = sa.esp[ref->index];
    r.sa = sa.number;
    r.side = ref->side;
    r.sa_first_frame = sa.first_frame;
    r.dir = st.dir;
    r.child_index = st.child_index;
    r.child_frame = st.child_frame;
    r.first_frame = ref->first_frame;
    return r;
}

}  // namespace natt
