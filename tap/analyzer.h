// natt: the per-file NAT-T model (pure C++, no epan types).
//
// The dissector feeds every datagram it claims, in frame order, on the first
// pass (observe()). The model links IKE messages into IKE SAs by cookie pair,
// quick modes to their main mode, ESP-in-UDP SPIs and keepalives to the SA by
// the UDP port mapping it floated to. The dissector caches the small
// FrameAnalysis of IKE and keepalive frames; ESP frames are looked up by
// (port pair, SPI) on later passes so that ESP costs no per-frame memory.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "endpoint.h"
#include "ike_parse.h"
#include "flat_map.h"
#include "nat_analysis.h"

namespace natt {

// What a UDP port pair has been seen to carry.
enum class PairRole : uint8_t {
    Unknown = 0,
    Ike,   // plain IKE (UDP 500 style)
    Natt,  // non-ESP-marker IKE, ESP-in-UDP, keepalives (UDP 4500 style)
};

struct Datagram {
    uint32_t frame = 0;
    int64_t time_ns = 0;     // absolute capture time
    uint32_t interface = 0;  // capture interface (merged two-sided captures)
    Endpoint src, dst;
    DatagramKind kind = DatagramKind::None;
    PairRole pair_role = PairRole::Unknown;  // how the dissector reached it (port, conversation)
    uint32_t udp_payload_len = 0;
    uint32_t esp_spi = 0;
    uint32_t esp_seq = 0;
    const IkeMessage* ike = nullptr;    // PlainIke / FloatedIke
    const uint8_t* ike_bytes = nullptr;  // the IKE message (after any marker)
    uint32_t ike_len = 0;                // captured bytes at ike_bytes
};

enum class IkeFlavour : uint8_t { Unknown = 0, MainMode, AggressiveMode, V1Other, Ikev2 };
const char* ike_flavour_name(IkeFlavour f);

enum class SaState : uint8_t { InProgress = 0, Established, Failed, Deleted };
const char* sa_state_name(SaState s);

// Which exchange a message belongs to, within its SA.
enum class ExchangeClass : uint8_t { None = 0, Phase1, Child, Informational, Other };

// One message of an exchange.
// Grouped by size (40 bytes, not 48: every SA keeps 6-10 of them).
struct MessageRecord {
    int64_t time_ns = 0;
    uint64_t digest = 0;  // of the IKE bytes: tells retransmissions
    uint32_t frame = 0;
    uint32_t length = 0;
    uint32_t msgid = 0;
    uint32_t twin_frame = 0;     // the same message on another capture interface
    Direction dir = Direction::Unknown;
    bool floated = false;
    bool retransmission = false;
    uint8_t exchange = 0;
    uint8_t interface = 0;
    uint8_t mapping_index = 0;   // 1-based into IkeSa::mappings, from the twin
};
static_assert(sizeof(MessageRecord) == 40, "MessageRecord grew");

// One NAT mapping reconstructed from a message seen on both sides of a NAT
// (a merged two-sided capture): the same peer as seen on two interfaces.
struct PortMapping {
    Direction peer = Direction::Unknown;  // whose address the NAT translates
    bool natt_port = false;                // the NAT-T (4500) mapping, else the IKE (500) one
    Endpoint first, second;                // as seen on first_interface / second_interface
    uint32_t first_interface = 0, second_interface = 0;
    uint32_t first_frame = 0, second_frame = 0;
};

// A quick mode (IKEv1) or CREATE_CHILD_SA / IKE_AUTH child (IKEv2) exchange.
struct ChildExchange {
    uint32_t msgid = 0;
    uint8_t exchange = 0;  // 32 QM, 35 IKE_AUTH, 36 CREATE_CHILD_SA
    std::vector<MessageRecord> messages;
    bool completed = false;
    uint32_t completed_frame = 0;
    int64_t completed_time_ns = 0;
    uint32_t esp_spis_linked[3] = {0, 0, 0};  // count per Direction
};

struct EspSpiStats {
    uint32_t spi = 0;
    Direction dir = Direction::Unknown;
    uint64_t packets = 0;
    uint64_t bytes = 0;  // UDP payload bytes
    uint32_t first_frame = 0;
    uint32_t last_frame = 0;
    uint32_t child_index = 0;  // 1-based index into IkeSa::children (inferred), 0 none
    uint32_t child_frame = 0;  // the frame that completed that exchange
};

struct KeepaliveStats {
    uint64_t count = 0;
    uint32_t first_frame = 0;
    uint32_t last_frame = 0;
    int64_t last_time_ns = 0;
    int64_t min_interval_ns = 0;
    int64_t max_interval_ns = 0;
    // A uniform sample of all intervals (reservoir of kMaxKeepaliveSamples,
    // deterministic), kept sorted: the SA table shows the median after every
    // keepalive, so it must be O(1) to read, and a day-long tunnel must not
    // keep every interval.
    std::vector<int64_t> intervals;
    uint64_t intervals_seen = 0;
    void add_interval(int64_t ns);
    int64_t median_interval_ns() const;
};

// alignas(64): the fields every ESP-in-UDP frame touches share the first
// cache line (a 12k-tunnel capture misses the cache on every SA it visits).
struct alignas(64) IkeSa {
    uint32_t number = 0;  // 1-based, in order of first appearance
    uint32_t first_frame = 0;
    uint32_t first_interface = 0;  // statistics count packets on this interface only
    uint32_t last_frame = 0;
    int64_t last_time_ns = 0;
    int64_t last_natt_ns = 0;      // last packet on the NAT-T mapping (either way)
    uint32_t findings = 0;
    uint32_t interfaces_seen = 0;  // bit mask of capture interfaces 0-31
    std::vector<EspSpiStats> esp;  // one per SPI

