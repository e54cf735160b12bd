// natt: what the model tells the dissector about one frame.
#pragma once

#include <cstdint>

#include "datagram.h"

namespace natt {

// A copy of a datagram seen before (related_frame: the first copy).
enum class Copy : uint8_t {
    None = 0,
    Twin,       // the same message on the other side of a NAT: addresses or ports translated
    Duplicate,  // the same datagram captured twice (SPAN port, `-i any` on a bridge)
    // ESP or a keepalive on another side of the NAT than the SA's side 0,
    // where its statistics are counted (no first copy to link: 0).
    OtherSide,
};

// Which exchange a message belongs to, within its SA.
enum class ExchangeClass : uint8_t { None = 0, Phase1, Child, Informational, Other };

// Everything natt shows for one IKE or keepalive frame: plain data, cached
// per frame by the dissector and read on every later pass. Fields are
// grouped by size (64 bytes): a busy capture caches hundreds of thousands.
struct FrameAnalysis {
    // Keepalives: the time since the previous keepalive in the same direction
    // of the same port pair (see keepalive_prev_frame).
    int64_t keepalive_interval_ns = 0;
    int64_t silence_ns = 0;        // kFindSilence: how long the NAT-T port pair was idle
    uint32_t sa = 0;  // SA number, 0: none
    uint32_t sa_first_frame = 0;
    uint32_t child_index = 0;     // 1-based into IkeSa::children
    uint32_t msgid = 0;
    uint32_t phase1_last_frame = 0;  // for child exchanges: the SA's last phase-1 message so far
    uint32_t keepalive_prev_frame = 0;  // the previous keepalive (0: none)
    uint32_t altered_offset = 0;   // kFindPayloadAltered: first differing byte of the IKE message
    uint32_t findings = 0;  // Finding bits
    uint32_t related_frame = 0;  // the first copy, or the frame a finding refers to (old port pair, shared socket, ...)
    DatagramKind kind = DatagramKind::None;
    Direction dir = Direction::Unknown;
    // IKE: the message's place in its SA.
    ExchangeClass exchange_class = ExchangeClass::None;
    uint8_t phase1_message = 0;  // MM n / AM n / IKEv2 phase-1 message n
    bool retransmission = false;
    Copy copy = Copy::None;
    uint8_t child_message = 0;    // 1-based message number in that exchange
    bool floated_now = false;        // this frame is the SA's float
    // NAT analysis: the NAT-D observation of this frame (1-based into
    // IkeSa::nat.observations) and what this frame revealed.
    uint8_t natd_obs = 0;
    // Where this message is recorded (to find its twin later): 1-based index
    // into IkeSa::phase1, or into children[child_index - 1].messages.
    uint8_t record_index = 0;
    uint8_t mapping_index = 0;     // twins: 1-based into IkeSa::nat_mappings
    // The SA's NatVerdict after this frame: what its expert infos say,
    // identical on every pass (the SA's own verdict moves on).
    uint8_t nat_verdict = 0;
};
static_assert(sizeof(FrameAnalysis) == 64, "FrameAnalysis grew: every IKE and keepalive frame caches one");

// What the first pass found on one frame (bits of FrameAnalysis::findings).
enum Finding : uint32_t {
    kFindNatVerdict = 1u << 0,     // this frame's NAT-D made the SA's NAT verdict known
    kFindNoFloat = 1u << 1,        // NAT detected, but MM5+/IKE_AUTH stayed off the NAT-T port
    kFindRebinding = 1u << 2,      // the same SA from a new ip:port: the NAT mapping changed
    kFindUnanswered = 1u << 3,     // a phase-1 retransmission: the previous message was not answered
    kFindSharedSocket = 1u << 4,   // another live SA's initiator uses the same outside ip:port
    kFindMethodMismatch = 1u << 5, // NAT-D payload type disagrees with the agreed NAT-T method
    kFindPayloadAltered = 1u << 6, // the twin on the other side of the NAT has other IKE bytes
    kFindSilence = 1u << 7,        // the NAT-T port pair was idle longer than the NAT UDP timeout
    kFindSaCap = 1u << 8,          // the SA table is full: this frame's SA is not tracked
    kFindNoKeepalive = 1u << 9,    // with kFindSilence: the peer behind NAT sent no keepalive
    kFindNotCredible = 1u << 10,   // IKE by port only: the header fails the strict check, no SA made
    kFindEspPairCap = 1u << 11,    // a known SPI on too many new port pairs: not followed, no SA
    kFindWindowsServerBehindNat = 1u << 12,  // with kFindNatVerdict: a Windows initiator, the responder behind NAT
    kFindReflection = 1u << 13,    // a response with no request, to a cookie other responders answered too
    kFindPlaceholderCap = 1u << 14,  // ESP or a keepalive with no SA: the placeholders' share of the table is full
    kFindTcpFallback = 1u << 15,  // a new SA over TCP after the same peers' UDP attempt got no answer (related_frame)
};

// The findings the SA table's Findings column counts (IkeSa::finding_count):
// what went wrong, not what was learnt (the NAT verdict).
constexpr uint32_t kSaFindings = kFindNoFloat | kFindRebinding | kFindUnanswered | kFindSharedSocket |
                                 kFindMethodMismatch | kFindPayloadAltered | kFindSilence | kFindReflection |
                                 kFindTcpFallback;

// ESP frames are not cached: this is what a later pass looks up.
struct EspLookup {
    uint32_t sa = 0;
    uint8_t side = 0;  // IkeSa::sides: statistics count side 0 only
    uint32_t sa_first_frame = 0;
    Direction dir = Direction::Unknown;
    uint32_t child_index = 0;
    uint32_t child_frame = 0;
    uint32_t first_frame = 0;  // the record's: earlier frames of the flow were not yet credible ESP
};

}  // namespace natt
