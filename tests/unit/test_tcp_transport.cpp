// Unit tests for IKE and ESP over TCP (RFC 8229): the stream framing parser
// (tap/tcp_framing) and the model's TCP transport and UDP->TCP fallback.

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <cstring>
#include <vector>

#include "gcrypt_init.h"
#include "ike_builder.h"
#include "tap/analyzer.h"
#include "tap/sa_table.h"
#include "tap/tcp_framing.h"

using namespace natt;

namespace {

// ---- Framing.

std::vector<uint8_t> frame_of(const std::vector<uint8_t>& body) {
    std::vector<uint8_t> f{static_cast<uint8_t>((body.size() + 2) >> 8), static_cast<uint8_t>(body.size() + 2)};
    f.insert(f.end(), body.begin(), body.end());
    return f;
}

// A framed IKE_SA_INIT request: marker + a strict IKEv2 header.
std::vector<uint8_t> ike_frame(natt_test::IkeBuilder& b) {
    b.ike(Endpoint::v4(1, 1), Endpoint::v4(2, 2), 0x1122334455667788ull, 0, kExIkeSaInit, 0, 0x20, 0x08);
    std::vector<uint8_t> body{0, 0, 0, 0};
    body.insert(body.end(), b.bytes.begin(), b.bytes.end());
    return frame_of(body);
}

void test_next_unit(void**) {
    const uint8_t prefix[] = {'I', 'K', 'E', 'T', 'C', 'P', 0x00, 0x10};
    TcpFraming f = next_tcp_unit(prefix, sizeof prefix, true);
    assert_int_equal(static_cast<int>(f.unit), static_cast<int>(TcpUnit::Prefix));
    assert_int_equal(f.length, 6);
    // Part of the prefix: more is needed; the same bytes mid-stream are a length.
    f = next_tcp_unit(prefix, 3, true);
    assert_int_equal(static_cast<int>(f.unit), static_cast<int>(TcpUnit::NeedMore));
    f = next_tcp_unit(prefix, sizeof prefix, false);
    assert_int_equal(static_cast<int>(f.unit), static_cast<int>(TcpUnit::NeedMore));
    assert_int_equal(f.length, 0x494B);
    // Lengths 0 and 1 cannot frame anything; 2 is an empty frame.
    const uint8_t zero[] = {0, 0, 9}, one[] = {0, 1, 9}, two[] = {0, 2, 9};
    assert_int_equal(static_cast<int>(next_tcp_unit(zero, 3, false).unit), static_cast<int>(TcpUnit::BadLength));
    assert_int_equal(static_cast<int>(next_tcp_unit(one, 3, false).unit), static_cast<int>(TcpUnit::BadLength));
    f = next_tcp_unit(two, 3, false);
    assert_int_equal(static_cast<int>(f.unit), static_cast<int>(TcpUnit::Frame));
    assert_int_equal(f.length, 2);
    // One byte: the length field itself is not complete.
    f = next_tcp_unit(two, 1, false);
    assert_int_equal(static_cast<int>(f.unit), static_cast<int>(TcpUnit::NeedMore));
    assert_int_equal(f.length, 2);
    assert_int_equal(static_cast<int>(next_tcp_unit(nullptr, 0, true).unit), static_cast<int>(TcpUnit::NeedMore));
}

void test_frame_bodies(void**) {
    const uint8_t ff[] = {0xFF};
    assert_int_equal(static_cast<int>(classify_tcp_frame(ff, 1).kind), static_cast<int>(DatagramKind::Keepalive));
    const uint8_t esp[] = {0, 0, 1, 0, 0, 0, 0, 1, 9, 9};
    const Classification c = classify_tcp_frame(esp, sizeof esp);
    assert_int_equal(static_cast<int>(c.kind), static_cast<int>(DatagramKind::EspInUdp));
    assert_int_equal(c.esp_spi, 256);
    assert_int_equal(static_cast<int>(classify_tcp_frame(esp, 0).kind), static_cast<int>(DatagramKind::Malformed));
}

void test_stream_heuristic(void**) {
    natt_test::IkeBuilder b;
    const std::vector<uint8_t> frame = ike_frame(b);
    assert_true(looks_like_tcp_ike_frame(frame.data(), frame.size()));
    // One byte short: not a whole frame, not taken mid-stream.
    assert_false(looks_like_tcp_ike_frame(frame.data(), frame.size() - 1));
    std::vector<uint8_t> s{'I', 'K', 'E', 'T', 'C', 'P'};
    assert_true(looks_like_iketcp_stream(s.data(), s.size()));  // the prefix in its own segment
    s.insert(s.end(), frame.begin(), frame.end());
    assert_true(looks_like_iketcp_stream(s.data(), s.size()));
    // The first frame cut by the segment: what is there must fit IKE.
    assert_true(looks_like_iketcp_stream(s.data(), 6 + 2 + 4 + 20));
    // IKETCP followed by garbage: a bad length, a non-zero marker, a zero SPI, a bad version.
    std::vector<uint8_t> g = s;
    g[7] = 1;
    g[6] = 0;
    assert_false(looks_like_iketcp_stream(g.data(), g.size()));
    g = s;
    g[9] = 7;
    assert_false(looks_like_iketcp_stream(g.data(), g.size()));
    g = s;
    std::memset(g.data() + 12, 0, 8);
    assert_false(looks_like_iketcp_stream(g.data(), 6 + 2 + 4 + 20));
    g = s;
    g[12 + 17] = 0x30;
    assert_false(looks_like_iketcp_stream(g.data(), 6 + 2 + 4 + 20));
    const uint8_t other[] = {'G', 'E', 'T', ' ', '/', ' '};
    assert_false(looks_like_iketcp_stream(other, sizeof other));
}

// ---- The end of a connection.

// An IPv4 (or IPv6 with one destination-options header) packet of a TCP
// segment with `payload` bytes; returns the offset of the source address.
std::vector<uint8_t> tcp_packet(int version, uint8_t flags, uint32_t seq, size_t payload, size_t* src_at) {
    std::vector<uint8_t> p(4, 0xEE);  // a link-layer header before the IP one
    std::vector<uint8_t> tcp{0x9C, 0x41, 0x11, 0x94, static_cast<uint8_t>(seq >> 24), static_cast<uint8_t>(seq >> 16),
                             static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq), 0, 0, 0, 0, 0x50, flags};
    tcp.resize(20 + payload, 0x42);
    if (version == 4) {
        const size_t total = 20 + tcp.size();
        const uint8_t ip[20] = {0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), 0, 1, 0x40, 0,
                                64, 6, 0, 0, 198, 51, 100, 1, 203, 0, 113, 10};
        *src_at = p.size() + 12;
        p.insert(p.end(), ip, ip + 20);
    } else {
        const size_t plen = 8 + tcp.size();
        std::vector<uint8_t> ip{0x60, 0, 0, 0, static_cast<uint8_t>(plen >> 8), static_cast<uint8_t>(plen), 60, 64};
        ip.resize(40, 0x20);
        const uint8_t dest_opts[8] = {6, 0, 1, 4, 0, 0, 0, 0};
        ip.insert(ip.end(), dest_opts, dest_opts + 8);
        *src_at = p.size() + 8;
        p.insert(p.end(), ip.begin(), ip.end());
    }
    p.insert(p.end(), tcp.begin(), tcp.end());
    p.resize(p.size() + 6, 0);  // Ethernet padding: not payload
    return p;
}