    uint64_t icookie = 0;
    uint64_t rcookie = 0;
    uint8_t major = 0;  // 1 or 2; 0 while only ESP/keepalives are known
    IkeFlavour flavour = IkeFlavour::Unknown;
    SaState state = SaState::InProgress;

    Endpoint initiator, responder;              // as first seen (port 500 style)
    Endpoint initiator_float, responder_float;  // after the move to NAT-T (the first mapping)
    Endpoint current_initiator_float, current_responder_float;  // after NAT rebindings
    bool floated = false;
    uint32_t float_frame = 0;
    uint32_t float_interface = 0;

    int64_t first_time_ns = 0;

    std::vector<MessageRecord> phase1;  // MM1-6 / AM1-3 / IKE_SA_INIT+IKE_AUTH
    uint32_t phase1_last_frame = 0;     // last phase-1 message
    uint32_t phase1_retransmissions = 0;
    std::vector<ChildExchange> children;
    uint32_t informational = 0;  // informational exchanges (Delete, DPD, ...)
    uint32_t deletes = 0;        // with a clear Delete payload
    uint32_t dpd = 0;            // with a clear R-U-THERE / ACK notify

    // Per Direction, indexed 1 (FromInitiator) and 2 (FromResponder); a
    // keepalive of unknown direction is in no series (nothing shows one).
    struct KeepaliveSeries {
        KeepaliveStats by_dir[2];
        KeepaliveStats& operator[](int dir) { return by_dir[dir - 1]; }
        const KeepaliveStats& operator[](int dir) const { return by_dir[dir - 1]; }
        const KeepaliveStats* begin() const { return by_dir; }
        const KeepaliveStats* end() const { return by_dir + 2; }
    } keepalives;

    NatState nat;
    std::vector<PortMapping> mappings;  // two-sided captures
    uint32_t payload_alterations = 0;   // twins whose IKE bytes differ
    uint32_t mapping_changes = 0;  // NAT rebindings: the same SA from a new ip:port

