// Unit tests for tap/nat_detection: NAT-D hashes against real captures,
// SHA2 / IPv6 vectors computed independently (python3 hashlib, cross-checked
// with openssl dgst), the NAT-T vendor ID table and method agreement.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "tap/nat_analysis.h"
#include "tap/nat_detection.h"
#include "gcrypt_init.h"

using namespace natt;

namespace {

std::vector<uint8_t> hex(const char* s) {
    std::vector<uint8_t> out;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; s[i] && s[i + 1]; i += 2) {
        const int hi = nib(s[i]), lo = nib(s[i + 1]);
        if (hi < 0 || lo < 0) break;
        out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    return out;
}

Endpoint ep4(const char* dotted, uint16_t port) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (std::sscanf(dotted, "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return Endpoint{};
    return Endpoint::v4((a << 24) | (b << 16) | (c << 8) | d, port);
}

Endpoint ep6(const char* hex16, uint16_t port) {
    const std::vector<uint8_t> b = hex(hex16);
    return Endpoint::from_bytes(6, b.data(), port);
}

// natd_hash(alg, ...) == expected hex, with the length natd_hash_len(alg).
bool natd_is(uint8_t alg, uint64_t icky, uint64_t rcky, const Endpoint& ep, const char* expected) {
    const std::vector<uint8_t> want = hex(expected);
    uint8_t out[kMaxNatDHashLen + 4];
    std::memset(out, 0xAA, sizeof out);
    const size_t n = natd_hash(alg, icky, rcky, ep, out);
    if (n != want.size() || n != natd_hash_len(alg)) return false;
    for (size_t i = n; i < sizeof out; ++i)
        if (out[i] != 0xAA) return false;  // wrote past the hash
    return std::memcmp(out, want.data(), n) == 0;
}

VendorIdInfo classify_hex(const char* h) {
    const std::vector<uint8_t> b = hex(h);
    return classify_vendor_id(b.data(), b.size());
}

// ---------------------------------------------------------------------------
// NAT-D hash lengths and unsupported inputs

void test_hash_lengths(void**) {
    assert_int_equal(natd_hash_len(kHashMd5), 16);
    assert_int_equal(natd_hash_len(kHashSha1), 20);
    assert_int_equal(natd_hash_len(kHashSha2_256), 32);
    assert_int_equal(natd_hash_len(kHashSha2_384), 48);
    assert_int_equal(natd_hash_len(kHashSha2_512), 64);
    assert_int_equal(natd_hash_len(kHashSha2_512), kMaxNatDHashLen);
    assert_int_equal(natd_hash_len(kHashNone), 0);
    assert_int_equal(natd_hash_len(kHashTiger), 0);
    assert_int_equal(natd_hash_len(7), 0);
    assert_int_equal(natd_hash_len(255), 0);

    // natd_hash writes exactly natd_hash_len bytes for every supported id.
    const Endpoint ep = ep4("192.0.2.1", 500);
    for (uint8_t alg : {kHashMd5, kHashSha1, kHashSha2_256, kHashSha2_384, kHashSha2_512}) {
        uint8_t out[kMaxNatDHashLen + 8];
        std::memset(out, 0x5C, sizeof out);
        const size_t n = natd_hash(alg, 1, 2, ep, out);
        assert_int_equal(n, natd_hash_len(alg));
        for (size_t i = n; i < sizeof out; ++i) assert_int_equal(out[i], 0x5C);
    }
}

void test_unsupported(void**) {
    const Endpoint ep = ep4("192.0.2.1", 500);
    uint8_t out[kMaxNatDHashLen];
    for (uint8_t alg : {uint8_t{kHashNone}, uint8_t{kHashTiger}, uint8_t{7}, uint8_t{65}, uint8_t{255}}) {
        std::memset(out, 0x11, sizeof out);
        assert_int_equal(natd_hash(alg, 0x0102030405060708ull, 0x1112131415161718ull, ep, out), 0);
        for (uint8_t b : out) assert_int_equal(b, 0x11);  // untouched
    }
    // An endpoint without an address family hashes to nothing.
    Endpoint none;
    none.port = 500;
    std::memset(out, 0x22, sizeof out);
    assert_int_equal(natd_hash(kHashSha1, 1, 2, none, out), 0);
    for (uint8_t b : out) assert_int_equal(b, 0x22);
    const uint8_t junk[16] = {1, 2, 3, 4};
    assert_int_equal(Endpoint::from_bytes(5, junk, 500).family, 0);
    assert_int_equal(natd_hash(kHashMd5, 1, 2, Endpoint::from_bytes(5, junk, 500), out), 0);
    // No output buffer.
    assert_int_equal(natd_hash(kHashSha1, 1, 2, ep, nullptr), 0);
}

// ---------------------------------------------------------------------------
// IKEv1 NAT-D from real captures (RFC 3947 §3.2): the first NAT-D is the
// receiver's (destination) address, the rest the sender's own.

void test_v1_sha1_zeekspicy_ipsec_cap(void**) {
    // zeekspicy_ipsec.cap, hash 2 (SHA-1), no NAT. MM3 frame 5
    // 192.168.140.205:500 -> 192.168.140.200:500, MM4 frame 6 the reverse.
    const uint64_t i = 0xc6d1459285150c7eull, r = 0x6e961f01bf179b35ull;
    const Endpoint ini = ep4("192.168.140.205", 500), resp = ep4("192.168.140.200", 500);
    assert_true(natd_is(kHashSha1, i, r, resp, "7048b170a54fa1c16582dce008d059de9295d7d3"));  // MM3 #1
    assert_true(natd_is(kHashSha1, i, r, ini, "c9e46dddfcc29d4ef72ba4da66d4720687e469e5"));   // MM3 #2
    assert_true(natd_is(kHashSha1, i, r, ini, "c9e46dddfcc29d4ef72ba4da66d4720687e469e5"));   // MM4 #1
    assert_true(natd_is(kHashSha1, i, r, resp, "7048b170a54fa1c16582dce008d059de9295d7d3"));  // MM4 #2
    // The wrong cookie order or a zero responder cookie does not match.
    assert_false(natd_is(kHashSha1, r, i, resp, "7048b170a54fa1c16582dce008d059de9295d7d3"));
    assert_false(natd_is(kHashSha1, i, 0, resp, "7048b170a54fa1c16582dce008d059de9295d7d3"));
    // Nor the wrong port, nor MD5 over the same input.
    assert_false(natd_is(kHashSha1, i, r, ep4("192.168.140.200", 4500), "7048b170a54fa1c16582dce008d059de9295d7d3"));
    assert_false(natd_is(kHashMd5, i, r, resp, "7048b170a54fa1c16582dce008d059de"));
}

void test_v1_sha1_zeekspicy_main_and_aggressive(void**) {
    // zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap: MM3 frame 3
    // 192.168.12.1 -> 192.168.12.2, MM4 frame 4 with the two hashes swapped.
    {
        const uint64_t i = 0xe47a591fd057587full, r = 0xa00b8ef0902bb8ecull;
        assert_true(natd_is(kHashSha1, i, r, ep4("192.168.12.2", 500), "1574d64c0165bad16a023f038d45a07498d8d051"));
        assert_true(natd_is(kHashSha1, i, r, ep4("192.168.12.1", 500), "febf462f1cd75805a7baa28747e769d674f85600"));
    }
    // zeekspicy_ipsec-ikev1-isakmp-aggressive-mode.pcap: AM2 frame 2
    // 192.168.12.2 -> 192.168.12.1 (the responder sends NAT-D in AM2).
    {
        const uint64_t i = 0xe47a591f78c99d7full, r = 0xa00b8ef0ea9ff883ull;
        assert_true(natd_is(kHashSha1, i, r, ep4("192.168.12.1", 500), "f41cca0e525dcb00902a095074bb68ae9ae0b536"));
        assert_true(natd_is(kHashSha1, i, r, ep4("192.168.12.2", 500), "453d0b014f3f3520ac1053b487072845f253a0ae"));
    }
}

void test_v1_md5_captures(void**) {
    // tcpdump_isakmp4500.pcap, hash 1 (MD5): MM3 frame 5 192.1.2.254 ->
    // 192.1.2.23; its second (source) hash is deliberately fake to force
    // NAT-T. MM4 frame 6 matches both.
    {
        const uint64_t i = 0x9e89f2388f90bc1eull, r = 0x0a74357ce3d1a4bfull;
        const Endpoint ini = ep4("192.1.2.254", 500), resp = ep4("192.1.2.23", 500);
        assert_true(natd_is(kHashMd5, i, r, resp, "6efe12f04af90dfbcfb15d71b841bb9e"));   // MM3 #1
        assert_false(natd_is(kHashMd5, i, r, ini, "44f517e03fb381f80f842d1538ccffac"));   // MM3 #2: fake
        assert_true(natd_is(kHashMd5, i, r, ini, "399304d50fbd4ca3db1e197af7c11e6f"));    // MM4 #1
        assert_true(natd_is(kHashMd5, i, r, resp, "6efe12f04af90dfbcfb15d71b841bb9e"));   // MM4 #2
    }
    // derived_openswan_v1rwnat_MM_QM_natt.pcap (MD5), seen at the responder
    // 192.168.0.2 with the initiator behind a NAT as 93.184.216.34:55044.
    {
        const uint64_t i = 0x8001020304050607ull, r = 0x640a06435c7c4b31ull;
        const Endpoint seen_ini = ep4("93.184.216.34", 55044), resp = ep4("192.168.0.2", 500);
        assert_true(natd_is(kHashMd5, i, r, resp, "aa5b8bc1f9fc616bed1ca429491500ca"));       // MM3 #1
        assert_false(natd_is(kHashMd5, i, r, seen_ini, "4c7663df1a9c8855cff61737059d5050"));  // MM3 #2: NAT
        assert_true(natd_is(kHashMd5, i, r, seen_ini, "1c611296eb162d56d498f1a01bb04390"));   // MM4 #1
        assert_true(natd_is(kHashMd5, i, r, resp, "aa5b8bc1f9fc616bed1ca429491500ca"));       // MM4 #2
    }
}

// ---------------------------------------------------------------------------
// IKEv2 NAT_DETECTION_SOURCE_IP / _DESTINATION_IP (RFC 7296 §2.23): SHA-1
// over SPIi | SPIr | IP | Port, SPIr zero in the IKE_SA_INIT request.

void test_v2_cisco_joy(void**) {
    // cisco-joy_ikev2.pcap: 192.168.1.14 (initiator) <-> 192.168.1.2.
    const uint64_t i = 0x81f24c0acd8fa55cull, r = 0x192383172724c706ull;
    const Endpoint ini = ep4("192.168.1.14", 500), resp = ep4("192.168.1.2", 500);
    assert_true(natd_is(kHashSha1, i, 0, ini, "1d52677b2584e088319babfbdbaf8a20c45f6b9b"));   // req SOURCE
    assert_true(natd_is(kHashSha1, i, 0, resp, "e8606743526bfbac95c6af4621d87fa29534b0b1"));  // req DESTINATION
    assert_true(natd_is(kHashSha1, i, r, resp, "3af806bcb2cdceed0b56b1f7dcb271cf3d138307"));  // resp SOURCE
    assert_true(natd_is(kHashSha1, i, r, ini, "b781d918e5bed465e94c044711e4d1b354ba3e02"));   // resp DESTINATION
    // The response hashes the real SPIr, not zero.
    assert_false(natd_is(kHashSha1, i, 0, resp, "3af806bcb2cdceed0b56b1f7dcb271cf3d138307"));
}

void test_v2_ndpi_esp(void**) {
    // ndpi_esp.pcapng: 10.2.3.2 (initiator) <-> 10.3.4.4.
    const uint64_t i = 0x05ac0f4d122013f4ull, r = 0x5f46ee70bc4c5d0dull;
    const Endpoint ini = ep4("10.2.3.2", 500), resp = ep4("10.3.4.4", 500);
    assert_true(natd_is(kHashSha1, i, 0, ini, "4fbeaa57ffae70cc08776899742185b6c2bbb55d"));
    assert_true(natd_is(kHashSha1, i, 0, resp, "b16f1538b2b4d28d6f1aa6e8f79d9e92ca33d409"));
    assert_true(natd_is(kHashSha1, i, r, resp, "cf73f6965980a0fef59cdd6a6944b18aca914785"));
    assert_true(natd_is(kHashSha1, i, r, ini, "b5bf51e2925a867c96f0013bda4ce526d85f36a6"));
}

void test_v2_client_behind_nat(void**) {
    // zeekspicy_ipsec_client.pcap, captured at the client 192.168.0.10
    // behind a NAT, talking to 144.76.154.114.
    const uint64_t i = 0x238671c80375a0fbull, r = 0x73d16a42f60ef7f0ull;
    const Endpoint client = ep4("192.168.0.10", 500), server = ep4("144.76.154.114", 500);
    assert_true(natd_is(kHashSha1, i, 0, client, "ed0f45d615ee1cc7f636df4ee075fd9d18791bb1"));
    assert_true(natd_is(kHashSha1, i, 0, server, "52749dfdd6970df361f69d01015724d708dc4544"));
    assert_true(natd_is(kHashSha1, i, r, server, "3d40f7d9409d85f141669ecab3f340d0147945a4"));
    // The responder hashed the NAT's public address: no match for the client.
    assert_false(natd_is(kHashSha1, i, r, client, "6d34e239650ccb8f4d5984c4ebf69116e2c812db"));
    assert_true(natd_is(kHashSha1, i, r, client, "c81737536a8ce8422b6254955e8e5e93ee7df2dc"));
}

// ---------------------------------------------------------------------------
// SHA2 and IPv6, computed with python3 hashlib and openssl dgst.

void test_sha2_vectors(void**) {
    // Input c6d1459285150c7e 6e961f01bf179b35 c0a88cc8 01f4.
    const uint64_t i = 0xc6d1459285150c7eull, r = 0x6e961f01bf179b35ull;
    const Endpoint ep = ep4("192.168.140.200", 500);
    assert_true(natd_is(kHashSha2_256, i, r, ep, "2fb70071c4c76298f8657e9ca4eaeb70b3c26a13bc841be7c4c5847f45e4759d"));
    assert_true(natd_is(kHashSha2_384, i, r, ep,
                        "9eaf47e85f56d399a5e62401cff7e32c14f7a870cf055ec8c6380ac1c1e50548"
                        "d36a6051180ca07bae41f8eb033865cd"));
    assert_true(natd_is(kHashSha2_512, i, r, ep,
                        "6a9488e19918111fe9d60b7a5b2afdff64f714153bdd24499c9bf12d307c12a2"
                        "81d7d4127c8e2ccce430e1b20ed5e40a5145fdcaa7a5c7314681bf0c1a3b2520"));
}

void test_ipv6_vectors(void**) {
    // Input 0123456789abcdef fedcba9876543210 20010db8000000000000000000000001 1194
    // ([2001:db8::1]:4500).
    const uint64_t i = 0x0123456789abcdefull, r = 0xfedcba9876543210ull;
    const Endpoint ep = ep6("20010db8000000000000000000000001", 4500);
    assert_int_equal(ep.family, 6);
    assert_true(natd_is(kHashMd5, i, r, ep, "920e06206d1f519891c5608e73bfcdc3"));
    assert_true(natd_is(kHashSha1, i, r, ep, "9de8bfefaab479f0d5a5609a6de20595c6307502"));
    assert_true(natd_is(kHashSha2_256, i, r, ep, "b323e06152a2a38e2038088b703eb9fd2461ab40b725658b0b495cc0061c3047"));
    assert_true(natd_is(kHashSha2_384, i, r, ep,
                        "048c1c8086deb305d6f69cc8e400d9c5a9aaae995e64aad8ddc84d43261604f7"
                        "d74bdf0c1834e4236f2e11a542b7f687"));
    assert_true(natd_is(kHashSha2_512, i, r, ep,
                        "c916dbff5885ab59161509ba09cf46b1845ce240d87cdfdb3f9fbe2259ddae2c"
                        "208696d25e84a2571de2a2e0bd26dd1c369a26693e60a335f1326154adf6f745"));
    // IKEv2 request style: [2001:db8:0:1::2]:500, SPIr zero.
    assert_true(natd_is(kHashSha1, i, 0, ep6("20010db8000000010000000000000002", 500),
                        "86849a32750e383302e9dd2cf409cdbd4038fe8a"));
    // The same 4 leading bytes as IPv4 hash differently (16 vs 4 bytes).
    Endpoint v4 = Endpoint::from_bytes(4, ep.addr, 4500);
    assert_false(natd_is(kHashSha1, i, r, v4, "9de8bfefaab479f0d5a5609a6de20595c6307502"));
}

// ---------------------------------------------------------------------------
// Vendor IDs

struct VidCase {
    const char* digest;  // MD5 of text, from python3 hashlib / openssl dgst -md5
    const char* text;
    NattMethod method;
    const char* name;
};

const VidCase kVidCases[] = {
    {"4a131c81070358455c5728f20e95452f", "RFC 3947", NattMethod::Rfc3947, "RFC 3947"},
    {"4df37928e9fc4fd1b3262170d515c662", "draft-ietf-ipsec-nat-t-ike", NattMethod::DraftIetfUnversioned,
     "draft-ietf-ipsec-nat-t-ike"},
    {"4485152d18b6bbcd0be8a8469579ddcc", "draft-ietf-ipsec-nat-t-ike-00", NattMethod::DraftIetf00,
     "draft-ietf-ipsec-nat-t-ike-00"},
    {"16f6ca16e4a4066d83821a0f0aeaa862", "draft-ietf-ipsec-nat-t-ike-01", NattMethod::DraftIetf01,
     "draft-ietf-ipsec-nat-t-ike-01"},
    {"cd60464335df21f87cfdb2fc68b6a448", "draft-ietf-ipsec-nat-t-ike-02", NattMethod::DraftIetf02,
     "draft-ietf-ipsec-nat-t-ike-02"},
    {"90cb80913ebb696e086381b5ec427b1f", "draft-ietf-ipsec-nat-t-ike-02\n", NattMethod::DraftIetf02,
     "draft-ietf-ipsec-nat-t-ike-02'"},
    {"7d9419a65310ca6f2c179d9215529d56", "draft-ietf-ipsec-nat-t-ike-03", NattMethod::DraftIetf03,
     "draft-ietf-ipsec-nat-t-ike-03"},
    {"9909b64eed937c6573de52ace952fa6b", "draft-ietf-ipsec-nat-t-ike-04", NattMethod::DraftIetf04,
     "draft-ietf-ipsec-nat-t-ike-04"},
    {"80d0bb3def54565ee84645d4c85ce3ee", "draft-ietf-ipsec-nat-t-ike-05", NattMethod::DraftIetf05,
     "draft-ietf-ipsec-nat-t-ike-05"},
    {"4d1e0e136deafa34c4f3ea9f02ec7285", "draft-ietf-ipsec-nat-t-ike-06", NattMethod::DraftIetf06,
     "draft-ietf-ipsec-nat-t-ike-06"},
    {"439b59f8ba676c4c7737ae22eab8f582", "draft-ietf-ipsec-nat-t-ike-07", NattMethod::DraftIetf07,
     "draft-ietf-ipsec-nat-t-ike-07"},
    {"8f8d83826d246b6fc7a8a6a428c11de8", "draft-ietf-ipsec-nat-t-ike-08", NattMethod::DraftIetf08,
     "draft-ietf-ipsec-nat-t-ike-08"},
    {"42ea5b6f898d9773a575df26e7dd19e1", "draft-ietf-ipsec-nat-t-ike-09", NattMethod::DraftIetf09,
     "draft-ietf-ipsec-nat-t-ike-09"},
    {"27bab5dc01ea0760ea4e3190ac27c0d0", "draft-stenberg-ipsec-nat-traversal-01", NattMethod::DraftStenberg01,
     "draft-stenberg-ipsec-nat-traversal-01"},
    {"6105c422e76847e43f9684801292aecd", "draft-stenberg-ipsec-nat-traversal-02", NattMethod::DraftStenberg02,
     "draft-stenberg-ipsec-nat-traversal-02"},
    {"6a7434c19d7e36348090a02334c9c805", "draft-huttunen-ipsec-esp-in-udp-00.txt", NattMethod::DraftHuttunen,
     "draft-huttunen-ipsec-esp-in-udp-00.txt"},
    {"58b35b47d82ee84954cb62ca82e1dfdd", "draft-huttunen-ipsec-esp-in-udp-01.txt", NattMethod::DraftHuttunen,
     "draft-huttunen-ipsec-esp-in-udp-01.txt"},
};

void test_vendor_id_table(void**) {
    for (const VidCase& c : kVidCases) {
        const VendorIdInfo info = classify_hex(c.digest);
        if (info.method != c.method || info.name == nullptr || std::strcmp(info.name, c.name) != 0)
            fail_msg("vendor ID %s (\"%s\"): method %d name %s", c.digest, c.text, static_cast<int>(info.method),
                     info.name ? info.name : "(null)");
        assert_false(info.microsoft);
        assert_int_equal(info.microsoft_version, 0);
    }
    // The 02' name says so.
    assert_non_null(std::strstr(classify_hex("90cb80913ebb696e086381b5ec427b1f").name, "02'"));
    assert_null(std::strstr(classify_hex("cd60464335df21f87cfdb2fc68b6a448").name, "02'"));
}

void test_vendor_id_prefix_longer_shorter(void**) {
    const std::vector<uint8_t> rfc = hex("4a131c81070358455c5728f20e95452f");
    // Longer payloads match on their first 16 bytes.
    std::vector<uint8_t> longer = rfc;
    for (uint8_t b : {0x00, 0x00, 0x00, 0x05, 0xAB}) longer.push_back(b);
    assert_int_equal(static_cast<int>(classify_vendor_id(longer.data(), longer.size()).method),
                     static_cast<int>(NattMethod::Rfc3947));
    std::vector<uint8_t> huttunen = hex("58b35b47d82ee84954cb62ca82e1dfdd00000001");
    assert_int_equal(static_cast<int>(classify_vendor_id(huttunen.data(), huttunen.size()).method),
                     static_cast<int>(NattMethod::DraftHuttunen));
    // Shorter payloads (a prefix of a digest) do not.
    for (size_t n : {0, 1, 8, 15}) {
        const VendorIdInfo info = classify_vendor_id(rfc.data(), n);
        assert_int_equal(static_cast<int>(info.method), static_cast<int>(NattMethod::None));
        assert_null(info.name);
    }
    assert_null(classify_vendor_id(nullptr, 16).name);
    // The digest must be at the start, and every byte counts.
    std::vector<uint8_t> shifted = {0x00};
    shifted.insert(shifted.end(), rfc.begin(), rfc.end());
    assert_int_equal(static_cast<int>(classify_vendor_id(shifted.data(), shifted.size()).method),
                     static_cast<int>(NattMethod::None));
    for (size_t k = 0; k < 16; ++k) {
        std::vector<uint8_t> flipped = rfc;
        flipped[k] ^= 0x01;
        const VendorIdInfo info = classify_vendor_id(flipped.data(), flipped.size());
        assert_int_equal(static_cast<int>(info.method), static_cast<int>(NattMethod::None));
        assert_false(info.microsoft);
        assert_null(info.name);
    }
}

void test_vendor_id_real_captures(void**) {
    // zeekspicy_ikev1-certs.pcap frame 2 (responder 172.16.1.103), in order.
    const struct {
        const char* vid;
        NattMethod method;
    } frame2[] = {
        {"afcad71368a1f1c96b8696fc77570100", NattMethod::None},  // RFC 3706 DPD
        {"27bab5dc01ea0760ea4e3190ac27c0d0", NattMethod::DraftStenberg01},
        {"6105c422e76847e43f9684801292aecd", NattMethod::DraftStenberg02},
        {"4485152d18b6bbcd0be8a8469579ddcc", NattMethod::DraftIetf00},
        {"cd60464335df21f87cfdb2fc68b6a448", NattMethod::DraftIetf02},
        {"90cb80913ebb696e086381b5ec427b1f", NattMethod::DraftIetf02},
        {"7d9419a65310ca6f2c179d9215529d56", NattMethod::DraftIetf03},
        {"4a131c81070358455c5728f20e95452f", NattMethod::Rfc3947},
        {"699369228741c6d4ca094c93e242c9de19e7b7c60000000500000500", NattMethod::None},  // Netscreen
    };
    for (const auto& c : frame2) {
        const VendorIdInfo info = classify_hex(c.vid);
        assert_int_equal(static_cast<int>(info.method), static_cast<int>(c.method));
        assert_false(info.microsoft);
        if (c.method == NattMethod::None)
            assert_null(info.name);
        else
            assert_non_null(info.name);
    }
    // Others from the captures: draft-07 (zeekspicy main mode), strongSwan,
    // Cisco Unity, XAUTH (8 bytes), IKE fragmentation (with trailing bytes).
    assert_int_equal(static_cast<int>(classify_hex("439b59f8ba676c4c7737ae22eab8f582").method),
                     static_cast<int>(NattMethod::DraftIetf07));
    for (const char* other : {"882fe56d6fd20dbc2251613b2ebe5beb", "12f5f28c457168a9702d9fe274cc0100", "09002689dfd6b712",
                              "4048b7d56ebce88525e7de7f00d6c2d380000000", "fb1de3cdf341b7ea16b7e5be0855f120"}) {
        const VendorIdInfo info = classify_hex(other);
        assert_int_equal(static_cast<int>(info.method), static_cast<int>(NattMethod::None));
        assert_false(info.microsoft);
        assert_null(info.name);
    }
}

void test_vendor_id_microsoft(void**) {
    // zeekspicy_ipsec_client.pcap frame 1: a Windows IKEv2 client.
    {
        const VendorIdInfo info = classify_hex("1e2b516905991c7d7c96fcbfb587e46100000009");
        assert_true(info.microsoft);
        assert_int_equal(info.microsoft_version, 9);
        assert_int_equal(static_cast<int>(info.method), static_cast<int>(NattMethod::None));
        assert_string_equal(info.name, "MS NT5 ISAKMPOAKLEY (Windows 8 or later)");
    }
    const struct {
        uint32_t version;
        const char* windows;
    } versions[] = {
        {2, "Windows 2000"},
        {3, "Windows XP SP1"},
        {4, "Windows Server 2003 or Windows XP SP2"},
        {5, "Windows Vista"},
        {6, "Windows Server 2008"},
        {7, "Windows 7"},
        {8, "Windows Server 2008 R2"},
        {9, "Windows 8 or later"},
    };
    std::vector<uint8_t> vid = hex("1e2b516905991c7d7c96fcbfb587e461");
    for (const auto& v : versions) {
        std::vector<uint8_t> b = vid;
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v.version >> s));
        const VendorIdInfo info = classify_vendor_id(b.data(), b.size());
        assert_true(info.microsoft);
        assert_int_equal(info.microsoft_version, v.version);
        const std::string want = std::string("MS NT5 ISAKMPOAKLEY (") + v.windows + ")";
        assert_string_equal(info.name, want.c_str());
    }
    // Unknown versions, including ones that need all four bytes.
    for (uint32_t version : {0u, 1u, 10u, 0x10u, 0x01000002u, 0xFFFFFFFFu}) {
        std::vector<uint8_t> b = vid;
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(version >> s));
        const VendorIdInfo info = classify_vendor_id(b.data(), b.size());
        assert_true(info.microsoft);
        assert_int_equal(info.microsoft_version, version);
        assert_string_equal(info.name, "MS NT5 ISAKMPOAKLEY (unknown version)");
    }
    // Without (a complete) version.
    for (size_t n : {16, 17, 19}) {
        std::vector<uint8_t> b = vid;
        b.resize(n, 0x00);
        const VendorIdInfo info = classify_vendor_id(b.data(), b.size());
        assert_true(info.microsoft);
        assert_int_equal(info.microsoft_version, 0);
        assert_string_equal(info.name, "MS NT5 ISAKMPOAKLEY");
    }
    // Longer than 20 bytes: the version is still bytes 16-19.
    std::vector<uint8_t> b = hex("1e2b516905991c7d7c96fcbfb587e46100000007deadbeef");
    assert_int_equal(classify_vendor_id(b.data(), b.size()).microsoft_version, 7);
    // Shorter than the digest is nothing; other Microsoft VIDs are not this one.
    assert_false(classify_vendor_id(vid.data(), 15).microsoft);
    assert_false(classify_hex("01528bbbc00696121849ab9a1c5b2a5100000002").microsoft);
    assert_false(classify_hex("26244d38eddb61b3172a36e3d0cfb819").microsoft);
}