void test_segment_header(void**) {
    for (int version : {4, 6}) {
        size_t src = 0;
        std::vector<uint8_t> p = tcp_packet(version, kTcpFin | 0x10, 0xFFFFFFF0u, 0, &src);
        TcpSegmentHeader h = tcp_header_after(p.data(), p.size(), src, version, 40001, 4500);
        assert_true(h.found);
        assert_true(h.flags & kTcpFin);
        assert_false(h.flags & kTcpRst);
        assert_int_equal(h.payload_len, 0);
        assert_int_equal(h.stream_end(), 0xFFFFFFF0u);
        p = tcp_packet(version, kTcpRst, 7, 41, &src);
        h = tcp_header_after(p.data(), p.size(), src, version, 40001, 4500);
        assert_true(h.found && (h.flags & kTcpRst));
        assert_int_equal(h.payload_len, 41);
        assert_int_equal(h.stream_end(), 48);
        // Other ports (another segment), a cut header, a wrong version: nothing.
        assert_false(tcp_header_after(p.data(), p.size(), src, version, 4500, 40001).found);
        assert_false(tcp_header_after(p.data(), src + 20, src, version, 40001, 4500).found);
        assert_false(tcp_header_after(p.data(), p.size(), src, version == 4 ? 6 : 4, 40001, 4500).found);
        assert_false(tcp_header_after(p.data(), p.size(), 3, version, 40001, 4500).found);
        assert_false(tcp_header_after(nullptr, 0, 0, version, 40001, 4500).found);
    }
    // An IPv4 fragment: its lengths are not the segment's.
    size_t src = 0;
    std::vector<uint8_t> p = tcp_packet(4, kTcpFin, 1, 10, &src);
    p[src - 12 + 6] = 0x20;  // more fragments
    assert_false(tcp_header_after(p.data(), p.size(), src, 4, 40001, 4500).found);
}

