// Unit tests for tap/analyzer: the bounds that keep natt's memory finite on
// hostile captures (issue 6) while real SAs are followed as before. The lab
// captures exercise the model end to end (tests/integration); these feed it
// datagrams built here, to reach the caps exactly.

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <algorithm>
#include <deque>
#include <utility>
#include <vector>

#include "tap/ike_parse.h"
#include "tap/analyzer.h"
#include "gcrypt_init.h"
#include "ike_builder.h"

using namespace natt;

namespace {

const Endpoint kClient = Endpoint::v4(0xC6336417u, 4500);  // 198.51.100.23
const Endpoint kServer = Endpoint::v4(0xCB00710Au, 4500);  // 203.0.113.10

struct Feeder {
    Analyzer an;
    uint32_t frame = 0;
    int64_t time_ns = 1000000000ll;
    IkeMessage msg;
    std::vector<uint8_t> bytes;
    DatagramKind ike_kind = DatagramKind::PlainIke;

    FrameAnalysis esp(const Endpoint& src, const Endpoint& dst, uint32_t spi, uint32_t seq) {
        Datagram d = base(src, dst);
        d.kind = DatagramKind::EspInUdp;
        d.esp_spi = spi;
        d.esp_seq = seq;
        d.udp_payload_len = 100;
        return an.observe(d);
    }

    FrameAnalysis keepalive(const Endpoint& src, const Endpoint& dst) {
        Datagram d = base(src, dst);
        d.kind = DatagramKind::Keepalive;
        d.udp_payload_len = 1;
        return an.observe(d);
    }

    // An IKEv1 message on UDP 500: one VID payload (main mode) or an
    // encrypted body (quick mode).
    FrameAnalysis ikev1(const Endpoint& src, const Endpoint& dst, uint64_t icky, uint64_t rcky, uint8_t exchange,
                        uint32_t msgid, uint8_t clear_payload = 13) {
        const bool encrypted = exchange != 2;
        bytes.assign(28 + 20, 0);
        for (int i = 0; i < 8; ++i) {
            bytes[i] = static_cast<uint8_t>(icky >> (56 - 8 * i));
            bytes[8 + i] = static_cast<uint8_t>(rcky >> (56 - 8 * i));
        }
        bytes[16] = encrypted ? 8 : clear_payload;  // HASH / Vendor ID or NAT-D (20)
        bytes[17] = 0x10;                // version 1.0
        bytes[18] = exchange;
        bytes[19] = encrypted ? 1 : 0;
        for (int i = 0; i < 4; ++i) bytes[20 + i] = static_cast<uint8_t>(msgid >> (24 - 8 * i));
        bytes[27] = static_cast<uint8_t>(bytes.size());
        bytes[30] = 0;
        bytes[31] = 20;  // payload length (generic header + 16 bytes)
        for (size_t i = 32; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + frame);
        assert_int_equal(static_cast<int>(parse_ike_message(bytes.data(), bytes.size(), Strictness::Port, &msg)),
                         static_cast<int>(HeaderCheck::Ok));
        Datagram d = base(src, dst);
        d.kind = ike_kind;
        d.ike = &msg;
        d.ike_bytes = bytes.data();
        d.ike_len = static_cast<uint32_t>(bytes.size());
        d.udp_payload_len = d.ike_len;
        return an.observe(d);
    }

    Datagram base(const Endpoint& src, const Endpoint& dst) {
        Datagram d;
        d.frame = ++frame;
        time_ns += 10000000;  // 10 ms
        d.time_ns = time_ns;
        d.src = src;
        d.dst = dst;
        d.pair_role = PairRole::Natt;
        return d;
    }