    uint32_t quick_modes() const;  // QM / CREATE_CHILD_SA exchanges
    uint32_t quick_modes_completed() const;
};

// Everything natt shows for one IKE or keepalive frame: plain data, cached
// per frame by the dissector and read on every later pass. Fields are
// grouped by size (64 bytes): a busy capture caches hundreds of thousands.
struct FrameAnalysis {
    // Keepalives: the time since the previous keepalive in the same direction
    // of the same mapping (see keepalive_prev_frame).
    int64_t keepalive_interval_ns = 0;
    int64_t silence_ns = 0;        // kFindSilence: how long the mapping was idle
    uint32_t sa = 0;  // SA number, 0: none
    uint32_t sa_first_frame = 0;
    uint32_t child_index = 0;     // 1-based into IkeSa::children
    uint32_t msgid = 0;
    uint32_t phase1_last_frame = 0;  // for child exchanges: the SA's last phase-1 message so far
    uint32_t keepalive_prev_frame = 0;  // the previous keepalive (0: none)
    uint32_t altered_offset = 0;   // kFindPayloadAltered: first differing byte of the IKE message
    uint32_t findings = 0;  // Finding bits
    uint32_t related_frame = 0;  // the frame a finding refers to (old mapping, shared socket, ...)
    DatagramKind kind = DatagramKind::None;
    Direction dir = Direction::Unknown;
    // IKE: the message's place in its SA.
    ExchangeClass exchange_class = ExchangeClass::None;
    uint8_t phase1_message = 0;  // MM n / AM n / IKEv2 phase-1 message n
    bool retransmission = false;
    bool twin = false;            // the same message already seen on another interface
    uint8_t child_message = 0;    // 1-based message number in that exchange
    bool floated_now = false;        // this frame is the SA's float
    // NAT analysis: the NAT-D observation of this frame (1-based into
    // IkeSa::nat.observations) and what this frame revealed.
    uint8_t natd_obs = 0;
    // Where this message is recorded (to find its twin later): 1-based index
    // into IkeSa::phase1, or into children[child_index - 1].messages.
    uint8_t record_index = 0;
    uint8_t mapping_index = 0;     // twins: 1-based into IkeSa::mappings
};

// What the first pass found on one frame (bits of FrameAnalysis::findings).
enum Finding : uint32_t {
    kFindNatVerdict = 1u << 0,     // this frame's NAT-D made the SA's NAT verdict known
    kFindNoFloat = 1u << 1,        // NAT detected, but MM5+/IKE_AUTH stayed off the NAT-T port
    kFindRebinding = 1u << 2,      // the same SA from a new ip:port: the NAT mapping changed
    kFindUnanswered = 1u << 3,     // a phase-1 retransmission: the previous message was not answered
    kFindSharedSocket = 1u << 4,   // another live SA's initiator uses the same outside ip:port
    kFindMethodMismatch = 1u << 5, // NAT-D payload type disagrees with the agreed NAT-T method
    kFindPayloadAltered = 1u << 6, // the twin on the other side of the NAT has other IKE bytes
    kFindSilence = 1u << 7,        // the NAT-T mapping was idle longer than the NAT UDP timeout
    kFindSaCap = 1u << 8,          // the SA table is full: this frame's SA is not tracked
    kFindNoKeepalive = 1u << 9,    // with kFindSilence: the peer behind NAT sent no keepalive
    kFindNotCredible = 1u << 10,   // IKE by port only: the header fails the strict check, no SA made
    kFindEspPairCap = 1u << 11,    // a known SPI on too many new port pairs: not followed, no SA
};

// ESP frames are not cached: this is what a later pass looks up.
struct EspLookup {
    uint32_t sa = 0;
    uint32_t sa_first_frame = 0;
    Direction dir = Direction::Unknown;
    uint32_t child_index = 0;
    uint32_t child_frame = 0;
};

constexpr size_t kDefaultMaxSas = 100000;
constexpr size_t kMaxMessagesPerExchange = 64;
constexpr size_t kMaxChildrenPerSa = 4096;
constexpr size_t kMaxSpisPerSa = 1024;
constexpr size_t kMaxKeepaliveSamples = 64;
// A tracked SPI seen on this many new port pairs (other side of a NAT, NAT
// rebindings) is plenty for a real SA; more is a replay from random ports.
constexpr uint8_t kMaxEspPairsPerSa = 16;
// ESP with no IKE on its port pair needs this many packets of one SPI, with
// sequence numbers rising by at most kEspSeqStep, before natt tracks it.
constexpr uint8_t kEspEvidencePackets = 3;
constexpr uint32_t kEspSeqStep = 64;

class Analyzer {
public:
    Analyzer();
    ~Analyzer();

    FrameAnalysis observe(const Datagram& d);

    PairRole role(const Endpoint& a, const Endpoint& b) const;
    // Remember what a port pair carries; a NAT-T role is never downgraded.
    void learn(const Endpoint& a, const Endpoint& b, PairRole r);