void test_pending_frame(void**) {
    PendingTcpFrame p;
    assert_int_equal(p.missing_at(100), 0);  // nothing pending
    p.start_frame = 22;
    p.length = 82;
    p.missing = 41;
    assert_int_equal(p.missing_at(100), 0);  // where it ends is not known yet
    p.end_seq = 0x10;  // across the wrap of sequence numbers
    p.end_known = true;
    assert_int_equal(p.missing_at(0xFFFFFFE7u), 41);
    assert_int_equal(p.missing_at(0x10), 0);  // all arrived
    assert_int_equal(p.missing_at(0x20), 0);
}

TcpSegmentHeader segment(uint8_t flags, uint32_t seq, uint32_t payload) {
    TcpSegmentHeader h;
    h.found = true;
    h.flags = flags;
    h.seq = seq;
    h.payload_len = payload;
    return h;
}

void test_connection_end(void**) {
    TcpCut cut[2];
    {
        // Frame 22 starts an 82-byte frame (20 bytes), frame 23 brings 21
        // more (inside TCP's reassembly: natt sees only its header), frame
        // 24 is the sender's FIN.
        TcpConnectionEnd e;
        e.unit(0, 22, 82, 20);
        assert_int_equal(e.segment(0, 22, segment(0x18, 0xFFFFFFF0u, 20), cut), 0);
        assert_int_equal(e.segment(0, 23, segment(0x10, 0x4, 21), cut), 0);
        assert_int_equal(e.segment(1, 24, segment(0x11, 500, 0), cut), 0);  // the other side's FIN: not a cut
        assert_int_equal(e.segment(0, 25, segment(0x11, 0x19, 0), cut), 1);
        assert_int_equal(cut[0].start_frame, 22);
        assert_int_equal(cut[0].length, 82);
        assert_int_equal(cut[0].missing, 41);
        assert_int_equal(e.segment(0, 26, segment(0x11, 0x19, 0), cut), 0);  // a retransmitted FIN
    }
    {
        // Closed between frames, or after all of a frame's bytes arrived.
        TcpConnectionEnd e;
        e.unit(0, 5, 40, 40);
        assert_int_equal(e.segment(0, 5, segment(0x18, 100, 40), cut), 0);
        assert_int_equal(e.segment(0, 6, segment(0x11, 140, 0), cut), 0);
        e.unit(1, 7, 40, 10);
        assert_int_equal(e.segment(1, 7, segment(0x18, 900, 10), cut), 0);
        assert_int_equal(e.segment(1, 8, segment(0x11, 910, 30), cut), 0);
    }
    {
        // A RST from either side cuts either direction's incomplete frame.
        TcpConnectionEnd e;
        e.unit(0, 3, 100, 30);
        assert_int_equal(e.segment(0, 3, segment(0x18, 1000, 30), cut), 0);
        e.unit(1, 4, 60, 6);
        assert_int_equal(e.segment(1, 4, segment(0x18, 7000, 6), cut), 0);
        assert_int_equal(e.segment(1, 5, segment(0x14, 7006, 0), cut), 2);
        assert_int_equal(cut[0].start_frame, 3);
        assert_int_equal(cut[0].missing, 70);
        assert_int_equal(cut[1].start_frame, 4);
        assert_int_equal(cut[1].missing, 54);
        // A hostile stream of partial frames and RSTs: no more cuts kept.
        for (uint32_t f = 10; f < 20; f += 2) {
            e.unit(0, f, 100, 10);
            assert_int_equal(e.segment(0, f, segment(0x18, 2000 + f * 100, 10), cut), 0);
            assert_int_equal(e.segment(0, f + 1, segment(0x14, 2010 + f * 100, 0), cut), 0);
        }
    }
}

// ---- The model.