    // ESP with no IKE: tracked after kEspEvidencePackets packets.
    uint32_t esp_only_sa(const Endpoint& src, const Endpoint& dst, uint32_t spi) {
        FrameAnalysis fa;
        for (uint32_t seq = 1; seq <= kEspEvidencePackets; ++seq) fa = esp(src, dst, spi, seq);
        return fa.sa;
    }
};

Endpoint nat_port(uint16_t port) { return Endpoint::v4(0xC6336417u, port); }

const Endpoint kI500 = Endpoint::v4(0xC6336417u, 500);
const Endpoint kR500 = Endpoint::v4(0xCB00710Au, 500);

// max_sas 1 and SA 1 opened by main mode 1-2 on UDP 500: the budgets are
// then the per-max_sas multiples themselves.
void one_main_mode_sa(Feeder& f, uint64_t icky, uint64_t rcky) {
    f.an.set_max_sas(1);
    assert_int_equal(f.ikev1(kI500, kR500, icky, 0, 2, 0).sa, 1);
    assert_int_equal(f.ikev1(kR500, kI500, icky, rcky, 2, 0).sa, 1);
}

// A rebinding names the NAT-T pair before and after (the expert info says
// old -> new ip:port), for the first kMaxRebindingsPerSa rebindings.
void test_rebinding_names_old_and_new_pair(void**) {
    Feeder f;
    const uint32_t sa = f.esp_only_sa(kClient, kServer, 0x1000);
    uint32_t seq = 10;
    for (uint16_t i = 0; i < kMaxRebindingsPerSa; ++i) {
        const FrameAnalysis fa = f.esp(nat_port(static_cast<uint16_t>(20000 + i)), kServer, 0x1000, ++seq);
        assert_true(fa.findings & kFindRebinding);
        const IkeSa::Rebinding* r = f.an.sa(sa)->rebinding_at(f.frame);
        assert_non_null(r);
        assert_true(r->old_initiator == (i ? nat_port(static_cast<uint16_t>(20000 + i - 1)) : kClient));
        assert_true(r->initiator == nat_port(static_cast<uint16_t>(20000 + i)));
        assert_true(r->old_responder == kServer && r->responder == kServer);
    }
    assert_int_equal(f.an.sa(sa)->rebindings.size(), kMaxRebindingsPerSa);
}

// A tracked SPI on a new port pair is the same SA (a NAT rebinding), up to
// kMaxEspPairsPerSa new pairs; beyond that the frames are not attributed and
// say why, and the pairs already followed keep working.
void test_esp_replayed_from_many_pairs(void**) {
    Feeder f;
    const uint32_t sa = f.esp_only_sa(kClient, kServer, 0x1000);
    assert_int_equal(sa, 1);
    uint32_t seq = 10;
    for (uint16_t i = 0; i < kMaxEspPairsPerSa; ++i) {
        const FrameAnalysis fa = f.esp(nat_port(static_cast<uint16_t>(20000 + i)), kServer, 0x1000, ++seq);
        assert_int_equal(fa.sa, sa);
        assert_true(fa.findings & kFindRebinding);
    }
    for (uint16_t i = 0; i < 50; ++i) {
        const FrameAnalysis fa = f.esp(nat_port(static_cast<uint16_t>(30000 + i)), kServer, 0x1000, ++seq);
        assert_int_equal(fa.sa, 0);
        assert_int_equal(fa.findings, kFindEspPairCap);
    }
    // Followed pairs: still the SA, now through the fast path.
    const FrameAnalysis again = f.esp(nat_port(20003), kServer, 0x1000, ++seq);
    assert_int_equal(again.sa, sa);
    assert_int_equal(again.findings & kFindEspPairCap, 0);
    assert_int_equal(f.an.sa_count(), 1);
    assert_int_equal(f.an.sa(sa)->esp.size(), 1);
    assert_int_equal(f.an.esp_lookup(nat_port(30001), kServer, 0x1000, f.frame).sa, 0);
    assert_int_equal(f.an.esp_lookup(nat_port(20003), kServer, 0x1000, f.frame).sa, sa);
}

// With max_sas 1 the whole-file budget of SPI records is kEspRecordsPerSa
// (16): further SPIs are neither counted nor followed to other port pairs.
void test_spi_budget(void**) {
    Feeder f;
    f.an.set_max_sas(1);
    const uint32_t sa = f.esp_only_sa(kClient, kServer, 0x2000);
    assert_int_equal(sa, 1);
    for (uint32_t spi = 0x2001; spi < 0x2001 + 40; ++spi) {
        const FrameAnalysis fa = f.esp(kClient, kServer, spi, 1);
        assert_int_equal(fa.sa, sa);  // the mapping's SA, counted or not
    }
    assert_int_equal(f.an.sa(sa)->esp.size(), 16);
    // A recorded SPI is followed to a new pair, an unrecorded one is not.
    assert_int_equal(f.esp(nat_port(40000), kServer, 0x2001, 2).sa, sa);
    const FrameAnalysis lost = f.esp(nat_port(40001), kServer, 0x2001 + 39, 2);
    assert_int_equal(lost.sa, 0);
    assert_int_equal(lost.findings, 0);  // not yet credible ESP of a new flow
}

// IKE message records and child exchanges of all SAs share budgets of
// 32 and 8 per max_sas: one SA with endless quick modes stops growing.
void test_exchange_budgets(void**) {
    Feeder f;
    const uint64_t icky = 0x1111222233334444ull, rcky = 0x5555666677778888ull;
    one_main_mode_sa(f, icky, rcky);
    for (uint32_t q = 1; q <= 100; ++q) {
        for (int m = 0; m < 3; ++m) {
            const FrameAnalysis fa = f.ikev1(m == 1 ? kR500 : kI500, m == 1 ? kI500 : kR500, icky, rcky, 32, 0x1000 + q);
            assert_int_equal(fa.sa, 1);
        }
    }
    const IkeSa& s = *f.an.sa(1);
    assert_int_equal(s.children.size(), 8);
    size_t records = s.phase1.size();
    for (const ChildExchange& cx : s.children) records += cx.messages.size();
    assert_int_equal(records, 2 + 8 * 3);
    assert_int_equal(f.an.sa_count(), 1);
}

// NAT-D observations (384 B each) share a budget of 4 per max_sas: an SA
// whose peers repeat NAT-D messages stops recording them.
void test_natd_budget(void**) {
    Feeder f;
    const uint64_t icky = 0x0102030405060708ull, rcky = 0x1112131415161718ull;
    one_main_mode_sa(f, icky, rcky);
    for (int i = 0; i < 12; ++i) {
        const bool from_i = i % 2 == 0;
        const FrameAnalysis fa = f.ikev1(from_i ? kI500 : kR500, from_i ? kR500 : kI500, icky, rcky, 2, 0, 20);
        assert_int_equal(fa.sa, 1);
        // Recorded ones point at their observation, the rest at none.
        assert_int_equal(fa.natd_obs, i < 4 ? i + 1 : 0);
    }
    assert_int_equal(f.an.sa(1)->nat.observations.size(), 4);
}

// The keepalive median comes from a bounded, uniform sample of all intervals.
void test_keepalive_reservoir(void**) {
    KeepaliveSeries k;
    for (int64_t i = 0; i < 100000; ++i) k.add_interval((i * 7919) % 10000);  // uniform over 0..9999
    assert_int_equal(k.intervals.size(), kMaxKeepaliveSamples);
    assert_int_equal(k.intervals_seen, 100000);
    for (size_t i = 1; i < k.intervals.size(); ++i) assert_true(k.intervals[i - 1] <= k.intervals[i]);
    const int64_t med = k.median_interval_ns();
    assert_in_range(med, 3000, 7000);
    // Later intervals count as much as early ones: a keepalive period that
    // changes after the first 64 samples moves the median.
    KeepaliveSeries shift;
    for (int i = 0; i < 64; ++i) shift.add_interval(20);
    for (int i = 0; i < 10000; ++i) shift.add_interval(60);
    assert_int_equal(shift.median_interval_ns(), 60);
    // Deterministic: the same series gives the same sample.
    KeepaliveSeries again;
    for (int64_t i = 0; i < 100000; ++i) again.add_interval((i * 7919) % 10000);
    assert_true(again.intervals == k.intervals);
}

// Through the model: a NAT'ed peer's keepalives over a long capture.
void test_keepalive_series_bounded(void**) {
    Feeder f;
    const uint32_t sa = f.esp_only_sa(kClient, kServer, 0x3000);
    for (int i = 0; i < 5000; ++i) {
        f.time_ns += 20000000000ll - 10000000;  // 20 s, less base()'s step
        assert_int_equal(f.keepalive(kClient, kServer).sa, sa);
    }
    const KeepaliveSeries& k = f.an.sa(sa)->keepalives[static_cast<int>(Direction::FromInitiator)];
    assert_int_equal(k.count, 5000);
    assert_int_equal(k.intervals.size(), kMaxKeepaliveSamples);
    assert_int_equal(k.median_interval_ns(), 20000000000ll);
}

// ESP before any IKE: the placeholder's responder is the side on a NAT-T
// port, as configured (natt.encapsulation_udp_ports), not only 4500. Here the
// first packet comes from the responder's 14500.
void test_placeholder_natt_ports(void**) {
    const Endpoint a = Endpoint::v4(0xC6336417u, 1234);
    const Endpoint b = Endpoint::v4(0xCB00710Au, 14500);
    Feeder f;
    f.an.set_natt_ports({{14500, 14500}});
    const uint32_t sa = f.esp_only_sa(b, a, 0x2000);
    assert_int_equal(sa, 1);
    assert_true(f.an.sa(sa)->floating.responder == b);
    assert_true(f.an.sa(sa)->floating.initiator == a);
    // The setting survives clear() (a new capture).
    f.an.clear();
    assert_int_equal(f.esp_only_sa(b, a, 0x2000), 1);
    assert_true(f.an.sa(1)->floating.responder == b);
    // By default only 4500 says the responder: the sender is the initiator.
    Feeder g;
    assert_int_equal(g.esp_only_sa(b, a, 0x2000), 1);
    assert_true(g.an.sa(1)->floating.responder == a);
    // A range, and a pair with the NAT-T port on both sides (the sender is the initiator).
    Feeder h;
    h.an.set_natt_ports({{4500, 4500}, {14000, 14999}});
    assert_int_equal(h.esp_only_sa(b, a, 0x2000), 1);
    assert_true(h.an.sa(1)->floating.responder == b);
    assert_int_equal(h.esp_only_sa(kServer, kClient, 0x3000), 2);
    assert_true(h.an.sa(2)->floating.responder == kClient);
}

// Two SAs on one floated port pair (a second main mode on the same NAT
// mapping). The mapping's idle time is the pair's: the first ESP of the first
// SA's SPI (the slow path, which attributes it to the SA whose quick mode
// negotiated it) and the next one (the fast path) judge it alike.
void test_mapping_idle_same_on_both_paths(void**) {
    Feeder f;
    f.an.set_nat_timeout_ns(5000000000ll);  // 5 s
    f.ike_kind = DatagramKind::FloatedIke;
    assert_int_equal(f.ikev1(kClient, kServer, 1, 0, 2, 0).sa, 1);
    assert_int_equal(f.ikev1(kServer, kClient, 1, 0x11, 2, 0).sa, 1);
    for (int i = 0; i < 3; ++i)
        assert_int_equal(f.ikev1(i == 1 ? kServer : kClient, i == 1 ? kClient : kServer, 1, 0x11, 32, 7).sa, 1);
    f.time_ns += 10000000000ll;  // SA 1 silent for 10 s
    assert_int_equal(f.ikev1(kClient, kServer, 2, 0, 2, 0).sa, 2);
    assert_int_equal(f.ikev1(kServer, kClient, 2, 0x22, 2, 0).sa, 2);
    // The mapping carried SA 2's main mode 10 ms ago: not idle, on either path.
    const FrameAnalysis slow = f.esp(kClient, kServer, 0x5000, 1);
    assert_int_equal(slow.sa, 1);
    const FrameAnalysis fast = f.esp(kClient, kServer, 0x5000, 2);
    assert_int_equal(fast.sa, 1);
    assert_int_equal(slow.findings & kFindSilence, 0);
    assert_int_equal(fast.findings & kFindSilence, 0);
    // Silent longer than the timeout: both paths say so.
    f.time_ns += 10000000000ll;
    const FrameAnalysis late_fast = f.esp(kClient, kServer, 0x5000, 3);
    assert_true(late_fast.findings & kFindSilence);
    f.time_ns += 10000000000ll;
    const FrameAnalysis late_slow = f.esp(kServer, kClient, 0x6000, 1);
    assert_true(late_slow.findings & kFindSilence);
}

// ---- Copies of datagrams, end to end: one capture showing both sides of a
// NAT (no interface information at all: the model has none), duplicates,
// skewed clocks. A Wire is a datagram as sent; a capture may show it more
// than once, with other addresses on the other side of the NAT.

const Endpoint kInI500 = Endpoint::v4(0x0A000005u, 500);     // 10.0.0.5: the initiator's own address
const Endpoint kInI4500 = Endpoint::v4(0x0A000005u, 4500);
const Endpoint kOutI500 = Endpoint::v4(0xC6336417u, 1024);   // 198.51.100.23: its NAT's outside
const Endpoint kOutI4500 = Endpoint::v4(0xC6336417u, 1025);
const Endpoint kR4500 = Endpoint::v4(0xCB00710Au, 4500);

// The NAT's view: the initiator's inside address:port as seen outside.
Endpoint outside(const Endpoint& e) {
    if (e == kInI500) return kOutI500;
    if (e == kInI4500) return kOutI4500;
    return e;
}

struct Wire {
    enum Kind { Ike, Esp, Keepalive } kind = Ike;
    Endpoint src, dst;  // inside view
    int64_t t = 0;      // when sent (ns from the capture's start)
    uint64_t icky = 0, rcky = 0;
    uint8_t exchange = kExIdentityProtection;
    uint32_t msgid = 0;
    uint8_t fill = 0;  // tells messages apart; a retransmission repeats its message's fill
    bool floated = false;
    uint32_t spi = 0, seq = 0;
    bool retransmission = false;  // what the model should say of its first copy
};

struct Capture {
    Analyzer an;
    uint32_t frame = 0;
    // Each IKE copy's bytes and parse, kept while the Analyzer may look back.
    struct Msg {
        std::vector<uint8_t> bytes;
        IkeMessage msg;
    };
    std::deque<Msg> msgs;

