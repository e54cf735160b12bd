#include "tcp_framing.h"

#include <cstring>

namespace natt {

namespace {

constexpr uint8_t kPrefix[kIkeTcpPrefixLen] = {'I', 'K', 'E', 'T', 'C', 'P'};

uint32_t be16_at(const uint8_t* p) { return static_cast<uint32_t>(p[0]) << 8 | p[1]; }

}  // namespace

bool starts_with_iketcp(const uint8_t* p, size_t len) {
    return p && len >= kIkeTcpPrefixLen && std::memcmp(p, kPrefix, kIkeTcpPrefixLen) == 0;
}

TcpFraming next_tcp_unit(const uint8_t* p, size_t len, bool at_stream_start) {
    TcpFraming r;
    if (at_stream_start) {
        // "IKETCP" read as a length is 0x494B: tell the two apart only by
        // where they stand, then by the bytes.
        const size_t have = len < kIkeTcpPrefixLen ? len : kIkeTcpPrefixLen;
        if (p && have > 0 && std::memcmp(p, kPrefix, have) == 0) {
            r.unit = have == kIkeTcpPrefixLen ? TcpUnit::Prefix : TcpUnit::NeedMore;
            r.length = kIkeTcpPrefixLen;
            return r;
        }
    }
    if (!p || len < kTcpLengthFieldLen) {
        r.length = kTcpLengthFieldLen;
        return r;
    }
    r.length = be16_at(p);
    r.unit = r.length < kTcpLengthFieldLen ? TcpUnit::BadLength : len >= r.length ? TcpUnit::Frame : TcpUnit::NeedMore;
    return r;
}

bool looks_like_tcp_ike_frame(const uint8_t* p, size_t len) {
    if (!p || len < kTcpLengthFieldLen) return false;
    const uint32_t n = be16_at(p);
    if (n < kTcpLengthFieldLen || n > len) return false;
    return looks_like_floated_ike(p + kTcpLengthFieldLen, n - kTcpLengthFieldLen);
}

bool looks_like_iketcp_stream(const uint8_t* p, size_t len) {
    if (!starts_with_iketcp(p, len)) return false;
    const uint8_t* rest = p + kIkeTcpPrefixLen;
    const size_t left = len - kIkeTcpPrefixLen;
    if (left == 0) return true;  // the prefix alone in its segment (libreswan, Linux espintcp)
    const TcpFraming f = next_tcp_unit(rest, left, false);
    if (f.unit == TcpUnit::BadLength) return false;
    // The first frame is the initiator's IKE_SA_INIT (RFC 8229 §4): check what
    // the segment holds of it.
    if (f.unit == TcpUnit::Frame) return looks_like_tcp_ike_frame(rest, left);
    if (left < kTcpLengthFieldLen + kNonEspMarkerLen) return left < kTcpLengthFieldLen || f.length > left;
    const uint8_t* body = rest + kTcpLengthFieldLen;
    if (body[0] | body[1] | body[2] | body[3]) return false;
    // A partial message cannot pass the whole-length check: the version byte
    // and a non-zero initiator SPI, as far as the segment holds them.
    const size_t ike_have = left - kTcpLengthFieldLen - kNonEspMarkerLen;
    const uint8_t* ike = body + kNonEspMarkerLen;
    if (ike_have > 17 && ike[17] != 0x10 && ike[17] != 0x20) return false;
    if (ike_have >= 8) {
        uint8_t any = 0;
        for (int i = 0; i < 8; ++i) any |= ike[i];
        if (!any) return false;
    }
    return true;
}

}  // namespace natt
