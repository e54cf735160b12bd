#include "float_tracker.h"

namespace natt {

void PairIndex::add_floated(const PortPair& pp, uint32_t number) {
    if (!floated_.contains(pp) && !Budget(kPortPairsPerSa).has_room(floated_.size(), max_sas_)) return;
    SaList& on_pair = floated_[pp];
    if (!on_pair.contains(number) && on_pair.size() < kMaxSasPerPair) on_pair.push_back(number);
}

void FloatTracker::index(uint32_t number, const Endpoint& initiator, const Endpoint& responder) {
    const PortPair hosts = address_pair(initiator, responder);
    if (!by_hosts_.contains(hosts) && !Budget(kHostPairsPerSa).has_room(by_hosts_.size(), max_sas_)) return;
    SaList& v = by_hosts_[hosts];
    if (!v.contains(number)) v.push_back(number);
}

void FloatTracker::rebind(IkeSa& sa, FrameAnalysis& fa, SaRegistry& registry, const Endpoint* initiator,
                          const Endpoint* responder) {
    fa.findings |= kFindRebinding;
    fa.related_frame = sa.last_frame;
    sa.finding_count++;
    if (!initiator) return;
    registry.add_alias(sa, *initiator, *responder);
}

bool FloatTracker::orient(const IkeSa& sa, const Datagram& d, Direction dir, Endpoint* ini, Endpoint* resp) {
    if (dir == Direction::FromInitiator || dir == Direction::FromResponder) {
        *ini = dir == Direction::FromResponder ? d.dst : d.src;
        *resp = dir == Direction::FromResponder ? d.src : d.dst;
        return true;
    }
    // By the side's known initiator address (a side is one pair of hosts).
    if (d.side >= kMaxSidesPerSa || !sa.sides.natt(d.side).known()) return false;
    const Endpoint& known_ini = sa.sides.natt(d.side).initiator;
    if (d.src.same_address(known_ini) == d.dst.same_address(known_ini)) return false;
    *ini = d.src.same_address(known_ini) ? d.src : d.dst;
    *resp = d.src.same_address(known_ini) ? d.dst : d.src;
    return true;
}

bool FloatTracker::on_natt_pair(IkeSa& sa, const Datagram& d, Direction dir, FrameAnalysis& fa,
                                SaRegistry& registry) {
    if (d.side >= kMaxSidesPerSa) return false;
    Endpoint ini, resp;
    if (!orient(sa, d, dir, &ini, &resp)) return false;
    SaSides::NattPair& now = sa.sides.natt(d.side);
    if (now.known() && PortPair(now.initiator, now.responder) == PortPair(ini, resp)) return false;
    const bool moved = now.known();
    if (moved && sa.rebindings.size() < kMaxRebindingsPerSa)
        sa.rebindings.push_back(IkeSa::Rebinding{d.frame, now.initiator, now.responder, ini, resp});
    now.initiator = ini;
    now.responder = resp;
    index(sa.number, ini, resp);
    if (moved) rebind(sa, fa, registry, &ini, &resp);
    return moved;
}

void FloatTracker::observe_floated_ike(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, PairIndex& pairs,
                                       SaRegistry& registry) {
    const PortPair pp(d.src, d.dst);
    pairs.set_latest(pp, sa.number);
    pairs.add_floated(pp, sa.number);
    Float& fl = sa.floating;
    if (!fl.floated) {
        fl.floated = true;
        fl.frame = d.frame;
        fl.side = d.side;
        fa.floated_now = true;
        fl.initiator = fa.dir == Direction::FromResponder ? d.dst : d.src;
        fl.responder = fa.dir == Direction::FromResponder ? d.src : d.dst;
    }
    // The table keeps the first float; a finding points at a change.
    on_natt_pair(sa, d, fa.dir, fa, registry);
}

void FloatTracker::observe_tcp_ike(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, PairIndex& pairs,
                                   SaRegistry& registry) {
    const PortPair pp(d.src, d.dst);
    pairs.set_latest(pp, sa.number);
    pairs.add_floated(pp, sa.number);
    on_natt_pair(sa, d, fa.dir, fa, registry);
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
        if (!s.floating.floated || s.major == 0 || s.state == SaState::Deleted) continue;
        // Only an SA whose port pair went quiet for longer than the NAT
        // timeout: a second peer behind the same NAT address must not be taken for it.
        const int side = s.sides.find(d.src, d.dst);
        if (side < 0 || !s.sides.natt(side).known()) continue;
        const int64_t last = side == 0 ? s.last_natt_ns : s.sides.last_natt_ns(side);
        if (d.time_ns - last <= nat_timeout_ns) continue;
        const SaSides::NattPair& now = s.sides.natt(side);
        const bool from_i = d.src.same_address(now.initiator) && d.dst == now.responder;
        const bool to_i = d.dst.same_address(now.initiator) && d.src == now.responder;
        const bool from_r = d.src.same_address(now.responder) && d.dst == now.initiator;
        const bool to_r = d.dst.same_address(now.responder) && d.src == now.initiator;
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
    Datagram here = d;
    here.side = static_cast<uint8_t>(s->sides.find(d.src, d.dst));
    on_natt_pair(*s, here, Direction::Unknown, fa, registry);
    pairs.set_latest(PortPair(d.src, d.dst), s->number);
    return s;
}

void FloatTracker::float_placeholder(IkeSa& sa, const Datagram& d, PairIndex& pairs, SaRegistry& registry) {
    Float& fl = sa.floating;
    fl.floated = true;
    fl.frame = 0;  // on the NAT-T port already: the float itself is not in the capture
    sa.roles_guessed = true;
    const bool src_is_responder = in_ports(natt_ports_, d.src.port) && !in_ports(natt_ports_, d.dst.port);
    fl.initiator = src_is_responder ? d.dst : d.src;
    fl.responder = src_is_responder ? d.src : d.dst;
    // The pair it is on now: IKE on it later is no rebinding.
    sa.sides.natt(0).initiator = fl.initiator;
    sa.sides.natt(0).responder = fl.responder;
    registry.add_alias(sa, fl.initiator, fl.responder);
    pairs.set_latest(PortPair(d.src, d.dst), sa.number);
    index(sa.number, fl.initiator, fl.responder);
}

}  // namespace natt
