// natt: a transport endpoint (IPv4/IPv6 address and UDP port), free of epan types
// so that the parsers and the SA model can be unit-tested without libwireshark.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace natt {

struct Endpoint {
    uint8_t family = 0;       // 4, 6, or 0 for "unknown"
    uint8_t addr[16] = {};    // IPv4 in the first 4 bytes
    uint16_t port = 0;

    static Endpoint v4(uint32_t host_order_addr, uint16_t port);
    static Endpoint from_bytes(uint8_t family, const uint8_t* bytes, uint16_t port);

    size_t addr_len() const { return family == 6 ? 16 : (family == 4 ? 4 : 0); }
    bool same_address(const Endpoint& o) const {
        return family == o.family && std::memcmp(addr, o.addr, addr_len()) == 0;
    }
    bool operator==(const Endpoint& o) const { return same_address(o) && port == o.port; }
    bool operator!=(const Endpoint& o) const { return !(*this == o); }
    bool operator<(const Endpoint& o) const {
        if (family != o.family) return family < o.family;
        int c = std::memcmp(addr, o.addr, 16);
        if (c != 0) return c < 0;
        return port < o.port;
    }
    // "192.0.2.1:500" or "[2001:db8::1]:500"
    std::string to_string() const;
    std::string address_string() const;
    // Writes to_string() into buf (always NUL-terminated); for callers that must
    // not hold std::string across Wireshark calls that may longjmp.
    void format(char* buf, size_t buflen) const;
};

struct EndpointHash {
    size_t operator()(const Endpoint& e) const noexcept {
        uint64_t h = 1469598103934665603ull;
        auto mix = [&h](uint8_t b) { h ^= b; h *= 1099511628211ull; };
        mix(e.family);
        for (size_t i = 0; i < e.addr_len(); ++i) mix(e.addr[i]);
        mix(static_cast<uint8_t>(e.port >> 8));
        mix(static_cast<uint8_t>(e.port));
        return static_cast<size_t>(h);
    }
};

// An unordered pair of endpoints: one UDP "port pair" in either direction.
struct PortPair {
    Endpoint a, b;  // a < b (or a == b)
    PortPair() = default;
    PortPair(const Endpoint& x, const Endpoint& y) : a(x < y ? x : y), b(x < y ? y : x) {}
    bool operator==(const PortPair& o) const { return a == o.a && b == o.b; }
};

struct PortPairHash {
    size_t operator()(const PortPair& p) const noexcept {
        EndpointHash h;
        return h(p.a) * 31u + h(p.b);
    }
};

// A directed flow: src -> dst.
struct Flow {
    Endpoint src, dst;
    bool operator==(const Flow& o) const { return src == o.src && dst == o.dst; }
};

struct FlowHash {
    size_t operator()(const Flow& f) const noexcept {
        EndpointHash h;
        return h(f.src) * 131u + h(f.dst);
    }
};

}  // namespace natt