    FrameAnalysis observe(const Wire& w, const Endpoint& src, const Endpoint& dst, int64_t t) {
        Datagram d;
        d.frame = ++frame;
        d.time_ns = 1000000000000ll + t;
        d.src = src;
        d.dst = dst;
        d.pair_role = w.floated || w.kind != Wire::Ike ? PairRole::Natt : PairRole::Ike;
        if (w.kind == Wire::Esp) {
            d.kind = DatagramKind::EspInUdp;
            d.esp_spi = w.spi;
            d.esp_seq = w.seq;
            d.udp_payload_len = 100;
        } else if (w.kind == Wire::Keepalive) {
            d.kind = DatagramKind::Keepalive;
            d.udp_payload_len = 1;
        } else {
            msgs.emplace_back();
            Msg& m = msgs.back();
            const bool encrypted = w.exchange != kExIdentityProtection || w.fill >= 5;
            m.bytes.assign(28 + 20, 0);
            for (int i = 0; i < 8; ++i) {
                m.bytes[i] = static_cast<uint8_t>(w.icky >> (56 - 8 * i));
                m.bytes[8 + i] = static_cast<uint8_t>(w.rcky >> (56 - 8 * i));
            }
            m.bytes[16] = encrypted ? 8 : 13;
            m.bytes[17] = 0x10;
            m.bytes[18] = w.exchange;
            m.bytes[19] = encrypted ? 1 : 0;
            for (int i = 0; i < 4; ++i) m.bytes[20 + i] = static_cast<uint8_t>(w.msgid >> (24 - 8 * i));
            m.bytes[27] = static_cast<uint8_t>(m.bytes.size());
            m.bytes[31] = 20;
            for (size_t i = 32; i < m.bytes.size(); ++i) m.bytes[i] = static_cast<uint8_t>(i * 7 + w.fill);
            assert_int_equal(static_cast<int>(parse_ike_message(m.bytes.data(), m.bytes.size(), Strictness::Port, &m.msg)),
                             static_cast<int>(HeaderCheck::Ok));
            d.kind = w.floated ? DatagramKind::FloatedIke : DatagramKind::PlainIke;
            d.ike = &m.msg;
            d.ike_bytes = m.bytes.data();
            d.ike_len = static_cast<uint32_t>(m.bytes.size());
            d.udp_payload_len = d.ike_len + (w.floated ? 4 : 0);
        }
        return an.observe(d);
    }
};

constexpr uint64_t kIcky = 0x1111222233334444ull, kRcky = 0x5555666677778888ull;
constexpr int64_t kMs = 1000000;

// Main mode (MM5/MM6 floated to 4500), a quick mode, each message `gap` apart.
std::vector<Wire> main_mode(int64_t start = 0, int64_t gap = 100 * kMs) {
    std::vector<Wire> v;
    int64_t t = start;
    for (uint8_t n = 1; n <= 6; ++n) {
        Wire w;
        const bool from_i = n % 2 == 1;
        const bool fl = n >= 5;
        w.src = from_i ? (fl ? kInI4500 : kInI500) : (fl ? kR4500 : kR500);
        w.dst = from_i ? (fl ? kR4500 : kR500) : (fl ? kInI4500 : kInI500);
        w.t = t;
        w.icky = kIcky;
        w.rcky = n == 1 ? 0 : kRcky;
        w.fill = n;
        w.floated = fl;
        v.push_back(w);
        t += gap;
    }
    for (uint8_t n = 1; n <= 3; ++n) {
        Wire w;
        const bool from_i = n != 2;
        w.src = from_i ? kInI4500 : kR4500;
        w.dst = from_i ? kR4500 : kInI4500;
        w.t = t;
        w.icky = kIcky;
        w.rcky = kRcky;
        w.exchange = kExQuickMode;
        w.msgid = 0x1234;
        w.fill = static_cast<uint8_t>(10 + n);
        w.floated = true;
        v.push_back(w);
        t += gap;
    }
    return v;
}

// One copy of a wire datagram as captured: its time and addresses.
struct Copy1 {
    size_t wire;
    bool outside;
    int64_t t;
};

// (a) A main mode captured on both sides of the NAT in one capture (a
// bridge, `-i any`, or mergecap of two files with one interface each): each
// message twice, between other hosts. One SA, its NAT mappings, no
// retransmission, no finding.
void test_both_sides_one_capture(void**) {
    const std::vector<Wire> wires = main_mode();
    Capture c;
    std::vector<uint32_t> first_frame(wires.size());
    for (size_t i = 0; i < wires.size(); ++i) {
        const Wire& w = wires[i];
        // The initiator's messages are seen inside first, the responder's outside.
        const bool from_i = w.src.same_address(kInI500);
        for (int k = 0; k < 2; ++k) {
            const bool out = (k == 0) != from_i;
            const FrameAnalysis fa =
                c.observe(w, out ? outside(w.src) : w.src, out ? outside(w.dst) : w.dst, w.t + k * kMs);
            assert_int_equal(fa.sa, 1);
            assert_false(fa.retransmission);
            assert_int_equal(fa.findings, 0);
            assert_int_equal(static_cast<int>(fa.dir),
                             static_cast<int>(from_i ? Direction::FromInitiator : Direction::FromResponder));
            if (k == 0) {
                assert_int_equal(static_cast<int>(fa.copy), static_cast<int>(Copy::None));
                first_frame[i] = c.frame;
            } else {
                assert_int_equal(static_cast<int>(fa.copy), static_cast<int>(Copy::Twin));
                assert_int_equal(fa.related_frame, first_frame[i]);
            }
        }
    }
    assert_int_equal(c.an.sa_count(), 1);
    const IkeSa& sa = *c.an.sa(1);
    assert_int_equal(sa.finding_count, 0);
    assert_int_equal(sa.phase1_retransmissions, 0);
    assert_int_equal(static_cast<int>(sa.state), static_cast<int>(SaState::Established));
    assert_int_equal(sa.phase1.size(), 6);  // the first copies
    assert_int_equal(sa.children.size(), 1);
    assert_true(sa.children[0].completed);
    assert_int_equal(sa.sides.count, 2);
    assert_true(sa.initiator == kInI500);
    // The initiator's two mappings (IKE port, NAT-T port), inside on side 0.
    assert_int_equal(sa.nat_mappings.size(), 2);
    for (const NatMapping& m : sa.nat_mappings) {
        assert_int_equal(static_cast<int>(m.peer), static_cast<int>(Direction::FromInitiator));
        assert_true(m.first_side != m.second_side);
        assert_int_equal(c.an.inside_side(sa, m), 0);
        const Endpoint& in = m.first_side == 0 ? m.first : m.second;
        const Endpoint& out = m.first_side == 0 ? m.second : m.first;
        assert_true((in == kInI500 && out == kOutI500) == !m.natt_port);
        assert_true((in == kInI4500 && out == kOutI4500) == m.natt_port);
    }
}

// ESP both ways and keepalives from the initiator after main_mode().
std::vector<Wire> traffic(int64_t start, int keepalives) {
    std::vector<Wire> v;
    int64_t t = start;
    for (int i = 0; i < keepalives; ++i) {
        for (uint32_t k = 0; k < 3; ++k) {
            Wire e;
            e.kind = Wire::Esp;
            const bool from_i = k != 1;
            e.src = from_i ? kInI4500 : kR4500;
            e.dst = from_i ? kR4500 : kInI4500;
            e.spi = from_i ? 0xA000 : 0xB000;
            e.seq = static_cast<uint32_t>(i * 2 + (k == 2 ? 2 : 1));
            e.floated = true;
            e.t = t;
            t += 1000 * kMs;
            v.push_back(e);
        }
        Wire ka;
        ka.kind = Wire::Keepalive;
        ka.src = kInI4500;
        ka.dst = kR4500;
        ka.floated = true;
        ka.t = t;
        t += 17000 * kMs;  // 20 s between keepalives
        v.push_back(ka);
    }
    return v;
}

struct Totals {
    size_t sas = 0;
    uint64_t esp_packets = 0, esp_bytes = 0;
    uint32_t keepalives[3] = {0, 0, 0};
    int64_t median = 0;
    uint32_t retransmissions = 0, findings = 0;
};

Totals totals(const Analyzer& an) {
    Totals r;
    r.sas = an.sa_count();
    for (const IkeSa& sa : an.sas()) {
        for (const EspSpiStats& e : sa.esp) {
            r.esp_packets += e.packets;
            r.esp_bytes += e.bytes;
        }
        for (int k = 1; k <= 2; ++k) r.keepalives[k] += sa.keepalives[k].count;
        r.median = sa.keepalives[1].median_interval_ns();
        r.retransmissions += sa.phase1_retransmissions;
        r.findings += sa.finding_count;
    }
    return r;
}

// (b) Every datagram captured twice (a SPAN port): one SA, no
// retransmission, duplicates linked to their first copy, and the same counts
// as the capture without them.
void test_every_datagram_twice(void**) {
    std::vector<Wire> wires = main_mode();
    const std::vector<Wire> tr = traffic(wires.back().t + 100 * kMs, 5);
    wires.insert(wires.end(), tr.begin(), tr.end());
    Capture once, twice;
    std::vector<std::pair<const Wire*, uint32_t>> esp_frames;
    for (const Wire& w : wires) {
        const FrameAnalysis a = once.observe(w, w.src, w.dst, w.t);
        assert_int_equal(a.sa, 1);
        const FrameAnalysis first = twice.observe(w, w.src, w.dst, w.t);
        const uint32_t first_frame = twice.frame;
        assert_int_equal(first.sa, 1);
        assert_int_equal(static_cast<int>(first.copy), static_cast<int>(Copy::None));
        const FrameAnalysis dup = twice.observe(w, w.src, w.dst, w.t + 20000);  // 20 us later
        assert_int_equal(dup.sa, 1);
        assert_int_equal(static_cast<int>(dup.copy), static_cast<int>(Copy::Duplicate));
        assert_int_equal(dup.related_frame, first_frame);
        assert_false(dup.retransmission);
        assert_int_equal(dup.findings, 0);
        assert_int_equal(static_cast<int>(dup.dir), static_cast<int>(first.dir));
        assert_false(first.retransmission);
        assert_int_equal(first.findings, a.findings);
        if (w.kind == Wire::Esp) {
            esp_frames.emplace_back(&w, first_frame);
            esp_frames.emplace_back(&w, twice.frame);
        }
    }
    const Totals a = totals(once.an), b = totals(twice.an);
    assert_int_equal(b.sas, 1);
    assert_int_equal(b.esp_packets, 15);
    assert_int_equal(b.esp_packets, a.esp_packets);
    assert_int_equal(b.esp_bytes, a.esp_bytes);
    assert_int_equal(b.keepalives[1], 5);
    assert_int_equal(b.keepalives[1], a.keepalives[1]);
    assert_int_equal(b.keepalives[2], a.keepalives[2]);
    assert_int_equal(b.median, 20 * kSecondNs);
    assert_int_equal(b.median, a.median);
    assert_int_equal(b.retransmissions, 0);
    assert_int_equal(b.findings, a.findings);
    const IkeSa& sa = *twice.an.sa(1);
    assert_int_equal(sa.phase1.size(), 6);
    assert_int_equal(sa.children.size(), 1);
    assert_int_equal(sa.children[0].messages.size(), 3);
    assert_int_equal(sa.sides.count, 1);
    assert_true(sa.nat_mappings.empty());
    // Later passes: every ESP frame, first copy or duplicate, has its SA.
    for (const auto& f : esp_frames)
        assert_int_equal(twice.an.esp_lookup(f.first->src, f.first->dst, f.first->spi, f.second).sa, 1);
    assert_int_equal(esp_frames.size(), 30);
}

// (c) Two sides whose capturing clocks disagree (the other side +3 s, or
// -3 s), with retransmissions 0.5 s apart seen on both sides: one SA, each
// copy paired with its own original (in order), no spurious retransmission.
void two_sides_skewed(int64_t skew) {
    // MM1 and MM2 are each sent twice, 0.5 s apart (unanswered for a while).
    std::vector<Wire> sent;
    const std::vector<Wire> mm = main_mode(0, 1000 * kMs);
    for (size_t i = 0; i < mm.size(); ++i) {
        Wire w = mm[i];
        w.t = static_cast<int64_t>(i) * 1000 * kMs + (i >= 2 ? 1000 * kMs : 0);
        sent.push_back(w);
        if (i < 2) {
            Wire re = w;
            re.t += 500 * kMs;
            re.retransmission = true;
            sent.push_back(re);
        }
    }
    // Both sides' copies, merged by capture time.
    std::vector<Copy1> copies;
    for (size_t i = 0; i < sent.size(); ++i) {
        copies.push_back({i, false, sent[i].t});
        copies.push_back({i, true, sent[i].t + kMs + skew});
    }
    std::stable_sort(copies.begin(), copies.end(), [](const Copy1& a, const Copy1& b) { return a.t < b.t; });
    Capture c;
    std::vector<uint32_t> first_frame(sent.size(), 0);
    for (const Copy1& cp : copies) {
        const Wire& w = sent[cp.wire];
        const FrameAnalysis fa =
            c.observe(w, cp.outside ? outside(w.src) : w.src, cp.outside ? outside(w.dst) : w.dst, cp.t);
        assert_int_equal(fa.sa, 1);
        assert_int_equal(fa.findings & ~kFindUnanswered, 0);
        if (first_frame[cp.wire] == 0) {
            first_frame[cp.wire] = c.frame;
            assert_int_equal(static_cast<int>(fa.copy), static_cast<int>(Copy::None));
            // Retransmissions are those sent again, whatever the clocks say.
            assert_int_equal(fa.retransmission, w.retransmission);
            assert_int_equal((fa.findings & kFindUnanswered) != 0, w.retransmission);
        } else {
            assert_int_equal(static_cast<int>(fa.copy), static_cast<int>(Copy::Twin));
            assert_int_equal(fa.related_frame, first_frame[cp.wire]);
            assert_false(fa.retransmission);
            assert_int_equal(fa.findings, 0);
        }
    }
    assert_int_equal(c.an.sa_count(), 1);
    const IkeSa& sa = *c.an.sa(1);
    assert_int_equal(sa.phase1_retransmissions, 2);
    assert_int_equal(sa.phase1.size(), 8);  // 6 messages + 2 retransmissions, first copies only
    for (const MessageRecord& m : sa.phase1) assert_true(m.twin_frame != 0);
    assert_true(sa.children[0].completed);
    assert_int_equal(sa.children[0].messages.size(), 3);
    assert_int_equal(sa.nat_mappings.size(), 2);
    // Side 0 is where the first packet was seen: the outside when its clock is behind.
    for (const NatMapping& m : sa.nat_mappings) assert_int_equal(c.an.inside_side(sa, m), skew < 0 ? 1 : 0);
}

void test_two_sides_clock_ahead(void**) { two_sides_skewed(3 * kSecondNs); }
void test_two_sides_clock_behind(void**) { two_sides_skewed(-3 * kSecondNs); }

// (d) A capture that starts mid-tunnel: ESP first (a placeholder SA once the
// flow is credible), then IKE on the same port pair: the same SA, no
// rebinding; later passes show the evidence frames without an SA, as the
// first pass did.
void test_mid_tunnel_then_ike(void**) {
    Capture c;
    std::vector<FrameAnalysis> esp;
    for (uint32_t seq = 1; seq <= 5; ++seq) {
        Wire e;
        e.kind = Wire::Esp;
        e.spi = 0xC000;
        e.seq = seq;
        e.t = seq * 100 * kMs;
        esp.push_back(c.observe(e, kOutI4500, kR4500, e.t));
    }
    for (uint32_t i = 0; i < 5; ++i) assert_int_equal(esp[i].sa, i + 1 < kEspEvidencePackets ? 0 : 1);
    assert_int_equal(c.an.sa_count(), 1);
    assert_int_equal(c.an.sa(1)->major, 0);  // a placeholder
    // An informational exchange, then a quick mode, on the same pair.
    Wire info;
    info.icky = kIcky;
    info.rcky = kRcky;
    info.exchange = kExInformational;
    info.msgid = 0x77;
    info.fill = 20;
    info.floated = true;
    const FrameAnalysis fi = c.observe(info, kOutI4500, kR4500, 1000 * kMs);
    assert_int_equal(fi.sa, 1);
    assert_int_equal(fi.findings & kFindRebinding, 0);
    for (uint8_t n = 1; n <= 3; ++n) {
        Wire q = info;
        q.exchange = kExQuickMode;
        q.msgid = 0x99;
        q.fill = static_cast<uint8_t>(30 + n);
        const bool from_i = n != 2;
        const FrameAnalysis fq =
            c.observe(q, from_i ? kOutI4500 : kR4500, from_i ? kR4500 : kOutI4500, (1000 + 100 * n) * kMs);
        assert_int_equal(fq.sa, 1);
        assert_int_equal(fq.findings & kFindRebinding, 0);
    }
    assert_int_equal(c.an.sa_count(), 1);
    const IkeSa& sa = *c.an.sa(1);
    assert_int_equal(sa.major, 1);
    assert_int_equal(sa.finding_count, 0);
    assert_true(sa.sides.natt(0).initiator == kOutI4500);
    // Later passes: the evidence frames (1, 2) have no SA, later ones the SA.
    for (uint32_t f = 1; f <= 5; ++f) {
        const EspLookup l = c.an.esp_lookup(kOutI4500, kR4500, 0xC000, f);
        assert_int_equal(l.sa, esp[f - 1].sa);
        assert_int_equal(l.sa, f < kEspEvidencePackets ? 0 : 1);
    }
    // More ESP on the pair: still the SA.
    Wire e;
    e.kind = Wire::Esp;
    e.spi = 0xC000;
    e.seq = 6;
    assert_int_equal(c.observe(e, kOutI4500, kR4500, 2000 * kMs).sa, 1);
    assert_int_equal(c.an.esp_lookup(kOutI4500, kR4500, 0xC000, c.frame).sa, 1);
}

// (e) ESP of a known SPI on a new port pair: the same packet (a sequence
// number just seen) or other hosts are the other side of a NAT; the same
// hosts on a new port with new sequence numbers are a NAT rebinding.
void test_known_spi_on_new_pair(void**) {
    Capture c;
    Wire e;
    e.kind = Wire::Esp;
    e.spi = 0xD000;
    int64_t t = 0;
    for (uint32_t seq = 1; seq <= 5; ++seq) {
        e.seq = seq;
        t += 100 * kMs;
        c.observe(e, kOutI4500, kR4500, t);
    }
    assert_int_equal(c.an.sa_count(), 1);
    const uint64_t counted = c.an.sa(1)->esp[0].packets;
    // The other side of the NAT: packet 5 again, between other hosts.
    t += kMs;
    e.seq = 5;
    const FrameAnalysis inside = c.observe(e, kInI4500, kR4500, t);
    assert_int_equal(inside.sa, 1);
    assert_int_equal(inside.findings & kFindRebinding, 0);
    // That side's next packets: no rebinding, not counted twice.
    t += 100 * kMs;
    e.seq = 6;
    c.observe(e, kOutI4500, kR4500, t);
    const FrameAnalysis inside6 = c.observe(e, kInI4500, kR4500, t + kMs);
    assert_int_equal(inside6.sa, 1);
    assert_int_equal(inside6.findings & kFindRebinding, 0);
    assert_int_equal(c.an.sa(1)->esp[0].packets, counted + 1);
    // The same hosts on a new port with the next number: the NAT rebound
    // (the side keeps one NAT-T pair: a NAT translating ports only, between
    // the same hosts, would read the same; see the README's limits).
    t += 100 * kMs;
    e.seq = 7;
    const FrameAnalysis rebound = c.observe(e, Endpoint::v4(0xC6336417u, 3000), kR4500, t);
    assert_int_equal(rebound.sa, 1);
    assert_true(rebound.findings & kFindRebinding);
    assert_int_equal(c.an.sa_count(), 1);
    assert_int_equal(c.an.sa(1)->finding_count, 1);
}

// (f) IKEv1 main mode whose MM1 is seen only inside and MM2 only outside:
// the message that brings the responder cookie comes from the responder.
void test_mm1_inside_mm2_outside(void**) {
    const std::vector<Wire> mm = main_mode();
    Capture c;
    const FrameAnalysis m1 = c.observe(mm[0], mm[0].src, mm[0].dst, mm[0].t);
    assert_int_equal(m1.sa, 1);
    const FrameAnalysis m2 = c.observe(mm[1], outside(mm[1].src), outside(mm[1].dst), mm[1].t);
    assert_int_equal(m2.sa, 1);
    assert_int_equal(static_cast<int>(m2.dir), static_cast<int>(Direction::FromResponder));
    assert_false(m2.retransmission);
    assert_int_equal(m2.phase1_message, 2);
    const IkeSa& sa = *c.an.sa(1);
    assert_true(sa.initiator == kInI500);
    assert_true(sa.responder == kR500);
    assert_int_equal(sa.rcookie, kRcky);
    assert_int_equal(sa.sides.count, 2);
    assert_int_equal(c.an.sa_count(), 1);
    assert_int_equal(sa.finding_count, 0);
    // MM3 outside: from the initiator, through its NAT.
    const FrameAnalysis m3 = c.observe(mm[2], outside(mm[2].src), outside(mm[2].dst), mm[2].t);
    assert_int_equal(m3.sa, 1);
    assert_int_equal(static_cast<int>(m3.dir), static_cast<int>(Direction::FromInitiator));
    assert_int_equal(c.an.sa_count(), 1);
}

// ESP and keepalives on both sides of a NAT: counted once (side 0), and the
// idle mapping is side 0's: its silence is found once, not again on the
// other side's copy.
void test_esp_both_sides_counted_once(void**) {
    Capture c;
    c.an.set_nat_timeout_ns(30 * kSecondNs);
    Wire e;
    e.kind = Wire::Esp;
    e.spi = 0xE000;
    int64_t t = 0;
    uint32_t silences = 0;
    for (uint32_t seq = 1; seq <= 8; ++seq) {
        e.seq = seq;
        t += seq == 6 ? 40 * kSecondNs : 100 * kMs;  // a 40 s gap before packet 6
        const FrameAnalysis out = c.observe(e, kOutI4500, kR4500, t);
        if (seq >= kEspEvidencePackets) assert_int_equal(out.sa, 1);
        // The inside copy, once the SA exists (the evidence is the outside's).
        if (seq >= kEspEvidencePackets) {
            const FrameAnalysis in = c.observe(e, kInI4500, kR4500, t + kMs);
            assert_int_equal(in.sa, 1);
            assert_int_equal(in.findings & (kFindRebinding | kFindSilence), 0);
            assert_int_equal(static_cast<int>(in.dir), static_cast<int>(out.dir));
        }
        if (out.findings & kFindSilence) silences++;
        assert_int_equal((out.findings & kFindSilence) != 0, seq == 6);
    }
    assert_int_equal(silences, 1);
    const IkeSa& sa = *c.an.sa(1);
    assert_int_equal(sa.esp.size(), 1);
    assert_int_equal(sa.esp[0].packets, 8 - (kEspEvidencePackets - 1));  // side 0 from the SA on
    assert_int_equal(sa.sides.count, 2);
    assert_int_equal(sa.finding_count, 1);
    assert_int_equal(c.an.sa_count(), 1);
    // Keepalives on both sides: side 0's only in the series.
    for (int k = 0; k < 3; ++k) {
        Wire ka;
        ka.kind = Wire::Keepalive;
        t += 20 * kSecondNs;
        const FrameAnalysis o = c.observe(ka, kOutI4500, kR4500, t);
        const FrameAnalysis i = c.observe(ka, kInI4500, kR4500, t + kMs);
        assert_int_equal(o.sa, 1);
        assert_int_equal(i.sa, 1);
        // Other hosts: no duplicate, but the other side's copy (not counted).
        assert_int_equal(static_cast<int>(i.copy), static_cast<int>(Copy::OtherSide));
        assert_int_equal(static_cast<int>(o.copy), static_cast<int>(Copy::None));
    }
    assert_int_equal(sa.keepalives[1].count + sa.keepalives[2].count, 3);
}

// A main mode seen inside for MM1 only and outside from MM2 on (the inside
// capture stopped): MM3 is no copy of MM1, though it has MM1's exchange,
// message ID, length and direction and comes from other hosts. A NAT never
// rewrites the IKE header: MM1 has no responder cookie, MM3 has one.
// Fails at b0bc9e2: is_twin() (tap/copies.h) ignores the cookies, MM3 is
// taken for MM1's twin, not counted, and the SA never gets established.
void test_mm3_elsewhere_is_no_twin_of_mm1(void**) {
    const std::vector<Wire> mm = main_mode();
    Capture c;
    c.observe(mm[0], mm[0].src, mm[0].dst, mm[0].t);
    for (size_t i = 1; i < 6; ++i) {
        const FrameAnalysis fa = c.observe(mm[i], outside(mm[i].src), outside(mm[i].dst), mm[i].t);
        assert_int_equal(fa.sa, 1);
        assert_int_equal(static_cast<int>(fa.copy), static_cast<int>(Copy::None));
        assert_int_equal(fa.phase1_message, i + 1);
        assert_false(fa.retransmission);
    }
    const IkeSa& sa = *c.an.sa(1);
    assert_int_equal(sa.phase1.size(), 6);
    assert_true(sa.nat_mappings.empty());
    assert_int_equal(static_cast<int>(sa.state), static_cast<int>(SaState::Established));
}

// Issue 17: an attacker who saw one exchange replays its floated IKE message
// and a keepalive from ever new ip:ports (each one a "rebinding"). The
// indexes keyed by addresses and ports stay within their budgets of
// max_sas, whatever the number of replays.
void test_replays_stay_within_budget(void**) {
    Capture c;
    const size_t max_sas = 10;
    c.an.set_max_sas(max_sas);
    const std::vector<Wire> mm = main_mode();
    for (const Wire& w : mm) c.observe(w, w.src, w.dst, w.t);
    Wire qm;
    qm.icky = kIcky;
    qm.rcky = kRcky;
    qm.exchange = kExQuickMode;
    qm.msgid = 0x42;
    qm.fill = 40;
    qm.floated = true;
    int64_t t = 1000 * kMs;
    uint32_t x = 12345;
    size_t after_10k = 0;
    for (int k = 0; k < 20000; ++k) {
        x = x * 1103515245u + 12345u;
        const Endpoint from = Endpoint::v4(0x0A000000u | (x >> 12 & 0xffff), static_cast<uint16_t>(1024 + (x & 0x7fff)));
        t += kMs;
        c.observe(qm, from, kR4500, t);
        Wire ka;
        ka.kind = Wire::Keepalive;
        c.observe(ka, from, kR4500, t + 1);
        if (k == 9999) after_10k = c.an.keyed_entries();
        if (c.msgs.size() > 64) c.msgs.pop_front();  // the model keeps no pointer into old messages
    }
    // The sum of the per-SA budgets of tap/limits.h, times max_sas.
    const size_t bound = (2 + kHostPairsPerSa * 2 + kPortPairsPerSa * 3 + kKeepaliveFlowsPerSa + kSocketsPerSa +
                          kPairsPerSa + kEspRecordsPerSa + kEvidencePerSa + kSpiOwnersPerSa) *
                         max_sas;
    assert_true(c.an.keyed_entries() <= bound);
    // In numbers: 20,000 replays, each from a new ip:port, leave fewer
    // entries than 2,000 (the budgets of today sum to 1,040 at max_sas 10);
    // without them every replay adds a few.
    assert_true(c.an.keyed_entries() < 2000);
    assert_true(after_10k <= c.an.keyed_entries());
    // Keepalives from unknown pairs make placeholder SAs: at most their
    // share of the table, which keeps room for legitimate SAs.
    assert_true(c.an.sa_count() <= 1 + max_sas / kPlaceholderShare);
}

// Keepalives from ever new hosts and ports (replays, a scan) each make a
// placeholder SA until the placeholders' share of the table is taken; then
// they get no SA, the first kBudgetReports of them say so, and a legitimate
// SA after them is still tracked (without the share, the placeholders fill
// the table and it gets kFindSaCap).
void test_placeholders_leave_room(void**) {
    Feeder f;
    const size_t max_sas = 8;
    f.an.set_max_sas(max_sas);
    uint32_t reported = 0, made = 0;
    for (uint32_t k = 0; k < 200; ++k) {
        const Endpoint from = Endpoint::v4(0x0A000000u + k * 7919u, static_cast<uint16_t>(1024 + k));
        const FrameAnalysis fa = f.keepalive(from, kServer);
        if (fa.sa) {
            made++;
            assert_int_equal(fa.findings & kFindPlaceholderCap, 0);
        } else {
            assert_int_equal(fa.findings & kFindSaCap, 0);
            if (fa.findings & kFindPlaceholderCap) reported++;
        }
    }
    assert_int_equal(made, max_sas / kPlaceholderShare);
    assert_int_equal(reported, kBudgetReports);
    assert_int_equal(f.an.sa_count(), max_sas / kPlaceholderShare);
    // ESP of a new flow, credible, is no placeholder either.
    const Endpoint esp_from = Endpoint::v4(0x0B000001u, 4500);
    assert_int_equal(f.esp_only_sa(esp_from, kServer, 0x1234), 0);
    const FrameAnalysis mm1 = f.ikev1(kI500, kR500, 0x1111, 0, 2, 0);
    assert_int_equal(mm1.findings & kFindSaCap, 0);
    assert_int_equal(mm1.sa, max_sas / kPlaceholderShare + 1);
    assert_int_equal(f.ikev1(kR500, kI500, 0x1111, 0x2222, 2, 0).sa, mm1.sa);
}

// Issue 16: IKE_SA_INIT responses with no request, from three responders to
// one initiator cookie (somebody sent the requests with the cookie owner's
// address): three SAs, each naming the cookie's owner the initiator; the
// second and third carry the reflection finding. A response whose request
// was seen is no reflection.
void test_reflection(void**) {
    Analyzer an;
    natt_test::IkeBuilder b;
    const Endpoint victim = Endpoint::v4(0xC6336417u, 500);
    for (uint32_t k = 0; k < 3; ++k) {
        const Endpoint responder = Endpoint::v4(0xCB007100u + k, 500);
        const FrameAnalysis fa =
            an.observe(b.ike(responder, victim, 0xAAAA, 0xB000 + k, kExIkeSaInit, 0, 0x20, 0x20, 1));
        assert_int_equal(fa.sa, k + 1);
        const IkeSa& sa = *an.sa(fa.sa);
        assert_true(sa.initiator == victim);
        assert_true(sa.responder == responder);
        assert_int_equal(sa.unrequested, k + 1);
        assert_int_equal((fa.findings & kFindReflection) != 0, k >= 1);
    }
    // A request, then its response: no reflection.
    Analyzer ok;
    const Endpoint r = Endpoint::v4(0xCB007109u, 500);
    ok.observe(b.ike(victim, r, 0xCCCC, 0, kExIkeSaInit, 0, 0x20, 0x08, 1));
    const FrameAnalysis resp = ok.observe(b.ike(r, victim, 0xCCCC, 0xD000, kExIkeSaInit, 0, 0x20, 0x20, 2));
    assert_int_equal(resp.findings & kFindReflection, 0);
    assert_int_equal(ok.sa(1)->unrequested, 0);
}

}  // namespace