    // The (port pair, SPI) of an ESP packet is recorded and the pair has the
    // NAT-T role: role(src, dst) is PairRole::Natt, found with the lookup
    // that observe() repeats for the packet (then in the cache).
    bool known_esp_on_natt_pair(const Endpoint& src, const Endpoint& dst, uint32_t spi) const;
    // Later passes: the SA and inferred exchange of an ESP packet.
    EspLookup esp_lookup(const Endpoint& src, const Endpoint& dst, uint32_t spi) const;

    const IkeSa* sa(uint32_t number) const;
    // Raw ESP (IP protocol 50) between the peers of an SA: the SA (0: none).
    // Peers whose NAT-D showed a NAT must not send raw ESP: it cannot pass.
    uint32_t sa_of_addresses(const Endpoint& a, const Endpoint& b) const;
    // The SA on a UDP port pair (0: none), without recording anything: for
    // packets quoted in ICMP errors.
    uint32_t sa_of_pair(const Endpoint& a, const Endpoint& b) const;
    size_t sa_count() const { return sas_.size(); }
    const std::deque<IkeSa>& sas() const { return sas_; }
    size_t pair_count() const { return pairs_.size(); }

    // The message record of an IKE frame (nullptr: none).
    const MessageRecord* record(const FrameAnalysis& fa) const;
    // Which interface shows a peer's inside (private) address, from NAT-D
    // (the peer's own hash matches there) or, failing that, an RFC 1918 /
    // RFC 6598 / ULA address. -1: unknown.
    int inside_interface(const IkeSa& sa, const PortMapping& m) const;

    // Neighbouring messages of a child exchange (0: none).
    uint32_t child_prev_frame(uint32_t sa, uint32_t child_index, uint8_t child_message) const;
    uint32_t child_next_frame(uint32_t sa, uint32_t child_index, uint8_t child_message) const;

    void clear();
    // The NAT's UDP mapping timeout: a sender silent for longer is a finding.
    void set_nat_timeout_ns(int64_t ns) { nat_timeout_ns_ = ns; }
    // At most this many IKE SAs are tracked; frames of further SAs get
    // kFindSaCap and no SA (bounded memory on hostile captures).
    void set_max_sas(size_t n) { max_sas_ = n ? n : 1; }
    size_t max_sas() const { return max_sas_; }
    uint64_t capped_frames() const { return capped_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::deque<IkeSa> sas_;  // stable addresses; index = number - 1
    FlatMap<PortPair, PairRole, PortPairHash> pairs_;

    IkeSa* new_sa(const Datagram& d);
    IkeSa* find_or_create_ike_sa(const Datagram& d, bool* twin, bool* not_credible);
    IkeSa* sa_for_mapping(const Datagram& d, bool create, FrameAnalysis* fa);
    bool esp_plausible(const Datagram& d);
    int64_t nat_timeout_ns_ = 30ll * 1000000000;
    size_t max_sas_ = kDefaultMaxSas;
    uint64_t capped_ = 0;
    bool at_capacity();
    // Whole-file budgets: room for one more of what `used` counts, at most
    // per_sa x max_sas; take() also counts it.
    bool room(size_t used, size_t per_sa) const { return used < per_sa * max_sas_; }
    bool take(size_t* used, size_t per_sa) {
        if (!room(*used, per_sa)) return false;
        ++*used;
        return true;
    }
    Direction direction_of(const IkeSa& sa, const Datagram& d) const;
    MessageRecord* find_twin(IkeSa& sa, const Datagram& d, Direction dir);
    void observe_twin(IkeSa& sa, MessageRecord& original, const Datagram& d, FrameAnalysis& fa);
    void observe_ike(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
    void observe_nat(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
    void observe_float_findings(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
    void peer_endpoints(const IkeSa& sa, std::vector<Endpoint>* initiator, std::vector<Endpoint>* responder) const;
    bool observe_esp(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
    bool observe_known_esp(const Datagram& d, FrameAnalysis& fa);
    void count_esp(const IkeSa& sa, EspSpiStats& st, const Datagram& d);
    void check_mapping_idle(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
    void touch(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
    IkeSa* owner_of_new_spi(IkeSa& latest, const Datagram& d, const FrameAnalysis& fa);
    void observe_keepalive(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
};

// A cheap 64-bit digest of the bytes, for retransmission and twin matching.
uint64_t digest_bytes(const uint8_t* p, size_t n);

}  // namespace natt
