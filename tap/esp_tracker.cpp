#include "esp_tracker.h"

namespace natt {

uint32_t infer_child(const IkeSa& sa, uint32_t frame, Direction dir) {
    uint32_t best = 0, fallback = 0;
    for (uint32_t i = static_cast<uint32_t>(sa.children.size()); i > 0; --i) {
        const ChildExchange& cx = sa.children[i - 1];
        if (!cx.completed || cx.completed_frame > frame) continue;
        if (!fallback) fallback = i;
        if (cx.esp_spis_linked[static_cast<int>(dir)] != 0) break;
        best = i;
    }
    return best ? best : fallback;
}

bool EspTracker::record_esp_evidence(const Datagram& d, size_t max_sas) {
    if (d.esp_spi < 256 || d.esp_seq == 0) return false;
    const EspKey key{PortPair(d.src, d.dst), d.esp_spi};
    auto it = evidence_.find(key);
    if (it == evidence_.end()) {
        if (!Budget(kEvidencePerSa).has_room(evidence_.size(), max_sas)) evidence_.clear();  // bounded
        evidence_.emplace(key, Evidence{d.esp_seq, 1});
        return false;
    }
    Evidence& e = it->second;
    if (d.esp_seq == e.last_seq) return false;  // the same packet captured twice
    const bool rising = d.esp_seq > e.last_seq && d.esp_seq - e.last_seq <= kEspSeqStep;
    e.packets = rising ? static_cast<uint8_t>(e.packets + 1) : 1;
    e.last_seq = d.esp_seq;
    if (e.packets < kEspEvidencePackets) return false;
    evidence_.erase(it);
    return true;
}

bool EspTracker::follow_to_new_pair(uint32_t sa) {
    if (pairs_moved_.size() < sa) pairs_moved_.resize(sa, 0);
    uint8_t& moves = pairs_moved_[sa - 1];
    if (moves >= kMaxEspPairsPerSa) return false;
    moves++;
    return true;
}

void EspTracker::set_owner(uint32_t spi, uint32_t sa, const Datagram& first, size_t max_sas) {
    if (Budget(kSpiOwnersPerSa).has_room(spi_owner_.size(), max_sas))
        spi_owner_[spi] = SpiOwner{sa, first.src, first.dst, first.side, first.frame};
}

IkeSa* EspTracker::owner_of_new_spi(IkeSa& latest, const Datagram& d, Direction dir, const PairIndex& pairs,
                                    SaRegistry& registry) const {
    const SaList* on_pair = pairs.floated_on(PortPair(d.src, d.dst));
    if (!on_pair || on_pair->size() < 2) return &latest;
    IkeSa* best = nullptr;
    uint32_t best_frame = 0;
    for (uint32_t n : *on_pair) {
        IkeSa& s = registry.at(n);
        for (const ChildExchange& cx : s.children) {
            if (cx.completed && cx.completed_frame <= d.frame && cx.esp_spis_linked[static_cast<int>(dir)] == 0 &&
                cx.completed_frame > best_frame) {
                best = &s;
                best_frame = cx.completed_frame;
            }
        }
    }
    return best ? best : &latest;
}

bool EspTracker::observe(IkeSa& sa, const Datagram& d, Direction dir, PairIndex& pairs, SaRegistry& registry,
                         bool natt_pair, size_t max_sas) {
    const EspKey key{PortPair(d.src, d.dst), d.esp_spi};
    EspSpiStats* st = nullptr;
    EspRef* ref = refs_.find(key);
    if (ref) st = &registry.at(ref->sa).esp[ref->index];
    // Past the budget a (port pair, SPI) is not indexed: its packets are
    // still counted, through this slower path.
    const bool index = Budget(kEspRecordsPerSa).has_room(refs_.size(), max_sas);
    auto record = [&](uint32_t i) {
        EspRef r;
        r.sa = sa.number;
        r.index = i;
        r.pair_slot = pairs.slot_of(key.pair);
        r.first_frame = d.frame;
        r.side = d.side;
        r.natt_pair = natt_pair;
        refs_[key] = r;
        ref = refs_.find(key);
    };
    // The same SPI on the other side of a NAT (or after a rebinding).
    for (size_t i = 0; !st && i < sa.esp.size(); ++i) {
        if (sa.esp[i].spi == d.esp_spi) {
            st = &sa.esp[i];
            if (index) record(static_cast<uint32_t>(i));
            break;
        }
    }
    if (!st && sa.esp.size() < kMaxSpisPerSa && spi_stats_.try_take(max_sas)) {
        sa.esp.emplace_back();
        st = &sa.esp.back();
        st->spi = d.esp_spi;
        st->dir = dir;
        st->first_frame = d.frame;
        if (const uint32_t pick = infer_child(sa, d.frame, dir)) {
            st->child_index = pick;
            st->child_frame = sa.children[pick - 1].completed_frame;
            sa.children[pick - 1].esp_spis_linked[static_cast<int>(dir)]++;
        }
        if (index) record(static_cast<uint32_t>(sa.esp.size() - 1));
    }
    if (!st) return false;
    count_esp(*st, d);
    if (ref) {
        ref->last_seq = d.esp_seq;
        ref->last_ns = d.time_ns;
        ref->last_frame = d.frame;
    }
    return true;
}

}  // namespace natt
