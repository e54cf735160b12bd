// libFuzzer harness (a): IKE header + clear payload walk, NAT-T datagram
// classification and the arbitrary-port heuristics (tap/ike_parse.h).
// Besides ASan/UBSan, it checks the invariants the dissector relies on when it
// reads payloads at the offsets the parser returns.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tests/unit/payload_chain.h"
#include "tap/ike_parse.h"
#include "tap/tcp_framing.h"

using namespace natt;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_ike_parse: invariant violated: %s\n", what);
    std::abort();
}

volatile uint32_t g_sink;

// Every reference must lie inside the message (the glue reads it from the tvb).
void check_ref(const PayloadRef& r, const IkeMessage& m, size_t len, const uint8_t* d) {
    if (static_cast<uint64_t>(r.offset) + r.length > m.hdr.length) fail("payload beyond the IKE length");
    if (static_cast<uint64_t>(r.offset) + r.length > len) fail("payload beyond the datagram");
    uint32_t s = 0;
    for (uint32_t i = 0; i < r.length; ++i) s += d[r.offset + i];  // ASan: really readable
    g_sink = s;
}

void walk(const uint8_t* d, size_t len, Strictness st) {
    IkeHeader h;
    const HeaderCheck hc = parse_ike_header(d, len, st, &h);
    (void)header_check_name(hc);
    IkeMessage m;
    const HeaderCheck mc = parse_ike_message(d, len, st, &m);
    if (mc != hc) fail("parse_ike_message and parse_ike_header disagree");
    (void)chain_status_name(m.chain);
    if (mc != HeaderCheck::Ok) return;
    if (m.hdr.length < kIkeHeaderLen || m.hdr.length > len) fail("accepted header length out of range");
    if (st == Strictness::Heuristic && m.hdr.length != len) fail("heuristic accepted a length mismatch");
    if (m.n_payloads > kMaxPayloads || m.n_vendor_ids > kMaxVendorIds || m.n_natd > kMaxNatD ||
        m.n_notify > kMaxNotify)
        fail("payload counters past their arrays");
    const auto chain = natt_test::payload_chain(d, len);
    if (chain.size() != m.n_payloads) fail("payload count differs from a plain walk of the chain");
    for (const PayloadRef& r : chain) check_ref(r, m, len, d);
    for (unsigned i = 0; i < m.n_vendor_ids; ++i) check_ref(m.vendor_ids[i], m, len, d);
    for (unsigned i = 0; i < m.n_natd; ++i) check_ref(m.natd[i], m, len, d);
    for (unsigned i = 0; i < m.n_notify; ++i) check_ref(m.notify_data[i], m, len, d);
    if (m.chain != ChainStatus::Complete && m.chain != ChainStatus::Encrypted && m.chain_error_offset > m.hdr.length)
        fail("chain error offset beyond the message");
}

void classify(const Classification& c, const uint8_t* d, size_t len) {
    (void)datagram_kind_name(c.kind);
    (void)malformation_name(c.malformed);
    (void)header_check_name(c.ike_check);
    if (c.kind == DatagramKind::Keepalive && !is_keepalive(d, len)) fail("keepalive that is not 0xFF");
    if (c.kind == DatagramKind::EspInUdp && (len < kEspMinLen || c.esp_spi == 0)) fail("ESP-in-UDP without an SPI");
    if (c.kind == DatagramKind::FloatedIke) {
        if (len < kNonEspMarkerLen + kIkeHeaderLen) fail("floated IKE too short");
        IkeMessage m;
        if (parse_ike_message(d + kNonEspMarkerLen, len - kNonEspMarkerLen, Strictness::Port, &m) != HeaderCheck::Ok)
            fail("floated IKE whose header does not parse");
    }
    if (c.kind == DatagramKind::PlainIke) {
        IkeMessage m;
        if (parse_ike_message(d, len, Strictness::Port, &m) != HeaderCheck::Ok) fail("plain IKE that does not parse");
    }
}

// The input as the start of an RFC 8229 TCP stream (the initiator's): the
// prefix, then frames, as the dissector's tcp_dissect_pdus cuts it; each
// frame body classified as the dissector does.
void walk_tcp_stream(const uint8_t* d, size_t len) {
    const bool heur = looks_like_iketcp_stream(d, len);
    if (heur && !starts_with_iketcp(d, len)) fail("IKETCP heuristic without the prefix");
    if (looks_like_tcp_ike_frame(d, len)) {
        const size_t n = static_cast<size_t>(d[0]) << 8 | d[1];
        if (n < kTcpLengthFieldLen || n > len) fail("TCP IKE frame beyond the stream");
        if (classify_tcp_frame(d + 2, n - 2).kind != DatagramKind::FloatedIke) fail("TCP IKE frame not floated IKE");
    }
    size_t off = 0;
    for (int units = 0; off < len; ++units) {
        const TcpFraming f = next_tcp_unit(d + off, len - off, off == 0);
        if (f.unit == TcpUnit::NeedMore) {
            if (f.length <= len - off) fail("NeedMore with the bytes there");
            break;
        }
        if (f.unit == TcpUnit::BadLength) break;
        if (f.length == 0 || f.length > len - off) fail("TCP unit beyond the stream");
        if (f.unit == TcpUnit::Prefix) {
            if (off != 0) fail("prefix mid-stream");
        } else {
            if (f.length < kTcpLengthFieldLen || f.length > kMaxTcpFrameLen) fail("frame length out of range");
            const size_t body = f.length - kTcpLengthFieldLen;
            classify(classify_tcp_frame(d + off + 2, body), d + off + 2, body);
        }
        off += f.length;
        if (units > 70000) fail("TCP walk does not advance");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    walk(data, size, Strictness::Port);
    walk(data, size, Strictness::Heuristic);
    if (size > kNonEspMarkerLen) {
        walk(data + kNonEspMarkerLen, size - kNonEspMarkerLen, Strictness::Port);
    }
    classify(classify_natt_datagram(data, size), data, size);
    classify(classify_ike_datagram(data, size), data, size);
    const bool fl = looks_like_floated_ike(data, size);
    const bool pl = looks_like_plain_ike(data, size);
    const bool esp = looks_like_esp_in_udp(data, size);
    const bool ka = size > 0 && is_keepalive(data, size);
    if (fl && (size < kNonEspMarkerLen || std::memcmp(data, "\0\0\0\0", 4) != 0)) fail("floated IKE without a marker");
    g_sink = fl + pl + esp + ka;
    walk_tcp_stream(data, size);
    return 0;
}
