// natt: IKE and ESP over TCP (RFC 8229, updated by RFC 9329). The stream
// prefix "IKETCP" the initiator sends first, then frames: a 2-byte length
// that counts itself, and the message: a 4-byte zero non-ESP marker and IKE,
// or ESP. Pure C++: the dissector and the fuzz harnesses call it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ike_parse.h"
#include "limits.h"

namespace natt {

constexpr size_t kIkeTcpPrefixLen = 6;        // "IKETCP"
constexpr size_t kTcpLengthFieldLen = 2;      // the frame's length field, counted in the length
constexpr size_t kMaxTcpFrameLen = 65535;     // the length field's range: no message is longer

// What starts at a point of the stream.
enum class TcpUnit : uint8_t {
    NeedMore,   // too few bytes to tell: `length` is the least the unit needs
    Prefix,     // "IKETCP" (only at the start of the initiator's stream)
    Frame,      // a length-prefixed frame of `length` bytes (length field included)
    BadLength,  // a length field of 0 or 1: the stream cannot be framed from here on
};

struct TcpFraming {
    TcpUnit unit = TcpUnit::NeedMore;
    uint32_t length = 0;
};

bool starts_with_iketcp(const uint8_t* p, size_t len);

// The unit at p (len bytes available). at_stream_start: p is the first byte
// the connection's initiator sent.
TcpFraming next_tcp_unit(const uint8_t* p, size_t len, bool at_stream_start);

// What one frame carries, from its body (the bytes after the length field):
// FloatedIke (marker + IKE), EspInUdp (ESP: the kind natt uses for
// encapsulated ESP on UDP and TCP alike), Keepalive (the byte 0xFF),
// Malformed (an empty body: Malformation::Empty, or garbage).
inline Classification classify_tcp_frame(const uint8_t* body, size_t len) {
    return classify_natt_datagram(body, len);
}

// The first bytes of a connection's initiator stream that natt takes as RFC
// 8229 without having seen the stream's start in the capture: a whole frame
// whose body is the non-ESP marker and an IKE header that passes the strict
// check, its length equal to the frame's. Mid-stream ESP is never guessed.
bool looks_like_tcp_ike_frame(const uint8_t* p, size_t len);

// The heuristic for any TCP port: "IKETCP" at the start of the initiator's
// stream; when more bytes follow in the same segment, they must start a
// frame that is IKE (strict check) or need more bytes.
bool looks_like_iketcp_stream(const uint8_t* p, size_t len);

// ---- The end of a connection. A FIN or RST without payload reaches no TCP
// subdissector: the dissector reads the few header fields it needs from the
// frame's bytes.
constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpRst = 0x04;

struct TcpSegmentHeader {
    bool found = false;
    uint8_t flags = 0;         // FIN, SYN, RST, ... (the low byte of the flags)
    uint32_t seq = 0;          // as sent (not relative)
    uint32_t payload_len = 0;  // from the IP lengths
    // Where the sender's stream stands after this segment: a FIN's sequence
    // number, or the next byte to come.
    uint32_t stream_end() const { return seq + payload_len; }
};

// The TCP header of the packet whose IP source address is at b + ip_src
// (ip_version 4 or 6; IPv6 extension headers hop-by-hop, routing and
// destination options are walked), found only when its ports are sport and
// dport and the IP and TCP headers are whole in b.
TcpSegmentHeader tcp_header_after(const uint8_t* b, size_t len, size_t ip_src, int ip_version, uint16_t sport,
                                  uint16_t dport);

// A direction of an RFC 8229 stream whose last frame has started but not
// ended: its length field said more than has arrived.
struct PendingTcpFrame {
    uint32_t start_frame = 0;  // the capture frame where it starts (0: nothing pending)
    uint32_t length = 0;       // its length field
    uint32_t missing = 0;      // bytes still to come after start_frame's segment
    uint32_t end_seq = 0;      // the sequence number just past it, once start_frame's header is read
    bool end_known = false;

    // Bytes of it that never arrived when the direction's stream ends at
    // stream_end (0: none, or the end is not known).
    uint32_t missing_at(uint32_t stream_end) const {
        if (!start_frame || !end_known) return 0;
        const int32_t d = static_cast<int32_t>(end_seq - stream_end);  // sequence numbers wrap
        return d > 0 ? static_cast<uint32_t>(d) : 0;
    }
};

// A frame a FIN or RST cut short.
struct TcpCut {
    uint32_t start_frame;  // the capture frame where it starts
    uint32_t length;       // its length field
    uint32_t missing;      // bytes that never arrived
};

// How the two directions of an RFC 8229 connection stand, to tell a FIN or
// RST mid-frame; fed in frame order (the first pass). Directions 0 and 1.
class TcpConnectionEnd {
public:
    // tcp_dissect_pdus met a unit of `length` bytes, `have` of them in this
    // frame's segment (more: the direction's last frame is incomplete;
    // otherwise it has none so far).
    void unit(int dir, uint32_t frame, uint32_t length, uint32_t have);
    // The frame's TCP header, sent in direction dir. Returns how many frames
    // a FIN (its own direction's) or RST (either direction's) cut short,
    // written to out; at most kMaxTcpCutsPerConnection in all.
    int segment(int dir, uint32_t frame, const TcpSegmentHeader& h, TcpCut out[2]);

private:
    PendingTcpFrame pending_[2];
    uint32_t stream_end_[2] = {0, 0};
    bool stream_end_known_[2] = {false, false};
    uint8_t cuts_ = 0;
};

}  // namespace natt
