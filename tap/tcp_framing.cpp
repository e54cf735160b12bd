#include "tcp_framing.h"

#include <cstring>

namespace natt {

namespace {

constexpr uint8_t kPrefix[kIkeTcpPrefixLen] = {'I', 'K', 'E', 'T', 'C', 'P'};

uint32_t be16_at(const uint8_t* p) { return static_cast<uint32_t>(p[0]) << 8 | p[1]; }
uint32_t be32_at(const uint8_t* p) { return be16_at(p) << 16 | be16_at(p + 2); }

constexpr uint8_t kIpProtoTcp = 6;

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

TcpSegmentHeader tcp_header_after(const uint8_t* b, size_t len, size_t ip_src, int ip_version, uint16_t sport,
                                  uint16_t dport) {
    TcpSegmentHeader h;
    if (!b) return h;
    size_t tcp = 0;
    size_t ip_payload = 0;  // bytes after the IP header(s), from the IP lengths
    if (ip_version == 4) {
        if (ip_src < 12 || ip_src + 8 > len) return h;
        const uint8_t* ip = b + ip_src - 12;
        const size_t ihl = static_cast<size_t>(ip[0] & 0x0F) * 4;
        const size_t total = be16_at(ip + 2);
        if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != kIpProtoTcp || total < ihl) return h;
        if ((be16_at(ip + 6) & 0x3FFF) != 0) return h;  // a fragment: its lengths are not the segment's
        tcp = ip_src - 12 + ihl;
        ip_payload = total - ihl;
    } else if (ip_version == 6) {
        if (ip_src < 8 || ip_src + 32 > len) return h;
        const uint8_t* ip = b + ip_src - 8;
        if ((ip[0] >> 4) != 6) return h;
        uint8_t next = ip[6];
        size_t at = ip_src + 32;
        size_t left = be16_at(ip + 4);
        for (int i = 0; i < 4 && (next == 0 || next == 43 || next == 60); ++i) {
            if (at + 2 > len) return h;
            const size_t ext = (static_cast<size_t>(b[at + 1]) + 1) * 8;
            if (ext > left) return h;
            next = b[at];
            at += ext;
            left -= ext;
        }
        if (next != kIpProtoTcp) return h;
        tcp = at;
        ip_payload = left;
    } else {
        return h;
    }
    if (tcp + 20 > len || ip_payload < 20) return h;
    const uint8_t* t = b + tcp;
    const size_t doff = static_cast<size_t>(t[12] >> 4) * 4;
    if (be16_at(t) != sport || be16_at(t + 2) != dport || doff < 20 || doff > ip_payload) return h;
    h.found = true;
    h.seq = be32_at(t + 4);
    h.flags = t[13];
    h.payload_len = static_cast<uint32_t>(ip_payload - doff);
    return h;
}

void TcpConnectionEnd::unit(int dir, uint32_t frame, uint32_t length, uint32_t have) {
    PendingTcpFrame& p = pending_[dir];
    p = PendingTcpFrame();
    if (length <= have) return;
    p.start_frame = frame;
    p.length = length;
    p.missing = length - have;
}

int TcpConnectionEnd::segment(int dir, uint32_t frame, const TcpSegmentHeader& h, TcpCut out[2]) {
    PendingTcpFrame& mine = pending_[dir];
    if (mine.start_frame == frame && !mine.end_known) {
        mine.end_seq = h.stream_end() + mine.missing;
        mine.end_known = true;
    }
    if (!stream_end_known_[dir] || static_cast<int32_t>(h.stream_end() - stream_end_[dir]) > 0) {
        stream_end_[dir] = h.stream_end();
        stream_end_known_[dir] = true;
    }
    int n = 0;
    const auto cut = [&](PendingTcpFrame& p, uint32_t missing) {
        if (missing && cuts_ < kMaxTcpCutsPerConnection) {
            out[n++] = TcpCut{p.start_frame, p.length, missing};
            cuts_++;
        }
        p = PendingTcpFrame();  // the direction has ended
    };
    if (h.flags & kTcpRst) {
        for (int d = 0; d < 2; ++d)
            cut(pending_[d], stream_end_known_[d] ? pending_[d].missing_at(stream_end_[d]) : 0);
    } else if (h.flags & kTcpFin) {
        cut(mine, mine.missing_at(h.stream_end()));
    }
    return n;
}

}  // namespace natt
