#include "nat_analysis.h"

#include <cstring>

#include "exchanges.h"
#include "frame_analysis.h"
#include "ike_sa.h"
#include "sa_registry.h"

namespace natt {

const char* nat_verdict_name(NatVerdict v) {
    switch (v) {
        case NatVerdict::Unknown: return "-";
        case NatVerdict::CannotVerify: return "unverified";
        case NatVerdict::NoNat: return "none";
        case NatVerdict::InitiatorBehindNat: return "initiator";
        case NatVerdict::ResponderBehindNat: return "responder";
        case NatVerdict::BothBehindNat: return "both";
        case NatVerdict::Forced: return "forced";
        case NatVerdict::Inconsistent: return "inconsistent";
    }
    return "?";
}

const char* nat_verdict_text(NatVerdict v) {
    switch (v) {
        case NatVerdict::Unknown: return "No NAT-D payload seen";
        case NatVerdict::CannotVerify: return "NAT-D payloads could not be verified";
        case NatVerdict::NoNat: return "No NAT between the peers";
        case NatVerdict::InitiatorBehindNat: return "Initiator behind NAT";
        case NatVerdict::ResponderBehindNat: return "Responder behind NAT";
        case NatVerdict::BothBehindNat: return "Initiator and responder behind NAT";
        case NatVerdict::Forced: return "Encapsulation forced (faked or zeroed NAT-D hash)";
        case NatVerdict::Inconsistent:
            return "Inconsistent NAT-D: no single capture point shows these hashes (forged, forced, or the capture was "
                   "altered)";
    }
    return "?";
}

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

void evaluate_nat(NatState& st) {
    bool verified = false;
    bool behind[3] = {false, false, false};  // per Direction index: 1 initiator, 2 responder
    bool zeroed[3] = {false, false, false};
    bool source_matched[3] = {false, false, false};
    bool source_unmatched[3] = {false, false, false};
    uint32_t source_sides[3] = {0, 0, 0};
    bool own_seen[3] = {false, false, false};    // the peer's own (source) hash was verified
    bool known_otherwise[3] = {false, false, false};  // the other peer's hash for it mismatches

    for (const NatDObservation& o : st.observations) {
        if (o.dir == Direction::Unknown) continue;
        const int sender = static_cast<int>(o.dir);
        const int receiver = sender == 1 ? 2 : 1;
        bool has_source = false, src_ok = false, src_other = false, src_zero = false;
        for (uint8_t k = 0; k < o.n; ++k) {
            const NatDHash& h = o.hashes[k];
            if (h.result == NatDMatch::Unverified) continue;
            verified = true;
            if (h.is_source) {
                has_source = true;
                own_seen[sender] = true;
                src_ok |= h.result == NatDMatch::Match;
                src_other |= h.result == NatDMatch::OtherSide;
                src_zero |= h.result == NatDMatch::ZeroedAddress;
            } else if (h.result == NatDMatch::ZeroedAddress) {
                zeroed[receiver] = true;
            } else {
                // The sender knows the receiver by another address: a NAT
                // translates the receiver between here and the sender.
                if (h.result != NatDMatch::Match) behind[receiver] = known_otherwise[receiver] = true;
            }
        }
        if (!has_source) continue;
        if (o.side < 32) source_sides[sender] |= 1u << o.side;
        if (src_zero && !src_ok && !src_other) {
            zeroed[sender] = true;
        } else if (!src_ok) {
            behind[sender] = true;  // its own address is not what the capture shows
            if (!src_other) source_unmatched[sender] = true;
        }
        if (src_ok || src_other) source_matched[sender] = true;
    }

    NatVerdict v;
    bool forced = false;
    for (int s = 1; s <= 2; ++s) {
        // Seen on both sides of a NAT and matching neither: a faked hash.
        const bool multi = (source_sides[s] & (source_sides[s] - 1)) != 0;
        if (zeroed[s] || (multi && source_unmatched[s] && !source_matched[s])) {
            forced = true;
            behind[s] = false;
        }
    }
    bool single_side = true;
    for (int s = 1; s <= 2; ++s) single_side &= (source_sides[s] & (source_sides[s] - 1)) == 0;
    const bool inconsistent = !forced && single_side && source_unmatched[1] && source_unmatched[2] &&
                              known_otherwise[1] && known_otherwise[2];
    if (inconsistent) behind[1] = behind[2] = false;
    if (!verified) {
        v = st.observations.empty() ? NatVerdict::Unknown : NatVerdict::CannotVerify;
    } else if (forced) {
        v = NatVerdict::Forced;
    } else if (inconsistent) {
        v = NatVerdict::Inconsistent;
    } else if (behind[1] && behind[2]) {
        v = NatVerdict::BothBehindNat;
    } else if (behind[1]) {
        v = NatVerdict::InitiatorBehindNat;
    } else if (behind[2]) {
        v = NatVerdict::ResponderBehindNat;
    } else {
        v = NatVerdict::NoNat;
    }
    st.verdict = v;
    // A peer's own hash, checked against the address the capture shows for
    // it, settles whether a NAT translates it on the way here.
    st.initiator_known = behind[1] || zeroed[1] || own_seen[1];
    st.responder_known = behind[2] || zeroed[2] || own_seen[2];
    st.initiator_behind = behind[1];
    st.responder_behind = behind[2];
    st.forced = forced;
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
                 Budget& natd_budget, size_t max_sas) {
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
    if (obs.n == 0 && !reverify) return;

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
        fa.natd_obs = static_cast<uint8_t>(nat.observations.size());
    } else if (reverify) {
        for (NatDObservation& o : nat.observations) {
            NatUnverifiable why;
            verify_natd(o, nat.v1_hash, nat.v1_hash_seen, ini, resp, &why);
        }
    }
    const NatVerdict before = nat.verdict;
    const bool ib = nat.initiator_behind, rb = nat.responder_behind;
    evaluate_nat(nat);
    if (nat.verdict_known() && (nat.verdict != before || nat.initiator_behind != ib || nat.responder_behind != rb)) {
        fa.findings |= kFindNatVerdict;
        if (nat.responder_behind && nat.microsoft_initiator && !nat.forced) fa.findings |= kFindWindowsServerBehindNat;
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
