#include "nat_analysis.h"

#include <cstring>

#include "exchanges.h"
#include "frame_analysis.h"
#include "ike_sa.h"
#include "sa_registry.h"

namespace natt {

const char* nat_unverifiable_text(NatUnverifiable r) {
    switch (r) {
        case NatUnverifiable::None: return "";
        case NatUnverifiable::HashUnknown: return "the hash algorithm is unknown: the responder's SA payload was not seen";
        case NatUnverifiable::HashUnsupported: return "the negotiated hash algorithm is not supported (Tiger or unknown)";
        case NatUnverifiable::NoResponderCookie: return "the responder cookie is not known yet";
    }
    return "?";
}

const char* natd_match_text(NatDMatch m) {
    switch (m) {
        case NatDMatch::Unverified: return "not verified";
        case NatDMatch::Match: return "matches the observed address and port";
        case NatDMatch::OtherSide: return "matches this peer's address and port on the other side of the NAT";
        case NatDMatch::ZeroedAddress: return "hash over a zeroed address or port: encapsulation forced";
        case NatDMatch::NoMatch: return "matches no observed address and port";
    }
    return "?";
}

NattMethod NatState::agreed() const {
    const auto& i = methods[static_cast<int>(Direction::FromInitiator)];
    const auto& r = methods[static_cast<int>(Direction::FromResponder)];
    return agreed_method(i.data(), i.size(), r.data(), r.size());
}

namespace {

bool hash_equals(uint8_t alg, const NatDObservation& o, const NatDHash& h, const Endpoint& ep) {
    uint8_t buf[kMaxNatDHashLen];
    const size_t n = natd_hash(alg, o.ispi, o.rspi, ep, buf);
    return n != 0 && n == h.len && h.pos + n <= o.hash_bytes.size() && std::memcmp(buf, o.bytes_of(h), n) == 0;
}

}  // namespace

void verify_natd(NatDObservation& obs, uint8_t v1_hash, bool v1_hash_known, const std::vector<Endpoint>& initiator_eps,
                 const std::vector<Endpoint>& responder_eps, NatUnverifiable* why) {
    *why = NatUnverifiable::None;
    uint8_t alg = kHashSha1;
    if (!obs.v2) {
        if (!v1_hash_known) {
            *why = NatUnverifiable::HashUnknown;
            return;
        }
        if (natd_hash_len(v1_hash) == 0) {
            *why = NatUnverifiable::HashUnsupported;
            return;
        }
        if (obs.rspi == 0) {
            *why = NatUnverifiable::NoResponderCookie;
            return;
        }
        alg = v1_hash;
    }
    const bool from_initiator = obs.dir != Direction::FromResponder;
    for (uint8_t k = 0; k < obs.n; ++k) {
        NatDHash& h = obs.hashes[k];
        const Endpoint& ep = h.is_source ? obs.src : obs.dst;
        // Whose address this hash stands for.
        const bool about_initiator = h.is_source == from_initiator;
        const std::vector<Endpoint>& peer_eps = about_initiator ? initiator_eps : responder_eps;
        if (hash_equals(alg, obs, h, ep)) {
            h.result = NatDMatch::Match;
            continue;
        }
        h.result = NatDMatch::NoMatch;
        for (const Endpoint& e : peer_eps) {
            if (e != ep && hash_equals(alg, obs, h, e)) {
                h.result = NatDMatch::OtherSide;
                break;
            }
        }
        if (h.result != NatDMatch::NoMatch) continue;
        // Implementations that force encapsulation hash a zeroed address or port.
        Endpoint zero_addr = ep;
        std::memset(zero_addr.addr, 0, sizeof zero_addr.addr);
        Endpoint zero_port = ep;
        zero_port.port = 0;
        Endpoint zero_both = zero_addr;
        zero_both.port = 0;
        if (hash_equals(alg, obs, h, zero_addr) || hash_equals(alg, obs, h, zero_port) ||
            hash_equals(alg, obs, h, zero_both))
            h.result = NatDMatch::ZeroedAddress;
    }
}

namespace {

constexpr uint16_t kIkePort = 500;

// What the observations show about one peer.
struct PeerEvidence {
    bool own_seen = false;       // its own (source) hash was verified
    bool own_match = false;      // ... and matched its address here
    bool own_other = false;      // ... matched its address on another side
    bool own_zero = false;       // ... was over a zeroed address or port
    bool own_unmatched = false;  // ... matched nothing at all
    uint32_t own_sides = 0;      // sides its own hash was seen on
    bool other_mismatch = false; // the other peer hashed another address for it
    bool other_zero = false;     // the other peer's hash for it is over a zeroed address
    bool other_match = false;    // the other peer's hash for it matched
    // Sides where the other peer's hash for it matched, or matched nothing.
    uint32_t other_match_sides = 0, other_nomatch_sides = 0;
    // Its address as each side shows it: does the NAT in the capture translate it?
    Endpoint first_ep;
    uint8_t first_side = 0;
    bool have_ep = false;
    bool translated = false;
    void saw_at(const Endpoint& ep, uint8_t side) {
        if (!have_ep) {
            first_ep = ep;
            first_side = side;
            have_ep = true;
        } else if (side != first_side && ep != first_ep) {
            translated = true;
        }
    }
};

bool several(uint32_t sides) { return (sides & (sides - 1)) != 0; }

PeerNat judge_peer(const PeerEvidence& e, bool port_translated, bool floated, bool any_mismatch) {
    if (e.own_zero || e.other_zero) return PeerNat::Forcing;
    // Its hash matches neither side of the NAT in the capture.
    if (e.own_unmatched && several(e.own_sides))
        return e.translated || e.other_mismatch ? PeerNat::BehindForcing : PeerNat::ForcingOrOtherNat;
    // The other side of the NAT, or the other peer, knows it by another address.
    if (e.own_other || e.other_mismatch) return PeerNat::Behind;
    if (e.own_seen && e.own_match) return PeerNat::NotBehind;
    if (e.own_unmatched) return port_translated ? PeerNat::BehindPort500 : PeerNat::NatOrForcing;
    // Its own hash is not visible (an encrypted AM3).
    if (!e.own_seen && floated && !any_mismatch && e.other_match)
        return port_translated ? PeerNat::BehindPort500 : PeerNat::NatOrForcingFloat;
    return PeerNat::Unknown;
}

}  // namespace

void evaluate_nat(NatState& st) {
    bool verified = false;
    PeerEvidence ev[3];  // per Direction index: 1 initiator, 2 responder

    for (const NatDObservation& o : st.observations) {
        if (o.dir == Direction::Unknown) continue;
        const int sender = static_cast<int>(o.dir);
        const int receiver = sender == 1 ? 2 : 1;
        bool any = false;
        for (uint8_t k = 0; k < o.n; ++k) {
            const NatDHash& h = o.hashes[k];
            if (h.result == NatDMatch::Unverified) continue;
            verified = any = true;
            PeerEvidence& e = ev[h.is_source ? sender : receiver];
            if (h.is_source) {
                e.own_seen = true;
                if (o.side < 32) e.own_sides |= 1u << o.side;
                e.own_match |= h.result == NatDMatch::Match;
                e.own_other |= h.result == NatDMatch::OtherSide;
                e.own_zero |= h.result == NatDMatch::ZeroedAddress;
                e.own_unmatched |= h.result == NatDMatch::NoMatch;
            } else if (h.result == NatDMatch::ZeroedAddress) {
                e.other_zero = true;
            } else if (h.result == NatDMatch::Match) {
                e.other_match = true;
                if (o.side < 32) e.other_match_sides |= 1u << o.side;
            } else if (h.result == NatDMatch::OtherSide) {
                // The sender knows the receiver by its address on the other
                // side of the NAT: the NAT translates the receiver.
                e.other_mismatch = true;
            } else if (o.side < 32) {
                e.other_nomatch_sides |= 1u << o.side;
            }
        }
        if (!any) continue;
        ev[sender].saw_at(o.src, o.side);
        ev[receiver].saw_at(o.dst, o.side);
    }
    // A hash that matched on one side and not on another is the one peer
    // seen through a NAT (own_other covers it): not "unmatched".
    for (int s = 1; s <= 2; ++s) {
        PeerEvidence& e = ev[s];
        if (e.own_match || e.own_other) e.own_unmatched = false;
        // The other peer's hash for it matches nothing on one side: the
        // sender knows it by another address, a NAT between here and the
        // sender. Unless the same hash matched on another side: unaltered,
        // it would match its address there (OtherSide); a middlebox
        // rewrote it (natt.nat.payload_altered tells where).
        const bool rewritten = (e.other_match_sides & ~e.other_nomatch_sides) != 0;
        if (e.other_nomatch_sides != 0 && !rewritten) e.other_mismatch = true;
    }

    st.initiator = st.responder = PeerNat::Unknown;
    st.initiator_hash_genuine = ev[1].own_match || ev[1].own_other;
    st.responder_hash_genuine = ev[2].own_match || ev[2].own_other;
    if (!verified) {
        st.verdict = st.observations.empty() ? NatVerdict::Unknown : NatVerdict::CannotVerify;
    } else if (!several(ev[1].own_sides | ev[2].own_sides) && ev[1].own_unmatched && ev[2].own_unmatched &&
               ev[1].other_mismatch && ev[2].other_mismatch) {
        st.verdict = NatVerdict::Inconsistent;
    } else {
        st.verdict = NatVerdict::Peers;
        const bool any_mismatch = ev[1].own_unmatched || ev[2].own_unmatched || ev[1].other_mismatch ||
                                  ev[2].other_mismatch || ev[1].own_other || ev[2].own_other;
        st.initiator = judge_peer(ev[1], st.initiator_port_translated, st.floated, any_mismatch);
        st.responder = judge_peer(ev[2], false, st.floated, any_mismatch);
    }
    st.initiator_behind = peer_nat_translated(st.initiator);
    st.responder_behind = peer_nat_translated(st.responder);
    st.forced = peer_nat_forcing(st.initiator) || peer_nat_forcing(st.responder);
}

namespace {

// The NAT-T methods a vendor ID announces, the Microsoft flag.
void observe_vendor_ids(NatState& nat, const Datagram& d, Direction dir) {
    const IkeMessage& m = *d.ike;
    for (uint8_t i = 0; i < m.n_vendor_ids; ++i) {
        const PayloadRef& v = m.vendor_ids[i];
        if (v.offset + v.length > d.ike_len) continue;
        const VendorIdInfo info = classify_vendor_id(d.ike_bytes + v.offset, v.length);
        if (info.method != NattMethod::None && dir != Direction::Unknown) {
            auto& list = nat.methods[static_cast<int>(dir)];
            bool dup = false;
            for (NattMethod x : list) dup |= x == info.method;
            if (!dup && list.size() < kMaxMethodsPerPeer) list.push_back(info.method);
        }
        if (info.microsoft && dir == Direction::FromInitiator) nat.microsoft_initiator = true;
    }
}

// The NAT-D hashes of one message: IKEv2 notifies, IKEv1 payloads (RFC 3947
// §3.2: the first NAT-D is the receiver's address, the rest the sender's).
void collect_natd(NatDObservation& obs, const Datagram& d) {
    const IkeMessage& m = *d.ike;
    auto add_hash = [&](const PayloadRef& ref, bool is_source) {
        if (obs.n >= kMaxNatDPerMessage || ref.length == 0 || ref.length > kMaxNatDHashLen ||
            ref.offset + ref.length > d.ike_len)
            return;
        NatDHash& x = obs.hashes[obs.n++];
        x.is_source = is_source;
        obs.set_bytes(x, d.ike_bytes + ref.offset, ref.length);
        x.offset = ref.offset;
    };
    if (m.hdr.is_v2()) {
        for (uint8_t i = 0; i < m.n_notify; ++i) {
            if (m.notify_types[i] == kNtfyV2NatDetectionSourceIp) add_hash(m.notify_data[i], true);
            if (m.notify_types[i] == kNtfyV2NatDetectionDestinationIp) add_hash(m.notify_data[i], false);
        }
        return;
    }
    for (uint8_t i = 0; i < m.n_natd; ++i) {
        if (obs.payload_type == 0) obs.payload_type = m.natd[i].type;
        add_hash(m.natd[i], i != 0);
    }
}

}  // namespace

void observe_nat(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, const std::vector<Alias>& aliases,
                 Budget& natd_budget, size_t max_sas, NatDWhere where) {
    NatState& nat = sa.nat;
    const Float& fl = sa.floating;
    const IkeMessage& m = *d.ike;
    const IkeHeader& h = m.hdr;
    observe_vendor_ids(nat, d, fa.dir);
    bool reverify = false;
    if (!h.is_v2() && m.has_sa && fa.dir == Direction::FromResponder && m.v1_transforms >= 1 &&
        classify_exchange(h) == ExchangeClass::Phase1 && !nat.v1_hash_seen) {
        nat.v1_hash = m.v1_hash;
        nat.v1_hash_seen = true;
        reverify = true;
    }

    // Evidence besides NAT-D: the float, and an initiator's port 500
    // translated: its IKEv1 phase-1 to port 500 from another port (IKEv1
    // initiators send from 500; IKEv2 clients often use any port, as
    // ndpi_ipsec_isakmp_esp's 10500 hashed by the client itself shows).
    bool evidence_changed = false;
    if (fl.floated && !nat.floated) nat.floated = evidence_changed = true;
    if (!nat.initiator_port_translated && !h.is_v2() && fa.dir == Direction::FromInitiator &&
        d.kind == DatagramKind::PlainIke &&
        d.dst.port == kIkePort && d.src.port != kIkePort && classify_exchange(h) == ExchangeClass::Phase1)
        nat.initiator_port_translated = evidence_changed = true;

    NatDObservation obs;
    obs.frame = d.frame;
    obs.dir = fa.dir;
    obs.side = d.side;
    obs.v2 = h.is_v2();
    obs.src = d.src;
    obs.dst = d.dst;
    obs.ispi = h.ispi;
    obs.rspi = h.rspi;
    collect_natd(obs, d);
    if (obs.n == 0 && !reverify && !evidence_changed) return;

    // Every address:port each peer was seen with.
    std::vector<Endpoint> ini, resp;
    for (const Alias& a : aliases) {
        ini.push_back(a.initiator);
        resp.push_back(a.responder);
    }
    if (fl.floated) {
        ini.push_back(fl.initiator);
        resp.push_back(fl.responder);
    }
    if (obs.n > 0 && nat.observations.size() < kMaxNatDObservations && natd_budget.try_take(max_sas)) {
        NatUnverifiable why;
        verify_natd(obs, nat.v1_hash, nat.v1_hash_seen, ini, resp, &why);
        if (why != NatUnverifiable::None) nat.unverifiable = why;
        nat.observations.push_back(std::move(obs));
        if (where == NatDWhere::Frame) fa.natd_obs = static_cast<uint8_t>(nat.observations.size());
    } else if (reverify) {
        for (NatDObservation& o : nat.observations) {
            NatUnverifiable why;
            verify_natd(o, nat.v1_hash, nat.v1_hash_seen, ini, resp, &why);
        }
    }
    const uint8_t before = nat.view().pack();
    evaluate_nat(nat);
    if (nat.verdict_known() && nat.view().pack() != before) {
        fa.findings |= kFindNatVerdict;
        // What Windows sees: a mismatch for the responder, however caused.
        if (peer_nat_mismatch(nat.responder) && !peer_nat_forcing(nat.responder) && nat.microsoft_initiator)
            fa.findings |= kFindWindowsServerBehindNat;
    }
    // The NAT-D payload type must be the one the agreed method defines.
    if (!h.is_v2() && obs.payload_type != 0) {
        const NattMethod agreed = nat.agreed();
        const uint8_t want = natd_payload_type_for(agreed);
        if (agreed != NattMethod::None && want != 0 && want != obs.payload_type) {
            fa.findings |= kFindMethodMismatch;
            sa.finding_count++;
        }
    }
}

}  // namespace natt
