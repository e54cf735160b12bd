// natt: the per-file NAT-T state (pure C++, no epan types).
//
// The dissector feeds every datagram it claims, in frame order on the first
// pass, and caches the returned FrameAnalysis per frame; later passes only
// display the cached result (the packet-tcp.c pattern).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "../plugin/endpoint.h"
#include "../plugin/ike_parse.h"

namespace natt {

// What a UDP port pair has been seen to carry.
enum class PairRole : uint8_t {
    Unknown = 0,
    Ike,   // plain IKE (UDP 500 style)
    Natt,  // non-ESP-marker IKE, ESP-in-UDP, keepalives (UDP 4500 style)
};

struct Datagram {
    uint32_t frame = 0;
    int64_t time_ns = 0;  // absolute capture time
    Endpoint src, dst;
    DatagramKind kind = DatagramKind::None;
    uint32_t udp_payload_len = 0;
    uint32_t esp_spi = 0;
    const IkeMessage* ike = nullptr;  // for PlainIke / FloatedIke
};

// Everything natt shows for one frame. Plain data: cached per frame in
// Wireshark's file-scope memory and read on every later pass.
struct FrameAnalysis {
    DatagramKind kind = DatagramKind::None;
    // Keepalives: the previous keepalive in the same direction of the same
    // mapping (0: none) and the time since it.
    uint32_t keepalive_prev_frame = 0;
    int64_t keepalive_interval_ns = 0;
};

class Analyzer {
public:
    FrameAnalysis observe(const Datagram& d);

    PairRole role(const Endpoint& a, const Endpoint& b) const;
    // Remember what a port pair carries; a NAT-T role is never downgraded.
    void learn(const Endpoint& a, const Endpoint& b, PairRole r);

    size_t pair_count() const { return pairs_.size(); }
    void clear();

private:
    struct KeepaliveSeries {
        uint32_t last_frame = 0;
        int64_t last_time_ns = 0;
    };
    std::unordered_map<PortPair, PairRole, PortPairHash> pairs_;
    std::unordered_map<Flow, KeepaliveSeries, FlowHash> keepalives_;
};

}  // namespace natt
