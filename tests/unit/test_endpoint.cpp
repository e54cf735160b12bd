// Unit tests for tap/endpoint.{h,cpp}: construction, formatting (including
// truncation into small buffers), equality, ordering, hashing, and the
// unordered PortPair / directed Flow keys built on them.

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tap/endpoint.h"

using natt::Endpoint;
using natt::EndpointHash;
using natt::Flow;
using natt::FlowHash;
using natt::PortPair;
using natt::PortPairHash;

namespace {

const uint8_t kV6Doc1[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};  // 2001:db8::1
const uint8_t kV6Doc2[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};  // 2001:db8::2
const uint8_t kV6Max[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const uint8_t kV4Doc1[4] = {192, 0, 2, 1};

Endpoint v6(const uint8_t* a, uint16_t port) { return Endpoint::from_bytes(6, a, port); }

// ---------------------------------------------------------------------------
// Construction

void test_v4_construction(void**) {
    Endpoint e = Endpoint::v4(0xC0000201u, 500);  // 192.0.2.1
    assert_int_equal(e.family, 4);
    assert_int_equal(e.port, 500);
    assert_int_equal(e.addr_len(), 4);
    assert_memory_equal(e.addr, kV4Doc1, 4);
    // The rest of the address stays zero.
    for (size_t i = 4; i < 16; ++i) assert_int_equal(e.addr[i], 0);
    // from_bytes gives the same endpoint.
    Endpoint f = Endpoint::from_bytes(4, kV4Doc1, 500);
    assert_true(e == f);
    assert_memory_equal(e.addr, f.addr, 16);
    // Extremes.
    Endpoint z = Endpoint::v4(0, 0);
    assert_int_equal(z.family, 4);
    assert_string_equal(z.to_string().c_str(), "0.0.0.0:0");
    Endpoint m = Endpoint::v4(0xffffffffu, 65535);
    assert_string_equal(m.to_string().c_str(), "255.255.255.255:65535");
}

void test_from_bytes(void**) {
    Endpoint e = v6(kV6Doc1, 4500);
    assert_int_equal(e.family, 6);
    assert_int_equal(e.addr_len(), 16);
    assert_int_equal(e.port, 4500);
    assert_memory_equal(e.addr, kV6Doc1, 16);

    // from_bytes(4) reads only 4 bytes: a 4-byte buffer is enough, and
    // bytes after it never leak into the address.
    uint8_t buf[16];
    std::memset(buf, 0xee, sizeof buf);
    std::memcpy(buf, kV4Doc1, 4);
    Endpoint f = Endpoint::from_bytes(4, buf, 1);
    for (size_t i = 4; i < 16; ++i) assert_int_equal(f.addr[i], 0);
    assert_true(f == Endpoint::v4(0xC0000201u, 1));

    // Unknown families: family 0, no address copied (a null pointer is fine).
    for (uint8_t fam : {uint8_t(0), uint8_t(1), uint8_t(2), uint8_t(5), uint8_t(10), uint8_t(255)}) {
        Endpoint u = Endpoint::from_bytes(fam, nullptr, 7);
        assert_int_equal(u.family, 0);
        assert_int_equal(u.addr_len(), 0);
        assert_int_equal(u.port, 7);
        for (size_t i = 0; i < 16; ++i) assert_int_equal(u.addr[i], 0);
    }
    // Default.
    Endpoint d;
    assert_int_equal(d.family, 0);
    assert_int_equal(d.port, 0);
    assert_int_equal(d.addr_len(), 0);
}

// ---------------------------------------------------------------------------
// Formatting

void test_to_string(void**) {
    assert_string_equal(Endpoint::v4(0xC0000201u, 500).to_string().c_str(), "192.0.2.1:500");
    assert_string_equal(Endpoint::v4(0xC6336401u, 4500).to_string().c_str(), "198.51.100.1:4500");
    assert_string_equal(v6(kV6Doc1, 4500).to_string().c_str(), "[2001:db8::1]:4500");
    assert_string_equal(v6(kV6Doc1, 0).to_string().c_str(), "[2001:db8::1]:0");
    // The longest IPv6 text and port: 47 characters.
    assert_string_equal(v6(kV6Max, 65535).to_string().c_str(), "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    // IPv4-mapped and the unspecified address.
    const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    assert_string_equal(v6(mapped, 500).to_string().c_str(), "[::ffff:192.0.2.1]:500");
    const uint8_t any[16] = {};
    assert_string_equal(v6(any, 500).to_string().c_str(), "[::]:500");
    // Unknown family.
    assert_string_equal(Endpoint().to_string().c_str(), "?:0");
    assert_string_equal(Endpoint::from_bytes(9, kV4Doc1, 4500).to_string().c_str(), "?:4500");
}

// IPv4 is formatted by hand (no inet_ntop/snprintf): it must agree with them
// on every octet and port value, edges included.
void test_v4_format_matches_libc(void**) {
    uint32_t x = 0x12345678u;
    for (int i = 0; i < 20000; ++i) {
        x = x * 1664525u + 1013904223u;
        uint32_t a = x;
        uint16_t port = static_cast<uint16_t>(x >> 7);
        if (i < 4) a = (i & 1) ? 0xffffffffu : 0u, port = (i & 2) ? 65535 : 0;
        const Endpoint e = Endpoint::v4(a, port);
        char expect[64];
        std::snprintf(expect, sizeof expect, "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff,
                      static_cast<unsigned>(port));
        assert_string_equal(e.to_string().c_str(), expect);
    }
}

void test_address_string(void**) {
    assert_string_equal(Endpoint::v4(0xC0000201u, 500).address_string().c_str(), "192.0.2.1");
    assert_string_equal(v6(kV6Doc1, 4500).address_string().c_str(), "2001:db8::1");
    assert_string_equal(v6(kV6Max, 1).address_string().c_str(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_string_equal(Endpoint().address_string().c_str(), "?");
}

void test_format_matches_to_string(void**) {
    const Endpoint eps[] = {Endpoint::v4(0xC0000201u, 500), v6(kV6Doc1, 4500), v6(kV6Max, 65535), Endpoint()};
    for (const Endpoint& e : eps) {
        char buf[128];
        std::memset(buf, 'x', sizeof buf);
        e.format(buf, sizeof buf);
        assert_string_equal(buf, e.to_string().c_str());
    }
}

// format() into a small buffer: a NUL-terminated prefix, nothing written past buflen.
void check_truncated(const Endpoint& e, const char* full) {
    const size_t flen = std::strlen(full);
    for (size_t n = 1; n <= flen + 2; ++n) {
        std::vector<char> buf(n + 8, '#');
        e.format(buf.data(), n);
        const size_t got = std::strlen(buf.data());
        assert_true(got < n);
        assert_int_equal(got, std::min(flen, n - 1));
        assert_memory_equal(buf.data(), full, got);
        for (size_t i = n; i < buf.size(); ++i)
            if (buf[i] != '#') fail_msg("format(%zu) wrote past the buffer at %zu", n, i);
    }
}

void test_format_truncation(void**) {
    check_truncated(Endpoint::v4(0xC0000201u, 500), "192.0.2.1:500");
    check_truncated(v6(kV6Doc1, 4500), "[2001:db8::1]:4500");
    check_truncated(v6(kV6Max, 65535), "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    check_truncated(Endpoint(), "?:0");

    char small[8];
    Endpoint::v4(0xC0000201u, 500).format(small, sizeof small);
    assert_string_equal(small, "192.0.2");
    char one[1] = {'z'};
    Endpoint::v4(0xC0000201u, 500).format(one, 1);
    assert_int_equal(one[0], '\0');
    // Zero length and a null buffer: nothing written, no crash.
    char untouched[4] = {'a', 'b', 'c', 'd'};
    Endpoint::v4(0xC0000201u, 500).format(untouched, 0);
    assert_int_equal(untouched[0], 'a');
    Endpoint::v4(0xC0000201u, 500).format(nullptr, 0);
    Endpoint::v4(0xC0000201u, 500).format(nullptr, 64);
}

// ---------------------------------------------------------------------------
// Equality and ordering

void test_equality(void**) {
    const Endpoint a = Endpoint::v4(0xC0000201u, 500);
    assert_true(a == Endpoint::v4(0xC0000201u, 500));
    assert_false(a != Endpoint::v4(0xC0000201u, 500));
    assert_true(a != Endpoint::v4(0xC0000201u, 4500));  // port
    assert_true(a != Endpoint::v4(0xC0000202u, 500));   // address
    assert_true(a.same_address(Endpoint::v4(0xC0000201u, 4500)));
    assert_false(a.same_address(Endpoint::v4(0xC0000202u, 500)));

    // Family matters even when the bytes agree: 192.0.2.1 vs 192.0.2.1::.
    uint8_t v6bytes[16] = {192, 0, 2, 1};
    const Endpoint b = v6(v6bytes, 500);
    assert_false(a == b);
    assert_false(a.same_address(b));
    assert_true(b == v6(v6bytes, 500));
    assert_true(v6(kV6Doc1, 4500) != v6(kV6Doc2, 4500));
    // The last byte of an IPv6 address counts.
    assert_false(v6(kV6Doc1, 1).same_address(v6(kV6Doc2, 1)));

    // Unknown-family endpoints compare by port only.
    assert_true(Endpoint() == Endpoint::from_bytes(7, nullptr, 0));
    assert_true(Endpoint() != Endpoint::from_bytes(0, nullptr, 1));
    assert_false(Endpoint() == Endpoint::v4(0, 0));  // 0.0.0.0 is an address
}

void test_ordering(void**) {
    const Endpoint unknown;
    const Endpoint a4 = Endpoint::v4(0xC0000201u, 500);
    const Endpoint a4p = Endpoint::v4(0xC0000201u, 4500);
    const Endpoint b4 = Endpoint::v4(0xC0000202u, 1);
    const Endpoint hi4 = Endpoint::v4(0xffffffffu, 0);
    const Endpoint a6 = v6(kV6Doc1, 1);
    const Endpoint b6 = v6(kV6Doc2, 0);
    // Family first (0 < 4 < 6), then address bytes, then port.
    assert_true(unknown < a4);
    assert_true(a4 < a4p);
    assert_true(a4p < b4);
    assert_true(b4 < hi4);
    assert_true(hi4 < a6);  // any IPv4 before any IPv6
    assert_true(a6 < b6);
    // Irreflexive and asymmetric; equivalence agrees with ==.
    const Endpoint all[] = {unknown, a4, a4p, b4, hi4, a6, b6};
    for (const Endpoint& x : all) {
        assert_false(x < x);
        for (const Endpoint& y : all) {
            assert_false(x < y && y < x);
            const bool equiv = !(x < y) && !(y < x);
            assert_int_equal(equiv, x == y);
        }
    }
    // Copies are equivalent.
    Endpoint c = a6;
    assert_false(c < a6);
    assert_false(a6 < c);
    // Sorting gives the order above, and a std::set keeps one of each.
    std::vector<Endpoint> v = {b6, a4p, hi4, unknown, a6, b4, a4, a4};
    std::sort(v.begin(), v.end());
    const Endpoint want[] = {unknown, a4, a4, a4p, b4, hi4, a6, b6};
    for (size_t i = 0; i < v.size(); ++i) assert_true(v[i] == want[i]);
    std::set<Endpoint> s(v.begin(), v.end());
    assert_int_equal(s.size(), 7);
}

// ---------------------------------------------------------------------------
// Hashes

void test_endpoint_hash(void**) {
    EndpointHash h;
    // Equal values, built separately, hash the same.
    assert_int_equal(h(Endpoint::v4(0xC0000201u, 500)), h(Endpoint::from_bytes(4, kV4Doc1, 500)));
    uint8_t copy[16];
    std::memcpy(copy, kV6Doc1, 16);
    assert_int_equal(h(v6(kV6Doc1, 4500)), h(v6(copy, 4500)));
    assert_int_equal(h(Endpoint()), h(Endpoint::from_bytes(3, nullptr, 0)));
    // Known inputs that differ in one field hash differently (FNV-1a over
    // family, address, port: these particular ones do not collide).
    assert_true(h(Endpoint::v4(0xC0000201u, 500)) != h(Endpoint::v4(0xC0000201u, 4500)));
    assert_true(h(Endpoint::v4(0xC0000201u, 500)) != h(Endpoint::v4(0xC0000202u, 500)));
    assert_true(h(v6(kV6Doc1, 500)) != h(v6(kV6Doc2, 500)));
    uint8_t v6bytes[16] = {192, 0, 2, 1};
    assert_true(h(Endpoint::v4(0xC0000201u, 500)) != h(v6(v6bytes, 500)));
    // The byte order of the port matters.
    assert_true(h(Endpoint::v4(1, 0x0102)) != h(Endpoint::v4(1, 0x0201)));

    // Usable as an unordered_set key: equal endpoints collapse.
    std::unordered_set<Endpoint, EndpointHash> set;
    for (int i = 0; i < 3; ++i) {
        set.insert(Endpoint::v4(0xC0000201u, 500));
        set.insert(v6(kV6Doc1, 4500));
        set.insert(Endpoint::v4(0xC0000201u, static_cast<uint16_t>(4500 + i)));
    }
    assert_int_equal(set.size(), 5);
    assert_int_equal(set.count(Endpoint::from_bytes(4, kV4Doc1, 500)), 1);
}

// ---------------------------------------------------------------------------
// PortPair and Flow

void test_port_pair_unordered(void**) {
    const Endpoint client = Endpoint::v4(0xC0000201u, 4500);
    const Endpoint server = Endpoint::v4(0xCB007105u, 4500);  // 203.0.113.5
    const PortPair p1(client, server);
    const PortPair p2(server, client);
    assert_true(p1 == p2);
    assert_true(p1.a == p2.a);
    assert_true(p1.b == p2.b);
    // a is the smaller one.
    assert_true(p1.a == client);
    assert_true(p1.b == server);
    assert_false(p1.b < p1.a);
    PortPairHash ph;
    assert_int_equal(ph(p1), ph(p2));

    // Same address, different ports: still ordered by port.
    const PortPair q(Endpoint::v4(0xC0000201u, 4500), Endpoint::v4(0xC0000201u, 500));
    assert_int_equal(q.a.port, 500);
    assert_int_equal(q.b.port, 4500);
    // Mixed families: IPv4 first.
    const PortPair m(v6(kV6Doc1, 500), client);
    assert_int_equal(m.a.family, 4);
    assert_int_equal(m.b.family, 6);
    assert_true(m == PortPair(client, v6(kV6Doc1, 500)));
    // Both ends equal.
    const PortPair self(client, client);
    assert_true(self.a == client);
    assert_true(self.b == client);
    // Different pairs.
    assert_false(p1 == q);
    assert_false(p1 == PortPair(client, Endpoint::v4(0xCB007105u, 4501)));
    // Default.
    const PortPair d;
    assert_true(d == PortPair(Endpoint(), Endpoint()));

    std::unordered_map<PortPair, int, PortPairHash> map;
    map[p1] = 1;
    map[p2] += 1;
    map[q] = 7;
    assert_int_equal(map.size(), 2);
    assert_int_equal(map[PortPair(server, client)], 2);
}

void test_flow_directed(void**) {
    const Endpoint a = Endpoint::v4(0xC0000201u, 4500);
    const Endpoint b = v6(kV6Doc1, 4500);
    const Flow ab{a, b};
    const Flow ba{b, a};
    assert_true((ab == Flow{a, b}));
    assert_false(ab == ba);
    FlowHash fh;
    assert_int_equal(fh(ab), fh(Flow{Endpoint::v4(0xC0000201u, 4500), v6(kV6Doc1, 4500)}));
    assert_true(fh(ab) != fh(ba));
    std::unordered_set<Flow, FlowHash> flows{ab, ba, Flow{a, b}};
    assert_int_equal(flows.size(), 2);
    // Both directions of a flow give one port pair.
    assert_true(PortPair(ab.src, ab.dst) == PortPair(ba.src, ba.dst));
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_construction),
        cmocka_unit_test(test_from_bytes),
        cmocka_unit_test(test_to_string),
        cmocka_unit_test(test_v4_format_matches_libc),
        cmocka_unit_test(test_address_string),
        cmocka_unit_test(test_format_matches_to_string),
        cmocka_unit_test(test_format_truncation),
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_endpoint_hash),
        cmocka_unit_test(test_port_pair_unordered),
        cmocka_unit_test(test_flow_directed),
    };
    return cmocka_run_group_tests_name("endpoint", tests, nullptr, nullptr);
}
