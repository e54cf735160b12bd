// natt: per-SA NAT analysis state (pure C++): the NAT-D payloads seen, their
// verification against the addresses observed in the capture, the announced
// NAT-T methods, and the resulting verdict.
#pragma once

#include <cstdint>
#include <vector>

#include "datagram.h"
#include "endpoint.h"
#include "limits.h"
#include "nat_detection.h"
#include "nat_verdict.h"

namespace natt {

enum class NatUnverifiable : uint8_t {
    None = 0,
    HashUnknown,      // IKEv1: the responder's SA payload (hash algorithm) was not seen
    HashUnsupported,  // IKEv1: Tiger or an unknown hash algorithm
    NoResponderCookie,
};
const char* nat_unverifiable_text(NatUnverifiable r);

// How one NAT-D hash compares with what the capture shows.
enum class NatDMatch : uint8_t {
    Unverified = 0,
    Match,            // the observed address:port of its role (source or destination)
    OtherSide,        // an address:port of that peer seen on the other side of a NAT
    ZeroedAddress,    // hashed over a zero address or port: forced encapsulation
    NoMatch,
};
const char* natd_match_text(NatDMatch m);

struct NatDHash {
    bool is_source = false;  // the sender's own address (else the receiver's)
    uint8_t len = 0;
    uint16_t pos = 0;     // of its bytes in NatDObservation::hash_bytes
    uint32_t offset = 0;  // of the hash in the IKE message
    NatDMatch result = NatDMatch::Unverified;
};

// One IKE message's NAT-D payloads (IKEv1 payload 20/130/15, IKEv2
// NAT_DETECTION_*_IP notifies), as observed on one side of a NAT.
struct NatDObservation {
    uint32_t frame = 0;
    Direction dir = Direction::Unknown;
    uint8_t side = 0;  // IkeSa::sides
    bool v2 = false;
    uint8_t payload_type = 0;  // IKEv1 NAT-D payload type used
    Endpoint src, dst;         // as observed
    uint64_t ispi = 0, rspi = 0;
    uint8_t n = 0;
    NatDHash hashes[kMaxNatDPerMessage];
    // The hashes' bytes, each as long as the hash (SHA-1 20, SHA2-512 64).
    std::vector<uint8_t> hash_bytes;
    void set_bytes(NatDHash& h, const uint8_t* p, size_t len) {
        h.pos = static_cast<uint16_t>(hash_bytes.size());
        h.len = static_cast<uint8_t>(len);
        hash_bytes.insert(hash_bytes.end(), p, p + len);
    }
    const uint8_t* bytes_of(const NatDHash& h) const { return hash_bytes.data() + h.pos; }
};

struct NatState {
    std::vector<NatDObservation> observations;
    uint8_t v1_hash = 0;  // from the responder's SA payload
    bool v1_hash_seen = false;

    // NAT-T vendor IDs announced by each side (deduplicated).
    std::vector<NattMethod> methods[3];  // per Direction
    bool microsoft_initiator = false;

    NatVerdict verdict = NatVerdict::Unknown;
    NatUnverifiable unverifiable = NatUnverifiable::None;
    PeerNat initiator = PeerNat::Unknown;
    PeerNat responder = PeerNat::Unknown;
    // Evidence besides NAT-D (set by observe_nat): the SA floated; the
    // initiator's IKE to port 500 came from another port.
    bool floated = false;
    bool initiator_port_translated = false;
    // Each peer's own hash matched an address of it somewhere: not faked.
    bool initiator_hash_genuine = false;
    bool responder_hash_genuine = false;
    // A NAT translates the peer, for certain (Behind*).
    bool initiator_behind = false;
    bool responder_behind = false;
    bool forced = false;  // a peer forces encapsulation, for certain

    NattMethod agreed() const;
    bool verdict_known() const {
        return verdict != NatVerdict::Unknown && verdict != NatVerdict::CannotVerify;
    }
    NatVerdictView view() const { return {verdict, initiator, responder}; }
};

// Verify every hash of the observation. initiator_eps/responder_eps: every
// address:port each peer was seen with (every side).
void verify_natd(NatDObservation& obs, uint8_t v1_hash, bool v1_hash_known, const std::vector<Endpoint>& initiator_eps,
                 const std::vector<Endpoint>& responder_eps, NatUnverifiable* why);

// Recompute the SA's verdict from all its verified observations and the
// evidence flags (floated, initiator_port_translated).
void evaluate_nat(NatState& st);

struct Alias;
struct FrameAnalysis;
struct IkeSa;

// Vendor IDs, the responder's hash algorithm and NAT-D payloads of one IKE
// message (every copy, twins included: the other side of a NAT hashes
// differently): records the observation within its budget, verifies it
// against every address:port the peers were seen with (its aliases and its
// float), re-evaluates the SA's verdict.
// Reassembled: d is a message put together from IKEv1 fragments (its
// hashes' offsets are not in the frame: the frame gets no natd_obs).
enum class NatDWhere : uint8_t { Frame, Reassembled };
void observe_nat(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, const std::vector<Alias>& aliases,
                 Budget& natd_budget, size_t max_sas, NatDWhere where = NatDWhere::Frame);

}  // namespace natt
