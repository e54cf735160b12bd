#include "nat_verdict.h"

#include <utility>

namespace natt {

const char* peer_nat_phrase(PeerNat p) {
    switch (p) {
        case PeerNat::Unknown: return "";
        case PeerNat::NotBehind: return "not behind a NAT";
        case PeerNat::Behind:
        case PeerNat::BehindPort500: return "behind a NAT";
        case PeerNat::NatOrForcing:
        case PeerNat::NatOrForcingFloat: return "behind a NAT or forcing encapsulation";
        case PeerNat::Forcing: return "forcing encapsulation";
        case PeerNat::ForcingOrOtherNat: return "forcing encapsulation or behind another NAT";
        case PeerNat::BehindForcing: return "behind a NAT and forcing encapsulation";
        case PeerNat::Count_: break;
    }
    return "?";
}

const char* peer_nat_evidence(PeerNat p) {
    switch (p) {
        case PeerNat::Unknown: return "";
        case PeerNat::NotBehind:
        case PeerNat::Behind: return "NAT-D";
        case PeerNat::BehindPort500: return "inferred from a translated port 500";
        case PeerNat::NatOrForcing: return "NAT-D mismatch";
        case PeerNat::NatOrForcingFloat: return "inferred from the float";
        case PeerNat::Forcing: return "NAT-D over a zeroed address";
        case PeerNat::ForcingOrOtherNat:
        case PeerNat::BehindForcing: return "NAT-D mismatch on both sides of the NAT";
        case PeerNat::Count_: break;
    }
    return "?";
}

bool peer_nat_translated(PeerNat p) {
    return p == PeerNat::Behind || p == PeerNat::BehindPort500 || p == PeerNat::BehindForcing;
}

bool peer_nat_mismatch(PeerNat p) { return p != PeerNat::Unknown && p != PeerNat::NotBehind; }

bool peer_nat_forcing(PeerNat p) { return p == PeerNat::Forcing || p == PeerNat::BehindForcing; }

namespace {
constexpr unsigned kPeerNatValues = static_cast<unsigned>(PeerNat::Count_);
constexpr uint8_t kCodeCannotVerify = 0xfe, kCodeInconsistent = 0xff;
static_assert(kPeerNatValues * kPeerNatValues < kCodeCannotVerify, "PeerNat pairs must fit one byte");
}  // namespace

uint8_t NatVerdictView::pack() const {
    switch (kind) {
        case NatVerdict::Unknown: return 0;
        case NatVerdict::CannotVerify: return kCodeCannotVerify;
        case NatVerdict::Inconsistent: return kCodeInconsistent;
        case NatVerdict::Peers: break;
    }
    return static_cast<uint8_t>(1 + static_cast<unsigned>(initiator) + kPeerNatValues * static_cast<unsigned>(responder));
}

NatVerdictView NatVerdictView::unpack(uint8_t code) {
    NatVerdictView v;
    if (code == 0) return v;
    if (code == kCodeCannotVerify) {
        v.kind = NatVerdict::CannotVerify;
    } else if (code == kCodeInconsistent) {
        v.kind = NatVerdict::Inconsistent;
    } else if (code <= kPeerNatValues * kPeerNatValues) {
        v.kind = NatVerdict::Peers;
        v.initiator = static_cast<PeerNat>((code - 1) % kPeerNatValues);
        v.responder = static_cast<PeerNat>((code - 1) / kPeerNatValues);
    }
    return v;
}

namespace {

const char* peer_nat_short(PeerNat p) {
    switch (p) {
        case PeerNat::Unknown: return "";
        case PeerNat::NotBehind: return "no";
        case PeerNat::Behind:
        case PeerNat::BehindPort500: return "NAT";
        case PeerNat::NatOrForcing:
        case PeerNat::NatOrForcingFloat: return "NAT?";
        case PeerNat::Forcing: return "forcing";
        case PeerNat::ForcingOrOtherNat: return "forcing?";
        case PeerNat::BehindForcing: return "NAT+forcing";
        case PeerNat::Count_: break;
    }
    return "?";
}

// The words of one rendering of the verdict: the tree's and the full
// table's, or the compact table's.
struct VerdictWords {
    const char* not_verified;
    const char* inconsistent;
    const char* no_nat;
    const char* initiator;
    const char* responder;
    const char* separator;
    bool evidence;  // each peer's words followed by " (evidence)"
    const char* (*peer)(PeerNat);
};

void render_verdict(const NatVerdictView& v, const VerdictWords& w, char* out, size_t cap) {
    if (cap == 0) return;
    out[0] = '\0';
    size_t n = 0;
    auto put = [&](const char* s) {
        while (*s && n + 1 < cap) out[n++] = *s++;
        out[n] = '\0';
    };
    switch (v.kind) {
        case NatVerdict::Unknown: put("-"); return;
        case NatVerdict::CannotVerify: put(w.not_verified); return;
        case NatVerdict::Inconsistent: put(w.inconsistent); return;
        case NatVerdict::Peers: break;
    }
    if (v.no_nat()) {
        put(w.no_nat);
        return;
    }
    bool first = true;
    for (const auto& [who, p] : {std::pair<const char*, PeerNat>{w.initiator, v.initiator},
                                 std::pair<const char*, PeerNat>{w.responder, v.responder}}) {
        if (p == PeerNat::Unknown) continue;
        if (!first) put(w.separator);
        first = false;
        put(who);
        put(w.peer(p));
        if (!w.evidence) continue;
        put(" (");
        put(peer_nat_evidence(p));
        put(")");
    }
    if (first) put("-");
}

}  // namespace

void nat_verdict_words(const NatVerdictView& v, char* out, size_t cap) {
    static constexpr VerdictWords kWords{
        "NAT-D not verified",
        "inconsistent NAT-D (no single capture point shows these hashes: forged, forced, or the capture was altered)",
        "no NAT (NAT-D)",
        "initiator ",
        "responder ",
        "; ",
        true,
        peer_nat_phrase};
    render_verdict(v, kWords, out, cap);
}

void nat_verdict_short(const NatVerdictView& v, char* out, size_t cap) {
    static constexpr VerdictWords kShort{"unverified", "inconsistent", "none", "I ", "R ", ", ", false, peer_nat_short};
    render_verdict(v, kShort, out, cap);
}

}  // namespace natt
