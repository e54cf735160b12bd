#include "float_tracker.h"

namespace natt {

void PairIndex::add_floated(const PortPair& pp, uint32_t number) {
    SaList& on_pair = floated_[pp];
    if (!on_pair.contains(number) && on_pair.size() < kMaxSasPerPair) on_pair.push_back(number);
}

void FloatTracker::index(uint32_t number, const Endpoint& initiator, const Endpoint& responder) {
    SaList& v = by_hosts_[address_pair(initiator, responder)];
    if (!v.contains(number)) v.push_back(number);
}

void FloatTracker::rebind(IkeSa& sa, FrameAnalysis& fa, SaRegistry& registry, const Endpoint* initiator,
                          const Endpoint* responder) {
    fa.findings |= kFindRebinding;
    fa.related_frame = sa.last_frame;
    sa.finding_count++;
    if (!initiator) return;  // ESP: the SPI moved, which peer's mapping is not known
    Float& fl = sa.floating;
    fl.current_initiator = *initiator;
    fl.current_responder = *responder;
    index(sa.number, fl.current_initiator, fl.current_responder);
    registry.add_alias(sa, fl.current_initiator, fl.current_responder);
}

void FloatTracker::observe_floated_ike(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, PairIndex& pairs,
                                       SaRegistry& registry) {
    const PortPair pp(d.src, d.dst);
    pairs.latest_sa(pp) = sa.number;
    pairs.add_floated(pp, sa.number);
    const Endpoint ini = fa.dir == Direction::FromResponder ? d.dst : d.src;
    const Endpoint resp = fa.dir == Direction::FromResponder ? d.src : d.dst;
    Float& fl = sa.floating;
    if (!fl.floated) {
        fl.floated = true;
        fl.frame = d.frame;
        fl.side = d.side;
        fa.floated_now = true;
        fl.initiator = ini;
        fl.responder = resp;
        fl.current_initiator = ini;
        fl.current_responder = resp;
        index(sa.number, ini, resp);
    } else if (d.side == fl.side && !(pp == PortPair(fl.current_initiator, fl.current_responder))) {
        // Same cookies from a new ip:port on the same side of the NAT. The
        // table keeps the first float; the finding points at the change.
        rebind(sa, fa, registry, &ini, &resp);
    }
}

IkeSa* FloatTracker::find_rebound(const Datagram& d, SaRegistry& registry, int64_t nat_timeout_ns) const {
    IkeSa* candidate = nullptr;
    size_t candidates = 0;
    // Only SAs between the same two hosts (peers behind one NAT share the address).
    static const SaList none;
    const SaList* fit = by_hosts_.find(address_pair(d.src, d.dst));
    const SaList& same_hosts = fit ? *fit : none;
    for (size_t k = same_hosts.size(); k > 0 && candidates < 2; --k) {
        IkeSa& s = registry.at(same_hosts[k - 1]);
        const Float& fl = s.floating;
        if (!fl.floated || s.major == 0 || s.state == SaState::Deleted) continue;
        // Only an SA whose port pair went quiet for longer than the NAT
        // timeout: a second peer behind the same NAT address must not be taken for it.
        if (d.time_ns - s.last_natt_ns <= nat_timeout_ns) continue;
        const bool from_i = d.src.same_address(fl.current_initiator) && d.dst == fl.current_responder;
        const bool to_i = d.dst.same_address(fl.current_initiator) && d.src == fl.current_responder;
        const bool from_r = d.src.same_address(fl.current_responder) && d.dst == fl.current_initiator;
        const bool to_r = d.dst.same_address(fl.current_responder) && d.src == fl.current_initiator;
        if (from_i || to_i || from_r || to_r) {
            candidate = &s;
            candidates++;
        }
    }
    return candidates == 1 ? candidate : nullptr;
}

IkeSa* FloatTracker::follow_rebinding(const Datagram& d, FrameAnalysis& fa, SaRegistry& registry, PairIndex& pairs,
                                      int64_t nat_timeout_ns) {
    IkeSa* s = find_rebound(d, registry, nat_timeout_ns);
    if (!s) return nullptr;
    const Float& fl = s->floating;
    const bool ini_src = d.src.same_address(fl.current_initiator) && d.dst == fl.current_responder;
    const bool ini_dst = d.dst.same_address(fl.current_initiator) && d.src == fl.current_responder;
    Endpoint ini = fl.current_initiator, resp = fl.current_responder;
    if (ini_src || ini_dst)
        ini = ini_src ? d.src : d.dst;
    else
        resp = d.src.same_address(fl.current_responder) ? d.src : d.dst;
    rebind(*s, fa, registry, &ini, &resp);
    pairs.latest_sa(PortPair(d.src, d.dst)) = s->number;
    return s;
}

void FloatTracker::float_placeholder(IkeSa& sa, const Datagram& d, PairIndex& pairs, SaRegistry& registry) {
    Float& fl = sa.floating;
    fl.floated = true;
    fl.frame = d.frame;
    const bool src_is_responder = in_ports(natt_ports_, d.src.port) && !in_ports(natt_ports_, d.dst.port);
    fl.initiator = src_is_responder ? d.dst : d.src;
    fl.responder = src_is_responder ? d.src : d.dst;
    // The pair it is on now: IKE on it later is no rebinding.
    fl.current_initiator = fl.initiator;
    fl.current_responder = fl.responder;
    registry.add_alias(sa, fl.initiator, fl.responder);
    pairs.latest_sa(PortPair(d.src, d.dst)) = sa.number;
    index(sa.number, fl.initiator, fl.responder);
}

}  // namespace natt
