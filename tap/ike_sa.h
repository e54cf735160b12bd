// natt: one IKE SA as the capture shows it: plain data, written by the model
// units (sa_registry, exchanges, float_tracker, esp_tracker, keepalives,
// copies, nat_analysis) and read by the dissector and the SA table.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "datagram.h"
#include "endpoint.h"
#include "limits.h"
#include "nat_analysis.h"

namespace natt {

enum class IkeFlavour : uint8_t { Unknown = 0, MainMode, AggressiveMode, V1Other, Ikev2 };
const char* ike_flavour_name(IkeFlavour f);

enum class SaState : uint8_t { InProgress = 0, Established, Failed, Deleted };
const char* sa_state_name(SaState s);

// One message of an exchange. 40 bytes: every SA keeps 6-10 of them.
struct MessageRecord {
    // C++17 has no default initializers for bit-fields.
    MessageRecord() : floated(false), retransmission(false), rspi_set(false) {}
    int64_t time_ns = 0;
    uint64_t digest = 0;  // of the IKE bytes: tells retransmissions
    uint32_t frame = 0;
    uint32_t length = 0;
    uint32_t msgid = 0;
    uint32_t twin_frame = 0;     // the same message on the other side of a NAT
    Direction dir = Direction::Unknown;
    uint8_t side = 0;            // IkeSa::sides
    bool floated : 1;
    bool retransmission : 1;
    bool rspi_set : 1;             // the header's responder cookie / SPI is not 0
    uint8_t exchange = 0;
    uint8_t first_payload = 0;     // the header's next payload
    uint8_t mapping_index = 0;   // 1-based into IkeSa::nat_mappings, from the twin
};
static_assert(sizeof(MessageRecord) == 40, "MessageRecord grew");

// One NAT mapping reconstructed from a message seen on both sides of a NAT
// (a two-sided capture): the same peer as seen on two sides.
struct NatMapping {
    Direction peer = Direction::Unknown;  // whose address the NAT translates
    bool natt_port = false;                // the NAT-T (4500) mapping, else the IKE (500) one
    Endpoint first, second;                // as seen on first_side / second_side
    uint8_t first_side = 0, second_side = 0;
    uint32_t first_frame = 0, second_frame = 0;
};

// Past kMaxSidesPerSa: a side natt does not tell apart (never side 0).
constexpr uint8_t kUnlistedSide = 0xff;

// The sides of NATs an SA is seen on, each as the pair of hosts that talk
// there (ports ignored: they float and rebind). Side 0 is where the SA's first
// packet was seen; the same messages between other hosts are the other side
// of a NAT. Only the addresses tell sides apart: capture interfaces do not
// (mergecap merges identical ones into one, `-i any` shows one side on two).
struct SaSides {
    // The NAT-T endpoints the SA uses on a side now (family 0: none yet): a
    // rebinding is the same side moving to a new ip:port.
    struct NattPair {
        Endpoint initiator, responder;
        bool known() const { return initiator.family != 0; }
    };

    SaSides() = default;
    SaSides(const SaSides& o) { *this = o; }
    SaSides& operator=(const SaSides& o) {
        if (this == &o) return *this;
        host0_ = o.host0_;
        natt0_ = o.natt0_;
        more_.reset(o.more_ ? new More(*o.more_) : nullptr);
        last_silence_ns = o.last_silence_ns;
        count = o.count;
        return *this;
    }
    SaSides(SaSides&&) noexcept = default;
    SaSides& operator=(SaSides&&) noexcept = default;

    // Side i's NAT-T pair (i < kMaxSidesPerSa); unknown for a side not seen.
    const NattPair& natt(uint8_t i) const {
        static const NattPair kNone;
        return i == 0 ? natt0_ : more_ ? more_->natt[i - 1] : kNone;
    }
    NattPair& natt(uint8_t i) { return i == 0 ? natt0_ : more().natt[i - 1]; }
    // The last packet on side i's NAT-T pair, for i >= 1 (side 0's is
    // IkeSa::last_natt_ns, in the cache line every ESP frame touches).
    int64_t& last_natt_ns(uint8_t i) { return more().last_natt_ns[i - 1]; }