// ---------------------------------------------------------------------------
// Method names, payload types, agreement

const NattMethod kAllMethods[] = {
    NattMethod::None,        NattMethod::DraftStenberg01, NattMethod::DraftStenberg02, NattMethod::DraftHuttunen,
    NattMethod::DraftIetf00, NattMethod::DraftIetf01,     NattMethod::DraftIetf02,     NattMethod::DraftIetf03,
    NattMethod::DraftIetf04, NattMethod::DraftIetf05,     NattMethod::DraftIetf06,     NattMethod::DraftIetf07,
    NattMethod::DraftIetf08, NattMethod::DraftIetf09,     NattMethod::DraftIetfUnversioned, NattMethod::Rfc3947,
};

void test_method_names(void**) {
    std::vector<std::string> seen;
    for (NattMethod m : kAllMethods) {
        const char* n = natt_method_name(m);
        assert_non_null(n);
        assert_true(std::strlen(n) > 0);
        for (const std::string& s : seen) assert_string_not_equal(s.c_str(), n);
        seen.emplace_back(n);
    }
    assert_string_equal(natt_method_name(NattMethod::Rfc3947), "RFC 3947");
    assert_string_equal(natt_method_name(NattMethod::DraftIetf02), "draft-ietf-ipsec-nat-t-ike-02");
    assert_string_equal(natt_method_name(static_cast<NattMethod>(200)), "unknown");
    // Every NAT-T vendor ID's method has the method name its VID was made from
    // (except the Huttunen pair, which share one method, and 02').
    for (const VidCase& c : kVidCases) {
        if (c.method == NattMethod::DraftHuttunen || std::strchr(c.text, '\n')) continue;
        assert_string_equal(natt_method_name(c.method), c.text);
    }
}

