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
    // Word loads instead of memcmp/byte loops: these run several times per
    // frame (every hash lookup of a port pair). Same results as comparing
    // addr_len() bytes.
    uint32_t word32() const {
        uint32_t w;
        std::memcpy(&w, addr, 4);
        return w;
    }
    uint64_t word64(int i) const {
        uint64_t w;
        std::memcpy(&w, addr + 8 * i, 8);
        return w;
    }
    bool same_address(const Endpoint& o) const {
        if (family != o.family) return false;
        if (family == 4) return word32() == o.word32();
        if (family == 6) return word64(0) == o.word64(0) && word64(1) == o.word64(1);
        return true;
    }
    bool operator==(const Endpoint& o) const { return port == o.port && same_address(o); }
    bool operator!=(const Endpoint& o) const { return !(*this == o); }
    // Byte order of addr (as memcmp would), then port.
    bool operator<(const Endpoint& o) const {
        if (family != o.family) return family < o.family;
        for (int i = 0; i < 2; ++i) {
            const uint64_t x = __builtin_bswap64(word64(i)), y = __builtin_bswap64(o.word64(i));
            if (x != y) return x < y;
        }
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
    // Over the same bytes as operator== compares (family, addr_len() bytes,
    // port), a word at a time.
    size_t operator()(const Endpoint& e) const noexcept {
        uint64_t h = (static_cast<uint64_t>(e.family) << 16 | e.port) * 0x9e3779b97f4a7c15ull;
        if (e.family == 4) {
            h ^= e.word32();
        } else if (e.family == 6) {
            h ^= e.word64(0);
            h *= 0xff51afd7ed558ccdull;
            h ^= e.word64(1);
        }
        h *= 0xc4ceb9fe1a85ec53ull;
        return static_cast<size_t>(h ^ (h >> 29));
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