    int64_t last_silence_ns = 0;  // the latest idle mapping found, on any side
    uint8_t count = 0;
    // The side of d's hosts; -1: a side not seen yet.
    int find(const Endpoint& src, const Endpoint& dst) const {
        if (count == 0) return -1;
        const PortPair p = hosts_of(src, dst);
        if (host0_ == p) return 0;
        for (uint8_t i = 1; i < count; ++i)
            if (more_->hosts[i - 1] == p) return i;
        return -1;
    }
    // find(), adding a new side (kUnlistedSide when there is no room).
    uint8_t of(const Endpoint& src, const Endpoint& dst) {
        const int i = find(src, dst);
        if (i >= 0) return static_cast<uint8_t>(i);
        if (count >= kMaxSidesPerSa) return kUnlistedSide;
        (count == 0 ? host0_ : more().hosts[count - 1]) = hosts_of(src, dst);
        return count++;
    }
    // The side a datagram between new hosts would get.
    uint8_t next() const { return count < kMaxSidesPerSa ? count : kUnlistedSide; }
    // The block an SA seen on a second side allocates (memory accounting).
    static size_t other_sides_bytes();
    static PortPair hosts_of(Endpoint a, Endpoint b) {
        a.port = 0;
        b.port = 0;
        return PortPair(a, b);
    }

private:
    // Side 0 in the SA record; the other sides (two-sided captures only) in
    // a block of their own, made when a second side appears.
    struct More {
        PortPair hosts[kMaxSidesPerSa - 1];
        NattPair natt[kMaxSidesPerSa - 1];
        int64_t last_natt_ns[kMaxSidesPerSa - 1] = {};
    };
    More& more() {
        if (!more_) more_.reset(new More());
        return *more_;
    }
    PortPair host0_;
    NattPair natt0_;
    std::unique_ptr<More> more_;
};
inline size_t SaSides::other_sides_bytes() { return sizeof(More); }

// A quick mode (IKEv1) or CREATE_CHILD_SA / IKE_AUTH child (IKEv2) exchange.
struct ChildExchange {
    uint32_t msgid = 0;
    uint8_t exchange = 0;  // 32 QM, 35 IKE_AUTH, 36 CREATE_CHILD_SA
    std::vector<MessageRecord> messages;
    bool completed = false;
    uint32_t completed_frame = 0;
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

// The keepalives of one direction of an SA (keepalives.cpp).
struct KeepaliveSeries {
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
    void add(uint32_t frame, int64_t time_ns);
    void add_interval(int64_t ns);
    int64_t median_interval_ns() const;
};

// Per Direction, indexed 1 (FromInitiator) and 2 (FromResponder); a
// keepalive of unknown direction is in no series (nothing shows one).
struct KeepalivesByDirection {
    KeepaliveSeries by_dir[2];
    KeepaliveSeries& operator[](int dir) { return by_dir[dir - 1]; }
    const KeepaliveSeries& operator[](int dir) const { return by_dir[dir - 1]; }
    const KeepaliveSeries* begin() const { return by_dir; }
    const KeepaliveSeries* end() const { return by_dir + 2; }
};

// The SA's move to the NAT-T port (RFC 3947 §4, RFC 7296 §2.23).
struct Float {
    bool floated = false;
    uint32_t frame = 0;      // the first message on the NAT-T port (0: not in the capture)
    uint8_t side = 0;        // the side of a NAT it was seen on (IkeSa::sides)
    Endpoint initiator, responder;  // at the float (the side's current pair: SaSides::natt)
};

// alignas(64): the fields every ESP-in-UDP frame touches share the first
// cache line.
struct alignas(64) IkeSa {
    uint32_t number = 0;  // 1-based, in order of first appearance
    uint32_t first_frame = 0;
    uint32_t last_frame = 0;
    int64_t last_time_ns = 0;
    int64_t last_natt_ns = 0;      // last packet on the NAT-T port pair (either way), side 0
    uint32_t finding_count = 0;    // frames with a finding about this SA
    uint32_t last_new_frame = 0;   // the latest frame that was not a capture duplicate
    std::vector<EspSpiStats> esp;  // one per SPI

    uint64_t icookie = 0;
    uint64_t rcookie = 0;
    uint8_t major = 0;  // 1 or 2; 0 while only ESP/keepalives are known
    IkeFlavour flavour = IkeFlavour::Unknown;
    SaState state = SaState::InProgress;
    // Mid-session IKEv1 (or ESP alone): nothing in the capture says who
    // initiated; the table marks the roles as guessed.
    bool roles_guessed = false;
    // Made from a response no request was seen for: the how-manieth SA of
    // its initiator cookie so made (several: a spoofed-source reflection).
    uint16_t unrequested = 0;

    Endpoint initiator, responder;  // as first seen (port 500 style)
    Float floating;

    int64_t first_time_ns = 0;

    std::vector<MessageRecord> phase1;  // MM1-6 / AM1-3 / IKE_SA_INIT+IKE_AUTH
    uint32_t phase1_last_frame = 0;     // last phase-1 message
    uint32_t phase1_retransmissions = 0;
    std::vector<ChildExchange> children;

    KeepalivesByDirection keepalives;

    NatState nat;
    std::vector<NatMapping> nat_mappings;  // two-sided captures
    // NAT rebindings (kFindRebinding), the first kMaxRebindingsPerSa: the
    // NAT-T pair before and after, for the expert info.
    struct Rebinding {
        uint32_t frame = 0;
        Endpoint old_initiator, old_responder, initiator, responder;
    };
    std::vector<Rebinding> rebindings;
    const Rebinding* rebinding_at(uint32_t frame) const {
        for (const Rebinding& r : rebindings)
            if (r.frame == frame) return &r;
        return nullptr;
    }
    // Statistics count packets on side 0 only: a two-sided capture shows each twice.
    SaSides sides;

    // RFC 8229: IKE of this SA arrived over TCP (its endpoints are the
    // connection's), and the first frame of the unanswered UDP attempt of the
    // same peers it fell back from (0: none seen).
    Transport transport = Transport::Udp;
    uint32_t tcp_fallback_from = 0;

    uint32_t quick_modes() const;  // QM / CREATE_CHILD_SA exchanges
    uint32_t quick_modes_completed() const;
};

}  // namespace natt
