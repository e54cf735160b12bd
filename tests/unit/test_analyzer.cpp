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
#include <vector>

#include "tap/ike_parse.h"
#include "tap/analyzer.h"
#include "gcrypt_init.h"

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

}  // namespace

int main(void) {
    natt_test::init_gcrypt();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esp_replayed_from_many_pairs),
        cmocka_unit_test(test_spi_budget),
        cmocka_unit_test(test_exchange_budgets),
        cmocka_unit_test(test_natd_budget),
        cmocka_unit_test(test_keepalive_reservoir),
        cmocka_unit_test(test_keepalive_series_bounded),
        cmocka_unit_test(test_placeholder_natt_ports),
        cmocka_unit_test(test_mapping_idle_same_on_both_paths),
    };
    return cmocka_run_group_tests_name("analyzer", tests, nullptr, nullptr);
}
