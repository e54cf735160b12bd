// natt: every bound of the model, named once. A capture is untrusted input:
// each table natt keeps grows only within one of these.
#pragma once

#include <cstddef>
#include <cstdint>

namespace natt {

// ---- IKE parsing: the arrays of one parsed message (IkeMessage).
constexpr size_t kMaxPayloads = 48;    // a real message has a dozen; a longer chain is reported, not walked
constexpr size_t kMaxVendorIds = 16;   // NAT-T drafts and vendors: a peer sends at most ten or so
constexpr size_t kMaxNatD = 8;         // IKEv1 NAT-D: one for the receiver, one per sender address
constexpr size_t kMaxNotify = 16;      // IKEv2 NAT_DETECTION_* and friends

// ---- SAs.
constexpr size_t kDefaultMaxSas = 100000;  // the natt.max_sas preference's default: bounded memory on hostile captures
// Placeholder SAs (made from ESP or keepalives before any IKE: a capture
// started mid-tunnel) take at most max_sas / kPlaceholderShare of the table:
// keepalives replayed from ever new ports must not fill it, or every
// legitimate SA after them would go untracked.
constexpr size_t kPlaceholderShare = 4;
// A budget spent is reported on this many frames per file, then silently:
// a storm of replays must not become a storm of expert infos (the GUI's
// expert dialog keeps each one).
constexpr uint32_t kBudgetReports = 64;

// ---- Per-SA caps: what one SA may keep.
constexpr size_t kMaxMessagesPerExchange = 64;  // retransmissions beyond this are not recorded
constexpr size_t kMaxChildrenPerSa = 4096;      // quick modes / CREATE_CHILD_SA of a long-lived SA
constexpr size_t kMaxSpisPerSa = 1024;          // ESP SPIs counted per SA
constexpr size_t kMaxAliasesPerSa = 8;          // initiator/responder pairs: each NAT side and rebinding adds one
constexpr size_t kMaxNatMappingsPerSa = 16;     // reconstructed NAT mappings (two-sided captures)
constexpr size_t kMaxRebindingsPerSa = 16;      // rebindings named old -> new ip:port; later ones name the frame only
constexpr uint8_t kMaxSidesPerSa = 4;           // host pairs an SA is seen between: each side of each NAT
constexpr size_t kMaxSasPerPair = 8;            // IKE SAs remembered per floated port pair (rekeys share one)
constexpr size_t kMaxMethodsPerPeer = 32;       // distinct NAT-T methods a peer announces (there are 16)
constexpr size_t kMaxNatDObservations = 16;     // NAT-D messages per SA (a real SA has 2, 4 two-sided)
constexpr size_t kMaxNatDPerMessage = 4;        // NAT-D hashes kept of one message
constexpr size_t kMaxKeepaliveSamples = 64;
// IKEv1 fragments (payload 132) reassembled for their NAT-D: pieces of one
// message, its bytes, and messages in reassembly at once in the whole file.
constexpr size_t kMaxV1Fragments = 16;
constexpr size_t kMaxV1ReassemblyBytes = 32768;
constexpr size_t kMaxV1Reassemblies = 32;     // reservoir of keepalive intervals for the median
// A tracked SPI seen on this many new port pairs (other side of a NAT, NAT
// rebindings) is plenty for a real SA; more is a replay from random ports.
constexpr uint8_t kMaxEspPairsPerSa = 16;
// Message records grow one at a time up to this many (every SA keeps a
// handful: main mode 6, quick mode 3), then by doubling.
constexpr size_t kTightRecords = 8;

// ---- Whole-file budgets, as multiples of max_sas: the per-SA caps alone
// would multiply into no practical bound (4,096 exchanges x 64 records per SA).
constexpr size_t kRecordsPerSa = 32;     // IKE message records
constexpr size_t kChildrenPerSa = 8;     // quick modes / CREATE_CHILD_SA exchanges
constexpr size_t kEspRecordsPerSa = 16;  // (port pair, SPI) records and SPI stats
constexpr size_t kSpiOwnersPerSa = 4;    // SPIs followed across port pairs
constexpr size_t kNatDPerSa = 4;         // NAT-D observations
constexpr size_t kPairsPerSa = 4;        // port pairs with a learned role
constexpr size_t kEvidencePerSa = 4;     // ESP flows not yet credible (then cleared)
// Indexes keyed by addresses and ports a replay can choose at will: each new
// ip:port an SA's packets come from (a rebinding, a replay) adds an entry.
constexpr size_t kPortPairsPerSa = 16;     // port pairs carrying an SA, floated-to pairs
constexpr size_t kHostPairsPerSa = 8;      // host pairs (raw ESP, rebinding lookups)
constexpr size_t kKeepaliveFlowsPerSa = 8; // keepalive flows (interval, duplicates)
constexpr size_t kSocketsPerSa = 2;        // phase-1 initiator sockets (shared-socket check)

// ---- ESP without IKE: this many packets of one SPI, with sequence numbers
// rising by at most kEspSeqStep, before natt tracks it (RFC 4303 §2.2).
constexpr uint8_t kEspEvidencePackets = 3;
constexpr uint32_t kEspSeqStep = 64;

// ---- Two-sided captures: the last IKE messages' bytes, to compare a copy
// seen on the other side of a NAT moments later.
constexpr size_t kRecentMessages = 256;
constexpr size_t kRecentMessageBytes = 16384;

// ---- Windows and timeouts.
constexpr int64_t kSecondNs = 1000000000;
// Copies of one message on two sides of a NAT: moments apart, or as far
// apart as two capturing machines' clocks disagree.
constexpr int64_t kTwinWindowNs = 10 * kSecondNs;
// Copies of one datagram captured twice on one side (SPAN port, `-i any`
// on a bridge): microseconds apart; a retransmission takes 0.5 s or more.
constexpr int64_t kDuplicateWindowNs = 50 * kSecondNs / 1000;
constexpr int64_t kPendingResponseWindowNs = 60 * kSecondNs;  // a lone pending SA takes a new responder cookie
constexpr int64_t kSharedSocketWindowNs = 30 * kSecondNs;     // another SA's negotiation still counts as live
// IKE over TCP (RFC 8229): an unanswered UDP attempt this recent, then the
// same peers on TCP, is a fallback (libreswan gives UDP about 8 s).
constexpr int64_t kTcpFallbackWindowNs = 60 * kSecondNs;
// RFC 8229 connections the dissector keeps framing state for (a few bytes
// each), per max_sas.
constexpr size_t kTcpConnectionsPerSa = 4;
// Cuts mid-frame (a FIN or RST while a frame is incomplete) kept per RFC 8229
// connection: one per direction ends a healthy-looking one; a hostile stream
// of partial frames and RSTs gets no more.
constexpr uint8_t kMaxTcpCutsPerConnection = 2;
constexpr int64_t kDefaultNatTimeoutNs = 30 * kSecondNs;      // NAT UDP mapping timeout (Linux conntrack, unreplied)

inline int64_t abs_ns(int64_t v) { return v < 0 ? -v : v; }

// A whole-file budget: at most per_sa x max_sas of one thing.
class Budget {
public:
    explicit constexpr Budget(size_t per_sa) : per_sa_(per_sa) {}
    // Room for one more when `used` are in use (for tables that count themselves).
    bool has_room(size_t used, size_t max_sas) const { return used < per_sa_ * max_sas; }
    // Takes one from what this budget counts itself; false when it is spent.
    bool try_take(size_t max_sas) {
        if (!has_room(taken_, max_sas)) return false;
        ++taken_;
        return true;
    }
    size_t taken() const { return taken_; }
    void reset() { taken_ = 0; }

private:
    size_t per_sa_;
    size_t taken_ = 0;
};

}  // namespace natt