const Endpoint kClient500 = Endpoint::v4(0xC6336401u, 500);    // 198.51.100.1
const Endpoint kClientTcp = Endpoint::v4(0xC6336401u, 40001);
const Endpoint kOtherClientTcp = Endpoint::v4(0xC6336402u, 40001);
const Endpoint kServer500 = Endpoint::v4(0xCB007114u, 500);    // 203.0.113.20
const Endpoint kServerTcp = Endpoint::v4(0xCB007114u, 4500);

Datagram on_tcp(Datagram d) {
    d.transport = Transport::Tcp;
    return d;
}

// IKE_SA_INIT request and response, IKE_AUTH pair, over TCP.
void tcp_sa(Analyzer& an, natt_test::IkeBuilder& b, uint64_t spi, const Endpoint& client = kClientTcp) {
    assert_int_not_equal(an.observe(on_tcp(b.ike(client, kServerTcp, spi, 0, kExIkeSaInit, 0, 0x20, 0x08, 0, true))).sa, 0);
    an.observe(on_tcp(b.ike(kServerTcp, client, spi, 0x99, kExIkeSaInit, 0, 0x20, 0x20, 0, true)));
    an.observe(on_tcp(b.ike(client, kServerTcp, spi, 0x99, kExIkeAuth, 1, 0x20, 0x08, 1, true)));
    an.observe(on_tcp(b.ike(kServerTcp, client, spi, 0x99, kExIkeAuth, 1, 0x20, 0x20, 2, true)));
}

void test_tcp_transport(void**) {
    Analyzer an;
    natt_test::IkeBuilder b;
    tcp_sa(an, b, 0xA1);
    const IkeSa* sa = an.sa(1);
    assert_non_null(sa);
    assert_int_equal(static_cast<int>(sa->transport), static_cast<int>(Transport::Tcp));
    assert_false(sa->floating.floated);  // a TCP connection is no NAT-T port mapping
    // ESP on the connection: the SA's, in both directions, on every pass.
    for (uint32_t seq = 1; seq <= 3; ++seq) {
        assert_int_equal(an.observe(on_tcp(b.esp(kClientTcp, kServerTcp, 0x1000, seq))).sa, 1);
        assert_int_equal(an.observe(on_tcp(b.esp(kServerTcp, kClientTcp, 0x2000, seq))).sa, 1);
    }
    assert_int_equal(an.esp_lookup(kClientTcp, kServerTcp, 0x1000, b.frame).sa, 1);
    // A TCP pair teaches the UDP dissector nothing.
    assert_int_equal(static_cast<int>(an.role(kClientTcp, kServerTcp)), static_cast<int>(PairRole::Unknown));
    // Idle longer than the NAT's UDP timeout: nothing to say about TCP.
    b.time_ns += 120 * kSecondNs;
    assert_int_equal(an.observe(on_tcp(b.esp(kClientTcp, kServerTcp, 0x1000, 4))).findings & kFindSilence, 0);
    b.time_ns += 120 * kSecondNs;
    const FrameAnalysis dpd = an.observe(on_tcp(b.ike(kClientTcp, kServerTcp, 0xA1, 0x99, kExInformational, 2, 0x20, 0x08, 3, true)));
    assert_int_equal(dpd.sa, 1);
    assert_int_equal(dpd.findings & kFindSilence, 0);
    // The table shows the connection's endpoints, marked.
    const SaTableRow row = render_sa_row(*an.sa(1));
    assert_string_equal(row.cells[kColInitiator].c_str(), "198.51.100.1:40001/tcp");
    assert_string_equal(row.cells[kColResponder].c_str(), "203.0.113.20:4500/tcp");
    assert_string_equal(row.cells[kColInitiatorFloat].c_str(), "-");
    assert_int_equal(an.sa(1)->esp.size(), 2);
}

// The same SA on UDP 4500 is NAT-T: roles learnt, idle mappings reported.
void test_udp_unchanged(void**) {
    Analyzer an;
    natt_test::IkeBuilder b;
    const Endpoint c = Endpoint::v4(0xC6336401u, 4500);
    an.observe(b.ike(c, kServerTcp, 0xA1, 0, kExIkeSaInit, 0, 0x20, 0x08, 0, true));
    an.observe(b.ike(kServerTcp, c, 0xA1, 0x99, kExIkeSaInit, 0, 0x20, 0x20, 0, true));
    assert_int_equal(static_cast<int>(an.role(c, kServerTcp)), static_cast<int>(PairRole::Natt));
    assert_true(an.sa(1)->floating.floated);
    b.time_ns += 120 * kSecondNs;
    assert_true(an.observe(b.ike(c, kServerTcp, 0xA1, 0x99, kExInformational, 2, 0x20, 0x08, 3, true)).findings &
                kFindSilence);
    assert_string_equal(render_sa_row(*an.sa(1)).cells[kColInitiator].c_str(), "198.51.100.1:4500");
}

