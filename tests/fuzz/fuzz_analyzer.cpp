// libFuzzer harnesses (c) and (d): the SA model natt::Analyzer (tap/analyzer.h)
// and the SA table rows (tap/sa_table.h), fed with an event sequence decoded
// from the fuzz input exactly as plugin/frame_results.cpp feeds it: each
// datagram is classified by tap/ike_parse, IKE bytes are parsed with
// parse_ike_message(Strictness::Port), and the Datagram carries the real
// IkeMessage. After the sequence every query the glue makes is exercised.
//
// The model tells copies of a datagram by addresses and content, never by
// capture interface (there is none in a Datagram): an event may be captured
// twice (a duplicate: the same addresses, ports and bytes moments later) and,
// built with NATT_FUZZ_TWINS as fuzz_analyzer_twins (d), also appear on the
// other side of a NAT: between other hosts (the NAT's view of either
// address), optionally with ports and one byte changed, before or after.
//
// Input format (tests/fuzz/seeds.py writes it from real captures):
//   1 byte   options: bit 0 short NAT timeout
//   8 x 7    endpoint pool: family (bit 0: IPv6 2001:db8::a.b.c.d), IPv4 a.b.c.d, port (BE)
//   4 x 8    cookie pool
//   events until the input ends (at most kMaxEvents):
//     op      bits 0-1 payload (0 raw, 1 keepalive, 2 ESP, 3 IKE), bits 2-3 pair
//             role (0 unknown, 1 IKE, 2 NAT-T, 3 NAT-T over TCP: RFC 8229, Datagram::transport),
//             bit 4 captured twice, bit 5 twin (d),
//             bit 6 cookie override, bit 7 time step in seconds instead of ms
//     eps     bits 0-2 source, bits 3-5 destination, bits 6-7 message ID override
//     dt      time step
//     len     2 bytes LE (capped), then len payload bytes
//     [cky]   with bit 6: bits 0-1 CKY-I, bits 2-3 CKY-R, bit 4 CKY-R zero
//     [dup]   with bit 4: time to the second copy in 0.25 ms (to 63.75 ms:
//             both sides of kDuplicateWindowNs)
//     [twin]  with bit 5 (d): bits 0-1 which address the NAT translates (1
//             source, 2 destination, 3 both; 0: the twin's endpoints are pool
//             entries picked by bits 2-4 and 5-6+bit 0 of the original's), bit 5
//             the NAT translates ports too, bit 6 mutate a byte, bit 7 twin
//             before the original; dt2 (50 ms, to 12.75 s: both sides of
//             kTwinWindowNs); with bit 6: position (2 bytes LE), xor value
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tests/unit/gcrypt_init.h"
#include "tap/ike_parse.h"
#include "tap/analyzer.h"
#include "tap/sa_table.h"

using namespace natt;

namespace {

constexpr size_t kMaxEvents = 400;
constexpr size_t kMaxPayload = 2048;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_analyzer: invariant violated: %s\n", what);
    std::abort();
}

struct Reader {
    const uint8_t* p;
    size_t n;
    bool empty() const { return n == 0; }
    uint8_t u8() {
        if (!n) return 0;
        --n;
        return *p++;
    }
    uint16_t u16le() { uint16_t lo = u8(); return static_cast<uint16_t>(lo | (u8() << 8)); }
    uint16_t u16be() { uint16_t hi = u8(); return static_cast<uint16_t>((hi << 8) | u8()); }
    uint64_t u64() { uint64_t v = 0; for (int i = 0; i < 8; ++i) v = (v << 8) | u8(); return v; }
    std::vector<uint8_t> bytes(size_t k) {
        k = k < n ? k : n;
        std::vector<uint8_t> v(p, p + k);
        p += k;
        n -= k;
        return v;
    }
};

void put_be64(uint8_t* p, uint64_t v) { for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v); }
void put_be32(uint8_t* p, uint32_t v) { for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v); }

#ifdef NATT_FUZZ_TWINS
// The NAT's view of an endpoint: another address of the same family (10.k.c.d
// for IPv4, 2001:db8:ff::k:c:d-like for IPv6; an address already in 10/8
// becomes 198.51.k.d), the port too when asked.
Endpoint nat_view(const Endpoint& e, uint8_t k, bool port) {
    Endpoint n = e;
    if (e.family == 4) {
        if (e.addr[0] == 10) {
            n.addr[0] = 198;
            n.addr[1] = 51;
        } else {
            n.addr[0] = 10;
        }
        n.addr[2] ^= k;
    } else if (e.family == 6) {
        n.addr[4] ^= 0xff;
        n.addr[5] ^= k;
    } else {
        n.family = 4;
        n.addr[0] = 10;
        n.addr[3] = k;
    }
    if (port) n.port = static_cast<uint16_t>(e.port ^ 0x8000);
    return n;
}
#endif