void test_payload_types(void**) {
    assert_int_equal(natd_payload_type_for(NattMethod::Rfc3947), 20);
    assert_int_equal(natd_payload_type_for(NattMethod::DraftIetf09), 20);
    for (NattMethod m : {NattMethod::DraftIetf04, NattMethod::DraftIetf05, NattMethod::DraftIetf06,
                         NattMethod::DraftIetf07, NattMethod::DraftIetf08})
        assert_int_equal(natd_payload_type_for(m), 15);
    for (NattMethod m : {NattMethod::DraftIetf00, NattMethod::DraftIetf01, NattMethod::DraftIetf02,
                         NattMethod::DraftIetf03, NattMethod::DraftIetfUnversioned, NattMethod::DraftStenberg01,
                         NattMethod::DraftStenberg02})
        assert_int_equal(natd_payload_type_for(m), 130);
    assert_int_equal(natd_payload_type_for(NattMethod::DraftHuttunen), 0);
    assert_int_equal(natd_payload_type_for(NattMethod::None), 0);
    assert_int_equal(natd_payload_type_for(static_cast<NattMethod>(200)), 0);
    // They are the payload numbers ike_parse knows.
    assert_int_equal(natd_payload_type_for(NattMethod::Rfc3947), kPlV1NatDRfc);
    assert_int_equal(natd_payload_type_for(NattMethod::DraftIetf03), kPlV1NatDDraft);
    assert_int_equal(natd_payload_type_for(NattMethod::DraftIetf08), kPlV1NatDDraft15);
}

