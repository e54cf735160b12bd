#include "analyzer.h"

#include <algorithm>
#include <cstring>

namespace natt {

namespace {

struct CookiePair {
    uint64_t i, r;
    bool operator==(const CookiePair& o) const { return i == o.i && r == o.r; }
};
struct CookiePairHash {
    size_t operator()(const CookiePair& c) const noexcept { return std::hash<uint64_t>()(c.i * 0x9e3779b97f4a7c15ull ^ c.r); }
};

struct EspKey {
    PortPair pair;
    uint32_t spi = 0;
    bool operator==(const EspKey& o) const { return spi == o.spi && pair == o.pair; }
};
struct EspKeyHash {
    size_t operator()(const EspKey& k) const noexcept { return PortPairHash()(k.pair) * 1315423911u + k.spi; }
};

struct EspRef {
    uint32_t sa = 0;
    uint32_t index = 0;  // into IkeSa::esp
    // The port pair's slot in Impl::mapping_sa (its latest SA): the ESP fast
    // path needs no second hash lookup.
    uint32_t mapping = 0;
    // The pair has the NAT-T role in pairs_ (learnt before the record was
    // made; a role is never removed or downgraded): the dissector need not
    // look the pair up as well.
    bool natt_pair = false;
};

// An initiator->responder endpoint pair under which an SA was seen (each
// side of a NAT gives one; a rebinding gives another).
struct Alias {
    Endpoint initiator, responder;
};

constexpr size_t kMaxAliasesPerSa = 8;
// Whole-file budgets, as multiples of max_sas: the per-SA caps alone would
// multiply into no practical bound (4,096 exchanges x 64 records per SA).
constexpr size_t kRecordsPerSa = 32;   // IKE message records
constexpr size_t kChildrenPerSa = 8;   // quick modes / CREATE_CHILD_SA exchanges
constexpr size_t kEspRecordsPerSa = 16;  // (port pair, SPI) records and SPI stats
constexpr size_t kSpiOwnersPerSa = 4;    // SPIs followed across port pairs
constexpr size_t kNatDPerSa = 4;         // NAT-D observations (384 B; a real SA has 2, 4 two-sided)
constexpr size_t kPairsPerSa = 4;        // port pairs with a learned role
constexpr size_t kEvidencePerSa = 4;     // ESP flows not yet credible (then cleared)
constexpr size_t kRecentMessages = 256;
constexpr size_t kRecentMessageBytes = 16384;
constexpr int64_t kTwinWindowNs = 2000000000;  // 2 s between the two sides of a NAT

// The same IKE message seen on the other side of a NAT (a merged two-sided
// capture): another capture interface, moments apart, same exchange, message
// ID and length. The bytes may differ when a NAT "helper" rewrites them.
bool is_twin(const MessageRecord& m, const Datagram& d, Direction dir) {
    const IkeHeader& h = d.ike->hdr;
    const int64_t dt = d.time_ns - m.time_ns;
    return m.interface != (d.interface & 0xff) && dt <= kTwinWindowNs && dt >= -kTwinWindowNs &&
           m.length == h.length && m.exchange == h.exchange && m.msgid == h.msgid &&
           (m.dir == dir || m.dir == Direction::Unknown || dir == Direction::Unknown);
}

// Every SA keeps a handful of message records (main mode 6, quick mode 3):
// grow one at a time up to 8 instead of doubling to 8 and 4.
template <typename T>
void push_tight(std::vector<T>& v, const T& x) {
    if (v.size() == v.capacity() && v.size() < 8) v.reserve(v.size() + 1);
    v.push_back(x);
}

ExchangeClass classify_exchange(const IkeHeader& h) {
    if (h.is_v2()) {
        switch (h.exchange) {
            case kExIkeSaInit:
            case kExIkeAuth:
            case kExIkeIntermediate: return ExchangeClass::Phase1;
            case kExCreateChildSa: return ExchangeClass::Child;
            case kExInformationalV2: return ExchangeClass::Informational;
            default: return ExchangeClass::Other;
        }
    }
    switch (h.exchange) {
        case kExBase:
        case kExIdentityProtection:
        case kExAuthOnly:
        case kExAggressive: return ExchangeClass::Phase1;
        case kExQuickMode: return ExchangeClass::Child;
        case kExInformational: return ExchangeClass::Informational;
        default: return ExchangeClass::Other;
    }
}

IkeFlavour flavour_of(const IkeHeader& h) {
    if (h.is_v2()) return IkeFlavour::Ikev2;
    if (h.exchange == kExIdentityProtection) return IkeFlavour::MainMode;
    if (h.exchange == kExAggressive) return IkeFlavour::AggressiveMode;
    return IkeFlavour::V1Other;
}

}  // namespace

struct Analyzer::Impl {
    FlatMap<CookiePair, SaList, CookiePairHash> by_cookies;
    FlatMap<uint64_t, SaList, std::hash<uint64_t>> by_icookie;
    // The latest SA on a port pair: the pair's slot in mapping_sa, which ESP
    // records keep (a FlatMap moves its values when it grows).
    FlatMap<PortPair, uint32_t, PortPairHash> mapping_slot;
    std::vector<uint32_t> mapping_sa;  // per slot: SA number, 0 none yet
    uint32_t slot_of(const PortPair& pp) {
        auto r = mapping_slot.try_emplace(pp);
        if (r.second) {
            *r.first = static_cast<uint32_t>(mapping_sa.size());
            mapping_sa.push_back(0);
        }
        return *r.first;
    }
    // The pair's latest SA, created as 0 if absent (valid until the next insertion).
    uint32_t& by_mapping(const PortPair& pp) { return mapping_sa[slot_of(pp)]; }
    uint32_t mapping_of(const PortPair& pp) const {
        const uint32_t* slot = mapping_slot.find(pp);
        return slot ? mapping_sa[*slot] : 0;
    }
    FlatMap<PortPair, uint32_t, PortPairHash> by_addresses;  // ports zeroed: the latest SA of two hosts
    FlatMap<PortPair, SaList, PortPairHash> mapping_sas;  // every IKE SA floated to it
    // Floated SAs by the address pair (ports zeroed) of their current NAT-T
    // mapping: where a NAT rebinding (same hosts, a new port) is looked for.
    FlatMap<PortPair, SaList, PortPairHash> floated_by_addresses;
    void index_float(uint32_t number, const Endpoint& initiator, const Endpoint& responder);
    FlatMap<EspKey, EspRef, EspKeyHash> esp;
    struct EspEvidence {
        uint32_t last_seq;
        uint8_t packets;
    };
    std::unordered_map<EspKey, EspEvidence, EspKeyHash> esp_evidence;  // ESP not yet tracked (bounded)
    FlatMap<uint64_t, uint32_t, std::hash<uint64_t>> child_by_msgid;  // (sa << 32 | msgid) -> 1-based child index
    struct SpiOwner {
        uint32_t sa;
        uint32_t interface;
    };
    FlatMap<uint32_t, SpiOwner, std::hash<uint32_t>> spi_owner;  // ESP SPI -> SA (to follow a NAT rebinding)
    struct SocketUse {
        uint32_t sa;
        int64_t time_ns;
    };
    FlatMap<Endpoint, SocketUse, EndpointHash> initiator_socket;  // phase-1 initiator ip:port -> SA
    std::vector<std::vector<Alias>> aliases;                // per SA (index = number - 1)
    std::vector<uint8_t> esp_pairs;  // per SA: port pairs its known SPIs moved to (capped)
    size_t records = 0;              // message records of all SAs (budget)
    size_t children = 0;             // child exchanges of all SAs (budget)
    size_t spi_stats = 0;            // EspSpiStats of all SAs (budget)
    size_t natd_obs = 0;             // NatDObservations of all SAs (budget)
    struct Series {
        uint32_t last_frame = 0;
        int64_t last_time_ns = 0;
    };
    FlatMap<Flow, Series, FlowHash> keepalive_flows;
    // The last IKE messages' bytes and endpoints, to compare a twin seen on
    // the other side of a NAT moments later (bounded: twins arrive within
    // kTwinWindowNs).
    // A ring of kRecentMessages slots whose buffers are reused: every IKE
    // message passes through here, twins are rare.
    struct Recent {
        uint32_t frame = 0;  // 0: empty slot
        Endpoint src, dst;
        std::vector<uint8_t> bytes;
    };
    std::vector<Recent> recent = std::vector<Recent>(kRecentMessages);
    size_t recent_next = 0;
    void remember(const Datagram& d) {
        Recent& r = recent[recent_next];
        recent_next = (recent_next + 1) % kRecentMessages;
        r.frame = d.frame;
        r.src = d.src;
        r.dst = d.dst;
        r.bytes.assign(d.ike_bytes, d.ike_bytes + std::min<size_t>(d.ike_len, kRecentMessageBytes));
    }
    const Recent* recalled(uint32_t frame) const {
        for (const Recent& r : recent)
            if (r.frame == frame && frame != 0) return &r;
        return nullptr;
    }
};

const char* ike_flavour_name(IkeFlavour f) {
    switch (f) {
        case IkeFlavour::Unknown: return "?";
        case IkeFlavour::MainMode: return "main";
        case IkeFlavour::AggressiveMode: return "aggressive";
        case IkeFlavour::V1Other: return "other";
        case IkeFlavour::Ikev2: return "ikev2";
    }
    return "?";
}

const char* sa_state_name(SaState s) {
    switch (s) {
        case SaState::InProgress: return "in progress";
        case SaState::Established: return "established";
        case SaState::Failed: return "failed";
        case SaState::Deleted: return "deleted";
    }
    return "?";
}

uint64_t digest_bytes(const uint8_t* p, size_t n) {
    // Eight bytes a step (every IKE message is digested): a 64-bit
    // multiply-xorshift mix, ample for telling messages apart.
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    if (!p) return h;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p + i, n - i);
    h = (h ^ tail) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

void KeepaliveStats::add_interval(int64_t ns) {
    intervals_seen++;
    if (intervals.size() >= kMaxKeepaliveSamples) {
        // Reservoir sampling (algorithm R): the n-th interval replaces a
        // sample with probability K/n. Any sample will do as the victim: the
        // reservoir is a multiset, so its sorted position is as good as a slot.
        uint64_t x = intervals_seen * 0x9e3779b97f4a7c15ull;
        x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ull;
        x ^= x >> 29;
        const uint64_t slot = x % intervals_seen;
        if (slot >= kMaxKeepaliveSamples) return;
        intervals.erase(intervals.begin() + static_cast<std::ptrdiff_t>(slot));
    }
    intervals.insert(std::upper_bound(intervals.begin(), intervals.end(), ns), ns);
}

int64_t KeepaliveStats::median_interval_ns() const {
    return intervals.empty() ? 0 : intervals[intervals.size() / 2];
}

uint32_t IkeSa::quick_modes() const {
    uint32_t n = 0;
    for (const auto& c : children)
        if (c.exchange != kExIkeAuth) n++;
    return n;
}

uint32_t IkeSa::quick_modes_completed() const {
    uint32_t n = 0;
    for (const auto& c : children)
        if (c.exchange != kExIkeAuth && c.completed) n++;
    return n;
}

Analyzer::Analyzer() : impl_(new Impl()) {}
Analyzer::~Analyzer() = default;

void Analyzer::clear() {
    impl_.reset(new Impl());
    sas_.clear();
    pairs_.clear();
}

PairRole Analyzer::role(const Endpoint& a, const Endpoint& b) const {
    const PairRole* r = pairs_.find(PortPair(a, b));
    return r ? *r : PairRole::Unknown;
}

void Analyzer::learn(const Endpoint& a, const Endpoint& b, PairRole r) {
    if (r == PairRole::Unknown) return;
    const PortPair pp(a, b);
    // Hostile captures (random ports) must not grow the table without bound.
    if (!room(pairs_.size(), kPairsPerSa) && !pairs_.contains(pp)) return;
    PairRole& cur = pairs_[pp];
    if (cur != PairRole::Natt) cur = r;
}

const IkeSa* Analyzer::sa(uint32_t number) const {
    if (number == 0 || number > sas_.size()) return nullptr;
    return &sas_[number - 1];
}

bool Analyzer::at_capacity() {
    if (sas_.size() < max_sas_) return false;
    capped_++;
    return true;
}

namespace {
PortPair address_pair(Endpoint a, Endpoint b) {
    a.port = 0;
    b.port = 0;
    return PortPair(a, b);
}
}  // namespace

void Analyzer::Impl::index_float(uint32_t number, const Endpoint& initiator, const Endpoint& responder) {
    SaList& v = floated_by_addresses[address_pair(initiator, responder)];
    if (!v.contains(number)) v.push_back(number);
}

uint32_t Analyzer::sa_of_addresses(const Endpoint& a, const Endpoint& b) const {
    const uint32_t* n = impl_->by_addresses.find(address_pair(a, b));
    return n ? *n : 0;
}

uint32_t Analyzer::sa_of_pair(const Endpoint& a, const Endpoint& b) const {
    return impl_->mapping_of(PortPair(a, b));
}

IkeSa* Analyzer::new_sa(const Datagram& d) {
    sas_.emplace_back();
    IkeSa& sa = sas_.back();
    sa.number = static_cast<uint32_t>(sas_.size());
    sa.first_frame = d.frame;
    sa.first_time_ns = d.time_ns;
    sa.first_interface = d.interface;
    impl_->aliases.emplace_back();
    impl_->esp_pairs.push_back(0);
    return &sa;
}

// Fill an SA's identity from the first IKE message seen of it.
static void adopt_ike_identity(IkeSa& sa, const Datagram& d) {
    const IkeHeader& h = d.ike->hdr;
    sa.icookie = h.ispi;
    sa.rcookie = h.rspi;
    sa.major = static_cast<uint8_t>(h.major());
    sa.flavour = flavour_of(h);
    // The sender is the initiator when it has no responder cookie yet or sets
    // IKEv2's Initiator flag; mid-session IKEv1 captures cannot tell, and the
    // first sender is taken as the initiator.
    bool from_initiator = h.rspi == 0 || (h.is_v2() ? h.v2_initiator() : true);
    if (h.is_v2() && h.rspi != 0) from_initiator = h.v2_initiator();
    sa.initiator = from_initiator ? d.src : d.dst;
    sa.responder = from_initiator ? d.dst : d.src;
}

IkeSa* Analyzer::find_or_create_ike_sa(const Datagram& d, bool* twin, bool* not_credible) {
    *twin = false;
    *not_credible = false;
    const IkeHeader& h = d.ike->hdr;
    auto alias_matches = [&](uint32_t number) {
        for (const Alias& a : impl_->aliases[number - 1]) {
            if ((a.initiator == d.src && a.responder == d.dst) || (a.initiator == d.dst && a.responder == d.src))
                return true;
        }
        return false;
    };
    auto add_alias = [&](IkeSa& sa, const Endpoint& ini, const Endpoint& resp) {
        auto& v = impl_->aliases[sa.number - 1];
        for (const Alias& a : v)
            if (a.initiator == ini && a.responder == resp) return;
        if (v.size() < kMaxAliasesPerSa) v.push_back(Alias{ini, resp});
    };
    auto index_cookies = [&](IkeSa& sa) {
        impl_->by_icookie[sa.icookie].push_back(sa.number);
        if (sa.rcookie) impl_->by_cookies[CookiePair{sa.icookie, sa.rcookie}].push_back(sa.number);
    };

    if (h.rspi != 0) {
        const SaList* same = impl_->by_cookies.find(CookiePair{h.ispi, h.rspi});
        if (same && !same->empty()) {
            for (uint32_t n : *same)
                if (alias_matches(n)) return &sas_[n - 1];
            return &sas_[(*same)[0] - 1];  // same cookies from a new ip:port: NAT rebinding
        }
        // The response that gives a pending SA its responder cookie.
        if (const SaList* pending_sas = impl_->by_icookie.find(h.ispi)) {
            IkeSa* single = nullptr;
            size_t pending = 0;
            for (uint32_t n : *pending_sas) {
                IkeSa& sa = sas_[n - 1];
                if (sa.rcookie != 0) continue;
                pending++;
                single = &sa;
                if (alias_matches(n)) {
                    sa.rcookie = h.rspi;
                    impl_->by_cookies[CookiePair{sa.icookie, sa.rcookie}].push_back(sa.number);
                    return &sa;
                }
            }
            if (pending == 1 && d.time_ns - single->last_time_ns < 60ll * 1000000000) {
                single->rcookie = h.rspi;
                impl_->by_cookies[CookiePair{single->icookie, single->rcookie}].push_back(single->number);
                add_alias(*single, h.is_v2() && !h.v2_initiator() ? d.dst : d.src,
                          h.is_v2() && !h.v2_initiator() ? d.src : d.dst);
                return single;
            }
        }
    } else {
        if (const SaList* same_icookie = impl_->by_icookie.find(h.ispi)) {
            for (uint32_t n : *same_icookie)
                if (alias_matches(n)) return &sas_[n - 1];
            // The same first message on the other side of a NAT.
            for (uint32_t n : *same_icookie) {
                IkeSa& sa = sas_[n - 1];
                for (const MessageRecord& m : sa.phase1) {
                    if (is_twin(m, d, Direction::FromInitiator)) {
                        *twin = true;
                        add_alias(sa, d.src, d.dst);
                        return &sa;
                    }
                }
            }
        }
    }

    // A new SA only from a credible IKE header: on UDP 500 the dissector
    // accepts any known version within the datagram (as Wireshark's isakmp
    // does), but bytes that merely look like one (a file sent to port 500)
    // must not become an SA. Every field as the heuristics check it; only the
    // UDP payload may be longer than the message.
    const HeaderCheck credible = parse_ike_header(d.ike_bytes, d.ike_len, Strictness::Heuristic, nullptr);
    if (credible != HeaderCheck::Ok && credible != HeaderCheck::LengthMismatch) {
        *twin = false;
        *not_credible = true;
        return nullptr;
    }
    // A new SA, unless ESP or keepalives already made a placeholder for this mapping.
    IkeSa* sa = nullptr;
    const uint32_t on_mapping = impl_->mapping_of(PortPair(d.src, d.dst));
    if (on_mapping && sas_[on_mapping - 1].major == 0) sa = &sas_[on_mapping - 1];
    if (!sa && at_capacity()) return nullptr;
    if (!sa) sa = new_sa(d);
    const bool placeholder = sa->major == 0 && sa->floated;
    adopt_ike_identity(*sa, d);
    if (placeholder && !h.is_v2()) {
        // A mid-session IKEv1 message cannot tell who initiated: keep the
        // orientation the placeholder guessed from the ports.
        if (d.src == sa->responder_float || d.dst == sa->initiator_float) {
            sa->initiator = d.dst;
            sa->responder = d.src;
        }
    } else if (placeholder && sa->initiator_float != sa->initiator) {
        std::swap(sa->initiator_float, sa->responder_float);
        for (EspSpiStats& e : sa->esp)
            e.dir = e.dir == Direction::FromInitiator ? Direction::FromResponder : Direction::FromInitiator;
        std::swap(sa->keepalives[1], sa->keepalives[2]);
        for (Alias& a : impl_->aliases[sa->number - 1]) std::swap(a.initiator, a.responder);
    }
    index_cookies(*sa);
    add_alias(*sa, sa->initiator, sa->responder);
    return sa;
}

Direction Analyzer::direction_of(const IkeSa& sa, const Datagram& d) const {
    if (d.ike && d.ike->hdr.is_v2())
        return d.ike->hdr.v2_initiator() ? Direction::FromInitiator : Direction::FromResponder;
    if (sa.number <= impl_->aliases.size()) {
        for (const Alias& a : impl_->aliases[sa.number - 1]) {
            if (a.initiator == d.src && a.responder == d.dst) return Direction::FromInitiator;
            if (a.responder == d.src && a.initiator == d.dst) return Direction::FromResponder;
        }
    }
    if (sa.floated) {
        if (d.src == sa.initiator_float || d.dst == sa.responder_float) return Direction::FromInitiator;
        if (d.src == sa.responder_float || d.dst == sa.initiator_float) return Direction::FromResponder;
    }
    if (d.src.same_address(sa.responder) || d.dst.same_address(sa.initiator)) return Direction::FromResponder;
    if (d.src.same_address(sa.initiator) || d.dst.same_address(sa.responder)) return Direction::FromInitiator;
    return Direction::Unknown;
}

MessageRecord* Analyzer::find_twin(IkeSa& sa, const Datagram& d, Direction dir) {
    // Prefer the copy with the same bytes; a NAT "helper" may have changed them.
    const uint64_t dg = digest_bytes(d.ike_bytes, d.ike_len);
    MessageRecord* loose = nullptr;
    auto scan = [&](std::vector<MessageRecord>& v) -> MessageRecord* {
        for (auto it = v.rbegin(); it != v.rend(); ++it) {
            if (!is_twin(*it, d, dir)) continue;
            if (it->digest == dg) return &*it;
            if (!loose) loose = &*it;
        }
        return nullptr;
    };
    if (MessageRecord* m = scan(sa.phase1)) return m;
    const uint64_t key = (static_cast<uint64_t>(sa.number) << 32) | d.ike->hdr.msgid;
    const uint32_t* child = impl_->child_by_msgid.find(key);
    if (child)
        if (MessageRecord* m = scan(sa.children[*child - 1].messages)) return m;
    return loose;
}

// The same message on the other side of the NAT: reconstruct the mapping and
// check that the NAT changed nothing but addresses and ports.
void Analyzer::observe_twin(IkeSa& sa, MessageRecord& orig, const Datagram& d, FrameAnalysis& fa) {
    fa.related_frame = orig.frame;
    if (!orig.twin_frame) orig.twin_frame = d.frame;
    const Endpoint* src0 = nullptr;
    const Endpoint* dst0 = nullptr;
    const Impl::Recent* recent = impl_->recalled(orig.frame);
    if (recent) {
        src0 = &recent->src;
        dst0 = &recent->dst;
    }
    auto add_mapping = [&](Direction peer, const Endpoint& a, const Endpoint& b) {
        for (size_t i = 0; i < sa.mappings.size(); ++i) {
            const PortMapping& m = sa.mappings[i];
            if (m.peer == peer && ((m.first == a && m.second == b) || (m.first == b && m.second == a)))
                return static_cast<uint8_t>(i + 1);
        }
        if (sa.mappings.size() >= 16) return static_cast<uint8_t>(0);
        PortMapping m;
        m.peer = peer;
        m.natt_port = orig.floated;
        m.first = a;
        m.second = b;
        m.first_interface = orig.interface;
        m.second_interface = d.interface;
        m.first_frame = orig.frame;
        m.second_frame = d.frame;
        sa.mappings.push_back(m);
        return static_cast<uint8_t>(sa.mappings.size());
    };
    if (src0 && dst0) {
        const Direction receiver = fa.dir == Direction::FromInitiator ? Direction::FromResponder : Direction::FromInitiator;
        uint8_t idx = 0;
        if (*src0 != d.src) idx = add_mapping(fa.dir, *src0, d.src);
        if (*dst0 != d.dst) {
            const uint8_t r = add_mapping(receiver, *dst0, d.dst);
            if (!idx) idx = r;
        }
        fa.mapping_index = idx;
        if (!orig.mapping_index) orig.mapping_index = idx;
        // A NAT must change only addresses, ports and checksums.
        const auto& bytes = recent->bytes;
        const size_t n = bytes.size() < d.ike_len ? bytes.size() : d.ike_len;
        if (orig.digest != digest_bytes(d.ike_bytes, d.ike_len) || bytes.size() != d.ike_len) {
            size_t off = 0;
            while (off < n && bytes[off] == d.ike_bytes[off]) ++off;
            fa.findings |= kFindPayloadAltered;
            fa.altered_offset = static_cast<uint32_t>(off);
            sa.findings++;
            sa.payload_alterations++;
        }
    }
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

namespace {
bool private_address(const Endpoint& e) {
    const uint8_t* a = e.addr;
    if (e.family == 4)
        return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
               (a[0] == 100 && (a[1] & 0xc0) == 64);
    if (e.family == 6) return (a[0] & 0xfe) == 0xfc;
    return false;
}
}  // namespace

int Analyzer::inside_interface(const IkeSa& sa, const PortMapping& m) const {
    // The peer's own NAT-D hash matches its address where it really has it.
    for (const NatDObservation& o : sa.nat.observations) {
        for (uint8_t k = 0; k < o.n; ++k) {
            const NatDHash& h = o.hashes[k];
            const bool about_peer = h.is_source == (o.dir == m.peer);
            if (about_peer && h.is_source && h.result == NatDMatch::Match)
                return static_cast<int>(o.interface);
        }
    }
    const bool p1 = private_address(m.first), p2 = private_address(m.second);
    if (p1 != p2) return static_cast<int>(p1 ? m.first_interface : m.second_interface);
    return -1;
}

// ESP-in-UDP on a port pair with no IKE (a capture that starts mid-tunnel)
// gets a placeholder SA only once it looks like ESP (RFC 4303 §2.1-2.2): an
// SPI outside the reserved 1-255, and kEspEvidencePackets packets of that SPI
// whose sequence numbers (never 0) rise by at most kEspSeqStep. Other traffic
// sent to UDP 4500 (syslog, TFTP, DTLS, QUIC...) is ESP only by RFC 3948's
// first-four-bytes rule, and must not become an SA.
bool Analyzer::esp_plausible(const Datagram& d) {
    if (d.esp_spi < 256 || d.esp_seq == 0) return false;
    auto& evidence = impl_->esp_evidence;
    const EspKey key{PortPair(d.src, d.dst), d.esp_spi};
    auto it = evidence.find(key);
    if (it == evidence.end()) {
        if (!room(evidence.size(), kEvidencePerSa)) evidence.clear();  // hostile captures: bounded
        evidence.emplace(key, Impl::EspEvidence{d.esp_seq, 1});
        return false;
    }
    Impl::EspEvidence& e = it->second;
    const bool rising = d.esp_seq > e.last_seq && d.esp_seq - e.last_seq <= kEspSeqStep;
    e.packets = rising ? static_cast<uint8_t>(e.packets + 1) : 1;
    e.last_seq = d.esp_seq;
    if (e.packets < kEspEvidencePackets) return false;
    evidence.erase(it);
    return true;
}

IkeSa* Analyzer::sa_for_mapping(const Datagram& d, bool create, FrameAnalysis* fa) {
    if (const uint32_t n = impl_->mapping_of(PortPair(d.src, d.dst))) return &sas_[n - 1];
    if (!create) return nullptr;
    // A new port from a known peer address to a floated SA's other end, on
    // the same interface, after the SA's mapping idled out: the NAT re-created
    // the peer's mapping (rebinding).
    // Only when exactly one SA fits: peers behind one NAT share the address.
    IkeSa* candidate = nullptr;
    size_t candidates = 0;
    // Only SAs between the same two hosts: a scan of every SA for each
    // datagram on an unknown pair was quadratic on hostile captures.
    static const SaList none;
    const SaList* fit = impl_->floated_by_addresses.find(address_pair(d.src, d.dst));
    const SaList& same_hosts = fit ? *fit : none;
    for (size_t k = same_hosts.size(); k > 0 && candidates < 2; --k) {
        IkeSa& s = sas_[same_hosts[k - 1] - 1];
        if (!s.floated || s.major == 0 || s.float_interface != d.interface || s.state == SaState::Deleted) continue;
        // Only an SA whose mapping went quiet for longer than the NAT timeout:
        // a second peer behind the same NAT address must not be taken for it.
        if (d.time_ns - s.last_natt_ns <= nat_timeout_ns_) continue;
        const bool from_i = d.src.same_address(s.current_initiator_float) && d.dst == s.current_responder_float;
        const bool to_i = d.dst.same_address(s.current_initiator_float) && d.src == s.current_responder_float;
        const bool from_r = d.src.same_address(s.current_responder_float) && d.dst == s.current_initiator_float;
        const bool to_r = d.dst.same_address(s.current_responder_float) && d.src == s.current_initiator_float;
        if (from_i || to_i || from_r || to_r) {
            candidate = &s;
            candidates++;
        }
    }
    if (candidates == 1 && fa) {
        IkeSa& s = *candidate;
        const bool ini_side = d.src.same_address(s.current_initiator_float) && d.dst == s.current_responder_float;
        const bool ini_dst = d.dst.same_address(s.current_initiator_float) && d.src == s.current_responder_float;
        fa->findings |= kFindRebinding;
        fa->related_frame = s.last_frame;
        s.findings++;
        s.mapping_changes++;
        if (ini_side || ini_dst) {
            s.current_initiator_float = ini_side ? d.src : d.dst;
        } else {
            s.current_responder_float = d.src.same_address(s.current_responder_float) ? d.src : d.dst;
        }
        impl_->index_float(s.number, s.current_initiator_float, s.current_responder_float);
        if (impl_->aliases[s.number - 1].size() < kMaxAliasesPerSa)
            impl_->aliases[s.number - 1].push_back(Alias{s.current_initiator_float, s.current_responder_float});
        impl_->by_mapping(PortPair(d.src, d.dst)) = s.number;
        return &s;
    }
    // ESP or keepalives before (or without) any IKE: a placeholder SA for the
    // mapping, adopted by the first IKE message that appears on it. The
    // NAT-T port (4500) side is taken as the responder.
    if (at_capacity()) return nullptr;
    IkeSa* sa = new_sa(d);
    sa->floated = true;
    sa->float_frame = d.frame;
    const bool src_is_responder = d.src.port == 4500 && d.dst.port != 4500;
    sa->initiator_float = src_is_responder ? d.dst : d.src;
    sa->responder_float = src_is_responder ? d.src : d.dst;
    impl_->aliases.back().push_back(Alias{sa->initiator_float, sa->responder_float});
    impl_->by_mapping(PortPair(d.src, d.dst)) = sa->number;
    impl_->index_float(sa->number, sa->initiator_float, sa->responder_float);
    return sa;
}

void Analyzer::observe_ike(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    const IkeHeader& h = d.ike->hdr;
    const Direction dir = fa.dir;
    MessageRecord rec;
    rec.frame = d.frame;
    rec.time_ns = d.time_ns;
    rec.dir = dir;
    rec.floated = d.kind == DatagramKind::FloatedIke;
    rec.length = h.length;
    rec.msgid = h.msgid;
    rec.exchange = h.exchange;
    rec.interface = static_cast<uint8_t>(d.interface);
    rec.digest = digest_bytes(d.ike_bytes, d.ike_len);

    if (rec.floated) {
        const PortPair pp(d.src, d.dst);
        impl_->by_mapping(pp) = sa.number;
        SaList& on_pair = impl_->mapping_sas[pp];
        if (!on_pair.contains(sa.number) && on_pair.size() < 8) on_pair.push_back(sa.number);
        const Endpoint ini = dir == Direction::FromResponder ? d.dst : d.src;
        const Endpoint resp = dir == Direction::FromResponder ? d.src : d.dst;
        if (!sa.floated) {
            sa.floated = true;
            sa.float_frame = d.frame;
            sa.float_interface = d.interface;
            fa.floated_now = true;
            sa.initiator_float = ini;
            sa.responder_float = resp;
            sa.current_initiator_float = ini;
            sa.current_responder_float = resp;
            impl_->index_float(sa.number, ini, resp);
        } else if (d.interface == sa.float_interface &&
                   !(pp == PortPair(sa.current_initiator_float, sa.current_responder_float))) {
            // Same cookies from a new ip:port on the same capture interface: the
            // NAT dropped the old mapping and made a new one (RFC 3947 §4).
            // The table keeps the first mapping; the finding points at the change.
            fa.findings |= kFindRebinding;
            fa.related_frame = sa.last_frame;
            sa.findings++;
            sa.mapping_changes++;
            sa.current_initiator_float = ini;
            sa.current_responder_float = resp;
            impl_->index_float(sa.number, ini, resp);
            if (impl_->aliases[sa.number - 1].size() < kMaxAliasesPerSa)
                impl_->aliases[sa.number - 1].push_back(Alias{ini, resp});
        }
    }

    fa.exchange_class = classify_exchange(h);
    fa.msgid = h.msgid;
    switch (fa.exchange_class) {
        case ExchangeClass::Phase1: {
            // IKEv1 main/aggressive mode alternate; a second message in the
            // same direction is a retransmission. IKEv2 pairs by message ID.
            bool retrans = false;
            for (auto rit = sa.phase1.rbegin(); rit != sa.phase1.rend(); ++rit) {
                if (rit->retransmission) continue;
                if (h.is_v2())
                    retrans = rit->dir == dir && rit->digest == rec.digest;
                else
                    retrans = rit->dir == dir;
                break;
            }
            rec.retransmission = retrans;
            if (sa.phase1.size() < kMaxMessagesPerExchange && take(&impl_->records, kRecordsPerSa)) {
                push_tight(sa.phase1, rec);
                fa.record_index = static_cast<uint8_t>(sa.phase1.size());
            }
            uint8_t n = 0;
            for (const auto& m : sa.phase1)
                if (!m.retransmission && n < 255) n++;
            fa.retransmission = retrans;
            fa.phase1_message = n;
            if (retrans) {
                fa.findings |= kFindUnanswered;
                sa.findings++;
                sa.phase1_retransmissions++;
                if (sa.state == SaState::InProgress && sa.phase1_retransmissions >= 2) sa.state = SaState::Failed;
            } else {
                sa.phase1_last_frame = d.frame;
                if (sa.state == SaState::Failed) sa.state = SaState::InProgress;
                const bool done = (sa.flavour == IkeFlavour::MainMode && n >= 6) ||
                                  (sa.flavour == IkeFlavour::AggressiveMode && n >= 3) ||
                                  (h.is_v2() && h.exchange == kExIkeAuth && h.v2_response());
                if (done && sa.state != SaState::Deleted) sa.state = SaState::Established;
            }
            // IKEv2's IKE_AUTH also creates the first CHILD_SA: ESP links to it.
            if (!(h.is_v2() && h.exchange == kExIkeAuth)) break;
        }
            // fall through
        case ExchangeClass::Child: {
            const uint64_t key = (static_cast<uint64_t>(sa.number) << 32) | h.msgid;
            uint32_t idx = 0;
            if (const uint32_t* known = impl_->child_by_msgid.find(key)) {
                idx = *known;
            } else if (sa.children.size() < kMaxChildrenPerSa && take(&impl_->children, kChildrenPerSa)) {
                sa.children.emplace_back();
                sa.children.back().msgid = h.msgid;
                sa.children.back().exchange = h.exchange;
                idx = static_cast<uint32_t>(sa.children.size());
                impl_->child_by_msgid[key] = idx;
            }
            if (idx == 0) break;
            ChildExchange& cx = sa.children[idx - 1];
            bool retrans = false;
            for (auto rit = cx.messages.rbegin(); rit != cx.messages.rend(); ++rit) {
                if (rit->retransmission) continue;
                retrans = rit->dir == dir && rit->digest == rec.digest;
                break;
            }
            rec.retransmission = retrans;
            const bool recorded = cx.messages.size() < kMaxMessagesPerExchange && take(&impl_->records, kRecordsPerSa);
            if (recorded) push_tight(cx.messages, rec);
            uint8_t n = 0;
            for (const auto& m : cx.messages)
                if (!m.retransmission && n < 255) n++;
            if (fa.exchange_class == ExchangeClass::Child) {
                fa.retransmission = retrans;
                fa.record_index = recorded ? static_cast<uint8_t>(cx.messages.size()) : 0;
                fa.child_index = idx;
                fa.child_message = static_cast<uint8_t>(cx.messages.size());
                fa.phase1_last_frame = sa.phase1_last_frame;
            }
            const bool done = h.is_v2() ? h.v2_response() : n >= 3;
            if (done && !cx.completed && !retrans) {
                cx.completed = true;
                cx.completed_frame = d.frame;
                cx.completed_time_ns = d.time_ns;
            }
            break;
        }
        case ExchangeClass::Informational: {
            if (!h.is_v2() || !h.v2_response()) sa.informational++;
            if (d.ike->has_delete) {
                sa.deletes++;
                sa.state = SaState::Deleted;
            }
            for (uint8_t i = 0; i < d.ike->n_notify; ++i)
                if (d.ike->notify_types[i] == kNtfyV1RUThere || d.ike->notify_types[i] == kNtfyV1RUThereAck) sa.dpd++;
            break;
        }
        default: break;
    }
}

void Analyzer::peer_endpoints(const IkeSa& sa, std::vector<Endpoint>* ini, std::vector<Endpoint>* resp) const {
    for (const Alias& a : impl_->aliases[sa.number - 1]) {
        ini->push_back(a.initiator);
        resp->push_back(a.responder);
    }
    if (sa.floated) {
        ini->push_back(sa.initiator_float);
        resp->push_back(sa.responder_float);
    }
}

// Vendor IDs, the responder's hash algorithm, and NAT-D payloads: on every
// copy of a message, twins included (the other side of a NAT hashes differently).
void Analyzer::observe_nat(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    const IkeMessage& m = *d.ike;
    const IkeHeader& h = m.hdr;
    NatState& nat = sa.nat;
    const int dir = static_cast<int>(fa.dir);
    for (uint8_t i = 0; i < m.n_vendor_ids; ++i) {
        const PayloadRef& v = m.vendor_ids[i];
        if (v.offset + v.length > d.ike_len) continue;
        const VendorIdInfo info = classify_vendor_id(d.ike_bytes + v.offset, v.length);
        if (info.method != NattMethod::None && fa.dir != Direction::Unknown) {
            auto& list = nat.methods[dir];
            bool dup = false;
            for (NattMethod x : list) dup |= x == info.method;
            if (!dup && list.size() < 32) list.push_back(info.method);
        }
        if (info.microsoft && fa.dir == Direction::FromInitiator) {
            nat.microsoft_initiator = true;
            nat.microsoft_version = info.microsoft_version;
        }
    }
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
    obs.interface = d.interface;
    obs.v2 = h.is_v2();
    obs.src = d.src;
    obs.dst = d.dst;
    obs.ispi = h.ispi;
    obs.rspi = h.rspi;
    auto add_hash = [&](const PayloadRef& ref, bool is_source) {
        if (obs.n >= kMaxNatDPerMessage || ref.length == 0 || ref.length > kMaxNatDHashLen ||
            ref.offset + ref.length > d.ike_len)
            return;
        NatDHash& x = obs.hashes[obs.n++];
        x.is_source = is_source;
        obs.set_bytes(x, d.ike_bytes + ref.offset, ref.length);
        x.offset = ref.offset;
    };
    if (h.is_v2()) {
        for (uint8_t i = 0; i < m.n_notify; ++i) {
            if (m.notify_types[i] == kNtfyV2NatDetectionSourceIp) add_hash(m.notify_data[i], true);
            if (m.notify_types[i] == kNtfyV2NatDetectionDestinationIp) add_hash(m.notify_data[i], false);
        }
    } else {
        // RFC 3947 §3.2: the first NAT-D is the receiver's address, the rest the sender's.
        for (uint8_t i = 0; i < m.n_natd; ++i) {
            if (obs.payload_type == 0) obs.payload_type = m.natd[i].type;
            add_hash(m.natd[i], i != 0);
        }
        if (obs.payload_type == kPlV1NatDRfc) nat.natd_types_seen |= 1;
        if (obs.payload_type == kPlV1NatDDraft) nat.natd_types_seen |= 2;
        if (obs.payload_type == kPlV1NatDDraft15) nat.natd_types_seen |= 4;
    }
    if (obs.n == 0 && !reverify) return;

    std::vector<Endpoint> ini, resp;
    peer_endpoints(sa, &ini, &resp);
    if (obs.n > 0 && nat.observations.size() < kMaxNatDObservations && take(&impl_->natd_obs, kNatDPerSa)) {
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
    evaluate_nat(nat, d.frame);
    if (nat.verdict_known() && (nat.verdict != before || nat.initiator_behind != ib || nat.responder_behind != rb)) {
        fa.findings |= kFindNatVerdict;
    }
    // The NAT-D payload type must be the one the agreed method defines.
    if (!h.is_v2() && obs.payload_type != 0) {
        const NattMethod agreed = nat.agreed();
        const uint8_t want = natd_payload_type_for(agreed);
        if (agreed != NattMethod::None && want != 0 && want != obs.payload_type) {
            fa.findings |= kFindMethodMismatch;
            sa.findings++;
        }
    }
}

// Findings that depend on where an IKE message travels.
void Analyzer::observe_float_findings(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    const IkeHeader& h = d.ike->hdr;
    if (fa.twin && d.kind == DatagramKind::FloatedIke) {
        // The other side of the NAT: ESP and keepalives there belong here too.
        uint32_t& m = impl_->by_mapping(PortPair(d.src, d.dst));
        if (m == 0) m = sa.number;
    }
    if (fa.twin) return;
    // NAT detected, yet the encrypted phase-1 messages stay on the IKE port.
    const bool late_phase1 = (!h.is_v2() && sa.flavour == IkeFlavour::MainMode && fa.phase1_message >= 5) ||
                             (h.is_v2() && h.exchange == kExIkeAuth);
    const bool nat = sa.nat.initiator_behind || sa.nat.responder_behind;
    if (late_phase1 && nat && d.kind == DatagramKind::PlainIke && !fa.retransmission) {
        fa.findings |= kFindNoFloat;
        sa.findings++;
    }
    // Two SAs negotiating at once from one outside ip:port: two inside peers
    // squeezed through one socket (a NAT pinning port 500, "IPsec passthrough").
    if (fa.exchange_class == ExchangeClass::Phase1 && fa.phase1_message == 1 && !fa.retransmission &&
        fa.dir == Direction::FromInitiator) {
        const Impl::SocketUse* use = impl_->initiator_socket.find(d.src);
        if (use && use->sa != sa.number) {
            const IkeSa& other = sas_[use->sa - 1];
            const bool other_live = other.state == SaState::InProgress &&
                                    d.time_ns - other.last_time_ns < 30ll * 1000000000;
            if (other_live && other.icookie != sa.icookie) {
                fa.findings |= kFindSharedSocket;
                fa.related_frame = other.first_frame;
                sa.findings++;
            }
        }
        impl_->initiator_socket[d.src] = Impl::SocketUse{sa.number, d.time_ns};
    }
}

// Several IKE SAs can share one port mapping (a phase-1 rekey or
// re-authentication). A new SPI belongs to the SA whose quick mode created
// it: the one with the latest completed exchange still without an SPI in
// this direction; otherwise the latest SA on the mapping.
IkeSa* Analyzer::owner_of_new_spi(IkeSa& latest, const Datagram& d, const FrameAnalysis& fa) {
    const SaList* on_pair = impl_->mapping_sas.find(PortPair(d.src, d.dst));
    if (!on_pair || on_pair->size() < 2) return &latest;
    IkeSa* best = nullptr;
    uint32_t best_frame = 0;
    const int dir = static_cast<int>(fa.dir);
    for (uint32_t n : *on_pair) {
        IkeSa& s = sas_[n - 1];
        for (const ChildExchange& cx : s.children) {
            if (cx.completed && cx.completed_frame <= d.frame && cx.esp_spis_linked[dir] == 0 &&
                cx.completed_frame > best_frame) {
                best = &s;
                best_frame = cx.completed_frame;
            }
        }
    }
    return best ? best : &latest;
}

bool Analyzer::observe_esp(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    const EspKey key{PortPair(d.src, d.dst), d.esp_spi};
    EspSpiStats* st = nullptr;
    if (const EspRef* ref = impl_->esp.find(key)) st = &sas_[ref->sa - 1].esp[ref->index];
    // Past the budget a (port pair, SPI) is not indexed: its packets are
    // still counted, through this slower path.
    const bool index = room(impl_->esp.size(), kEspRecordsPerSa);
    if (!st) {
        // The same SPI on the other side of a NAT (or after a rebinding).
        for (size_t i = 0; i < sa.esp.size(); ++i) {
            if (sa.esp[i].spi == d.esp_spi) {
                st = &sa.esp[i];
                if (index)
                    impl_->esp[key] = EspRef{sa.number, static_cast<uint32_t>(i), impl_->slot_of(key.pair),
                                             pairs_.contains(key.pair)};
                break;
            }
        }
    }
    if (!st && sa.esp.size() < kMaxSpisPerSa && take(&impl_->spi_stats, kEspRecordsPerSa)) {
        sa.esp.emplace_back();
        st = &sa.esp.back();
        st->spi = d.esp_spi;
        st->dir = fa.dir;
        st->first_frame = d.frame;
        // SPIs travel inside encrypted quick modes: infer the exchange as the
        // latest one completed before this first packet that has no SPI in
        // this direction yet, else simply the latest completed one.
        uint32_t best = 0, fallback = 0;
        for (uint32_t i = static_cast<uint32_t>(sa.children.size()); i > 0; --i) {
            const ChildExchange& cx = sa.children[i - 1];
            if (!cx.completed || cx.completed_frame > d.frame) continue;
            if (!fallback) fallback = i;
            if (cx.esp_spis_linked[static_cast<int>(fa.dir)] != 0) break;
            best = i;  // the oldest of the latest run of exchanges still without an SPI
        }
        const uint32_t pick = best ? best : fallback;
        if (pick) {
            st->child_index = pick;
            st->child_frame = sa.children[pick - 1].completed_frame;
            sa.children[pick - 1].esp_spis_linked[static_cast<int>(fa.dir)]++;
        }
        if (index)
            impl_->esp[key] = EspRef{sa.number, static_cast<uint32_t>(sa.esp.size() - 1), impl_->slot_of(key.pair),
                                     pairs_.contains(key.pair)};
    }
    if (st) count_esp(sa, *st, d);
    return st != nullptr;
}

void Analyzer::observe_keepalive(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    Impl::Series& s = impl_->keepalive_flows[Flow{d.src, d.dst}];
    if (s.last_frame != 0 && s.last_frame < d.frame) {
        fa.keepalive_prev_frame = s.last_frame;
        fa.keepalive_interval_ns = d.time_ns - s.last_time_ns;
    }
    s.last_frame = d.frame;
    s.last_time_ns = d.time_ns;

    if (d.interface != sa.first_interface || fa.dir == Direction::Unknown) return;
    KeepaliveStats& k = sa.keepalives[static_cast<int>(fa.dir)];
    if (k.count > 0) {
        const int64_t iv = d.time_ns - k.last_time_ns;
        if (k.count == 1 || iv < k.min_interval_ns) k.min_interval_ns = iv;
        if (k.count == 1 || iv > k.max_interval_ns) k.max_interval_ns = iv;
        k.add_interval(iv);
    } else {
        k.first_frame = d.frame;
    }
    k.count++;
    k.last_frame = d.frame;
    k.last_time_ns = d.time_ns;
}

// Nearly every frame of a busy capture is ESP on a (port pair, SPI) seen
// before: one lookup (the SPI's record, which points at the mapping's latest
// SA) and a few counters. false: not seen before, take the general path.
bool Analyzer::observe_known_esp(const Datagram& d, FrameAnalysis& fa) {
    const EspRef* ref = impl_->esp.find(EspKey{PortPair(d.src, d.dst), d.esp_spi});
    if (!ref) return false;
    const uint32_t on_mapping = impl_->mapping_sa[ref->mapping];
    if (on_mapping == 0) return false;
    IkeSa& mapping_sa = sas_[on_mapping - 1];
    IkeSa& owner = sas_[ref->sa - 1];
    EspSpiStats& st = owner.esp[ref->index];
    fa.dir = st.dir;  // as later passes show it (esp_lookup)
    count_esp(owner, st, d);
    check_mapping_idle(mapping_sa, d, fa);
    touch(owner, d, fa);
    return true;
}

void Analyzer::count_esp(const IkeSa& sa, EspSpiStats& st, const Datagram& d) {
    // A merged two-sided capture shows each packet twice: count one side.
    if (d.interface != sa.first_interface) return;
    st.packets++;
    st.bytes += d.udp_payload_len;
    st.last_frame = d.frame;
}

// A NAT drops a UDP mapping idle (no packet either way) for longer than its
// UDP timeout; the next packet meets a new mapping, or none.
void Analyzer::check_mapping_idle(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    if (d.interface != sa.first_interface) return;
    int64_t& last = sa.last_natt_ns;
    if (last != 0 && nat_timeout_ns_ > 0 && d.time_ns - last > nat_timeout_ns_ &&
        sa.nat.verdict != NatVerdict::NoNat) {
        fa.findings |= kFindSilence;
        fa.silence_ns = d.time_ns - last;
        sa.findings++;
        // RFC 3948 §4: the peer behind the NAT must keep its mapping alive.
        if ((sa.nat.initiator_behind && sa.keepalives[1].count == 0) ||
            (sa.nat.responder_behind && sa.keepalives[2].count == 0))
            fa.findings |= kFindNoKeepalive;
    }
    last = d.time_ns;
}

// The frame belongs to this SA.
void Analyzer::touch(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    fa.sa = sa.number;
    fa.sa_first_frame = sa.first_frame;
    sa.last_frame = d.frame;
    sa.last_time_ns = d.time_ns;
    if (d.interface < 32) sa.interfaces_seen |= 1u << d.interface;
}

FrameAnalysis Analyzer::observe(const Datagram& d) {
    FrameAnalysis fa;
    fa.kind = d.kind;
    if (d.kind == DatagramKind::EspInUdp && observe_known_esp(d, fa)) return fa;
    // What the port pair carries: from the datagram when it says, else from
    // where the dissector found it (one table update per frame).
    switch (d.kind) {
        case DatagramKind::IkeWithoutMarker: learn(d.src, d.dst, PairRole::Natt); break;
        case DatagramKind::Keepalive: learn(d.src, d.dst, d.pair_role); break;
        // IKE and ESP teach their pair once they belong to an SA (below): bytes
        // that only look like them, or a malformed datagram, teach nothing.
        default: break;
    }
    IkeSa* sa = nullptr;
    switch (d.kind) {
        case DatagramKind::PlainIke:
        case DatagramKind::FloatedIke: {
            if (!d.ike) break;
            bool twin_first = false, not_credible = false;
            sa = find_or_create_ike_sa(d, &twin_first, &not_credible);
            if (!sa) {
                fa.findings |= not_credible ? kFindNotCredible : kFindSaCap;
                break;
            }
            learn(d.src, d.dst, d.kind == DatagramKind::PlainIke ? PairRole::Ike : PairRole::Natt);
            fa.dir = direction_of(*sa, d);
            impl_->by_addresses[address_pair(d.src, d.dst)] = sa->number;
            MessageRecord* orig = find_twin(*sa, d, fa.dir);
            fa.twin = orig != nullptr;
            if (orig) {
                fa.exchange_class = classify_exchange(d.ike->hdr);
                fa.msgid = d.ike->hdr.msgid;
                observe_twin(*sa, *orig, d, fa);
            } else {
                observe_ike(*sa, d, fa);
                if (d.ike_bytes) impl_->remember(d);
            }
            observe_nat(*sa, d, fa);
            observe_float_findings(*sa, d, fa);
            break;
        }
        case DatagramKind::EspInUdp: {
            sa = sa_for_mapping(d, false, nullptr);
            if (!sa) {
                // A known SPI on a new port pair: the same SA on the other side
                // of a NAT (another interface), or after a NAT rebinding.
                if (const Impl::SpiOwner* owner = impl_->spi_owner.find(d.esp_spi)) {
                    uint8_t& moves = impl_->esp_pairs[owner->sa - 1];
                    if (moves >= kMaxEspPairsPerSa) {
                        // Replayed from ever more ports: not followed (bounded).
                        fa.findings |= kFindEspPairCap;
                        break;
                    }
                    moves++;
                    sa = &sas_[owner->sa - 1];
                    impl_->by_mapping(PortPair(d.src, d.dst)) = sa->number;
                    if (owner->interface == d.interface) {
                        fa.findings |= kFindRebinding;
                        fa.related_frame = sa->last_frame;
                        sa->findings++;
                        sa->mapping_changes++;
                    }
                } else if (esp_plausible(d)) {
                    sa = sa_for_mapping(d, true, &fa);
                } else {
                    break;  // not (yet) credible ESP: no SA
                }
            }
            if (!sa) {
                fa.findings |= kFindSaCap;
                break;
            }
            learn(d.src, d.dst, PairRole::Natt);
            const bool new_spi = !impl_->spi_owner.contains(d.esp_spi);
            if (new_spi) sa = owner_of_new_spi(*sa, d, fa);
            fa.dir = direction_of(*sa, d);
            // Only SPIs the SA records are followed to other port pairs.
            if (observe_esp(*sa, d, fa) && new_spi && room(impl_->spi_owner.size(), kSpiOwnersPerSa))
                impl_->spi_owner[d.esp_spi] = Impl::SpiOwner{sa->number, d.interface};
            break;
        }
        case DatagramKind::Keepalive:
            sa = sa_for_mapping(d, true, &fa);
            if (!sa) {
                fa.findings |= kFindSaCap;
                break;
            }
            fa.dir = direction_of(*sa, d);
            observe_keepalive(*sa, d, fa);
            break;
        case DatagramKind::IkeWithoutMarker: break;
        default: break;
    }
    if (sa && (d.kind == DatagramKind::EspInUdp || d.kind == DatagramKind::Keepalive ||
               d.kind == DatagramKind::FloatedIke))
        check_mapping_idle(*sa, d, fa);
    if (sa) touch(*sa, d, fa);
    return fa;
}

bool Analyzer::known_esp_on_natt_pair(const Endpoint& src, const Endpoint& dst, uint32_t spi) const {
    const EspRef* ref = impl_->esp.find(EspKey{PortPair(src, dst), spi});
    return ref && ref->natt_pair;
}

EspLookup Analyzer::esp_lookup(const Endpoint& src, const Endpoint& dst, uint32_t spi) const {
    EspLookup r;
    const EspRef* ref = impl_->esp.find(EspKey{PortPair(src, dst), spi});
    if (!ref) return r;
    const IkeSa& sa = sas_[ref->sa - 1];
    const EspSpiStats& st = sa.esp[ref->index];
    r.sa = sa.number;
    r.sa_first_frame = sa.first_frame;
    r.dir = st.dir;
    r.child_index = st.child_index;
    r.child_frame = st.child_frame;
    return r;
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
