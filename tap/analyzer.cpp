#include "analyzer.h"

#include <utility>

namespace natt {

void Analyzer::clear() {
    const size_t max = max_sas();
    const int64_t timeout = nat_timeout_ns_;
    PortRanges natt_ports = floats_.natt_ports();
    *this = Analyzer();
    set_max_sas(max);
    nat_timeout_ns_ = timeout;
    set_natt_ports(std::move(natt_ports));
}

void Analyzer::learn(const Endpoint& a, const Endpoint& b, PairRole r) {
    if (r == PairRole::Unknown) return;
    const PortPair pp(a, b);
    // Hostile captures (random ports) must not grow the table without bound.
    if (!Budget(kPairsPerSa).has_room(roles_.size(), max_sas()) && !roles_.contains(pp)) return;
    PairRole& cur = roles_[pp];
    if (cur != PairRole::Natt) cur = r;
}

// The SA of an IKE message: matched by cookies, else a new one (or the
// placeholder ESP or keepalives made on its port pair) from a credible header.
IkeSa* Analyzer::ike_sa_for(const Datagram& d, bool* twin, bool* not_credible) {
    *not_credible = false;
    if (IkeSa* sa = registry_.match_cookies(d, twin)) return sa;
    // On UDP 500 the dissector accepts any known version within the datagram
    // (as Wireshark's isakmp does), but bytes that merely look like one (a
    // file sent to port 500) must not become an SA. Every field as the
    // heuristics check it; only the UDP payload may be longer than the
    // message, and reserved flag bits are ignored as receivers do.
    const HeaderCheck credible = parse_ike_header(d.ike_bytes, d.ike_len, Strictness::Heuristic, nullptr);
    if (credible != HeaderCheck::Ok && credible != HeaderCheck::LengthMismatch && credible != HeaderCheck::BadFlags) {
        *not_credible = true;
        return nullptr;
    }
    IkeSa* sa = nullptr;
    const uint32_t on_pair = pairs_.sa_on(PortPair(d.src, d.dst));
    if (on_pair && registry_.at(on_pair).major == 0) sa = &registry_.at(on_pair);
    if (!sa && registry_.full()) return nullptr;
    if (!sa) sa = &registry_.create(d);
    registry_.adopt_identity(*sa, d);
    note_unrequested(*sa, d);
    return sa;
}

// An SA whose first message is a response (the responder's cookie or SPI is
// set, from the responder): its request is not in the capture. Several such
// SAs of one initiator cookie, from different responders, is what a
// reflection shows: somebody sent requests with the cookie owner's address.
void Analyzer::note_unrequested(IkeSa& sa, const Datagram& d) {
    const IkeHeader& h = d.ike->hdr;
    const bool response = h.rspi != 0 && (h.is_v2() ? h.v2_response() : !sa.roles_guessed);
    if (!response || sa.major == 0) return;
    uint16_t n = 0;
    for (uint32_t other : registry_.with_icookie(h.ispi))
        if (registry_.at(other).unrequested && n < UINT16_MAX) n++;
    sa.unrequested = static_cast<uint16_t>(n + 1);
}

// The SA of ESP or a keepalive on a port pair with no known (pair, SPI): the
// pair's latest SA, a rebinding, else a placeholder. nullptr: the table, or
// the placeholders' share of it, is full (said by fa.findings).
IkeSa* Analyzer::sa_on_pair(const Datagram& d, FrameAnalysis& fa) {
    const PortPair pp(d.src, d.dst);
    if (const uint32_t n = pairs_.sa_on(pp)) return &registry_.at(n);
    if (IkeSa* s = floats_.follow_rebinding(d, fa, registry_, pairs_, nat_timeout_ns_)) return s;
    if (registry_.full()) {
        fa.findings |= kFindSaCap;
        return nullptr;
    }
    if (registry_.placeholders_full()) {
        if (placeholder_reports_ < kBudgetReports) {
            placeholder_reports_++;
            fa.findings |= kFindPlaceholderCap;
        }
        return nullptr;
    }
    IkeSa& sa = registry_.create(d, true);
    floats_.float_placeholder(sa, d, pairs_, registry_);
    return &sa;
}

IkeSa* Analyzer::observe_ike(const Datagram& original, FrameAnalysis& fa) {
    Datagram in = original;
    in.ike_digest = digest_bytes(in.ike_bytes, in.ike_len);  // every step below compares it
    // The same datagram captured twice: its first copy says it all. Without
    // IPv4 IDs to compare (IPv6, IDs zeroed), only when nothing else of the
    // SA came between (a capture duplicate follows its original at once; a
    // resend follows other messages).
    const Copies::Original first = copies_.duplicate_of(in);
    if (first.frame != 0 && first.sa != 0 && (first.ids_known || registry_.at(first.sa).last_new_frame == first.frame)) {
        IkeSa& sa = registry_.at(first.sa);
        fa.copy = Copy::Duplicate;
        fa.related_frame = first.frame;
        fa.dir = registry_.direction_of(sa, in);
        fa.exchange_class = classify_exchange(in.ike->hdr);
        fa.msgid = in.ike->hdr.msgid;
        return &sa;
    }
    bool twin_first = false, not_credible = false;
    IkeSa* sa = ike_sa_for(in, &twin_first, &not_credible);
    if (!sa) {
        fa.findings |= not_credible ? kFindNotCredible : kFindSaCap;
        return nullptr;
    }
    Datagram d = in;
    d.side = sa->sides.of(d.src, d.dst);
    // Roles are UDP port pairs' (the UDP dissector asks): TCP teaches none.
    if (d.transport == Transport::Udp) learn(d.src, d.dst, d.kind == DatagramKind::PlainIke ? PairRole::Ike : PairRole::Natt);
    fa.dir = registry_.direction_of(*sa, d);
    if (d.transport == Transport::Tcp) note_tcp_transport(*sa, d, fa);
    registry_.note_hosts(d, sa->number);
    MessageRecord* orig = copies_.find_twin(*sa, d, fa.dir, exchanges_);
    // Exchanges with message records found their twins there; only the
    // others (informational) look in the ring.
    const ExchangeClass cls = classify_exchange(d.ike->hdr);
    const bool recorded = cls == ExchangeClass::Phase1 || cls == ExchangeClass::Child;
    const bool other_sides = sa->sides.count > 1;  // a twin needs another side
    const auto* unrecorded =
        orig || recorded || !other_sides || !d.ike_bytes ? nullptr : copies_.find_unrecorded_twin(*sa, d);
    if (orig || unrecorded) {
        fa.exchange_class = classify_exchange(d.ike->hdr);
        fa.msgid = d.ike->hdr.msgid;
        if (orig)
            copies_.observe_twin(*sa, *orig, d, fa);
        else
            copies_.observe_unrecorded_twin(*sa, *unrecorded, d, fa);
    } else {
        if (d.transport == Transport::Tcp)
            floats_.observe_tcp_ike(*sa, d, fa, pairs_, registry_);
        else if (d.kind == DatagramKind::FloatedIke)
            floats_.observe_floated_ike(*sa, d, fa, pairs_, registry_);
        exchanges_.observe(*sa, d, fa, max_sas());
    }
    if (d.ike_bytes) copies_.remember(d, sa->number);
    observe_nat(*sa, d, fa, registry_.aliases(*sa), natd_budget_, max_sas());
    observe_v1_fragment(*sa, d, fa);
    observe_path_findings(*sa, d, fa);
    if (sa->unrequested >= 2 && sa->first_frame == d.frame) {
        fa.findings |= kFindReflection;
        sa->finding_count++;
    }
    // The NAT's UDP timeout says nothing about a TCP connection.
    if (d.kind == DatagramKind::FloatedIke && d.transport == Transport::Udp) check_mapping_idle(*sa, d, fa, nat_timeout_ns_);
    return sa;
}

// An IKE message over TCP (RFC 8229). The SA's first one from the initiator,
// while the latest SA between the same two hosts is the same initiator's
// UDP attempt that nobody answered, is a fallback: UDP 500/4500 is blocked
// on the path, and the peers moved to TCP (libreswan starts a new IKE SA
// there). Linked to the attempt's first frame.
void Analyzer::note_tcp_transport(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    sa.transport = Transport::Tcp;
    if (sa.first_frame != d.frame || fa.dir != Direction::FromInitiator || sa.tcp_fallback_from) return;
    const uint32_t n = registry_.sa_of_addresses(d.src, d.dst);
    if (n == 0 || n == sa.number) return;
    const IkeSa& udp = registry_.at(n);
    // Retransmitted unanswered, the attempt is already "failed".
    const bool unanswered = udp.major != 0 && udp.rcookie == 0 &&
                            (udp.state == SaState::InProgress || udp.state == SaState::Failed);
    if (udp.transport != Transport::Udp || !unanswered || !udp.initiator.same_address(d.src) ||
        d.time_ns - udp.last_time_ns > kTcpFallbackWindowNs)
        return;
    sa.tcp_fallback_from = udp.first_frame;
    fa.findings |= kFindTcpFallback;
    fa.related_frame = udp.first_frame;
    sa.finding_count++;
}

// An IKEv1 fragment that completes its message: the whole message's NAT-D
// and vendor IDs, as of any other message.
void Analyzer::observe_v1_fragment(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    if (!d.ike->has_fragment || d.ike->hdr.is_v2() || !d.ike_bytes || fa.copy == Copy::Duplicate) return;
    std::vector<uint8_t> whole;
    if (!v1_fragments_.add(sa.number, d.side, fa.dir, d.frame, *d.ike, d.ike_bytes, d.ike_len, &whole)) return;
    IkeMessage m;
    if (parse_ike_message(whole.data(), whole.size(), Strictness::Port, &m) != HeaderCheck::Ok ||
        m.hdr.ispi != d.ike->hdr.ispi || m.hdr.rspi != d.ike->hdr.rspi || m.has_fragment)
        return;
    Datagram rd = d;
    rd.ike = &m;
    rd.ike_bytes = whole.data();
    rd.ike_len = static_cast<uint32_t>(whole.size());
    observe_nat(sa, rd, fa, registry_.aliases(sa), natd_budget_, max_sas(), NatDWhere::Reassembled);
}

// Findings that depend on where an IKE message travels.
void Analyzer::observe_path_findings(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    const IkeHeader& h = d.ike->hdr;
    const bool twin = fa.copy == Copy::Twin;
    if (twin && d.kind == DatagramKind::FloatedIke) {
        // The other side of the NAT: ESP and keepalives there belong here too.
        // A placeholder made there from keepalives or ESP (a capture that
        // starts mid-tunnel) is this SA's other side.
        const PortPair pp(d.src, d.dst);
        const uint32_t latest = pairs_.sa_on(pp);
        if (latest == 0 || (latest != sa.number && registry_.at(latest).major == 0)) pairs_.set_latest(pp, sa.number);
        floats_.on_natt_pair(sa, d, fa.dir, fa, registry_);
    }
    if (twin) return;
    // NAT detected, yet the encrypted phase-1 messages stay on the IKE port.
    const bool late_phase1 = (!h.is_v2() && sa.flavour == IkeFlavour::MainMode && fa.phase1_message >= 5) ||
                             (h.is_v2() && h.exchange == kExIkeAuth);
    const bool nat = sa.nat.view().encapsulation_expected();
    if (late_phase1 && nat && d.kind == DatagramKind::PlainIke && !fa.retransmission) {
        fa.findings |= kFindNoFloat;
        sa.finding_count++;
    }
    // Two SAs negotiating at once from one outside ip:port: two inside peers
    // squeezed through one socket (a NAT pinning port 500, "IPsec passthrough").
    if (fa.exchange_class == ExchangeClass::Phase1 && fa.phase1_message == 1 && !fa.retransmission &&
        fa.dir == Direction::FromInitiator) {
        const SocketUse* use = initiator_socket_.find(d.src);
        if (use && use->sa != sa.number) {
            const IkeSa& other = registry_.at(use->sa);
            // Both still negotiating, with the same responder: a redirect
            // (RFC 5685) or a restart after an error answer is no collision.
            const bool other_live =
                other.state == SaState::InProgress && d.time_ns - other.last_time_ns < kSharedSocketWindowNs;
            const bool same_responder = other.responder == d.dst || other.floating.responder == d.dst;
            if (other_live && same_responder && other.icookie != sa.icookie) {
                fa.findings |= kFindSharedSocket;
                fa.related_frame = other.first_frame;
                sa.finding_count++;
            }
        }
        if (initiator_socket_.contains(d.src) || Budget(kSocketsPerSa).has_room(initiator_socket_.size(), max_sas()))
            initiator_socket_[d.src] = SocketUse{sa.number, d.time_ns};
    }
}

FrameAnalysis Analyzer::observe(const Datagram& d) {
    FrameAnalysis fa;
    fa.kind = d.kind;
    if ((d.kind == DatagramKind::EspInUdp || d.kind == DatagramKind::RawEsp) && observe_known_esp(d, fa)) return fa;
    // What the port pair carries: from the datagram when it says, else from
    // where the dissector found it. IKE and ESP teach their pair once they
    // belong to an SA: bytes that only look like them teach nothing.
    if (d.kind == DatagramKind::IkeWithoutMarker) learn(d.src, d.dst, PairRole::Natt);
    if (d.kind == DatagramKind::Keepalive && d.transport == Transport::Udp) learn(d.src, d.dst, d.pair_role);
    IkeSa* sa = nullptr;
    switch (d.kind) {
        case DatagramKind::PlainIke:
        case DatagramKind::FloatedIke:
            if (d.ike) sa = observe_ike(d, fa);
            break;
        case DatagramKind::EspInUdp: sa = observe_esp(d, fa); break;
        case DatagramKind::RawEsp: sa = observe_raw_esp(d, fa); break;
        case DatagramKind::Keepalive: sa = observe_keepalive(d, fa); break;
        default: break;
    }
    if (!sa) return fa;
    attribute_frame(*sa, d, fa);
    return fa;
}

IkeSa* Analyzer::observe_keepalive(const Datagram& in, FrameAnalysis& fa) {
    IkeSa* sa = sa_on_pair(in, fa);
    if (!sa) return nullptr;
    Datagram d = in;
    d.side = sa->sides.of(d.src, d.dst);
    fa.dir = registry_.direction_of(*sa, d);
    keepalives_.observe(*sa, d, fa);
    // The keepalive on the other side of a NAT: counted on side 0 only.
    if (d.side != 0 && fa.copy == Copy::None) fa.copy = Copy::OtherSide;
    if (d.transport == Transport::Udp) check_mapping_idle(*sa, d, fa, nat_timeout_ns_);
    return sa;
}

const MessageRecord* Analyzer::record(const FrameAnalysis& fa) const {
    const IkeSa* s = sa(fa.sa);
    if (!s || !fa.record_index) return nullptr;
    if (fa.child_index) {
        if (fa.child_index > s->children.size()) return nullptr;
        const auto& msgs = s->children[fa.child_index - 1].messages;
        return fa.record_index <= msgs.size() ? &msgs[fa.record_index - 1] : nullptr;
    }
    return fa.record_index <= s->phase1.size() ? &s->phase1[fa.record_index - 1] : nullptr;
}

uint32_t Analyzer::child_prev_frame(uint32_t number, uint32_t child_index, uint8_t child_message) const {
    const IkeSa* s = sa(number);
    if (!s || child_index == 0 || child_index > s->children.size() || child_message < 2) return 0;
    const auto& msgs = s->children[child_index - 1].messages;
    if (child_message - 1u > msgs.size()) return 0;
    return msgs[child_message - 2u].frame;
}

uint32_t Analyzer::child_next_frame(uint32_t number, uint32_t child_index, uint8_t child_message) const {
    const IkeSa* s = sa(number);
    if (!s || child_index == 0 || child_index > s->children.size() || child_message == 0) return 0;
    const auto& msgs = s->children[child_index - 1].messages;
    if (child_message >= msgs.size()) return 0;
    return msgs[child_message].frame;
}

}  // namespace natt
