// natt: the NAT verdict (pure C++): what one capture point can tell about
// each peer and from what evidence, packed in one byte per frame, and its
// words for the tree and the SA tables.
#pragma once

#include <cstddef>
#include <cstdint>

#include "datagram.h"

namespace natt {

enum class NatVerdict : uint8_t {
    Unknown = 0,   // no NAT-D payload seen (yet)
    CannotVerify,  // NAT-D seen, but not verifiable (see NatUnverifiable)
    Peers,         // what the capture shows about each peer: NatState::peer
    // Every hash of both peers mismatches on one side: no capture point sees
    // that (a receiver's hash that mismatches puts the capture inside that
    // receiver's NAT, where its own hash would match): forged, forced, or
    // the capture was altered.
    Inconsistent,
};

// What one capture point can tell about one peer, and from what evidence.
enum class PeerNat : uint8_t {
    Unknown = 0,        // its own hash not visible, nothing else to go by
    NotBehind,          // NAT-D: its own hash matches its address here
    Behind,             // NAT-D: the other peer hashed another address for it, or its
                        // hash matches its address on the other side of the NAT
    BehindPort500,      // its own hash mismatches (or is not visible and the peers
                        // float), and its IKEv1 to port 500 comes from another
                        // port: a NAT translated port 500
    NatOrForcing,       // its own hash mismatches (one side of a NAT only)
    NatOrForcingFloat,  // its own hash not visible (aggressive mode), every visible
                        // hash matches, yet the peers float: it saw a mismatch
    Forcing,            // its hash is over a zeroed address or port
    ForcingOrOtherNat,  // its hash mismatches on both sides of a NAT that does not
                        // translate it: not behind that NAT
    BehindForcing,      // translated by the NAT in the capture, its hash matches
                        // neither side: a faked hash (or a second NAT)
    Count_,
};
const char* peer_nat_phrase(PeerNat p);    // "behind a NAT or forcing encapsulation"
const char* peer_nat_evidence(PeerNat p);  // "NAT-D mismatch", "inferred from the float", ...
bool peer_nat_translated(PeerNat p);       // a NAT translates it, for certain
bool peer_nat_mismatch(PeerNat p);         // its peer saw a NAT-D mismatch for it: encapsulation expected
bool peer_nat_forcing(PeerNat p);          // forcing encapsulation, for certain

// The verdict as one byte: what a frame's expert infos say (FrameAnalysis::
// nat_verdict), the same on every pass.
struct NatVerdictView {
    NatVerdict kind = NatVerdict::Unknown;
    PeerNat initiator = PeerNat::Unknown;
    PeerNat responder = PeerNat::Unknown;
    PeerNat of(Direction d) const {
        return d == Direction::FromInitiator ? initiator : d == Direction::FromResponder ? responder : PeerNat::Unknown;
    }
    bool known() const { return kind == NatVerdict::Peers || kind == NatVerdict::Inconsistent; }
    // NAT-D asks for encapsulation: some peer's hash mismatches.
    bool encapsulation_expected() const {
        return kind == NatVerdict::Peers && (peer_nat_mismatch(initiator) || peer_nat_mismatch(responder));
    }
    bool no_nat() const {
        return kind == NatVerdict::Peers && initiator == PeerNat::NotBehind && responder == PeerNat::NotBehind;
    }
    bool forced() const {
        return kind == NatVerdict::Peers && (peer_nat_forcing(initiator) || peer_nat_forcing(responder));
    }
    uint8_t pack() const;
    static NatVerdictView unpack(uint8_t code);
};

// The verdict's words, the same in the tree (natt.nat.verdict) and the SA
// table's NAT column: "initiator behind a NAT (NAT-D); responder not behind a
// NAT (NAT-D)". A peer the capture says nothing about is left out. Writes at
// most kNatVerdictWordsMax bytes with the terminator.
constexpr size_t kNatVerdictWordsMax = 192;
void nat_verdict_words(const NatVerdictView& v, char* out, size_t cap);
// The same verdict in the compact table's few characters, per peer without
// its evidence: "I NAT, R no", "I NAT?" (NAT or forcing), "none" (no NAT).
void nat_verdict_short(const NatVerdictView& v, char* out, size_t cap);

}  // namespace natt