// A small SA cap, so that the whole-file budgets are reached within a run
// and their bound can be checked (issue 17).
constexpr size_t kFuzzMaxSas = 8;
// The sum of the per-SA budgets of tap/limits.h for the indexes keyed by
// what a capture chooses (Analyzer::keyed_entries()).
constexpr size_t kKeyedBound = (2 + kHostPairsPerSa * 2 + kPortPairsPerSa * 3 + kKeepaliveFlowsPerSa + kSocketsPerSa +
                                kPairsPerSa + kEspRecordsPerSa + kEvidencePerSa + kSpiOwnersPerSa) *
                               kFuzzMaxSas;

struct Feeder {
    Feeder() { an.set_max_sas(kFuzzMaxSas); }
    // NATT_FUZZ_TRACE=1: each datagram and its analysis on stderr (to read a reproducer).
    const char* trace = nullptr;
    Analyzer an;
    uint32_t frame = 0;
    struct Seen {
        FrameAnalysis fa;
        Endpoint src, dst;
        uint32_t spi;
        DatagramKind kind;
        uint32_t frame;
    };
    std::vector<Seen> seen;
    // The events without their duplicates, to run again.
    struct Event {
        std::vector<uint8_t> payload;
        PairRole role;
        Endpoint src, dst;
        int64_t t;
        Transport transport;
    };
    std::vector<Event> originals;
    size_t dups = 0;
    bool dups_beyond_window = false;  // or chained: see feed_original

    // What observe_frame() in plugin/frame_results.cpp does on the first pass.
    FrameAnalysis feed(const std::vector<uint8_t>& payload, PairRole role, const Endpoint& src, const Endpoint& dst,
                       int64_t t, Transport transport = Transport::Udp) {
        // An exact-size heap copy: ASan sees any read past the datagram.
        const size_t len = payload.size();
        uint8_t* p = len ? static_cast<uint8_t*>(std::malloc(len)) : nullptr;
        if (len) std::memcpy(p, payload.data(), len);
        const Classification cls =
            role == PairRole::Natt ? classify_natt_datagram(p, len) : classify_ike_datagram(p, len);
        IkeMessage msg;
        Datagram d;
        d.frame = ++frame;
        d.time_ns = t;
        d.src = src;
        d.dst = dst;
        d.transport = transport;
        d.kind = cls.kind;
        d.udp_payload_len = static_cast<uint32_t>(len);
        d.esp_spi = cls.esp_spi;
        d.esp_seq = cls.esp_seq;
        if (d.kind == DatagramKind::PlainIke || d.kind == DatagramKind::FloatedIke) {
            const size_t skip = d.kind == DatagramKind::FloatedIke ? kNonEspMarkerLen : 0;
            parse_ike_message(p + skip, len - skip, Strictness::Port, &msg);
            d.ike = &msg;
            d.ike_bytes = p + skip;
            d.ike_len = static_cast<uint32_t>(len - skip);
        }
        // The TCP glue (plugin/tcp_encap.cpp) teaches no UDP pair role.
        if (role != PairRole::Unknown && transport == Transport::Udp) an.learn(d.src, d.dst, role);
        const FrameAnalysis fa = an.observe(d);
        if (fa.sa > an.sa_count()) fail("FrameAnalysis::sa beyond sa_count()");
        if (fa.sa && !an.sa(fa.sa)) fail("sa(n) null for a reported SA");
        if (fa.sa && an.sa(fa.sa)->number != fa.sa) fail("SA number mismatch");
        if (fa.copy == Copy::Twin || fa.copy == Copy::Duplicate) {
            // A copy links to its first copy, seen before it.
            if (fa.related_frame == 0 || fa.related_frame >= d.frame) fail("a copy's related_frame is not an earlier frame");
            if (fa.sa == 0) fail("a copy without an SA");
        }
        if (fa.copy == Copy::Duplicate && (fa.retransmission || (fa.findings & kFindUnanswered)))
            fail("a duplicate taken for a retransmission");
        if (trace)
            std::fprintf(stderr, "%s frame %u t %lld kind %d %s > %s spi %x seq %u: sa %u dir %d copy %d related %u findings %x\n",
                         trace, d.frame, static_cast<long long>(t), static_cast<int>(d.kind), src.to_string().c_str(),
                         dst.to_string().c_str(), d.esp_spi, d.esp_seq, fa.sa, static_cast<int>(fa.dir),
                         static_cast<int>(fa.copy), fa.related_frame, fa.findings);
        seen.push_back({fa, src, dst, cls.esp_spi, cls.kind, d.frame});
        // What the dissector shows right away (first pass, tree built).
        (void)an.record(fa);
        std::free(p);
        return fa;
    }

