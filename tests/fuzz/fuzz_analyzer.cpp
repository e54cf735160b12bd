// libFuzzer harnesses (c) and (d): the SA model natt::Analyzer (tap/analyzer.h)
// and the SA table rows (tap/sa_table.h), fed with an event sequence decoded
// from the fuzz input exactly as plugin/frame_results.cpp feeds it: each
// datagram is classified by tap/ike_parse, IKE bytes are parsed with
// parse_ike_message(Strictness::Port), and the Datagram carries the real
// IkeMessage. After the sequence every query the glue makes is exercised.
//
// Built twice: fuzz_analyzer (c), and with NATT_FUZZ_TWINS fuzz_analyzer_twins
// (d), where events may also appear on the other capture interface with
// mutated endpoints and bytes (the two sides of a NAT in a merged capture).
//
// Input format (tests/fuzz/seeds.py writes it from real captures):
//   1 byte   options: bit 0 short NAT timeout
//   8 x 7    endpoint pool: family (bit 0: IPv6 2001:db8::a.b.c.d), IPv4 a.b.c.d, port (BE)
//   4 x 8    cookie pool
//   events until the input ends (at most kMaxEvents):
//     op      bits 0-1 payload (0 raw, 1 keepalive, 2 ESP, 3 IKE), bits 2-3 pair
//             role (0 unknown, 1 IKE, 2/3 NAT-T), bit 4 interface, bit 5 twin (d),
//             bit 6 cookie override, bit 7 time step in seconds instead of ms
//     eps     bits 0-2 source, bits 3-5 destination, bits 6-7 message ID override
//     dt      time step
//     len     2 bytes LE (capped), then len payload bytes
//     [cky]   with bit 6: bits 0-1 CKY-I, bits 2-3 CKY-R, bit 4 CKY-R zero
//     [twin]  with bit 5 (d): bits 0-2 twin source, 3-5 twin destination,
//             bit 6 mutate a byte, bit 7 twin before the original; dt2 (ms);
//             with bit 6: position (2 bytes LE), xor value
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

struct Feeder {
    Analyzer an;
    uint32_t frame = 0;
    struct Seen {
        FrameAnalysis fa;
        Endpoint src, dst;
        uint32_t spi;
        DatagramKind kind;
    };
    std::vector<Seen> seen;

    // What observe_frame() in plugin/frame_results.cpp does on the first pass.
    void feed(const std::vector<uint8_t>& payload, PairRole role, uint32_t iface, const Endpoint& src,
              const Endpoint& dst, int64_t t) {
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
        d.interface = iface;
        d.src = src;
        d.dst = dst;
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
        if (role != PairRole::Unknown) an.learn(d.src, d.dst, role);
        const FrameAnalysis fa = an.observe(d);
        if (fa.sa > an.sa_count()) fail("FrameAnalysis::sa beyond sa_count()");
        if (fa.sa && !an.sa(fa.sa)) fail("sa(n) null for a reported SA");
        if (fa.sa && an.sa(fa.sa)->number != fa.sa) fail("SA number mismatch");
        seen.push_back({fa, src, dst, cls.esp_spi, cls.kind});
        // What the dissector shows right away (first pass, tree built).
        (void)an.record(fa);
        std::free(p);
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
                const EspLookup e = an.esp_lookup(s.src, s.dst, s.spi);
                if (e.sa > an.sa_count()) fail("esp_lookup SA beyond sa_count()");
                sink += e.child_frame;
                sink += an.esp_lookup(s.dst, s.src, s.spi).sa;
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
                sink += an.esp_lookup(s.src, s.dst, r.u64() >> 32).sa;
            }
        }
        if (an.sa(0) != nullptr || an.sa(static_cast<uint32_t>(an.sa_count() + 1)) != nullptr)
            fail("sa() outside 1..sa_count()");
        for (const IkeSa& sa : an.sas()) {
            const SaTableRow row = render_sa_row(sa);
            for (const std::string& c : row.cells) sink += c.size();
            sink += render_spis(sa, Direction::FromInitiator).size() + render_spis(sa, Direction::FromResponder).size();
            sink += render_keepalives(sa.keepalives[1]).size() + render_keepalives(sa.keepalives[2]).size();
            for (const NatMapping& m : sa.nat_mappings) {
                const int in = an.inside_interface(sa, m);
                if (in < -1) fail("inside_interface below -1");
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
        const uint32_t iface = (op >> 4) & 1;
#ifdef NATT_FUZZ_TWINS
        if (op & 0x20) {
            const uint8_t tw = r.u8();
            const int64_t dt2 = static_cast<int64_t>(r.u8()) * 10000000ll;  // up to 2.55 s
            std::vector<uint8_t> twin = payload;
            if ((tw & 0x40)) {
                const uint16_t pos = r.u16le();
                const uint8_t x = r.u8();
                if (!twin.empty()) twin[pos % twin.size()] ^= x ? x : 1;
            }
            // The twin: the same message on the other interface, with the
            // NAT's view of the endpoints (either side may be translated).
            const Endpoint& ts = (tw & 7) == (eps & 7) ? src : pool[tw & 7];
            const Endpoint& td = ((tw >> 3) & 7) == ((eps >> 3) & 7) ? dst : pool[(tw >> 3) & 7];
            if (tw & 0x80) {
                f.feed(twin, role, iface ^ 1, ts, td, t - dt2);
                f.feed(payload, role, iface, src, dst, t);
            } else {
                f.feed(payload, role, iface, src, dst, t);
                f.feed(twin, role, iface ^ 1, ts, td, t + dt2);
            }
            continue;
        }
#endif
        f.feed(payload, role, iface, src, dst, t);
    }
    Reader q{data, size};  // the lookups reuse the input from its start
    f.query(q);
    f.an.clear();
    if (f.an.sa_count() != 0) fail("clear() left SAs");
    return 0;
}