NattMethod agree(std::vector<NattMethod> i, std::vector<NattMethod> r) {
    return agreed_method(i.data(), i.size(), r.data(), r.size());
}

#define assert_method(a, b) assert_int_equal(static_cast<int>(a), static_cast<int>(b))

void test_agreed_method(void**) {
    using M = NattMethod;
    // Empty and missing lists.
    assert_method(agree({}, {}), M::None);
    assert_method(agree({M::Rfc3947}, {}), M::None);
    assert_method(agree({}, {M::Rfc3947}), M::None);
    const M one[] = {M::Rfc3947};
    assert_method(agreed_method(nullptr, 0, one, 1), M::None);
    assert_method(agreed_method(one, 1, nullptr, 0), M::None);
    assert_method(agreed_method(nullptr, 3, one, 1), M::None);
    assert_method(agreed_method(one, 1, nullptr, 5), M::None);
    // No overlap.
    assert_method(agree({M::Rfc3947, M::DraftIetf08}, {M::DraftIetf02, M::DraftIetf03}), M::None);
    assert_method(agree({M::None}, {M::None}), M::None);
    // The highest common one, whatever the order.
    assert_method(agree({M::DraftIetf02, M::DraftIetf03, M::Rfc3947}, {M::Rfc3947, M::DraftIetf02}), M::Rfc3947);
    assert_method(agree({M::Rfc3947, M::DraftIetf02, M::DraftIetf03}, {M::DraftIetf03, M::DraftIetf02}),
                  M::DraftIetf03);
    assert_method(agree({M::DraftIetf00, M::DraftStenberg02, M::DraftIetf02},
                        {M::DraftIetf02, M::DraftIetf02, M::DraftIetf00}),
                  M::DraftIetf02);
    assert_method(agree({M::DraftStenberg01, M::DraftHuttunen}, {M::DraftHuttunen}), M::DraftHuttunen);
    assert_method(agree({M::DraftIetfUnversioned, M::DraftIetf09}, {M::DraftIetf09, M::DraftIetfUnversioned}),
                  M::DraftIetfUnversioned);
    // Symmetric.
    assert_method(agree({M::DraftIetf02, M::DraftIetf03}, {M::DraftIetf03, M::DraftIetf04}), M::DraftIetf03);
    assert_method(agree({M::DraftIetf03, M::DraftIetf04}, {M::DraftIetf02, M::DraftIetf03}), M::DraftIetf03);
    // Real: zeekspicy_ipsec.cap initiator (RFC 3947, 02', 03, 02, 00) and
    // responder (RFC 3947 only).
    const std::vector<NattMethod> ini = {classify_hex("4a131c81070358455c5728f20e95452f").method,
                                         classify_hex("7d9419a65310ca6f2c179d9215529d56").method,
                                         classify_hex("cd60464335df21f87cfdb2fc68b6a448").method,
                                         classify_hex("90cb80913ebb696e086381b5ec427b1f").method,
                                         classify_hex("4485152d18b6bbcd0be8a8469579ddcc").method};
    assert_method(agree(ini, {classify_hex("4a131c81070358455c5728f20e95452f").method}), M::Rfc3947);
}