    // Later passes and the stats tap.
    void query(Reader& r) {
        volatile uint64_t sink = 0;
        for (const Seen& s : seen) {
            if (const MessageRecord* m = an.record(s.fa)) {
                if (m->frame > frame) fail("record() of a frame not seen yet");
                sink += m->frame + m->twin_frame;
            }
            if (s.kind == DatagramKind::EspInUdp) {
                const EspLookup e = an.esp_lookup(s.src, s.dst, s.spi, s.frame);
                if (e.sa > an.sa_count()) fail("esp_lookup SA beyond sa_count()");
                // Later passes show what the first one did (one pass = two).
                if (e.sa != 0 && e.sa != s.fa.sa) fail("esp_lookup names another SA than the first pass");
                sink += e.child_frame;
                sink += an.esp_lookup(s.dst, s.src, s.spi, s.frame).sa;
                sink += an.esp_lookup(s.src, s.dst, s.spi, s.frame ? s.frame - 1 : 0).sa;
            }
            const uint8_t cm = s.fa.child_message;
            sink += an.child_prev_frame(s.fa.sa, s.fa.child_index, cm);
            sink += an.child_next_frame(s.fa.sa, s.fa.child_index, cm);
            sink += an.child_prev_frame(s.fa.sa, s.fa.child_index + 1, static_cast<uint8_t>(cm + 1));
            sink += an.child_next_frame(s.fa.sa, s.fa.child_index, static_cast<uint8_t>(cm - 1));
            sink += an.sa_of_pair(s.src, s.dst);
            sink += static_cast<uint64_t>(an.role(s.src, s.dst));
        }
        // Arbitrary lookups from the rest of the input.
        for (int i = 0; i < 4 && !r.empty(); ++i) {
            const uint32_t sa = r.u8() % (an.sa_count() + 2);
            sink += an.child_prev_frame(sa, r.u16le(), r.u8());
            sink += an.child_next_frame(sa, r.u16le(), r.u8());
            FrameAnalysis fa;
            fa.sa = sa;
            fa.kind = static_cast<DatagramKind>(r.u8() % 7);
            fa.exchange_class = static_cast<ExchangeClass>(r.u8() % 5);
            fa.child_index = r.u8();
            fa.record_index = r.u8();
            fa.child_message = r.u8();
            fa.phase1_message = r.u8();
            sink += an.record(fa) != nullptr;
            if (!seen.empty()) {
                const Seen& s = seen[r.u8() % seen.size()];
                sink += an.esp_lookup(s.src, s.dst, static_cast<uint32_t>(r.u64() >> 32), r.u16le()).sa;
            }
        }
        if (an.sa(0) != nullptr || an.sa(static_cast<uint32_t>(an.sa_count() + 1)) != nullptr)
            fail("sa() outside 1..sa_count()");
        if (an.sa_count() > kFuzzMaxSas) fail("more SAs than max_sas");
        if (an.keyed_entries() > kKeyedBound) fail("the keyed indexes grew past their budgets");
        for (const IkeSa& sa : an.sas()) {
            if (sa.sides.count == 0 || sa.sides.count > kMaxSidesPerSa) fail("an SA with no side, or too many");
            const SaTableRow row = render_sa_row(sa);
            for (const std::string& c : row.cells) sink += c.size();
            sink += render_spis(sa, Direction::FromInitiator).size() + render_spis(sa, Direction::FromResponder).size();
            sink += render_keepalives(sa.keepalives[1]).size() + render_keepalives(sa.keepalives[2]).size();
            for (const NatMapping& m : sa.nat_mappings) {
                const int in = an.inside_side(sa, m);
                if (in < -1) fail("inside_side below -1");
                if (in >= kMaxSidesPerSa && in != kUnlistedSide) fail("inside_side names no side");
                // Within one side only through a NAT that translates ports
                // alone (same hosts, other ports).
                if (m.first_side == m.second_side && m.first_side != kUnlistedSide &&
                    !(m.first.same_address(m.second) && m.first.port != m.second.port))
                    fail("a NAT mapping within one side, not a port translation");
                sink += static_cast<uint64_t>(in + 1);
            }
            sink += sa.quick_modes() + sa.quick_modes_completed();
            (void)ike_flavour_name(sa.flavour);
            (void)sa_state_name(sa.state);
            (void)sa.keepalives[1].median_interval_ns();
            (void)sa.nat.agreed();
        }
        (void)sink;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    natt_test::init_gcrypt();
    Reader r{data, size};
    Feeder f;
    if (std::getenv("NATT_FUZZ_TRACE")) f.trace = "run";
    const uint8_t opts = r.u8();
    if (opts & 1) f.an.set_nat_timeout_ns(1000000000ll);
    Endpoint pool[8];
    for (Endpoint& e : pool) {
        const uint8_t fam = r.u8();
        uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
        uint8_t v4[4];
        for (uint8_t& b : v4) b = r.u8();
        const uint16_t port = r.u16be();
        if (fam & 1) {
            std::memcpy(a + 12, v4, 4);
            e = Endpoint::from_bytes(6, a, port);
        } else {
            e = Endpoint::from_bytes(4, v4, port);
        }
    }
    uint64_t cookies[4];
    for (uint64_t& c : cookies) c = r.u64();

    int64_t t = 1700000000ll * 1000000000ll;
    for (size_t ev = 0; ev < kMaxEvents && !r.empty(); ++ev) {
        const uint8_t op = r.u8();
        const uint8_t eps = r.u8();
        const uint8_t dt = r.u8();
        t += static_cast<int64_t>(dt) * ((op & 0x80) ? 1000000000ll : 1000000ll);
        size_t len = r.u16le() % (kMaxPayload + 1);
        std::vector<uint8_t> body = r.bytes(len);
        const unsigned kind = op & 3;
        const unsigned role_bits = (op >> 2) & 3;
        const PairRole role = role_bits == 0 ? PairRole::Unknown : role_bits == 1 ? PairRole::Ike : PairRole::Natt;
        const Transport transport = role_bits == 3 ? Transport::Tcp : Transport::Udp;
        std::vector<uint8_t> payload;
        if (kind == 1) {
            payload.assign(1, 0xFF);
        } else if (kind == 2) {
            static const uint32_t spis[4] = {0x100, 0xc1a2b3d4, 0xdeadbeef, 0x0000ffff};
            payload.resize(8);
            put_be32(payload.data(), spis[eps >> 6]);
            put_be32(payload.data() + 4, static_cast<uint32_t>(ev + 1));
            payload.insert(payload.end(), body.begin(), body.end());
        } else if (kind == 3) {
            std::vector<uint8_t> ike = body;
            if (ike.size() < kIkeHeaderLen) ike.resize(kIkeHeaderLen);
            put_be32(ike.data() + 24, static_cast<uint32_t>(ike.size()));
            if (ike[17] >> 4 != 2) ike[17] = 0x10 | (ike[17] & 0x0f);
            if (op & 0x40) {
                const uint8_t c = r.u8();
                put_be64(ike.data(), cookies[c & 3]);
                put_be64(ike.data() + 8, (c & 0x10) ? 0 : cookies[(c >> 2) & 3]);
            }
            static const uint32_t msgids[4] = {0, 0, 1, 0x12345678};
            if (eps >> 6) put_be32(ike.data() + 20, msgids[eps >> 6]);
            if (role == PairRole::Natt) payload.assign(4, 0);
            payload.insert(payload.end(), ike.begin(), ike.end());
        } else {
            payload = body;
        }
        const Endpoint& src = pool[eps & 7];
        const Endpoint& dst = pool[(eps >> 3) & 7];
        // Captured twice (a SPAN port, `-i any` on a bridge): the same
        // datagram again moments later.
        const int64_t dup_dt = (op & 0x10) ? static_cast<int64_t>(r.u8()) * 250000ll : -1;
        auto feed_original = [&](int64_t at) {
            const FrameAnalysis first = f.feed(payload, role, src, dst, at, transport);
            f.originals.push_back({payload, role, src, dst, at, transport});
            if (dup_dt < 0) return;
            // Beyond the window the second copy is news; a copy of a datagram
            // that was itself a duplicate of an earlier one (two events within
            // kDuplicateWindowNs) is measured from that earlier one, and may be
            // news too. Either leaves the counts to the model's judgement.
            if (dup_dt > kDuplicateWindowNs || first.copy == Copy::Duplicate) f.dups_beyond_window = true;
            // ESP is linked to its first copy through its (port pair, SPI) record.
            const bool esp_recorded = first.kind == DatagramKind::EspInUdp &&
                                      f.an.esp_lookup(src, dst, f.seen.back().spi, f.frame).sa != 0;
            const FrameAnalysis second = f.feed(payload, role, src, dst, at + dup_dt, transport);
            f.dups++;
            // The second copy of a datagram that had an SA (and was no
            // duplicate itself) is its duplicate, of that SA.
            const bool linked_kind = first.kind == DatagramKind::PlainIke || first.kind == DatagramKind::FloatedIke ||
                                     first.kind == DatagramKind::Keepalive;
            if (dup_dt <= kDuplicateWindowNs && first.sa != 0 && first.copy != Copy::Duplicate &&
                (linked_kind || esp_recorded)) {
                if (second.copy != Copy::Duplicate) fail("a datagram captured twice is no duplicate");
                if (second.sa != first.sa) fail("a duplicate in another SA than its first copy");
                if (second.related_frame > f.frame - 1) fail("a duplicate linked to a later frame");
            }
        };
#ifdef NATT_FUZZ_TWINS
        if (op & 0x20) {
            const uint8_t tw = r.u8();
            const int64_t dt2 = static_cast<int64_t>(r.u8()) * 50000000ll;  // up to 12.75 s
            std::vector<uint8_t> twin = payload;
            if ((tw & 0x40)) {
                const uint16_t pos = r.u16le();
                const uint8_t x = r.u8();
                if (!twin.empty()) twin[pos % twin.size()] ^= x ? x : 1;
            }
            // The twin: the same message on the other side of a NAT, between
            // other hosts (the NAT's view of one address or both), or
            // between pool endpoints.
            Endpoint ts = src, td = dst;
            const unsigned which = tw & 3;
            const bool ports = (tw & 0x20) != 0;
            if (which & 1) ts = nat_view(src, 1, ports);
            if (which & 2) td = nat_view(dst, 2, ports);
            if (which == 0) {
                ts = pool[(tw >> 2) & 7];
                td = pool[((tw >> 5) & 1) | ((eps & 3) << 1)];
            }
            if (tw & 0x80) {
                f.feed(twin, role, ts, td, t - dt2, transport);
                f.originals.push_back({twin, role, ts, td, t - dt2, transport});
                feed_original(t);
            } else {
                feed_original(t);
                f.feed(twin, role, ts, td, t + dt2, transport);
                f.originals.push_back({twin, role, ts, td, t + dt2, transport});
            }
            if (dup_dt > 0) t += dup_dt;
            continue;
        }
#endif
        feed_original(t);
        if (dup_dt > 0) t += dup_dt;
    }
    // Duplicates change nothing the statistics count: the same events
    // without them give the same SAs and counts.
    if (f.dups && !f.dups_beyond_window) {
        Feeder g;
        if (f.trace) g.trace = "undup";
        if (opts & 1) g.an.set_nat_timeout_ns(1000000000ll);
        for (const Feeder::Event& e : f.originals) g.feed(e.payload, e.role, e.src, e.dst, e.t, e.transport);
        if (g.an.sa_count() != f.an.sa_count()) fail("duplicates changed the number of SAs");
        for (size_t i = 0; i < f.an.sas().size(); ++i) {
            const IkeSa& a = f.an.sas()[i];
            const IkeSa& b = g.an.sas()[i];
            if (a.esp.size() != b.esp.size()) fail("duplicates changed the SPIs");
            for (size_t k = 0; k < a.esp.size(); ++k)
                if (a.esp[k].packets != b.esp[k].packets || a.esp[k].bytes != b.esp[k].bytes)
                    fail("duplicates counted as ESP packets");
            for (int k = 1; k <= 2; ++k)
                if (a.keepalives[k].count != b.keepalives[k].count) fail("duplicates counted as keepalives");
            if (a.phase1_retransmissions != b.phase1_retransmissions) fail("duplicates taken for retransmissions");
        }
    }
    Reader q{data, size};  // the lookups reuse the input from its start
    f.query(q);
    f.an.clear();
    if (f.an.sa_count() != 0) fail("clear() left SAs");
    return 0;
}