// UDP IKE_SA_INIT sent three times, never answered.
uint32_t unanswered_udp(Analyzer& an, natt_test::IkeBuilder& b) {
    const FrameAnalysis first = an.observe(b.ike(kClient500, kServer500, 0x51, 0, kExIkeSaInit, 0, 0x20, 0x08));
    for (int i = 0; i < 2; ++i) {
        b.time_ns += kSecondNs / 2;
        an.observe(b.ike(kClient500, kServer500, 0x51, 0, kExIkeSaInit, 0, 0x20, 0x08));
    }
    return first.sa_first_frame;
}

void test_fallback(void**) {
    Analyzer an;
    natt_test::IkeBuilder b;
    const uint32_t attempt = unanswered_udp(an, b);
    assert_int_equal(attempt, 1);
    b.time_ns += 4 * kSecondNs;
    const FrameAnalysis fa =
        an.observe(on_tcp(b.ike(kClientTcp, kServerTcp, 0x52, 0, kExIkeSaInit, 0, 0x20, 0x08, 0, true)));
    assert_int_equal(fa.sa, 2);
    assert_true(fa.findings & kFindTcpFallback);
    assert_int_equal(fa.related_frame, attempt);
    assert_int_equal(an.sa(2)->tcp_fallback_from, attempt);
    assert_int_equal(an.sa(2)->finding_count, 1);
    // The response and the rest of the TCP SA: no second finding.
    const FrameAnalysis resp =
        an.observe(on_tcp(b.ike(kServerTcp, kClientTcp, 0x52, 0x99, kExIkeSaInit, 0, 0x20, 0x20, 0, true)));
    assert_int_equal(resp.findings & kFindTcpFallback, 0);
}

void test_no_fallback(void**) {
    {  // The UDP attempt was answered: a second SA over TCP is no fallback.
        Analyzer an;
        natt_test::IkeBuilder b;
        an.observe(b.ike(kClient500, kServer500, 0x51, 0, kExIkeSaInit, 0, 0x20, 0x08));
        an.observe(b.ike(kServer500, kClient500, 0x51, 0x77, kExIkeSaInit, 0, 0x20, 0x20));
        const FrameAnalysis fa =
            an.observe(on_tcp(b.ike(kClientTcp, kServerTcp, 0x52, 0, kExIkeSaInit, 0, 0x20, 0x08, 0, true)));
        assert_int_equal(fa.findings & kFindTcpFallback, 0);
    }
    {  // Another initiator host.
        Analyzer an;
        natt_test::IkeBuilder b;
        unanswered_udp(an, b);
        const FrameAnalysis fa =
            an.observe(on_tcp(b.ike(kOtherClientTcp, kServerTcp, 0x52, 0, kExIkeSaInit, 0, 0x20, 0x08, 0, true)));
        assert_int_equal(fa.findings & kFindTcpFallback, 0);
    }
    {  // Long after the attempt.
        Analyzer an;
        natt_test::IkeBuilder b;
        unanswered_udp(an, b);
        b.time_ns += kTcpFallbackWindowNs + kSecondNs;
        const FrameAnalysis fa =
            an.observe(on_tcp(b.ike(kClientTcp, kServerTcp, 0x52, 0, kExIkeSaInit, 0, 0x20, 0x08, 0, true)));
        assert_int_equal(fa.findings & kFindTcpFallback, 0);
    }
    {  // A TCP SA straight away (enable-tcp=yes): nothing before it.
        Analyzer an;
        natt_test::IkeBuilder b;
        tcp_sa(an, b, 0xA1);
        assert_int_equal(an.sa(1)->finding_count, 0);
        assert_int_equal(an.sa(1)->tcp_fallback_from, 0);
    }
}

}  // namespace

int main(void) {
    natt_test::init_gcrypt();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_unit),        cmocka_unit_test(test_frame_bodies),
        cmocka_unit_test(test_stream_heuristic), cmocka_unit_test(test_tcp_transport),
        cmocka_unit_test(test_udp_unchanged),    cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_no_fallback),      cmocka_unit_test(test_segment_header),
        cmocka_unit_test(test_pending_frame),     cmocka_unit_test(test_connection_end),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