// evaluate_nat: which hashes mismatch, on which side, decides the verdict.
// An observation: sender, side, its own hash's and the receiver's hash's result.
NatDObservation natd_obs(Direction dir, uint8_t side, NatDMatch own, NatDMatch theirs) {
    NatDObservation o;
    o.dir = dir;
    o.side = side;
    o.n = 2;
    o.hashes[0].is_source = true;
    o.hashes[0].result = own;
    o.hashes[1].is_source = false;
    o.hashes[1].result = theirs;
    return o;
}

// An observation with the addresses as captured on that side.
NatDObservation natd_obs_at(Direction dir, uint8_t side, NatDMatch own, NatDMatch theirs, const char* src,
                            const char* dst) {
    NatDObservation o = natd_obs(dir, side, own, theirs);
    o.src = ep4(src, 500);
    o.dst = ep4(dst, 500);
    return o;
}

// Only the peer's own hash of one message (the other peer's not visible).
NatDObservation natd_own(Direction dir, NatDMatch own) {
    NatDObservation o = natd_obs(dir, 0, own, NatDMatch::Match);
    o.n = 1;
    return o;
}

void assert_peers(const NatState& st, PeerNat i, PeerNat r) {
    assert_int_equal(static_cast<int>(st.verdict), static_cast<int>(NatVerdict::Peers));
    assert_int_equal(static_cast<int>(st.initiator), static_cast<int>(i));
    assert_int_equal(static_cast<int>(st.responder), static_cast<int>(r));
}

