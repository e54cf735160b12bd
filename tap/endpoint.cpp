#include "endpoint.h"

#include <arpa/inet.h>
#include <cstdio>

#include "text.h"

namespace natt {

Endpoint Endpoint::v4(uint32_t a, uint16_t port) {
    Endpoint e;
    e.family = 4;
    e.addr[0] = static_cast<uint8_t>(a >> 24);
    e.addr[1] = static_cast<uint8_t>(a >> 16);
    e.addr[2] = static_cast<uint8_t>(a >> 8);
    e.addr[3] = static_cast<uint8_t>(a);
    e.port = port;
    return e;
}

Endpoint Endpoint::from_bytes(uint8_t family, const uint8_t* bytes, uint16_t port) {
    Endpoint e;
    e.family = (family == 4 || family == 6) ? family : 0;
    if (e.family) std::memcpy(e.addr, bytes, e.addr_len());
    e.port = port;
    return e;
}

namespace {
// The address as inet_ntop writes it into buf ("?" for no address).
void address_text(const Endpoint& e, char (&buf)[INET6_ADDRSTRLEN]) {
    buf[0] = '?';
    buf[1] = '\0';
    if (e.family == 4)
        inet_ntop(AF_INET, e.addr, buf, sizeof buf);
    else if (e.family == 6)
        inet_ntop(AF_INET6, e.addr, buf, sizeof buf);
}
}  // namespace

std::string Endpoint::address_string() const {
    char buf[INET6_ADDRSTRLEN];
    address_text(*this, buf);
    return buf;
}

void Endpoint::format(char* out, size_t outlen) const {
    if (!out || outlen == 0) return;
    // IPv4 by hand: the SA table formats endpoints on every IKE frame.
    if (family == 4 && outlen >= sizeof "255.255.255.255:65535") {
        char* p = out;
        for (int i = 0; i < 4; ++i) {
            p = put_decimal(p, addr[i]);
            *p++ = i < 3 ? '.' : ':';
        }
        *put_decimal(p, port) = '\0';
        return;
    }
    char buf[INET6_ADDRSTRLEN];
    address_text(*this, buf);
    if (family == 6)
        std::snprintf(out, outlen, "[%s]:%u", buf, static_cast<unsigned>(port));
    else
        std::snprintf(out, outlen, "%s:%u", buf, static_cast<unsigned>(port));
}

std::string Endpoint::to_string() const {
    char buf[64];
    format(buf, sizeof buf);
    return buf;
}

}  // namespace natt
