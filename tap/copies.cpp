#include "copies.h"

#include <algorithm>

namespace natt {

bool private_address(const Endpoint& e) {
    const uint8_t* a = e.addr;
    if (e.family == 4)
        return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
               (a[0] == 100 && (a[1] & 0xc0) == 64);
    if (e.family == 6) return (a[0] & 0xfe) == 0xfc;
    return false;
}

int inside_side(const IkeSa& sa, const NatMapping& m) {
    // The peer's own NAT-D hash matches its address where it really has it.
    for (const NatDObservation& o : sa.nat.observations) {
        for (uint8_t k = 0; k < o.n; ++k) {
            const NatDHash& h = o.hashes[k];
            const bool about_peer = h.is_source == (o.dir == m.peer);
            if (about_peer && h.is_source && h.result == NatDMatch::Match) return o.side;
        }
    }
    const bool p1 = private_address(m.first), p2 = private_address(m.second);
    if (p1 != p2) return p1 ? m.first_side : m.second_side;
    return -1;
}

void Copies::remember(const Datagram& d, uint32_t sa) {
    const size_t slot = recent_next_;
    Recent& r = recent_[slot];
    recent_next_ = (recent_next_ + 1) % kRecentMessages;
    r.frame = d.frame;
    r.sa = sa;
    r.time_ns = d.time_ns;
    r.digest = message_digest(d);
    r.length = d.ike_len;
    r.ip_id = d.ip_id;
    r.src = d.src;
    r.dst = d.dst;
    r.bytes.assign(d.ike_bytes, d.ike_bytes + std::min<size_t>(d.ike_len, kRecentMessageBytes));
    by_key_[datagram_key(r.digest, r.src, r.dst) % kRecentIndex] = static_cast<uint16_t>(slot + 1);
}

const Copies::Recent* Copies::recalled(uint32_t frame) const {
    for (const Recent& r : recent_)
        if (r.frame == frame && frame != 0) return &r;
    return nullptr;
}

uint64_t Copies::datagram_key(uint64_t digest, const Endpoint& src, const Endpoint& dst) {
    const EndpointHash h;
    return digest ^ (h(src) * 0x9e3779b97f4a7c15ull) ^ (h(dst) * 0xc2b2ae3d27d4eb4full);
}

Copies::Original Copies::duplicate_of(const Datagram& d) const {
    // The latest remembered copy with these bytes, addresses and ports (one
    // lookup: every IKE message asks).
    Original o;
    const uint64_t dg = message_digest(d);
    const uint16_t slot = by_key_[datagram_key(dg, d.src, d.dst) % kRecentIndex];
    if (slot == 0) return o;
    const Recent& r = recent_[slot - 1];
    if (r.frame == 0 || r.frame >= d.frame || r.length != d.ike_len || r.digest != dg) return o;
    if (r.src != d.src || r.dst != d.dst || !same_datagram(d.time_ns, d.ip_id, r.time_ns, r.ip_id)) return o;
    o.frame = r.frame;
    o.sa = r.sa;
    o.ids_known = r.ip_id != 0 && d.ip_id != 0;
    return o;
}

MessageRecord* Copies::find_twin(IkeSa& sa, const Datagram& d, Direction dir, Exchanges& exchanges) {
    // Records hold first fragments only: a later fragment is nobody's copy.
    if (d.ike->fragment_number > 1) return nullptr;
    const uint64_t dg = message_digest(d);
    // Ranked: untwinned before twinned, same bytes before other bytes, then
    // the oldest untwinned (copies pair in order) or the latest twinned.
    MessageRecord* best = nullptr;
    int best_rank = -1;
    auto consider = [&](std::vector<MessageRecord>& v) {
        for (MessageRecord& m : v) {
            if (!same_message(m, d, dir)) continue;
            if (m.side == d.side) {
                const Recent* r = recalled(m.frame);
                // The same sender and receiver addresses, other ports.
                const bool ports_only = r && m.digest == dg && abs_ns(d.time_ns - m.time_ns) <= kDuplicateWindowNs &&
                                        r->src.same_address(d.src) && r->dst.same_address(d.dst) &&
                                        (r->src != d.src || r->dst != d.dst);
                if (!ports_only) continue;
            }
            const int rank = (m.twin_frame == 0 ? 2 : 0) + (m.digest == dg ? 1 : 0);
            const bool better = rank > best_rank || (rank == best_rank && m.twin_frame != 0);
            if (better) {
                best = &m;
                best_rank = rank;
            }
        }
    };
    consider(sa.phase1);
    if (ChildExchange* cx = exchanges.child(sa, d.ike->hdr.msgid)) consider(cx->messages);
    return best;
}

namespace {
// The mapping of peer between a and b (1-based into sa.nat_mappings; 0: no room).
uint8_t add_nat_mapping(IkeSa& sa, const Copies::FirstCopy& orig, const Datagram& d, Direction peer,
                        const Endpoint& a, const Endpoint& b) {
    for (size_t i = 0; i < sa.nat_mappings.size(); ++i) {
        const NatMapping& m = sa.nat_mappings[i];
        if (m.peer == peer && ((m.first == a && m.second == b) || (m.first == b && m.second == a)))
            return static_cast<uint8_t>(i + 1);
    }
    if (sa.nat_mappings.size() >= kMaxNatMappingsPerSa) return 0;
    NatMapping m;
    m.peer = peer;
    m.natt_port = orig.natt_port;
    m.first = a;
    m.second = b;
    m.first_side = orig.side;
    m.second_side = d.side;
    m.first_frame = orig.frame;
    m.second_frame = d.frame;
    sa.nat_mappings.push_back(m);
    return static_cast<uint8_t>(sa.nat_mappings.size());
}
}  // namespace

uint8_t Copies::learn_mappings(IkeSa& sa, const FirstCopy& orig, const Datagram& d, Direction sender) {
    const Direction receiver = sender == Direction::FromInitiator ? Direction::FromResponder : Direction::FromInitiator;
    uint8_t idx = 0;
    if (orig.src != d.src) idx = add_nat_mapping(sa, orig, d, sender, orig.src, d.src);
    if (orig.dst != d.dst) {
        const uint8_t r = add_nat_mapping(sa, orig, d, receiver, orig.dst, d.dst);
        if (!idx) idx = r;
    }
    return idx;
}

void Copies::observe_twin(IkeSa& sa, MessageRecord& orig, const Datagram& d, FrameAnalysis& fa) {
    fa.copy = Copy::Twin;
    fa.related_frame = orig.frame;
    if (!orig.twin_frame) orig.twin_frame = d.frame;
    const Recent* recent = recalled(orig.frame);
    if (!recent) return;
    compare_twin(sa, *recent, orig.side, d, fa);
    if (!orig.mapping_index) orig.mapping_index = fa.mapping_index;
}

const Copies::Recent* Copies::find_unrecorded_twin(const IkeSa& sa, const Datagram& d) const {
    // Exchanges with no message records (informational: DPD, deletes): the
    // ring's copy of the same bytes between other hosts of the SA (the
    // header alone does not say who sent it: MM3 and MM4 can share one).
    const Recent* best = nullptr;
    uint64_t dg = 0;
    bool digested = false;
    for (const Recent& r : recent_) {
        if (r.frame == 0 || r.frame >= d.frame || r.sa != sa.number || r.length != d.ike_len) continue;
        if (abs_ns(d.time_ns - r.time_ns) > kTwinWindowNs || sa.sides.find(r.src, r.dst) == d.side) continue;
        if (!digested) {
            dg = message_digest(d);
            digested = true;
        }
        if (r.digest != dg) continue;
        if (!best || r.frame > best->frame) best = &r;
    }
    return best;
}

void Copies::observe_unrecorded_twin(IkeSa& sa, const Recent& first, const Datagram& d, FrameAnalysis& fa) {
    fa.copy = Copy::Twin;
    fa.related_frame = first.frame;
    const int side = sa.sides.find(first.src, first.dst);
    compare_twin(sa, first, side >= 0 ? static_cast<uint8_t>(side) : kUnlistedSide, d, fa);
}

void Copies::compare_twin(IkeSa& sa, const Recent& recent, uint8_t first_side, const Datagram& d, FrameAnalysis& fa) {
    const FirstCopy first{recent.src, recent.dst, first_side, recent.frame, d.kind == DatagramKind::FloatedIke};
    fa.mapping_index = learn_mappings(sa, first, d, fa.dir);
    // A NAT must change only addresses, ports and checksums.
    const auto& bytes = recent.bytes;
    if (recent.digest == message_digest(d) && bytes.size() == d.ike_len) return;
    const size_t n = bytes.size() < d.ike_len ? bytes.size() : d.ike_len;
    size_t off = 0;
    while (off < n && bytes[off] == d.ike_bytes[off]) ++off;
    fa.findings |= kFindPayloadAltered;
    fa.altered_offset = static_cast<uint32_t>(off);
    sa.finding_count++;
}

}  // namespace natt