std::string words(const NatState& st) {
    char w[kNatVerdictWordsMax];
    nat_verdict_words(st.view(), w, sizeof w);
    return w;
}

void test_verdicts(void**) {
    const Direction I = Direction::FromInitiator, R = Direction::FromResponder;
    const NatDMatch ok = NatDMatch::Match, bad = NatDMatch::NoMatch, other = NatDMatch::OtherSide;
    NatState st;
    // One side of a NAT, the initiator's own hash mismatches, the responder
    // hashed the address seen here: a NAT or a faked hash, no telling which.
    st.observations = {natd_obs(I, 0, bad, ok), natd_obs(R, 0, ok, ok)};
    evaluate_nat(st);
    assert_peers(st, PeerNat::NatOrForcing, PeerNat::NotBehind);
    assert_false(st.initiator_behind);
    assert_false(st.forced);
    assert_string_equal(words(st).c_str(),
                        "initiator behind a NAT or forcing encapsulation (NAT-D mismatch); responder not behind a "
                        "NAT (NAT-D)");
    // ... and its IKE to port 500 came from another port: a NAT translated it.
    st.initiator_port_translated = true;
    evaluate_nat(st);
    assert_peers(st, PeerNat::BehindPort500, PeerNat::NotBehind);
    assert_true(st.initiator_behind);
    assert_string_equal(words(st).c_str(),
                        "initiator behind a NAT (inferred from a translated port 500); responder not behind a NAT "
                        "(NAT-D)");
    st.initiator_port_translated = false;
    // Captured inside the initiator's NAT: its own hash matches, the
    // responder hashed another address for it: behind a NAT, for certain.
    st.observations = {natd_obs(I, 0, ok, ok), natd_obs(R, 0, ok, bad)};
    evaluate_nat(st);
    assert_peers(st, PeerNat::Behind, PeerNat::NotBehind);
    assert_string_equal(words(st).c_str(), "initiator behind a NAT (NAT-D); responder not behind a NAT (NAT-D)");
    // Captured inside the responder's NAT: the initiator's hash for the
    // responder mismatches; the initiator's own mismatches too.
    st.observations = {natd_obs(I, 0, bad, bad), natd_obs(R, 0, ok, ok)};
    evaluate_nat(st);
    assert_peers(st, PeerNat::NatOrForcing, PeerNat::Behind);
    // Every hash mismatches on one side: no capture point sees that.
    st.observations = {natd_obs(I, 0, bad, bad), natd_obs(R, 0, bad, bad)};
    evaluate_nat(st);
    assert_int_equal(static_cast<int>(st.verdict), static_cast<int>(NatVerdict::Inconsistent));
    assert_false(st.initiator_behind);
    assert_false(st.responder_behind);
    assert_true(st.verdict_known());
    // Two sides of a NAT that translates the initiator: its hash matches
    // inside and is its inside address outside; the responder's matches.
    st.observations = {natd_obs_at(I, 0, ok, ok, "10.1.0.11", "203.0.113.10"),
                       natd_obs_at(I, 1, other, ok, "198.51.100.1", "203.0.113.10"),
                       natd_obs_at(R, 1, ok, ok, "203.0.113.10", "198.51.100.1"),
                       natd_obs_at(R, 0, ok, other, "203.0.113.10", "10.1.0.11")};
    evaluate_nat(st);
    assert_peers(st, PeerNat::Behind, PeerNat::NotBehind);
    // The responder's hash mismatches on both sides, its address the same on
    // both: not behind this NAT; forcing, or behind a NAT beyond (a peer
    // behind the other NAT of a capture of one NAT must not read "forced").
    st.observations[2].hashes[0].result = bad;
    st.observations[3].hashes[0].result = bad;
    evaluate_nat(st);
    assert_peers(st, PeerNat::Behind, PeerNat::ForcingOrOtherNat);
    assert_false(st.forced);
    assert_false(st.responder_behind);
    // The initiator's hash matches neither side, and the NAT translates it:
    // behind this NAT, and its hash faked.
    st.observations[0].hashes[0].result = bad;
    st.observations[1].hashes[0].result = bad;
    evaluate_nat(st);
    assert_peers(st, PeerNat::BehindForcing, PeerNat::ForcingOrOtherNat);
    assert_true(st.forced);
    assert_true(st.initiator_behind);
    // A middlebox rewrote the initiator's hash of the responder on the way
    // out (lab 15): it matches inside and matches nothing outside. Not a
    // NAT in front of the responder.
    st.observations = {natd_obs_at(I, 0, ok, ok, "10.1.0.11", "203.0.113.10"),
                       natd_obs_at(I, 1, other, bad, "198.51.100.1", "203.0.113.10"),
                       natd_obs_at(R, 1, ok, ok, "203.0.113.10", "198.51.100.1"),
                       natd_obs_at(R, 0, ok, other, "203.0.113.10", "10.1.0.11")};
    evaluate_nat(st);
    assert_peers(st, PeerNat::Behind, PeerNat::NotBehind);
    // The outside alone shows what the responder saw: a NAT in front of it.
    st.observations = {st.observations[1], st.observations[2]};
    evaluate_nat(st);
    assert_peers(st, PeerNat::Behind, PeerNat::Behind);
    // A hash over a zeroed address: forcing.
    st.observations = {natd_obs(I, 0, NatDMatch::ZeroedAddress, ok), natd_obs(R, 0, ok, ok)};
    evaluate_nat(st);
    assert_peers(st, PeerNat::Forcing, PeerNat::NotBehind);
    assert_true(st.forced);
    // Aggressive mode: the initiator's own hash not visible (encrypted AM3).
    // Every visible hash matches: unknown until the peers float, then the
    // initiator saw a mismatch: a NAT or forcing, inferred from the float.
    st = NatState();
    st.observations = {natd_obs(R, 0, ok, ok)};
    evaluate_nat(st);
    assert_peers(st, PeerNat::Unknown, PeerNat::NotBehind);
    assert_string_equal(words(st).c_str(), "responder not behind a NAT (NAT-D)");
    st.floated = true;
    evaluate_nat(st);
    assert_peers(st, PeerNat::NatOrForcingFloat, PeerNat::NotBehind);
    assert_string_equal(words(st).c_str(),
                        "initiator behind a NAT or forcing encapsulation (inferred from the float); responder not "
                        "behind a NAT (NAT-D)");
    // ... from a port other than 500: translated by a NAT.
    st.initiator_port_translated = true;
    evaluate_nat(st);
    assert_peers(st, PeerNat::BehindPort500, PeerNat::NotBehind);
    // Both own hashes match: no NAT.
    st = NatState();
    st.observations = {natd_obs(I, 0, ok, ok), natd_obs(R, 0, ok, ok)};
    evaluate_nat(st);
    assert_true(st.view().no_nat());
    assert_string_equal(words(st).c_str(), "no NAT (NAT-D)");
    // Only the responder's own hash, mismatching: the initiator unknown.
    st.observations = {natd_own(R, bad)};
    evaluate_nat(st);
    assert_peers(st, PeerNat::Unknown, PeerNat::NatOrForcing);
}

