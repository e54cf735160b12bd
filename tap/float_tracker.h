// natt: where SAs travel. The port-pair index (which SA a UDP port pair
// carries), the float to the NAT-T port, and NAT rebindings: the same SA
// from a new ip:port after the NAT dropped its mapping (RFC 3947 §4).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "datagram.h"
#include "flat_map.h"
#include "frame_analysis.h"
#include "ike_sa.h"
#include "limits.h"
#include "sa_registry.h"

namespace natt {

// A set of UDP ports as inclusive ranges (the glue's range preferences).
struct PortRange {
    uint16_t low, high;
};
using PortRanges = std::vector<PortRange>;
inline bool in_ports(const PortRanges& ports, uint16_t port) {
    for (const PortRange& r : ports)
        if (port >= r.low && port <= r.high) return true;
    return false;
}

// Port pair -> the latest SA on it. Each pair has a stable slot, which ESP
// records keep (a FlatMap moves its values when it grows): the ESP fast path
// needs no second hash lookup.
class PairIndex {
public:
    uint32_t slot_of(const PortPair& pp) {
        auto r = slot_.try_emplace(pp);
        if (r.second) {
            *r.first = static_cast<uint32_t>(sa_in_slot_.size());
            sa_in_slot_.push_back(0);
        }
        return *r.first;
    }
    // The pair now carries SA number: recorded within the budget (a replay
    // from ever new ports adds no pairs past it).
    void set_latest(const PortPair& pp, uint32_t number) {
        if (!slot_.contains(pp) && !Budget(kPortPairsPerSa).has_room(slot_.size(), max_sas_)) return;
        sa_in_slot_[slot_of(pp)] = number;
    }
    uint32_t sa_on(const PortPair& pp) const {
        const uint32_t* slot = slot_.find(pp);
        return slot ? sa_in_slot_[*slot] : 0;
    }
    uint32_t sa_in_slot(uint32_t slot) const { return sa_in_slot_[slot]; }

    // Every IKE SA that floated to the pair (rekeys share one; at most kMaxSasPerPair).
    void add_floated(const PortPair& pp, uint32_t number);
    const SaList* floated_on(const PortPair& pp) const { return floated_.find(pp); }
    void set_max_sas(size_t n) { max_sas_ = n; }
    size_t entries() const { return slot_.size() + floated_.size(); }

private:
    size_t max_sas_ = kDefaultMaxSas;
    FlatMap<PortPair, uint32_t, PortPairHash> slot_;
    std::vector<uint32_t> sa_in_slot_;  // per slot: SA number, 0 none yet
    FlatMap<PortPair, SaList, PortPairHash> floated_;
};

class FloatTracker {
public:
    // A floated IKE message (not a twin) of sa: the float, or a rebinding.
    void observe_floated_ike(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, PairIndex& pairs, SaRegistry& registry);
    // IKE over TCP (RFC 8229): the connection carries the SA (its ESP too),
    // but nothing floated: a TCP connection is no NAT-T port mapping.
    void observe_tcp_ike(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, PairIndex& pairs, SaRegistry& registry);
    // A new port pair from a known peer address to a floated SA's other end,
    // (the same hosts: the same side of the NAT), after the SA's port pair idled out: the NAT
    // re-created the peer's mapping. Only when exactly one SA fits.
    IkeSa* find_rebound(const Datagram& d, SaRegistry& registry, int64_t nat_timeout_ns) const;
    // find_rebound(), then the rebinding: the peer on the new port becomes the
    // SA's current initiator or responder, and the pair carries the SA.
    IkeSa* follow_rebinding(const Datagram& d, FrameAnalysis& fa, SaRegistry& registry, PairIndex& pairs,
                            int64_t nat_timeout_ns);
    // The one rebinding path: the finding, and where the new endpoints are
    // known, their alias.
    void rebind(IkeSa& sa, FrameAnalysis& fa, SaRegistry& registry, const Endpoint* initiator = nullptr,
                const Endpoint* responder = nullptr);
    // A NAT-T packet of sa on its side d.side (IKE, its twin, ESP, a
    // keepalive): the side's first NAT-T pair is noted; the same side on a
    // new ip:port is a rebinding (true). dir Unknown: oriented by the
    // side's known initiator address.
    bool on_natt_pair(IkeSa& sa, const Datagram& d, Direction dir, FrameAnalysis& fa, SaRegistry& registry);
    // ESP or keepalives before (or without) any IKE: a placeholder SA on the
    // pair, adopted by the first IKE message that appears on it. The NAT-T
    // port side (a port in set_natt_ports) is taken as the responder.
    void float_placeholder(IkeSa& sa, const Datagram& d, PairIndex& pairs, SaRegistry& registry);
    // The NAT-T ports (the glue's natt.encapsulation_udp_ports; default 4500).
    void set_natt_ports(PortRanges ports) { natt_ports_ = std::move(ports); }
    const PortRanges& natt_ports() const { return natt_ports_; }
    void set_max_sas(size_t n) { max_sas_ = n; }
    size_t entries() const { return by_hosts_.size(); }

private:
    size_t max_sas_ = kDefaultMaxSas;
    // Floated SAs by the host pair of their current NAT-T port pair: where a
    // rebinding (same hosts, a new port) is looked for.
    FlatMap<PortPair, SaList, PortPairHash> by_hosts_;
    PortRanges natt_ports_{{4500, 4500}};
    void index(uint32_t number, const Endpoint& initiator, const Endpoint& responder);
    static bool orient(const IkeSa& sa, const Datagram& d, Direction dir, Endpoint* ini, Endpoint* resp);
};

}  // namespace natt