int main(void) {
    natt_test::init_gcrypt();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esp_replayed_from_many_pairs),
        cmocka_unit_test(test_rebinding_names_old_and_new_pair),
        cmocka_unit_test(test_spi_budget),
        cmocka_unit_test(test_exchange_budgets),
        cmocka_unit_test(test_natd_budget),
        cmocka_unit_test(test_keepalive_reservoir),
        cmocka_unit_test(test_keepalive_series_bounded),
        cmocka_unit_test(test_placeholder_natt_ports),
        cmocka_unit_test(test_mapping_idle_same_on_both_paths),
        cmocka_unit_test(test_both_sides_one_capture),
        cmocka_unit_test(test_every_datagram_twice),
        cmocka_unit_test(test_two_sides_clock_ahead),
        cmocka_unit_test(test_two_sides_clock_behind),
        cmocka_unit_test(test_mid_tunnel_then_ike),
        cmocka_unit_test(test_known_spi_on_new_pair),
        cmocka_unit_test(test_mm1_inside_mm2_outside),
        cmocka_unit_test(test_replays_stay_within_budget),
        cmocka_unit_test(test_reflection),
        cmocka_unit_test(test_placeholders_leave_room),
        cmocka_unit_test(test_esp_both_sides_counted_once),
        cmocka_unit_test(test_mm3_elsewhere_is_no_twin_of_mm1),
    };
    return cmocka_run_group_tests_name("analyzer", tests, nullptr, nullptr);
}
