// natt: what the dissector hands the model for one UDP datagram.
#pragma once

#include <cstdint>

#include "endpoint.h"
#include "ike_parse.h"
#include "limits.h"

namespace natt {

// What a UDP port pair has been seen to carry.
enum class PairRole : uint8_t {
    Unknown = 0,
    Ike,   // plain IKE (UDP 500 style)
    Natt,  // non-ESP-marker IKE, ESP-in-UDP, keepalives (UDP 4500 style)
};

// What carries a datagram: UDP, or an RFC 8229 TCP connection (each framed
// message of the stream is one datagram to the model).
enum class Transport : uint8_t { Udp = 0, Tcp = 1 };

// One datagram captured twice, not a new one: moments apart and, where both
// IPv4 IDs are known, the same ID (a resend is a new datagram).
inline bool same_datagram(int64_t t1, uint32_t id1, int64_t t2, uint32_t id2) {
    return abs_ns(t1 - t2) <= kDuplicateWindowNs && (id1 == 0 || id2 == 0 || id1 == id2);
}

// Which peer sent a packet, within its SA.
enum class Direction : uint8_t { Unknown = 0, FromInitiator = 1, FromResponder = 2 };

struct Datagram {
    uint32_t frame = 0;
    int64_t time_ns = 0;     // absolute capture time
    // Which side of a NAT it was seen on, within its SA (IkeSa::sides): set
    // by the model from the addresses, never by the dissector.
    uint8_t side = 0;
    Endpoint src, dst;
    DatagramKind kind = DatagramKind::None;
    PairRole pair_role = PairRole::Unknown;  // how the dissector reached it (port, conversation)
    Transport transport = Transport::Udp;    // Tcp: src/dst are the TCP connection's endpoints
    uint32_t udp_payload_len = 0;
    uint32_t ip_id = 0;  // IPv4 Identification of IKE and keepalives (0: not known)
    uint32_t esp_spi = 0;
    uint32_t esp_seq = 0;
    const IkeMessage* ike = nullptr;    // PlainIke / FloatedIke
    const uint8_t* ike_bytes = nullptr;  // the IKE message (after any marker)
    uint32_t ike_len = 0;                // captured bytes at ike_bytes
    uint64_t ike_digest = 0;             // digest_bytes() of them, once the model computed it (0: not yet)
};

}  // namespace natt
