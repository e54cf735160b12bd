// natt: IKE and ESP over TCP (RFC 8229, updated by RFC 9329). The stream
// prefix "IKETCP" the initiator sends first, then frames: a 2-byte length
// that counts itself, and the message: a 4-byte zero non-ESP marker and IKE,
// or ESP. Pure C++: the dissector and the fuzz harnesses call it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ike_parse.h"

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

}  // namespace natt
