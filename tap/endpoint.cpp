#include "endpoint.h"

#include <arpa/inet.h>
#include <cstdio>

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

std::string Endpoint::address_string() const {
    char buf[INET6_ADDRSTRLEN] = "?";
    if (family == 4)
        inet_ntop(AF_INET, addr, buf, sizeof buf);
    else if (family == 6)
        inet_ntop(AF_INET6, addr, buf, sizeof buf);
    return buf;
}

namespace {
char* put_decimal(char* p, unsigned v) {
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}
}  // namespace

void Endpoint::format(char* out, size_t outlen) const {
    if (!out || outlen == 0) return;
    // IPv4 by hand: the SA table formats endpoints on every IKE frame, and
    // inet_ntop + snprintf cost ten times as much.
    if (family == 4 && outlen >= sizeof "255.255.255.255:65535") {
        char* p = out;
        for (int i = 0; i < 4; ++i) {
            p = put_decimal(p, addr[i]);
            *p++ = i < 3 ? '.' : ':';
        }
        *put_decimal(p, port) = '\0';
        return;
    }
    char buf[INET6_ADDRSTRLEN] = "?";
    if (family == 4)
        inet_ntop(AF_INET, addr, buf, sizeof buf);
    else if (family == 6)
        inet_ntop(AF_INET6, addr, buf, sizeof buf);
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