// The verdict travels as one byte per frame (FrameAnalysis::nat_verdict).
void test_verdict_packing(void**) {
    for (unsigned i = 0; i < static_cast<unsigned>(PeerNat::Count_); ++i)
        for (unsigned r = 0; r < static_cast<unsigned>(PeerNat::Count_); ++r) {
            NatVerdictView v{NatVerdict::Peers, static_cast<PeerNat>(i), static_cast<PeerNat>(r)};
            const NatVerdictView u = NatVerdictView::unpack(v.pack());
            assert_int_equal(static_cast<int>(u.kind), static_cast<int>(NatVerdict::Peers));
            assert_int_equal(static_cast<int>(u.initiator), static_cast<int>(i));
            assert_int_equal(static_cast<int>(u.responder), static_cast<int>(r));
        }
    for (NatVerdict k : {NatVerdict::Unknown, NatVerdict::CannotVerify, NatVerdict::Inconsistent}) {
        NatVerdictView v{k, PeerNat::Unknown, PeerNat::Unknown};
        assert_int_equal(static_cast<int>(NatVerdictView::unpack(v.pack()).kind), static_cast<int>(k));
    }
    assert_int_equal(NatVerdictView().pack(), 0);
}

}  // namespace

int main() {
    natt_test::init_gcrypt();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_lengths),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_v1_sha1_zeekspicy_ipsec_cap),
        cmocka_unit_test(test_v1_sha1_zeekspicy_main_and_aggressive),
        cmocka_unit_test(test_v1_md5_captures),
        cmocka_unit_test(test_v2_cisco_joy),
        cmocka_unit_test(test_v2_ndpi_esp),
        cmocka_unit_test(test_v2_client_behind_nat),
        cmocka_unit_test(test_sha2_vectors),
        cmocka_unit_test(test_ipv6_vectors),
        cmocka_unit_test(test_vendor_id_table),
        cmocka_unit_test(test_vendor_id_prefix_longer_shorter),
        cmocka_unit_test(test_vendor_id_real_captures),
        cmocka_unit_test(test_vendor_id_microsoft),
        cmocka_unit_test(test_method_names),
        cmocka_unit_test(test_payload_types),
        cmocka_unit_test(test_agreed_method),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_verdict_packing),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
