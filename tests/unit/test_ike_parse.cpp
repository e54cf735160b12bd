// Unit tests for tap/ike_parse.{h,cpp}: the IKE header check (both
// strictness levels), the payload-chain walk, the IKEv1 SA walk, NAT-T
// datagram classification and the strict heuristics.
//
// Real messages are embedded as hex, taken with
//   tshark -r <capture> -T fields -e udp.payload
// from the captures in shared/captures/ikes named above each one. Expected
// values (payload types, offsets, lengths, notify types, hash algorithms,
// transform counts) were read off tshark -V for the same frames.

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tap/ike_parse.h"
#include "payload_chain.h"

using natt::ChainStatus;
using natt::Classification;
using natt::DatagramKind;
using natt::HeaderCheck;
using natt::IkeHeader;
using natt::IkeMessage;
using natt::Malformation;
using natt::PayloadRef;
using natt::Strictness;

namespace {

using Bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------------------
// Helpers

int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes a hex string (whitespace ignored); a bad digit or odd count fails the test.
Bytes from_hex(const char* s) {
    Bytes out;
    int hi = -1;
    for (; *s; ++s) {
        if (*s == ' ' || *s == '\n' || *s == '\t') continue;
        int v = hexval(*s);
        if (v < 0) fail_msg("bad hex digit '%c'", *s);
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<uint8_t>((hi << 4) | v));
            hi = -1;
        }
    }
    if (hi >= 0) fail_msg("odd number of hex digits");
    return out;
}

void put16(Bytes& b, size_t off, uint16_t v) {
    b[off] = static_cast<uint8_t>(v >> 8);
    b[off + 1] = static_cast<uint8_t>(v);
}
void put32(Bytes& b, size_t off, uint32_t v) {
    b[off] = static_cast<uint8_t>(v >> 24);
    b[off + 1] = static_cast<uint8_t>(v >> 16);
    b[off + 2] = static_cast<uint8_t>(v >> 8);
    b[off + 3] = static_cast<uint8_t>(v);
}
void append(Bytes& b, const Bytes& tail) { b.insert(b.end(), tail.begin(), tail.end()); }
Bytes cat(Bytes a, const Bytes& b) {
    append(a, b);
    return a;
}
Bytes marker(const Bytes& ike) { return cat(Bytes{0, 0, 0, 0}, ike); }

// A heap copy of exactly n bytes, so that a sanitizer or valgrind sees any
// read past the end; an empty prefix is a null pointer.
struct Exact {
    std::unique_ptr<uint8_t[]> p;
    size_t n;
    Exact(const uint8_t* src, size_t len) : p(len ? new uint8_t[len] : nullptr), n(len) {
        if (len) std::memcpy(p.get(), src, len);
    }
    const uint8_t* data() const { return p.get(); }
};

// Enum checks that print the names on failure.
#define assert_hc(expected, actual) \
    assert_string_equal(natt::header_check_name(expected), natt::header_check_name(actual))
#define assert_chain(expected, actual) \
    assert_string_equal(natt::chain_status_name(expected), natt::chain_status_name(actual))
#define assert_kind(expected, actual) \
    assert_string_equal(natt::datagram_kind_name(expected), natt::datagram_kind_name(actual))
#define assert_malf(expected, actual) \
    assert_string_equal(natt::malformation_name(expected), natt::malformation_name(actual))

// Crafted messages: a header plus payloads whose generic headers (next
// payload, length) are filled in; the header length is the total.
struct Pl {
    uint8_t type;
    Bytes body;
};

constexpr uint64_t kIspi = 0x0102030405060708ull;
constexpr uint64_t kRspi = 0x1112131415161718ull;

Bytes header(uint8_t np, uint8_t version, uint8_t exchange, uint8_t flags, uint32_t msgid, uint32_t length,
             uint64_t ispi = kIspi, uint64_t rspi = 0) {
    Bytes h(natt::kIkeHeaderLen, 0);
    put32(h, 0, static_cast<uint32_t>(ispi >> 32));
    put32(h, 4, static_cast<uint32_t>(ispi));
    put32(h, 8, static_cast<uint32_t>(rspi >> 32));
    put32(h, 12, static_cast<uint32_t>(rspi));
    h[16] = np;
    h[17] = version;
    h[18] = exchange;
    h[19] = flags;
    put32(h, 20, msgid);
    put32(h, 24, length);
    return h;
}

Bytes build(uint8_t version, uint8_t exchange, uint8_t flags, uint32_t msgid, const std::vector<Pl>& pls,
            uint64_t ispi = kIspi) {
    Bytes m = header(pls.empty() ? 0 : pls[0].type, version, exchange, flags, msgid, 0, ispi);
    for (size_t i = 0; i < pls.size(); ++i) {
        size_t plen = 4 + pls[i].body.size();
        assert_true(plen <= 0xffff);
        Bytes g{static_cast<uint8_t>(i + 1 < pls.size() ? pls[i + 1].type : 0), 0, 0, 0};
        put16(g, 2, static_cast<uint16_t>(plen));
        append(m, g);
        append(m, pls[i].body);
    }
    put32(m, 24, static_cast<uint32_t>(m.size()));
    return m;
}
Bytes build_v1(const std::vector<Pl>& pls, uint8_t exchange = natt::kExIdentityProtection) {
    return build(0x10, exchange, 0, 0, pls);
}
Bytes build_v2(const std::vector<Pl>& pls, uint8_t exchange = natt::kExIkeSaInit) {
    return build(0x20, exchange, 0x08, 0, pls);
}

// IKEv1 SA payload pieces (RFC 2408 §3.4-3.6, RFC 2409 appendix A).
Bytes attr_tv(uint16_t type, uint16_t value) {
    Bytes a(4);
    put16(a, 0, static_cast<uint16_t>(0x8000 | type));
    put16(a, 2, value);
    return a;
}
Bytes attr_tlv(uint16_t type, const Bytes& value, int len_override = -1) {
    Bytes a(4);
    put16(a, 0, type);
    put16(a, 2, static_cast<uint16_t>(len_override >= 0 ? len_override : static_cast<int>(value.size())));
    append(a, value);
    return a;
}
Bytes transform(uint8_t next, uint8_t num, const Bytes& attrs, int len_override = -1) {
    Bytes t{next, 0, 0, 0, num, 1 /* KEY_IKE */, 0, 0};
    put16(t, 2, static_cast<uint16_t>(len_override >= 0 ? len_override : static_cast<int>(8 + attrs.size())));
    append(t, attrs);
    return t;
}
Bytes proposal(uint8_t next, uint8_t n_transforms, const Bytes& transforms, const Bytes& spi = {},
               int len_override = -1, int spi_size_override = -1) {
    Bytes p{next, 0, 0, 0, 1 /* proposal # */, 1 /* PROTO_ISAKMP */,
            static_cast<uint8_t>(spi_size_override >= 0 ? spi_size_override : static_cast<int>(spi.size())),
            n_transforms};
    put16(p, 2,
          static_cast<uint16_t>(len_override >= 0 ? len_override
                                                  : static_cast<int>(8 + spi.size() + transforms.size())));
    append(p, spi);
    append(p, transforms);
    return p;
}
Bytes sa_body(const Bytes& proposals) {
    Bytes b{0, 0, 0, 1 /* DOI IPSEC */, 0, 0, 0, 1 /* SIT_IDENTITY_ONLY */};
    append(b, proposals);
    return b;
}
// A typical phase-1 transform: AES-CBC, key length 128, <hash>, group 2, PSK,
// lifetime 86400 seconds (as a TLV).
Bytes p1_attrs(uint16_t hash) {
    Bytes a = attr_tv(1, 7);
    append(a, attr_tv(14, 128));
    append(a, attr_tv(2, hash));
    append(a, attr_tv(4, 2));
    append(a, attr_tv(3, 1));
    append(a, attr_tv(11, 1));
    append(a, attr_tlv(12, {0x00, 0x01, 0x51, 0x80}));
    return a;
}

// Every reference the parser hands out must lie inside the IKE message.
void check_refs_inside(const IkeMessage& m, size_t len) {
    assert_true(m.hdr.length <= len);
    assert_true(m.n_payloads <= natt::kMaxPayloads);
    assert_true(m.n_vendor_ids <= natt::kMaxVendorIds);
    assert_true(m.n_natd <= natt::kMaxNatD);
    assert_true(m.n_notify <= natt::kMaxNotify);
    auto inside = [&](const PayloadRef& r) {
        assert_true(r.offset >= natt::kIkeHeaderLen);
        assert_true(static_cast<uint64_t>(r.offset) + r.length <= m.hdr.length);
    };
    for (unsigned i = 0; i < m.n_vendor_ids; ++i) inside(m.vendor_ids[i]);
    for (unsigned i = 0; i < m.n_natd; ++i) inside(m.natd[i]);
    for (unsigned i = 0; i < m.n_notify; ++i) inside(m.notify_data[i]);
    if (m.chain != ChainStatus::Complete && m.chain != ChainStatus::Encrypted)
        assert_true(m.chain_error_offset <= m.hdr.length);
}

void expect_payload(const PayloadRef& r, uint8_t type, uint32_t offset, uint32_t length) {
    assert_int_equal(r.type, type);
    assert_int_equal(r.offset, offset);
    assert_int_equal(r.length, length);
}

// A parsed message with its whole payload chain (walked test-side).
struct Parsed : IkeMessage {
    std::vector<PayloadRef> payloads;
};

Parsed parse_ok(const Bytes& b, Strictness s = Strictness::Heuristic) {
    Parsed m;
    assert_hc(HeaderCheck::Ok, natt::parse_ike_message(b.data(), b.size(), s, &m));
    check_refs_inside(m, b.size());
    m.payloads = natt_test::payload_chain(b.data(), b.size());
    // The parser counts the payloads it walked.
    assert_int_equal(m.payloads.size(), m.n_payloads);
    for (const PayloadRef& r : m.payloads) {
        assert_true(r.offset >= natt::kIkeHeaderLen);
        assert_true(static_cast<uint64_t>(r.offset) + r.length <= m.hdr.length);
    }
    return m;
}

HeaderCheck hdr_check(const Bytes& b, Strictness s) {
    IkeHeader h;
    return natt::parse_ike_header(b.data(), b.size(), s, &h);
}

// ---------------------------------------------------------------------------
// Real messages

// zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap frame 1, 168 bytes
const char* const kMm1 =
    "e47a591fd057587f00000000000000000110020000000000000000a80d00003c00000001000000010000003001010001"
    "000000280101000080010007800e0080800200028004000280030001800b0001000c0004000151800d0000144a131c81"
    "070358455c5728f20e95452f0d000014439b59f8ba676c4c7737ae22eab8f5820d0000147d9419a65310ca6f2c179d92"
    "15529d560000001490cb80913ebb696e086381b5ec427b1f";
// zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap frame 2, 108 bytes
const char* const kMm2 =
    "e47a591fd057587fa00b8ef0902bb8ec01100200000000000000006c0d00003c00000001000000010000003001010001"
    "000000280101000080010007800e0080800200028004000280030001800b0001000c000400015180000000144a131c81"
    "070358455c5728f20e95452f";
// zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap frame 3, 284 bytes
const char* const kMm3 =
    "e47a591fd057587fa00b8ef0902bb8ec04100200000000000000011c0a0000843504d3d2ed14e0ca03b851a51a9da2e5"
    "a4c14c1d7ec3e1fbe950025424514b3c69ed7fbb44e09225da52d2a92604a99bf61b7beed7fbfa635e82f065f4fe7807"
    "51354dbe474c3de7207dcf69fdbbed32c1691cc149b318eee00370e65fc3069bbacfb013467173966e9d5f4bc4f3857e"
    "359bba3adbb6efeea516f3897d8534f30d00001889d7c8fbf94b515b521d5d9589c2602021e1a7090d000014afcad713"
    "68a1f1c96b8696fc775701000d00001411bdfe02d056587f2c18125972c324011400000c09002689dfd6b71214000018"
    "1574d64c0165bad16a023f038d45a07498d8d05100000018febf462f1cd75805a7baa28747e769d674f85600";
// zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap frame 4, 304 bytes
const char* const kMm4 =
    "e47a591fd057587fa00b8ef0902bb8ec0410020000000000000001300a0000846d026d5616c45be05e5b898411e9f95d"
    "195cea009ad22c62bef06c571b7cfbc4792f45564ec710ac584aa18d20cbc8f5f8910666b89e4ee2f95abc0230e2cba1"
    "b88ac4bba7fcc818a986c01a4ca865a5eb82884dbec85bfd7d1a303b09894dcf2e3785fd79dba225377cf8cca009ceff"
    "bb6aa38b648c4b05404f1cfaac361aff0d00001815b688421ed5c3dd92d3b86e47a76f0d39cc09e00d00001412f5f28c"
    "457168a9702d9fe274cc01000d000014afcad71368a1f1c96b8696fc775701000d00001455cc29ed902ab8ec53b1df86"
    "7c6109291400000c09002689dfd6b71214000018febf462f1cd75805a7baa28747e769d674f85600000000181574d64c"
    "0165bad16a023f038d45a07498d8d051";
// zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap frame 5, 108 bytes
const char* const kMm5 =
    "e47a591fd057587fa00b8ef0902bb8ec05100201000000000000006ca485a5d5868a3c925dedf2d10d5e47112bc29460"
    "18c76128ed7bb29db061fdabf79a18e75689536d27cbe0921d67f702f347ae6e79dee1094dc86a5a26448ade72830694"
    "e15dca2d9603ebc5f790473d";
// zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap frame 6, 76 bytes
const char* const kMm6 =
    "e47a591fd057587fa00b8ef0902bb8ec05100201000000000000004cb032aaa62a70718ef2f099cdd8bf6eb90442ed9d"
    "726daa6b6dad624026f5fbb173d9f77571c232a56acfe12c7403e953";
// zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap frame 7, 220 bytes
const char* const kQm1 =
    "e47a591fd057587fa00b8ef0902bb8ec08102001635a2e6a000000dc44a0a86d6e3acc9fa7d66875ef90e55ed9e33b3e"
    "74568ce3da9e43ce58eed9c7c18dc57d277e78055a49b518ef03fe3b53841e1e7b49eb71c8b64cc841a65482ab8f7908"
    "195c212841b35a58ca74bfb4f1a5210eb6b07a4c81056c46be909911412a9e17d86c375f709622d4c742c059d4bfad2a"
    "619330ce126c7ca471eba1b03297f963ddd9380dbc355bbbd502575f7498a384ad62abea0d62d30b8e14e7d600920a9e"
    "3ba14ed776214299e59ec549c079bd9d267d0738513b74b06a710fa6";
// zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap frame 9, 60 bytes
const char* const kQm3 =
    "e47a591fd057587fa00b8ef0902bb8ec08102001635a2e6a0000003c05750fa41560dbaca0027bdcdfe39a1e8a4890d3"
    "4f8fd05afb82064818e96728";
// zeekspicy_ipsec-ikev1-isakmp-aggressive-mode.pcap frame 1, 388 bytes
const char* const kAm1 =
    "e47a591f78c99d7f00000000000000000110040000000000000001840d00003c00000001000000010000003001010001"
    "000000280101000080010007800e0080800200028004000280030001800b0001000c0004000151800d0000144a131c81"
    "070358455c5728f20e95452f0d000014439b59f8ba676c4c7737ae22eab8f5820d0000147d9419a65310ca6f2c179d92"
    "15529d560400001490cb80913ebb696e086381b5ec427b1f0a0000842f7c491c67e3609a09c4e03342f7457ef4b84392"
    "66dba07efbd891874542de212d3cc3cc0274e680e7adee2c3476d1e61dfefa75039392e0705ae7b1e0012bdabc06cfbc"
    "43f3cd25d5ac8cb0d9ae345c61fb91f120a1d405daaeafdb275d3f33bfddd7d2d8562fa812190e977074fb177188886d"
    "6ae884ad1c0fbce3f06b4f0705000018f45234b575fa02bdbfd717081e92868f5e2d37730d00000c01110000c0a80c02"
    "0d000014afcad71368a1f1c96b8696fc775701000d00000c09002689dfd6b7120000001411bdfe0278c89d7fb2add831"
    "d38cc76d";
// zeekspicy_ipsec-ikev1-isakmp-aggressive-mode.pcap frame 2, 420 bytes
const char* const kAm2 =
    "e47a591f78c99d7fa00b8ef0ea9ff8830110040000000000000001a40d00003c00000001000000010000003001010001"
    "000000280101000080010007800e0080800200028004000280030001800b0001000c0004000151800d00001412f5f28c"
    "457168a9702d9fe274cc01000d000014afcad71368a1f1c96b8696fc775701000d00001455cc29edea9ef883ec3bfd05"
    "ce835cc70d00000c09002689dfd6b712040000144a131c81070358455c5728f20e95452f050000846d026d5616c45be0"
    "5e5b898411e9f95d195cea009ad22c62bef06c571b7cfbc4792f45564ec710ac584aa18d20cbc8f5f8910666b89e4ee2"
    "f95abc0230e2cba1b88ac4bba7fcc818a986c01a4ca865a5eb82884dbec85bfd7d1a303b09894dcf2e3785fd79dba225"
    "377cf8cca009ceffbb6aa38b648c4b05404f1cfaac361aff0a00000c01000000c0a80c02080000181f26436f8ae50d3a"
    "ad805d26ad4d7512a7e72a81140000188585d037d9b48b7cd17e235549e023f137c7ce2614000018f41cca0e525dcb00"
    "902a095074bb68ae9ae0b53600000018453d0b014f3f3520ac1053b487072845f253a0ae";
// zeekspicy_ipsec-ikev1-isakmp-aggressive-mode.pcap frame 3, 140 bytes
const char* const kAm3 =
    "e47a591f78c99d7fa00b8ef0ea9ff88308100401000000000000008cf3ac77040882bbd08650d33ab2f35487b2db6fca"
    "5bb1a9165b4046e2d058de23cd340e96dfaa2a81407588a08d74e5a1da40a1c58c23dd411eec7ca0fb94e06ca4331f41"
    "e32d6ff4faf931314f4ffd500f7b69643c3d519831b8f3ebef4c9478dea3c000966afa757ff0bb1b56ea60ad";
// cisco-joy_ikev2.pcap frame 1, 240 bytes
const char* const kV2SaInitReq =
    "81f24c0acd8fa55c00000000000000002120220800000000000000f0220000300000002c010100040300000c0100000d"
    "800e00c0030000080300000e030000080200000500000008040000132800004800130000228a8dcff05f3daa36d06306"
    "d627c3f1000bf1c1603d0199492c3edb8de731f4ec898c19aeb28c87831b67d8d754bde2377b90cdb07f8198b24aebd3"
    "cf49f21729000024686e713e64a419d54f55497152ee971cfbe561848c688b29296eb6a583c0085a2900001c00004004"
    "1d52677b2584e088319babfbdbaf8a20c45f6b9b0000001c00004005e8606743526bfbac95c6af4621d87fa29534b0b1";
// cisco-joy_ikev2.pcap frame 2, 248 bytes
const char* const kV2SaInitResp =
    "81f24c0acd8fa55c192383172724c7062120222000000000000000f8220000300000002c010100040300000c0100000d"
    "800e00c0030000080300000e0300000802000005000000080400001328000048001300004dc15d7ddd51783c68d84262"
    "7eaa2139f4ecbabce73cac7dc21b9848fccbb4da9eb3a96c3af50c55a6e8d644a017867a62e542de0b1d8f3e2525eb60"
    "686f60ca29000024ddad862e6d6f89d96d9f1467c9df635406870a16be3fd01a8eecbcd20ca4d6eb2900001c00004004"
    "3af806bcb2cdceed0b56b1f7dcb271cf3d1383072900001c00004005b781d918e5bed465e94c044711e4d1b354ba3e02"
    "0000000800004014";
// cisco-joy_ikev2.pcap frame 3, 261 bytes
const char* const kV2AuthReq =
    "81f24c0acd8fa55c192383172724c7062e2023080000000100000105230000e98fd56b808b82b1acae6d93913fc1c755"
    "667b2ac844a5ec1d6becfeede05b07edab5de9b5ea554fc9fc354263720dad7b760adf9a5475747d747f604142b4f5f3"
    "19252175581ea311017a47c749ed0b6558fd60caec8e89cc27e0b53c2102d2135cd7bbfb7096c5bab3f9d9dda3836458"
    "ff87b5829e611a917a1ff7c8a0cc41ef73702e8e89a86da2b2bcfe2873ed1c1e39b6c8fa0eb3d93239f037ae5ad46532"
    "b0bd0e29f6f9716f689890ba72db1e68b45291beb5db0a58e166ea757b7cfbcde978fb3dfcae32b766c090291ddc7476"
    "e6405c60e5a191630f3d3e8e0876b1871d85d34b97";
// cisco-joy_ikev2.pcap frame 4, 237 bytes
const char* const kV2AuthResp =
    "81f24c0acd8fa55c192383172724c7062e20232000000001000000ed240000d1267f9a27af8a948a3eb5daadf398c342"
    "49650dc04ee3095d7cd01221d480bc0bab042e70a6bd242ccadaff6d53f4477a7b1ed1ab854e5ed4d0739a14eee7915c"
    "5fa529f1729779097e8ab3ce33a1e598cd7e28f214ac7aa78b52bc20f8211ddbd375356056d9ad65a2559ac2443c06ef"
    "6ad36baac1a15b1b6a16498400c56d223b4b3e072c5ab7a75814a516cbadc30ea66f48af9d7e27512ad19de7a203719c"
    "0630acbb11eca3cd82a4aeb5512bf67700b3c4fa99313a94ee79e3653f519deb8eb97b6b06113f92b5ce8bebd0";
// cisco-joy_ikev2.pcap frame 5, 81 bytes
const char* const kV2InfoReq =
    "81f24c0acd8fa55c192383172724c7062e20250800000002000000512a000035334863fbb6f633df825151ae4d67c454"
    "b0760002aa6f665b62f91419790293e8591ae8bdaf39364b48c80e8878335dbcd6";
// cisco-joy_ikev2.pcap frame 6, 73 bytes
const char* const kV2InfoResp =
    "81f24c0acd8fa55c192383172724c7062e20252000000002000000490000002d267f9a24af8a948aba0dfd951b96c05c"
    "0914572e37c5b997db6734fb5b4ddf20181c1fb71af5f06efa";
// tcpdump_isakmp4500.pcap frame 3, 292 bytes
const char* const kNatMm1 =
    "9e89f2388f90bc1e00000000000000000110020000000000000001240d00009400000001000000010000008800010004"
    "0300002000010000800b0001800c0e10800100058002000180030003800400050300002001010000800b0001800c0e10"
    "800100058002000280030003800400050300002002010000800b0001800c0e1080010005800200028003000380040002"
    "0000002003010000800b0001800c0e10800100058002000180030003800400020d0000104f456b5262475852766d5045"
    "0d000014afcad71368a1f1c96b8696fc775701000d0000144a131c81070358455c5728f20e95452f0d0000147d9419a6"
    "5310ca6f2c179d9215529d560d000014cd60464335df21f87cfdb2fc68b6a448000000144485152d18b6bbcd0be8a846"
    "9579ddcc";
// tcpdump_isakmp4500.pcap frame 4, 136 bytes
const char* const kNatMm2 =
    "9e89f2388f90bc1e0a74357ce3d1a4bf0110020000000000000000880d00003400000001000000010000002800010001"
    "0000002000010000800b0001800c0e10800100058002000180030003800400050d0000104f456b5262475852766d5045"
    "0d000014afcad71368a1f1c96b8696fc77570100000000144a131c81070358455c5728f20e95452f";
// tcpdump_isakmp4500.pcap frame 5, 284 bytes
const char* const kNatMm3 =
    "9e89f2388f90bc1e0a74357ce3d1a4bf04100200000000000000011c0a0000c4b7db87e14946865b74297235849f5fe9"
    "ab40cb77b4c32c323d2d8dd7e36f1f3d17319ad78f1c66c400fe48fc30427fa0f71a327590795df3e5b07bc8f2c2291c"
    "3551d96b917c946a2d6c0d8561b443980236babb33fdf08cbdc5a07af3d9eabf2370d30138541a1f94c4ad3e4f12921f"
    "eb4367be28dcda76def383a9db5f928d387cf9330fd8e4aa76df8a3fe5684dda4e193db992c1d47ecb5b5d4e00c254f8"
    "6873a12ceff23d4e752043a0773481552c64d1383d5eb1286fdb662995953c571400001466d6f632697b5e489a929365"
    "57a97fa8140000146efe12f04af90dfbcfb15d71b841bb9e0000001444f517e03fb381f80f842d1538ccffac";
// tcpdump_isakmp4500.pcap frame 7, 328 bytes
const char* const kFloatMm5 =
    "000000009e89f2388f90bc1e0a74357ce3d1a4bf051002010000000000000144a02460dc0eb4dda5061fa741aca029cb"
    "4bacada4ea3fe12490f8947b13267ed5404dd21f0689f710fb4903cdd8e8f1e6e2b5840486415e2b19060c76748fa55d"
    "e73c272625da54e65803aff9a4a60487ac91715746ef40b217e204f050f0aa120b9bea43dff7643664ab9e893ad3ce6c"
    "b6217eceef02a347a36fd0287186fb0f186841e9f82453ceef76d0557c62f61bc12db67402c664b53d1eda0b3c6687c3"
    "206852f0cc9e92d174b2adcae09538d62418445625cbc10338bab7c86b8c6c3fe1c6f3f603c9449e7c386defe57f2847"
    "6f305cebac71949f458e0c98b6ac03efa60ef47955057142861592c8d99272623f673ef3c177cd5d2f6e511a09112602"
    "49ca77271feb1e74b91c3e5310d1f4e5909eb70e86b77fe2fb7e72ace207067c6a34b84f1a40b3d9";
// tcpdump_isakmp4500.pcap frame 8, 304 bytes
const char* const kFloatMm6 =
    "000000009e89f2388f90bc1e0a74357ce3d1a4bf05100201000000000000012cc263a57d2dcf8db58c59c06e1bf85aae"
    "4be2aee6344287a154a8dc29b7ab56451ddc905f56974664d6299dd28390c71ceda33ee699b7657c4a2ac11e925e841b"
    "932b8083190b74de4319e85ae84296a62de33933994135c97226db4351ad2e867b19dac30e7e0b2e3e27e08b1b5e5f89"
    "8bcc4b1ff1ee54f54c0bb7f0656ac734851b495f03905b4fda9b968c35c7c5a4308a64fc751204be487a206684208776"
    "44ccf4b4fb69888f636fe5f477210a1787cbb74e3e88ae055a4a906628c8e35808314a75471f6ddbf6c5ce0639656b62"
    "3374cf043b558b326a9e154422a52857781870a89a9dc6f1f9eb00ee1933a00ac640afbb5897822449536c251bd5d0a9"
    "08c48a011d30fdd54b1620a9a537881e";
// tcpdump_isakmp4500.pcap frame 9, 432 bytes
const char* const kFloatQm1 =
    "000000009e89f2388f90bc1e0a74357ce3d1a4bf081020018b7e8947000001ac71e90fba0473f09ce659e74896090595"
    "f098540dffc63ee08d91ec87452f586da9984844f04ced62f7b534a324a4299da96d3e3273984c04744c02e7fc8e80fb"
    "63c6fcdbf35794e7157386f011409f18506a5ff4cc9239f56de8fe7ee420ca14b40e719af820fe841c6b4c3493d2a57d"
    "7e3019cc2a7065fef3a46d79bf6e4fb60c618a23238ba1be73a47460a589f614bf07296311218018908db5c3b308c9fc"
    "315c3315df1e53ee8d0ba669824df38b6c82adfdf8dbab10fdbc76554922babd7787d25939b2c8402ac118238a840747"
    "bfa39cdf9dddf245194810d412466b738bbbb886afa3c769ef617ee283ea56d28a37345e98170d281a28eff8eee0affb"
    "b3632db49578e51ad87d5a381e964a64b46d3e39445f988f3813a355ed55171288dd1caf1e600002ed93a9a3424beccf"
    "ace9ffd6216a7cb1348398daad5f508eb147f83d87672ab9a171ed28a8d5924b731ba80a774beb6c8a97ffbdc7258c90"
    "7647e5fcd4ce6b5c7946cbff4e0230c40dbe3d97d473e204194bdea52208cd4ad07a87738316cfaaefe1d14e2e46ce78";
// tcpdump_isakmp4500.pcap frame 11, 56 bytes
const char* const kFloatQm3 =
    "000000009e89f2388f90bc1e0a74357ce3d1a4bf081020018b7e894700000034253b31860e68ec8415a4735ab3f8725a"
    "3de7aa093924a402";
// tcpdump_isakmp4500.pcap frame 12, 132 bytes
const char* const kEspUdp =
    "f4dc0ae500000001fce409c451378fdd9a2e17a86f473e3ee279b8a1493e02fa16c88a13e86d8ffc407d4c960b466cb7"
    "7218ab398663aed16730e324d107af2de20dd478f2aa3b3b3bd724892e8fa158355c4d8c9b066e7c6a1dbf5bad899b14"
    "81474f2c6809f0ad6d5ffdfd36a33afb588df399fc42e2656b3d0d4c84ee4b93ccb0f672";
// tcpdump_isakmp4500.pcap frame 18, 1 bytes
const char* const kKeepalive =
    "ff";
// tcpdump_isakmp4500.pcap frame 35, 80 bytes
const char* const kFloatInfo =
    "000000009e89f2388f90bc1e0a74357ce3d1a4bf0810050102bdc64f0000004cffd3cf9123c7c8a768f1921f6a490ce6"
    "80ef9c1bd48746423f4e6a28af75f0af1a87041390471d9e7fd119aff96e02e7";
// openswan_xf88_v1certN3_ike4500_without_marker.pcap frame 1, 1324 bytes
const char* const kNoMarkerMm5 =
    "8001020304050607640a06435c7c4b3105100201000000000000052cf0cb780d7c0407fe5fd3fa0a0b5bd1e026c30517"
    "0bd7b3ce86bacbc09c172fe820d24c85642d4331602272f96ec146ae386b69b4b47c9ab08447a357081eb66594e0f74d"
    "38e8f14410de538a40e68f4545fd01f1587e65692412e6203a2f8bf3e4cdfe8aeca41fb041a44e087a49cb1d0d6ccbcc"
    "a903f24004e5ebe7c1511f4e309872ed1cb31555d4d142d0699f75a8abfafd9e9b231cb5dd7d8b81a009e7f15f086141"
    "b42d96f24b5c4a9fcd06cfb3595af34b6810df802c1483992a06c9f0459bc19e285b192011309bbb9c3f57b624ba9c69"
    "a6dfee0b2202db02a26d9c192f1583a1e7530d44011eb8361ed852a429f4e908dafca0d5f69810cc253a409db389eca4"
    "31157456e976920f437bf610433a34e9e9e0cf8ac5e94bc42b13323fcce234f1d4f311fede5bd7b961696b26a49684c6"
    "15b43d7c96eab8ab87887a68f85ad68daf92685007a0c0292700d616907bc9f7daee4fa2df4028792e0e2548927813ac"
    "4d26b1b3ebfa3378e0881fd858af8d925384de963b5c9a3d164077a1ee4b832765abebb777d105172c65b6d161016133"
    "f23cb9685171b9adb66c29c37e15a0a1650ed4602607d0819508e6a7efb609e3a0c2e5aec4e418897347a3dc6cc60ca6"
    "964a6aefbecd7b724c1ce6533ad478bfdb9ad64ebdb1160ab5006c32772ba151a7581ab877bf5f64af1cbe5950f27a44"
    "3f14775b03dc8c9be69a6e68fb6a2006884daa6cd0046d9fab31603f5c212afc82d13ce3bb7a898517c1e11257e3398f"
    "fc313172b5566905d94085c868f0a4342715f079319163bea0161937220e26b70e002ff8e9736f9c94294d5775645b4b"
    "5cd4daa108897c2ca01a3e2567e2b4ced6e59ac965f1a720bc6e62ac1c8935d3c79f4224b836639e57b52590e1e32b4e"
    "8deff1149c50e0148c69ce8ba5299ab4cdb0cec47206eb7358906196df6aed89dbb17a23d1ef240c7abb7f2b07670483"
    "d3f30826a90143eecacb665d8fe603e0d28cf8da989cf5d1d8e9c185f25c9b16f290d88c3506889c24247c0167241f50"
    "b672b3b5184ac511e79bc6ad6602a1ba1f84d73f1a6800ae08fd143e605fcef01057579e6e633644309aa04529a76281"
    "66cc035961faca87c0c89bea1a2568aa614820e52a756e34a3d1fb269cbdec46b54e25a299b201329bb129fc2e1913c6"
    "a03396e96cae23611f04b7440fcb1a3ae7a87b96c6eb4fc1995d107abcd410bfecc42f8ad1b050777d2fbda413f93614"
    "3b7b78fac7fedd73d1a90767820e6e47f350cad33fbbc623bc89fa84950a29430154e57b8bafb0ea5070854f2422e3b2"
    "ed7c97758d9d2f1e0fc33a2becf8b974b15381b791610a3f40daba73b77475fc37fd7e16d31fed2360c8dbba761edb0e"
    "c8b2be13c40d1bcebdd9b16ef0fba97e18f11e26b5d6a8d312f1d39736a9580e94ed6e8e1c0a3b91f6141efcbd2987eb"
    "842d171705debd1c7941b346a04b61c85093c0e2506fa6daf11799ee0ad6e4071614a999897d99be8334515e857ce345"
    "eb8765bd1412d69099c5e1dbb4a447eed369e5db8a7472ce920a79dd7b07f2c5721e354cb4edb3a275f3dc186ef764e1"
    "b5cc01ec4eda489153cea7370b6911b1dd9e97869ae818addea5b5f46ea530c23a4324b19b05f36d5f020b530ad2697b"
    "d987c369caa93a62f255d93834db155569c319fa02a0225899accbd1bc07cf2e2ebd366ba996d7a57b2aff0c66aa53f1"
    "c5eb80b95a2c31a5e5c7683693abcc4feec4852f43046971681be70a83c7671e0f7d230c662e36433b5c69082472766c"
    "af134973f740eb3e95b14925cf0c8169b3a7b16f247cc2845eceef4a";

// mDNS queries/responses from shared/captures/other/mercury_mdns_capture.pcap whose
// first four bytes are zero (transaction ID 0, flags 0): they look like a non-ESP marker.
const char* const kMdns[] = {
    // 90 bytes
    "000000000001000000000000013101300164013201320134016301610163013101660138013701620139013301300130"
    "013001300130013001300130013001300130013001300138016501660369703604617270610000010001",
    // 90 bytes
    "000000000001000000000000013101300164013201320134016301610163013101660138013701620139013301300130"
    "013001300130013001300130013001300130013001300138016501660369703604617270610000018001",
    // 45 bytes
    "000000000002000000000000055f69707073045f746370056c6f63616c00000c0001045f697070c012000c0001",
    // 210 bytes
    "000000000003000000040000013101300164013201320134016301610163013101660138013701620139013301300130"
    "013001300130013001300130013001300130013001300138016501660369703604617270610000ff8001067562756e74"
    "75056c6f63616c0000ff80010332323103313133033136380331393207696e2d61646472c05000ff8001c05a00010001"
    "000000780004c0a871ddc06c000c0001000000780002c05ac05a001c0001000000780010fe8000000000000039b78f1c"
    "ac422d01c00c000c0001000000780002c05a",
    // 81 bytes
    "0000000000040000000000000a5f73616e652d706f7274045f746370056c6f63616c00000c0001085f7363616e6e6572"
    "c017000c0001075f757363616e73c017000c0001065f757363616ec017000c0001",
    // 127 bytes
    "000000000006000000000000026c62075f646e732d7364045f756470056c6f63616c00000c00010f5f636f6d70616e69"
    "6f6e2d6c696e6b045f746370c01c000c0001085f616972706c6179c037000c0001055f72616f70c037000c0001085f68"
    "6f6d656b6974c037000c00010c5f736c6565702d70726f7879c017000c0001",
    // 168 bytes
    "000000000008000000000001026c62075f646e732d7364045f756470056c6f63616c00000c80010f5f636f6d70616e69"
    "6f6e2d6c696e6b045f746370c01c000c8001085f616972706c6179c037000c8001055f72616f70c037000c8001085f68"
    "6f6d656b6974c037000c8001c042000c8001c051000c80010c5f736c6565702d70726f7879c017000c800100002905a0"
    "0000119400120004000e00a4aac08b44484d4e9fb5612bd6",
    // 141 bytes
    "000000000009000000000000055f69707073045f746370056c6f63616c00000c8001045f667470c012000c8001075f77"
    "6562646176c012000c8001085f77656264617673c012000c8001095f736674702d737368c012000c8001045f736d62c0"
    "12000c80010b5f6166706f766572746370c012000c8001045f6e6673c012000c8001045f697070c012000c8001",
    // 358 bytes
    "000000000014000000000000085f616972706f7274045f746370056c6f63616c00000c0001075f72646c696e6bc01500"
    "0c0001065f757363616ec015000c0001085f7363616e6e6572c015000c0001075f697070757362c015000c0001045f70"
    "7470c015000c0001075f757363616e73c015000c00010f5f70646c2d6461746173747265616dc015000c0001085f7072"
    "696e746572c015000c0001085f616972706c6179c015000c0001055f72616f70c015000c00010b5f6166706f76657274"
    "6370c015000c0001045f736d62c015000c0001045f726662c015000c0001065f616469736bc015000c00010f5f636f6d"
    "70616e696f6e2d6c696e6bc015000c00010d5f6170706c652d6d6f62646576c015000c0001083935363130383264045f"
    "7375620e5f6170706c652d6d6f6264657632c015000c00010f5f6170706c652d7061697261626c65c015000c00010c5f"
    "736c6565702d70726f7879045f756470c01a000c0001",
    // 381 bytes
    "000000000016000000000000085f616972706f7274045f746370056c6f63616c00000c0001075f72646c696e6bc01500"
    "0c0001045f697070c015000c0001065f757363616ec015000c0001085f7363616e6e6572c015000c0001075f69707075"
    "7362c015000c0001045f707470c015000c0001055f69707073c015000c0001075f757363616e73c015000c00010f5f70"
    "646c2d6461746173747265616dc015000c0001085f7072696e746572c015000c0001085f616972706c6179c015000c00"
    "01055f72616f70c015000c00010b5f6166706f766572746370c015000c0001045f736d62c015000c0001045f726662c0"
    "15000c0001065f616469736bc015000c00010f5f636f6d70616e696f6e2d6c696e6bc015000c00010d5f6170706c652d"
    "6d6f62646576c015000c0001083935363130383264045f7375620e5f6170706c652d6d6f6264657632c015000c00010f"
    "5f6170706c652d7061697261626c65c015000c00010c5f736c6565702d70726f7879045f756470c01a000c0001",
    // 410 bytes
    "000000000016000000000001085f616972706f7274045f746370056c6f63616c00000c0001075f72646c696e6bc01500"
    "0c0001045f697070c015000c0001065f757363616ec015000c0001085f7363616e6e6572c015000c0001075f69707075"
    "7362c015000c0001045f707470c015000c0001055f69707073c015000c0001075f757363616e73c015000c00010f5f70"
    "646c2d6461746173747265616dc015000c0001085f7072696e746572c015000c0001085f616972706c6179c015000c00"
    "01055f72616f70c015000c00010b5f6166706f766572746370c015000c0001045f736d62c015000c0001045f726662c0"
    "15000c0001065f616469736bc015000c00010f5f636f6d70616e696f6e2d6c696e6bc015000c00010d5f6170706c652d"
    "6d6f62646576c015000c0001083935363130383264045f7375620e5f6170706c652d6d6f6264657632c015000c00010f"
    "5f6170706c652d7061697261626c65c015000c00010c5f736c6565702d70726f7879045f756470c01a000c0001000029"
    "05a00000119400120004000e0025acde48001122f01898b34e57",
    // 410 bytes
    "000000000016000000000001085f616972706f7274045f746370056c6f63616c00000c8001075f72646c696e6bc01500"
    "0c8001045f697070c015000c8001065f757363616ec015000c8001085f7363616e6e6572c015000c8001075f69707075"
    "7362c015000c8001045f707470c015000c8001055f69707073c015000c8001075f757363616e73c015000c80010f5f70"
    "646c2d6461746173747265616dc015000c8001085f7072696e746572c015000c8001085f616972706c6179c015000c80"
    "01055f72616f70c015000c80010b5f6166706f766572746370c015000c8001045f736d62c015000c8001045f726662c0"
    "15000c8001065f616469736bc015000c80010f5f636f6d70616e696f6e2d6c696e6bc015000c80010d5f6170706c652d"
    "6d6f62646576c015000c8001083935363130383264045f7375620e5f6170706c652d6d6f6264657632c015000c80010f"
    "5f6170706c652d7061697261626c65c015000c80010c5f736c6565702d70726f7879045f756470c01a000c8001000029"
    "05a00000119400120004000e0025acde48001122f01898b34e57",
};

// The RFC 3947 vendor ID: MD5("RFC 3947").
const char* const kVidRfc3947 = "4a131c81070358455c5728f20e95452f";

struct Real {
    const char* name;
    const char* hex;
    bool floated;  // starts with the 4-byte non-ESP marker
};

const Real kReal[] = {
    {"MM1", kMm1, false},           {"MM2", kMm2, false},
    {"MM3", kMm3, false},           {"MM4", kMm4, false},
    {"MM5", kMm5, false},           {"MM6", kMm6, false},
    {"QM1", kQm1, false},           {"QM3", kQm3, false},
    {"AM1", kAm1, false},           {"AM2", kAm2, false},
    {"AM3", kAm3, false},           {"V2 SA_INIT req", kV2SaInitReq, false},
    {"V2 SA_INIT resp", kV2SaInitResp, false}, {"V2 AUTH req", kV2AuthReq, false},
    {"V2 AUTH resp", kV2AuthResp, false},      {"V2 INFO req", kV2InfoReq, false},
    {"V2 INFO resp", kV2InfoResp, false},      {"NAT MM1", kNatMm1, false},
    {"NAT MM2", kNatMm2, false},    {"NAT MM3", kNatMm3, false},
    {"floated MM5", kFloatMm5, true}, {"floated MM6", kFloatMm6, true},
    {"floated QM1", kFloatQm1, true}, {"floated QM3", kFloatQm3, true},
    {"floated INFO", kFloatInfo, true}, {"no-marker MM5", kNoMarkerMm5, false},
};

// ---------------------------------------------------------------------------
// Names

void test_names(void**) {
    const HeaderCheck hcs[] = {HeaderCheck::Ok,         HeaderCheck::TooShort,       HeaderCheck::BadVersion,
                               HeaderCheck::BadExchange, HeaderCheck::BadNextPayload, HeaderCheck::BadFlags,
                               HeaderCheck::ZeroInitiatorSpi, HeaderCheck::BadLength, HeaderCheck::LengthMismatch,
                               HeaderCheck::NonZeroMsgId};
    const ChainStatus css[] = {ChainStatus::Complete, ChainStatus::Encrypted, ChainStatus::BadPayloadLength,
                               ChainStatus::TrailingBytes, ChainStatus::TooManyPayloads};
    const DatagramKind dks[] = {DatagramKind::None,     DatagramKind::PlainIke,         DatagramKind::FloatedIke,
                                DatagramKind::Keepalive, DatagramKind::EspInUdp,        DatagramKind::IkeWithoutMarker,
                                DatagramKind::Malformed};
    const Malformation mfs[] = {Malformation::None,         Malformation::Empty,        Malformation::TooShortForEsp,
                                Malformation::OneByteNotFF, Malformation::MarkerBadIke, Malformation::IkeHeaderInvalid};
    std::vector<std::string> seen;
    auto distinct = [&seen](const char* s) {
        assert_non_null(s);
        assert_true(std::strlen(s) > 0);
        assert_string_not_equal(s, "?");
        for (const std::string& o : seen) assert_string_not_equal(o.c_str(), s);
        seen.push_back(s);
    };
    for (HeaderCheck c : hcs) distinct(natt::header_check_name(c));
    seen.clear();
    for (ChainStatus c : css) distinct(natt::chain_status_name(c));
    seen.clear();
    for (DatagramKind c : dks) distinct(natt::datagram_kind_name(c));
    seen.clear();
    for (Malformation c : mfs) distinct(natt::malformation_name(c));

    assert_string_equal(natt::header_check_name(HeaderCheck::Ok), "ok");
    assert_string_equal(natt::chain_status_name(ChainStatus::Encrypted), "encrypted");
    assert_string_equal(natt::datagram_kind_name(DatagramKind::Keepalive), "NAT-T keepalive");
    assert_string_equal(natt::malformation_name(Malformation::None), "none");

    // Values outside the enums (a corrupted byte) still give a string.
    assert_string_equal(natt::header_check_name(static_cast<HeaderCheck>(200)), "?");
    assert_string_equal(natt::chain_status_name(static_cast<ChainStatus>(200)), "?");
    assert_string_equal(natt::datagram_kind_name(static_cast<DatagramKind>(200)), "?");
    assert_string_equal(natt::malformation_name(static_cast<Malformation>(200)), "?");
}

// ---------------------------------------------------------------------------
// IkeHeader accessors

void test_header_accessors(void**) {
    IkeHeader h;
    h.version = 0x10;
    h.flags = 0x01;
    assert_int_equal(h.major(), 1);
    assert_false(h.is_v2());
    assert_true(h.v1_encrypted());
    assert_false(h.v2_initiator());
    assert_false(h.v2_response());
    h.flags = 0x28;  // IKEv1 has no I/R flags
    assert_false(h.v1_encrypted());
    assert_false(h.v2_initiator());
    assert_false(h.v2_response());

    h.version = 0x20;
    h.flags = 0x01;  // bit 0 is reserved in IKEv2, not "encrypted"
    assert_int_equal(h.major(), 2);
    assert_true(h.is_v2());
    assert_false(h.v1_encrypted());
    h.flags = 0x08;
    assert_true(h.v2_initiator());
    assert_false(h.v2_response());
    h.flags = 0x20;
    assert_false(h.v2_initiator());
    assert_true(h.v2_response());
    h.flags = 0x28;
    assert_true(h.v2_initiator());
    assert_true(h.v2_response());

    h.version = 0x2f;
    assert_int_equal(h.major(), 2);
    h.version = 0xf0;
    assert_int_equal(h.major(), 15);
}

// ---------------------------------------------------------------------------
// parse_ike_header on real messages

void test_header_real_v1(void**) {
    const Bytes mm1 = from_hex(kMm1);
    for (Strictness s : {Strictness::Port, Strictness::Heuristic}) {
        IkeHeader h;
        assert_hc(HeaderCheck::Ok, natt::parse_ike_header(mm1.data(), mm1.size(), s, &h));
        assert_true(h.ispi == 0xe47a591fd057587full);
        assert_true(h.rspi == 0);
        assert_int_equal(h.next_payload, natt::kPlV1Sa);
        assert_int_equal(h.version, 0x10);
        assert_int_equal(h.exchange, natt::kExIdentityProtection);
        assert_int_equal(h.flags, 0);
        assert_int_equal(h.msgid, 0);
        assert_int_equal(h.length, 168);
        assert_int_equal(mm1.size(), 168);
        assert_false(h.v1_encrypted());
    }

    IkeHeader h;
    const Bytes mm2 = from_hex(kMm2);
    assert_hc(HeaderCheck::Ok, natt::parse_ike_header(mm2.data(), mm2.size(), Strictness::Heuristic, &h));
    assert_true(h.ispi == 0xe47a591fd057587full);
    assert_true(h.rspi == 0xa00b8ef0902bb8ecull);
    assert_int_equal(h.length, 108);

    const Bytes mm5 = from_hex(kMm5);
    assert_hc(HeaderCheck::Ok, natt::parse_ike_header(mm5.data(), mm5.size(), Strictness::Heuristic, &h));
    assert_int_equal(h.next_payload, 5);  // ID, under encryption
    assert_int_equal(h.flags, 0x01);
    assert_true(h.v1_encrypted());
    assert_int_equal(h.length, 108);

    const Bytes qm1 = from_hex(kQm1);
    assert_hc(HeaderCheck::Ok, natt::parse_ike_header(qm1.data(), qm1.size(), Strictness::Heuristic, &h));
    assert_int_equal(h.exchange, natt::kExQuickMode);
    assert_int_equal(h.next_payload, 8);  // HASH
    assert_int_equal(h.msgid, 0x635a2e6a);
    assert_int_equal(h.length, 220);

    const Bytes am1 = from_hex(kAm1);
    assert_hc(HeaderCheck::Ok, natt::parse_ike_header(am1.data(), am1.size(), Strictness::Heuristic, &h));
    assert_true(h.ispi == 0xe47a591f78c99d7full);
    assert_int_equal(h.exchange, natt::kExAggressive);
    assert_int_equal(h.length, 388);

    // Without out: only the verdict.
    assert_hc(HeaderCheck::Ok, natt::parse_ike_header(mm1.data(), mm1.size(), Strictness::Heuristic, nullptr));
}

void test_header_real_v2(void**) {
    IkeHeader h;
    const Bytes req = from_hex(kV2SaInitReq);
    assert_hc(HeaderCheck::Ok, natt::parse_ike_header(req.data(), req.size(), Strictness::Heuristic, &h));
    assert_true(h.ispi == 0x81f24c0acd8fa55cull);
    assert_true(h.rspi == 0);
    assert_int_equal(h.next_payload, natt::kPlV2Sa);
    assert_int_equal(h.version, 0x20);
    assert_int_equal(h.exchange, natt::kExIkeSaInit);
    assert_int_equal(h.flags, 0x08);
    assert_true(h.is_v2());
    assert_true(h.v2_initiator());
    assert_false(h.v2_response());
    assert_int_equal(h.msgid, 0);
    assert_int_equal(h.length, 240);

    const Bytes resp = from_hex(kV2SaInitResp);
    assert_hc(HeaderCheck::Ok, natt::parse_ike_header(resp.data(), resp.size(), Strictness::Heuristic, &h));
    assert_true(h.rspi == 0x192383172724c706ull);
    assert_int_equal(h.flags, 0x20);
    assert_false(h.v2_initiator());
    assert_true(h.v2_response());
    assert_int_equal(h.length, 248);

    const Bytes auth = from_hex(kV2AuthReq);
    assert_hc(HeaderCheck::Ok, natt::parse_ike_header(auth.data(), auth.size(), Strictness::Heuristic, &h));
    assert_int_equal(h.exchange, natt::kExIkeAuth);
    assert_int_equal(h.next_payload, natt::kPlV2Encrypted);
    assert_int_equal(h.msgid, 1);
    assert_int_equal(h.length, 261);

    const Bytes info = from_hex(kV2InfoResp);
    assert_hc(HeaderCheck::Ok, natt::parse_ike_header(info.data(), info.size(), Strictness::Heuristic, &h));
    assert_int_equal(h.exchange, natt::kExInformationalV2);
    assert_int_equal(h.msgid, 2);
    assert_int_equal(h.length, 73);
}

void test_header_all_real_ok(void**) {
    for (const Real& r : kReal) {
        Bytes b = from_hex(r.hex);
        size_t skip = r.floated ? natt::kNonEspMarkerLen : 0;
        for (Strictness s : {Strictness::Port, Strictness::Heuristic}) {
            IkeHeader h;
            HeaderCheck c = natt::parse_ike_header(b.data() + skip, b.size() - skip, s, &h);
            if (c != HeaderCheck::Ok) fail_msg("%s: %s", r.name, natt::header_check_name(c));
            assert_int_equal(h.length, b.size() - skip);
        }
    }
}

// ---------------------------------------------------------------------------
// parse_ike_header: every HeaderCheck value

void test_header_too_short(void**) {
    IkeHeader h;
    h.ispi = 0x5555;  // sentinel: TooShort must not touch out
    for (Strictness s : {Strictness::Port, Strictness::Heuristic}) {
        assert_hc(HeaderCheck::TooShort, natt::parse_ike_header(nullptr, 0, s, &h));
        assert_hc(HeaderCheck::TooShort, natt::parse_ike_header(nullptr, 100, s, &h));
        assert_hc(HeaderCheck::TooShort, natt::parse_ike_header(nullptr, 0, s, nullptr));
        const Bytes mm1 = from_hex(kMm1);
        for (size_t n = 0; n < natt::kIkeHeaderLen; ++n) {
            Exact e(mm1.data(), n);
            assert_hc(HeaderCheck::TooShort, natt::parse_ike_header(e.data(), n, s, &h));
        }
        assert_true(h.ispi == 0x5555);
    }
}

void test_header_bad_version(void**) {
    // Major version other than 1 or 2: rejected at both strictness levels,
    // and before the length is looked at.
    for (unsigned v = 0; v < 256; ++v) {
        Bytes b = header(1, static_cast<uint8_t>(v), natt::kExIdentityProtection, 0, 0, natt::kIkeHeaderLen);
        b[16] = (v >> 4) == 2 ? natt::kPlV2Sa : natt::kPlV1Sa;
        b[18] = (v >> 4) == 2 ? natt::kExIkeSaInit : natt::kExIdentityProtection;
        const unsigned major = v >> 4, minor = v & 0x0f;
        HeaderCheck port = hdr_check(b, Strictness::Port);
        HeaderCheck heur = hdr_check(b, Strictness::Heuristic);
        if (major != 1 && major != 2) {
            assert_hc(HeaderCheck::BadVersion, port);
            assert_hc(HeaderCheck::BadVersion, heur);
        } else if (minor != 0) {
            assert_hc(HeaderCheck::Ok, port);  // Wireshark decodes any minor
            assert_hc(HeaderCheck::BadVersion, heur);
        } else {
            assert_hc(HeaderCheck::Ok, port);
            assert_hc(HeaderCheck::Ok, heur);
        }
    }
    // The version is checked before the length.
    Bytes b = header(1, 0x30, 2, 0, 0, 0xffffffff);
    assert_hc(HeaderCheck::BadVersion, hdr_check(b, Strictness::Port));
    // out is filled in even when the verdict is not Ok.
    IkeHeader h;
    assert_hc(HeaderCheck::BadVersion, natt::parse_ike_header(b.data(), b.size(), Strictness::Port, &h));
    assert_int_equal(h.version, 0x30);
    assert_int_equal(h.length, 0xffffffffu);
}

void test_header_bad_length(void**) {
    const Bytes mm1 = from_hex(kMm1);
    for (uint32_t len : {0u, 1u, 27u, 169u, 0x10000u, 0xffffffffu}) {
        Bytes b = mm1;
        put32(b, 24, len);
        assert_hc(HeaderCheck::BadLength, hdr_check(b, Strictness::Port));
        assert_hc(HeaderCheck::BadLength, hdr_check(b, Strictness::Heuristic));
    }
    // A header length shorter than the datagram: fine on an IKE port,
    // LengthMismatch for the heuristic.
    for (uint32_t len : {28u, 100u, 167u}) {
        Bytes b = mm1;
        put32(b, 24, len);
        assert_hc(HeaderCheck::Ok, hdr_check(b, Strictness::Port));
        assert_hc(HeaderCheck::LengthMismatch, hdr_check(b, Strictness::Heuristic));
    }
    // Bytes after the message (UDP padding): the same.
    Bytes padded = cat(mm1, Bytes(8, 0));
    assert_hc(HeaderCheck::Ok, hdr_check(padded, Strictness::Port));
    assert_hc(HeaderCheck::LengthMismatch, hdr_check(padded, Strictness::Heuristic));
    // A bare 28-byte header whose length says 28.
    Bytes bare = header(0, 0x20, natt::kExInformationalV2, 0x08, 5, 28);
    assert_hc(HeaderCheck::Ok, hdr_check(bare, Strictness::Heuristic));
}

bool v1_exchange(unsigned x) { return (x >= 1 && x <= 6) || x == 32 || x == 33; }
bool v2_exchange(unsigned x) { return (x >= 34 && x <= 38) || x == 43 || x == 44; }

void test_header_bad_exchange(void**) {
    for (unsigned x = 0; x < 256; ++x) {
        // msgid 1 everywhere but phase 1 / IKE_SA_INIT, which require 0.
        const bool p1 = x == 2 || x == 4 || x == 34;
        Bytes v1 = header(natt::kPlV1Sa, 0x10, static_cast<uint8_t>(x), 0, p1 ? 0 : 1, 28);
        Bytes v2 = header(natt::kPlV2Sa, 0x20, static_cast<uint8_t>(x), 0x08, p1 ? 0 : 1, 28);
        assert_hc(HeaderCheck::Ok, hdr_check(v1, Strictness::Port));
        assert_hc(HeaderCheck::Ok, hdr_check(v2, Strictness::Port));
        assert_hc(v1_exchange(x) ? HeaderCheck::Ok : HeaderCheck::BadExchange, hdr_check(v1, Strictness::Heuristic));
        assert_hc(v2_exchange(x) ? HeaderCheck::Ok : HeaderCheck::BadExchange, hdr_check(v2, Strictness::Heuristic));
    }
}

bool v1_first_payload(unsigned t) { return (t >= 1 && t <= 21) || (t >= 130 && t <= 132); }
bool v2_first_payload(unsigned t) { return t == 0 || (t >= 33 && t <= 54); }

void test_header_bad_next_payload(void**) {
    for (unsigned t = 0; t < 256; ++t) {
        Bytes v1 = header(static_cast<uint8_t>(t), 0x10, natt::kExIdentityProtection, 0, 0, 28);
        Bytes v2 = header(static_cast<uint8_t>(t), 0x20, natt::kExIkeSaInit, 0x08, 0, 28);
        assert_hc(HeaderCheck::Ok, hdr_check(v1, Strictness::Port));
        assert_hc(HeaderCheck::Ok, hdr_check(v2, Strictness::Port));
        assert_hc(v1_first_payload(t) ? HeaderCheck::Ok : HeaderCheck::BadNextPayload,
                  hdr_check(v1, Strictness::Heuristic));
        assert_hc(v2_first_payload(t) ? HeaderCheck::Ok : HeaderCheck::BadNextPayload,
                  hdr_check(v2, Strictness::Heuristic));
    }
}

void test_header_bad_flags(void**) {
    for (unsigned f = 0; f < 256; ++f) {
        Bytes v1 = header(natt::kPlV1Sa, 0x10, natt::kExIdentityProtection, static_cast<uint8_t>(f), 0, 28);
        Bytes v2 = header(natt::kPlV2Sa, 0x20, natt::kExIkeSaInit, static_cast<uint8_t>(f), 0, 28);
        assert_hc(HeaderCheck::Ok, hdr_check(v1, Strictness::Port));
        assert_hc(HeaderCheck::Ok, hdr_check(v2, Strictness::Port));
        // IKEv1: E(1) C(2) A(4). IKEv2: I(8) V(0x10) R(0x20).
        assert_hc((f & ~0x07u) == 0 ? HeaderCheck::Ok : HeaderCheck::BadFlags, hdr_check(v1, Strictness::Heuristic));
        assert_hc((f & ~0x38u) == 0 ? HeaderCheck::Ok : HeaderCheck::BadFlags, hdr_check(v2, Strictness::Heuristic));
    }
}

void test_header_zero_ispi(void**) {
    Bytes v1 = header(natt::kPlV1Sa, 0x10, natt::kExIdentityProtection, 0, 0, 28, 0, kRspi);
    Bytes v2 = header(natt::kPlV2Sa, 0x20, natt::kExIkeSaInit, 0x08, 0, 28, 0, kRspi);
    assert_hc(HeaderCheck::Ok, hdr_check(v1, Strictness::Port));
    assert_hc(HeaderCheck::ZeroInitiatorSpi, hdr_check(v1, Strictness::Heuristic));
    assert_hc(HeaderCheck::Ok, hdr_check(v2, Strictness::Port));
    assert_hc(HeaderCheck::ZeroInitiatorSpi, hdr_check(v2, Strictness::Heuristic));
    // Only the initiator's half matters: a zero responder SPI is normal.
    Bytes r0 = header(natt::kPlV1Sa, 0x10, natt::kExIdentityProtection, 0, 0, 28, kIspi, 0);
    assert_hc(HeaderCheck::Ok, hdr_check(r0, Strictness::Heuristic));
    // One non-zero bit in the low half is enough.
    Bytes lo = header(natt::kPlV1Sa, 0x10, natt::kExIdentityProtection, 0, 0, 28, 1, 0);
    assert_hc(HeaderCheck::Ok, hdr_check(lo, Strictness::Heuristic));
}

void test_header_nonzero_msgid(void**) {
    struct {
        uint8_t version, exchange, np, flags;
        bool phase1;
    } cases[] = {
        {0x10, natt::kExIdentityProtection, natt::kPlV1Sa, 0, true},
        {0x10, natt::kExAggressive, natt::kPlV1Sa, 0, true},
        {0x20, natt::kExIkeSaInit, natt::kPlV2Sa, 0x08, true},
        {0x10, natt::kExQuickMode, 8, 1, false},
        {0x10, natt::kExInformational, 8, 1, false},
        {0x10, natt::kExTransaction, 8, 1, false},
        {0x20, natt::kExIkeAuth, natt::kPlV2Encrypted, 0x08, false},
        {0x20, natt::kExCreateChildSa, natt::kPlV2Encrypted, 0x20, false},
        {0x20, natt::kExInformationalV2, natt::kPlV2Encrypted, 0x28, false},
    };
    for (const auto& c : cases) {
        for (uint32_t msgid : {1u, 0x635a2e6au, 0xffffffffu}) {
            Bytes b = header(c.np, c.version, c.exchange, c.flags, msgid, 28);
            assert_hc(HeaderCheck::Ok, hdr_check(b, Strictness::Port));
            assert_hc(c.phase1 ? HeaderCheck::NonZeroMsgId : HeaderCheck::Ok, hdr_check(b, Strictness::Heuristic));
        }
        Bytes z = header(c.np, c.version, c.exchange, c.flags, 0, 28);
        assert_hc(HeaderCheck::Ok, hdr_check(z, Strictness::Heuristic));
    }
    // Real: MM1 with a message ID.
    Bytes mm1 = from_hex(kMm1);
    put32(mm1, 20, 0x00000100);
    assert_hc(HeaderCheck::NonZeroMsgId, hdr_check(mm1, Strictness::Heuristic));
}

void test_header_check_order(void**) {
    // Several faults at once: the first in the documented order wins.
    Bytes b = header(200, 0x10, 99, 0xff, 7, 28, 0);
    assert_hc(HeaderCheck::BadExchange, hdr_check(b, Strictness::Heuristic));
    b[18] = natt::kExIdentityProtection;
    assert_hc(HeaderCheck::BadNextPayload, hdr_check(b, Strictness::Heuristic));
    b[16] = natt::kPlV1Sa;
    assert_hc(HeaderCheck::ZeroInitiatorSpi, hdr_check(b, Strictness::Heuristic));
    b[7] = 1;
    assert_hc(HeaderCheck::NonZeroMsgId, hdr_check(b, Strictness::Heuristic));
    put32(b, 20, 0);
    // Reserved flag bits last, then the length: a caller may accept either
    // (receivers ignore reserved flags) knowing every other field is sound.
    b.push_back(0);
    assert_hc(HeaderCheck::BadFlags, hdr_check(b, Strictness::Heuristic));
    b[19] = 0;
    assert_hc(HeaderCheck::LengthMismatch, hdr_check(b, Strictness::Heuristic));
    b.pop_back();
    assert_hc(HeaderCheck::Ok, hdr_check(b, Strictness::Heuristic));
    // In Port mode none of those were looked at.
    Bytes p = header(200, 0x1f, 99, 0xff, 7, 28, 0);
    assert_hc(HeaderCheck::Ok, hdr_check(p, Strictness::Port));
}

// ---------------------------------------------------------------------------
// parse_ike_message on real messages

void test_msg_main_mode_1_2(void**) {
    Parsed m = parse_ok(from_hex(kMm1));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.chain_error_offset, 0);
    assert_int_equal(m.n_payloads, 5);
    expect_payload(m.payloads[0], natt::kPlV1Sa, 32, 56);
    expect_payload(m.payloads[1], natt::kPlV1VendorId, 92, 16);
    expect_payload(m.payloads[2], natt::kPlV1VendorId, 112, 16);
    expect_payload(m.payloads[3], natt::kPlV1VendorId, 132, 16);
    expect_payload(m.payloads[4], natt::kPlV1VendorId, 152, 16);
    assert_int_equal(m.n_vendor_ids, 4);
    for (int i = 0; i < 4; ++i) expect_payload(m.vendor_ids[i], natt::kPlV1VendorId, 92 + 20 * i, 16);
    // The first vendor ID is RFC 3947's.
    const Bytes mm1 = from_hex(kMm1);
    const Bytes vid = from_hex(kVidRfc3947);
    assert_memory_equal(mm1.data() + m.vendor_ids[0].offset, vid.data(), 16);
    assert_int_equal(m.n_natd, 0);
    assert_int_equal(m.n_notify, 0);
    assert_true(m.has_sa);
    assert_false(m.has_delete);
    assert_false(m.has_fragment);
    assert_int_equal(m.v1_hash, natt::kHashSha1);
    assert_int_equal(m.v1_transforms, 1);

    // MM2: the responder's choice, one transform, SHA.
    m = parse_ok(from_hex(kMm2));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 2);
    expect_payload(m.payloads[0], natt::kPlV1Sa, 32, 56);
    expect_payload(m.payloads[1], natt::kPlV1VendorId, 92, 16);
    assert_int_equal(m.n_vendor_ids, 1);
    assert_true(m.has_sa);
    assert_int_equal(m.v1_hash, natt::kHashSha1);
    assert_int_equal(m.v1_transforms, 1);
    assert_true(m.hdr.rspi == 0xa00b8ef0902bb8ecull);
}

void test_msg_main_mode_3_4(void**) {
    Parsed m = parse_ok(from_hex(kMm3));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 7);
    const uint8_t t3[] = {4, 10, 13, 13, 13, 20, 20};
    const uint32_t o3[] = {32, 164, 188, 208, 228, 240, 264};
    const uint32_t l3[] = {128, 20, 16, 16, 8, 20, 20};
    for (int i = 0; i < 7; ++i) expect_payload(m.payloads[i], t3[i], o3[i], l3[i]);
    assert_int_equal(m.n_vendor_ids, 3);
    expect_payload(m.vendor_ids[2], natt::kPlV1VendorId, 228, 8);  // XAUTH, 8 bytes
    assert_int_equal(m.n_natd, 2);
    expect_payload(m.natd[0], natt::kPlV1NatDRfc, 240, 20);
    expect_payload(m.natd[1], natt::kPlV1NatDRfc, 264, 20);
    assert_false(m.has_sa);
    assert_int_equal(m.v1_hash, natt::kHashNone);
    assert_int_equal(m.v1_transforms, 0);

    m = parse_ok(from_hex(kMm4));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 8);
    assert_int_equal(m.n_vendor_ids, 4);
    assert_int_equal(m.n_natd, 2);
    expect_payload(m.natd[0], natt::kPlV1NatDRfc, 260, 20);
    expect_payload(m.natd[1], natt::kPlV1NatDRfc, 284, 20);
    assert_int_equal(m.natd[1].offset + m.natd[1].length, 304);  // the last payload ends the message
}

void test_msg_encrypted_v1(void**) {
    struct {
        const char* hex;
        uint8_t exchange, np;
        uint32_t msgid, length;
    } cases[] = {
        {kMm5, natt::kExIdentityProtection, 5, 0, 108},
        {kMm6, natt::kExIdentityProtection, 5, 0, 76},
        {kQm1, natt::kExQuickMode, 8, 0x635a2e6a, 220},
        {kQm3, natt::kExQuickMode, 8, 0x635a2e6a, 60},
        {kAm3, natt::kExAggressive, 8, 0, 140},
        {kNoMarkerMm5, natt::kExIdentityProtection, 5, 0, 1324},
    };
    for (const auto& c : cases) {
        for (Strictness s : {Strictness::Port, Strictness::Heuristic}) {
            Parsed m = parse_ok(from_hex(c.hex), s);
            assert_chain(ChainStatus::Encrypted, m.chain);
            assert_true(m.hdr.v1_encrypted());
            assert_int_equal(m.hdr.exchange, c.exchange);
            assert_int_equal(m.hdr.next_payload, c.np);
            assert_int_equal(m.hdr.msgid, c.msgid);
            assert_int_equal(m.hdr.length, c.length);
            // Nothing is read from ciphertext.
            assert_int_equal(m.n_payloads, 0);
            assert_int_equal(m.n_vendor_ids, 0);
            assert_int_equal(m.n_natd, 0);
            assert_int_equal(m.n_notify, 0);
            assert_false(m.has_sa);
        }
    }
}

void test_msg_aggressive(void**) {
    Parsed m = parse_ok(from_hex(kAm1));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 11);
    const uint8_t t1[] = {1, 13, 13, 13, 13, 4, 10, 5, 13, 13, 13};
    const uint32_t o1[] = {32, 92, 112, 132, 152, 172, 304, 328, 340, 360, 372};
    for (int i = 0; i < 11; ++i) {
        assert_int_equal(m.payloads[i].type, t1[i]);
        assert_int_equal(m.payloads[i].offset, o1[i]);
    }
    assert_int_equal(m.n_vendor_ids, 7);
    assert_int_equal(m.n_natd, 0);  // NAT-D comes from the responder in AM2
    assert_true(m.has_sa);
    assert_int_equal(m.v1_hash, natt::kHashSha1);
    assert_int_equal(m.v1_transforms, 1);

    m = parse_ok(from_hex(kAm2));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 12);
    assert_int_equal(m.payloads[9].type, 8);  // HASH_R
    assert_int_equal(m.n_vendor_ids, 5);
    assert_int_equal(m.n_natd, 2);
    expect_payload(m.natd[0], natt::kPlV1NatDRfc, 376, 20);
    expect_payload(m.natd[1], natt::kPlV1NatDRfc, 400, 20);
    assert_int_equal(m.v1_hash, natt::kHashSha1);
    assert_int_equal(m.v1_transforms, 1);
}

void test_msg_natt_main_mode(void**) {
    // tcpdump_isakmp4500: the initiator offers four transforms (MD5, SHA, SHA,
    // MD5); the responder picks the first.
    Parsed m = parse_ok(from_hex(kNatMm1));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 7);
    expect_payload(m.payloads[0], natt::kPlV1Sa, 32, 144);
    expect_payload(m.payloads[1], natt::kPlV1VendorId, 180, 12);
    expect_payload(m.payloads[6], natt::kPlV1VendorId, 276, 16);
    assert_int_equal(m.n_vendor_ids, 6);
    assert_int_equal(m.v1_transforms, 4);
    assert_int_equal(m.v1_hash, natt::kHashMd5);

    m = parse_ok(from_hex(kNatMm2));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 4);
    expect_payload(m.payloads[0], natt::kPlV1Sa, 32, 48);
    assert_int_equal(m.n_vendor_ids, 3);
    assert_int_equal(m.v1_transforms, 1);
    assert_int_equal(m.v1_hash, natt::kHashMd5);

    // MM3 with MD5 NAT-D hashes (16 bytes).
    m = parse_ok(from_hex(kNatMm3));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 4);
    assert_int_equal(m.n_natd, 2);
    expect_payload(m.natd[0], natt::kPlV1NatDRfc, 248, 16);
    expect_payload(m.natd[1], natt::kPlV1NatDRfc, 268, 16);
    assert_int_equal(m.n_vendor_ids, 0);
}

void test_msg_ikev2_sa_init(void**) {
    const Bytes req = from_hex(kV2SaInitReq);
    Parsed m = parse_ok(req);
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 5);
    expect_payload(m.payloads[0], natt::kPlV2Sa, 32, 44);
    expect_payload(m.payloads[1], 34, 80, 68);   // KE
    expect_payload(m.payloads[2], 40, 152, 32);  // Nonce
    expect_payload(m.payloads[3], natt::kPlV2Notify, 188, 24);
    expect_payload(m.payloads[4], natt::kPlV2Notify, 216, 24);
    assert_true(m.has_sa);
    assert_int_equal(m.n_notify, 2);
    assert_int_equal(m.notify_types[0], natt::kNtfyV2NatDetectionSourceIp);
    assert_int_equal(m.notify_types[1], natt::kNtfyV2NatDetectionDestinationIp);
    assert_int_equal(m.notify_types[0], 16388);
    assert_int_equal(m.notify_types[1], 16389);
    // Notification data: the 20-byte SHA-1 NAT detection hashes.
    expect_payload(m.notify_data[0], natt::kPlV2Notify, 192, 20);
    expect_payload(m.notify_data[1], natt::kPlV2Notify, 220, 20);
    assert_int_equal(req[192], 0x1d);
    // IKEv2 fields that belong to IKEv1 stay empty.
    assert_int_equal(m.n_natd, 0);
    assert_int_equal(m.n_vendor_ids, 0);
    assert_int_equal(m.v1_transforms, 0);
    assert_int_equal(m.v1_hash, natt::kHashNone);
    assert_false(m.has_delete);
    assert_false(m.has_fragment);

    m = parse_ok(from_hex(kV2SaInitResp));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 6);
    assert_int_equal(m.n_notify, 3);
    assert_int_equal(m.notify_types[0], 16388);
    assert_int_equal(m.notify_types[1], 16389);
    assert_int_equal(m.notify_types[2], 16404);  // MULTIPLE_AUTH_SUPPORTED
    expect_payload(m.notify_data[2], natt::kPlV2Notify, 248, 0);
    assert_true(m.hdr.v2_response());
}

void test_msg_ikev2_encrypted(void**) {
    struct {
        const char* hex;
        uint32_t sk_len;
    } cases[] = {{kV2AuthReq, 229}, {kV2AuthResp, 205}, {kV2InfoReq, 49}, {kV2InfoResp, 41}};
    for (const auto& c : cases) {
        Parsed m = parse_ok(from_hex(c.hex));
        assert_chain(ChainStatus::Encrypted, m.chain);
        assert_int_equal(m.n_payloads, 1);
        expect_payload(m.payloads[0], natt::kPlV2Encrypted, 32, c.sk_len);
        assert_false(m.has_fragment);
        assert_int_equal(m.n_notify, 0);
    }
}

void test_msg_floated(void**) {
    // Behind the marker, the same parser applies.
    struct {
        const char* hex;
        uint8_t exchange;
        uint32_t length;
    } cases[] = {{kFloatMm5, 2, 324}, {kFloatMm6, 2, 300}, {kFloatQm1, 32, 428}, {kFloatQm3, 32, 52},
                 {kFloatInfo, 5, 76}};
    for (const auto& c : cases) {
        const Bytes b = from_hex(c.hex);
        IkeMessage m;
        assert_hc(HeaderCheck::Ok, natt::parse_ike_message(b.data() + 4, b.size() - 4, Strictness::Heuristic, &m));
        assert_true(m.hdr.ispi == 0x9e89f2388f90bc1eull);
        assert_true(m.hdr.rspi == 0x0a74357ce3d1a4bfull);
        assert_int_equal(m.hdr.exchange, c.exchange);
        assert_int_equal(m.hdr.length, c.length);
        assert_chain(ChainStatus::Encrypted, m.chain);
    }
}

// ---------------------------------------------------------------------------
// parse_ike_message: every ChainStatus on crafted chains

void test_chain_complete_empty(void**) {
    // IKEv2 allows next-payload 0 in the header: no payloads at all.
    Bytes b = header(0, 0x20, natt::kExInformationalV2, 0x08, 3, 28);
    Parsed m = parse_ok(b);
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 0);
    // The same with four bytes more in the length: those are trailing.
    Bytes t = cat(b, Bytes(4, 0));
    put32(t, 24, 32);
    m = parse_ok(t);
    assert_chain(ChainStatus::TrailingBytes, m.chain);
    assert_int_equal(m.chain_error_offset, 28);
}

void test_chain_too_many_payloads(void**) {
    for (size_t n : {natt::kMaxPayloads - 1, natt::kMaxPayloads, natt::kMaxPayloads + 1, size_t(200)}) {
        std::vector<Pl> pls(n, Pl{14, {}});  // 4-byte payloads with an empty body
        Bytes b = build_v1(pls);
        Parsed m = parse_ok(b);
        if (n <= natt::kMaxPayloads) {
            assert_chain(ChainStatus::Complete, m.chain);
            assert_int_equal(m.n_payloads, n);
        } else {
            assert_chain(ChainStatus::TooManyPayloads, m.chain);
            assert_int_equal(m.n_payloads, natt::kMaxPayloads);
            // The walk stopped at the first payload it had no room for.
            assert_int_equal(m.chain_error_offset, 28 + 4 * natt::kMaxPayloads);
        }
        for (unsigned i = 0; i < m.n_payloads; ++i) expect_payload(m.payloads[i], 14, 32 + 4 * i, 0);
    }
    // IKEv2 the same.
    std::vector<Pl> pls(natt::kMaxPayloads + 1, Pl{natt::kPlV2VendorId, {}});
    Parsed m = parse_ok(build_v2(pls));
    assert_chain(ChainStatus::TooManyPayloads, m.chain);
    assert_int_equal(m.n_payloads, natt::kMaxPayloads);
    assert_int_equal(m.n_vendor_ids, natt::kMaxVendorIds);
}

void test_chain_bad_payload_length(void**) {
    const Bytes good = build_v1({{natt::kPlV1Sa, Bytes(8, 0)}, {natt::kPlV1VendorId, Bytes(16, 0xaa)}});
    parse_ok(good);
    // First payload length 0, 1, 3 (< 4) and overlong (past the message end).
    for (uint16_t plen : {uint16_t(0), uint16_t(1), uint16_t(3), uint16_t(33), uint16_t(0xffff)}) {
        Bytes b = good;
        put16(b, 28 + 2, plen);
        Parsed m = parse_ok(b, Strictness::Port);
        assert_chain(ChainStatus::BadPayloadLength, m.chain);
        assert_int_equal(m.chain_error_offset, 28);
        assert_int_equal(m.n_payloads, 0);
    }
    // Second payload bad: the first one is kept.
    for (uint16_t plen : {uint16_t(0), uint16_t(3), uint16_t(21), uint16_t(0xffff)}) {
        Bytes b = good;
        put16(b, 40 + 2, plen);
        Parsed m = parse_ok(b, Strictness::Port);
        assert_chain(ChainStatus::BadPayloadLength, m.chain);
        assert_int_equal(m.chain_error_offset, 40);
        assert_int_equal(m.n_payloads, 1);
        assert_true(m.has_sa);
        assert_int_equal(m.n_vendor_ids, 0);
    }
    // The header promises a payload but the message ends (0..3 bytes left).
    for (size_t extra = 0; extra < 4; ++extra) {
        Bytes b = header(natt::kPlV1Sa, 0x10, natt::kExIdentityProtection, 0, 0, 0);
        append(b, Bytes(extra, 0));
        put32(b, 24, static_cast<uint32_t>(b.size()));
        Parsed m = parse_ok(b);
        assert_chain(ChainStatus::BadPayloadLength, m.chain);
        assert_int_equal(m.chain_error_offset, 28);
    }
    // The last payload's next-payload is not 0 but nothing follows.
    Bytes b = good;
    b[40] = natt::kPlV1VendorId;
    Parsed m = parse_ok(b);
    assert_chain(ChainStatus::BadPayloadLength, m.chain);
    assert_int_equal(m.chain_error_offset, good.size());
    assert_int_equal(m.n_payloads, 2);
    // The walk is bounded by the header length, not by the datagram: on an
    // IKE port a header length shorter than the datagram cuts a payload.
    b = cat(good, Bytes(32, 0));
    put32(b, 24, static_cast<uint32_t>(good.size() - 1));
    m = parse_ok(b, Strictness::Port);
    assert_chain(ChainStatus::BadPayloadLength, m.chain);
    assert_int_equal(m.chain_error_offset, 40);
}

void test_chain_trailing_bytes(void**) {
    Bytes good = build_v1({{natt::kPlV1Sa, Bytes(8, 0)}, {natt::kPlV1VendorId, Bytes(16, 0xaa)}});
    for (size_t extra : {1u, 3u, 4u, 100u}) {
        Bytes b = cat(good, Bytes(extra, 0));
        put32(b, 24, static_cast<uint32_t>(b.size()));
        Parsed m = parse_ok(b);
        assert_chain(ChainStatus::TrailingBytes, m.chain);
        assert_int_equal(m.chain_error_offset, good.size());
        assert_int_equal(m.n_payloads, 2);
        assert_int_equal(m.n_vendor_ids, 1);
    }
    // Real: MM2 with 8 bytes of padding counted in the header length.
    Bytes mm2 = cat(from_hex(kMm2), Bytes(8, 0));
    put32(mm2, 24, static_cast<uint32_t>(mm2.size()));
    Parsed m = parse_ok(mm2);
    assert_chain(ChainStatus::TrailingBytes, m.chain);
    assert_int_equal(m.chain_error_offset, 108);
    assert_int_equal(m.n_payloads, 2);
    assert_int_equal(m.v1_hash, natt::kHashSha1);
    // Bytes after the header length are not trailing: they are outside the message.
    Bytes pad = cat(from_hex(kMm2), Bytes(8, 0));
    m = parse_ok(pad, Strictness::Port);
    assert_chain(ChainStatus::Complete, m.chain);
}

void test_chain_65535_payloads(void**) {
    // A payload of the largest possible length, in a message that holds it.
    Bytes big = build_v1({{natt::kPlV1VendorId, Bytes(0xffff - 4, 0x5a)}});
    assert_int_equal(big.size(), 28 + 0xffff);
    Parsed m = parse_ok(big);
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 1);
    expect_payload(m.vendor_ids[0], natt::kPlV1VendorId, 32, 0xffff - 4);
    // Followed by another payload: the offsets go past 65535.
    big = build_v1({{natt::kPlV1VendorId, Bytes(0xffff - 4, 0x5a)}, {natt::kPlV1NatDRfc, Bytes(20, 1)}});
    m = parse_ok(big);
    assert_chain(ChainStatus::Complete, m.chain);
    expect_payload(m.natd[0], natt::kPlV1NatDRfc, 28 + 0xffff + 4, 20);
    // An IKEv2 notify of 65535 bytes.
    Bytes nbody(0xffff - 4, 0);
    nbody[1] = 0;
    put16(nbody, 2, 16388);
    m = parse_ok(build_v2({{natt::kPlV2Notify, nbody}}));
    assert_int_equal(m.n_notify, 1);
    expect_payload(m.notify_data[0], natt::kPlV2Notify, 36, 0xffff - 8);
    // 65535 claimed in a small message.
    Bytes small = build_v1({{natt::kPlV1VendorId, Bytes(16, 0)}});
    put16(small, 30, 0xffff);
    m = parse_ok(small);
    assert_chain(ChainStatus::BadPayloadLength, m.chain);
    // A 65535-byte SA payload whose proposal claims 65535 too (past the SA body).
    Bytes sa = sa_body(proposal(0, 1, transform(0, 1, p1_attrs(natt::kHashSha1)), {}, 0xffff));
    sa.resize(0xffff - 4, 0);
    m = parse_ok(build_v1({{natt::kPlV1Sa, sa}}));
    assert_chain(ChainStatus::Complete, m.chain);
    assert_true(m.has_sa);
    assert_int_equal(m.v1_transforms, 0);
    assert_int_equal(m.v1_hash, natt::kHashNone);
}

// ---------------------------------------------------------------------------
// parse_ike_message: what is collected, and the caps

void test_collect_caps(void**) {
    std::vector<Pl> vids(20, Pl{natt::kPlV1VendorId, Bytes(16, 0x11)});
    Parsed m = parse_ok(build_v1(vids));
    assert_int_equal(m.n_payloads, 20);
    assert_int_equal(m.n_vendor_ids, natt::kMaxVendorIds);
    expect_payload(m.vendor_ids[15], natt::kPlV1VendorId, 28 + 15 * 20 + 4, 16);

    // NAT-D in all three numberings, in order, capped at kMaxNatD.
    std::vector<Pl> natd;
    const uint8_t types[] = {natt::kPlV1NatDRfc, natt::kPlV1NatDDraft, natt::kPlV1NatDDraft15};
    for (int i = 0; i < 12; ++i) natd.push_back(Pl{types[i % 3], Bytes(20, static_cast<uint8_t>(i))});
    m = parse_ok(build_v1(natd));
    assert_int_equal(m.n_payloads, 12);
    assert_int_equal(m.n_natd, natt::kMaxNatD);
    for (unsigned i = 0; i < natt::kMaxNatD; ++i) {
        assert_int_equal(m.natd[i].type, types[i % 3]);
        assert_int_equal(m.natd[i].offset, 28 + i * 24 + 4);
    }
    // NAT-OA (21, 131) is not NAT-D.
    m = parse_ok(build_v1({{natt::kPlV1NatOaRfc, Bytes(8, 0)}, {natt::kPlV1NatOaDraft, Bytes(8, 0)}}));
    assert_int_equal(m.n_natd, 0);
    assert_int_equal(m.n_payloads, 2);

    std::vector<Pl> notifies;
    for (int i = 0; i < 20; ++i) {
        Bytes nb{0, 0, 0, 0, 0, 0};
        put16(nb, 2, static_cast<uint16_t>(16384 + i));
        notifies.push_back(Pl{natt::kPlV2Notify, nb});
    }
    m = parse_ok(build_v2(notifies));
    assert_int_equal(m.n_payloads, 20);
    assert_int_equal(m.n_notify, natt::kMaxNotify);
    for (unsigned i = 0; i < natt::kMaxNotify; ++i) {
        assert_int_equal(m.notify_types[i], 16384 + i);
        expect_payload(m.notify_data[i], natt::kPlV2Notify, 28 + i * 10 + 8, 2);
    }
}

void test_collect_flags(void**) {
    // IKEv1 delete, fragment, NAT-D.
    Parsed m = parse_ok(build_v1({{natt::kPlV1Delete, Bytes(12, 0)}}, natt::kExInformational));
    assert_true(m.has_delete);
    assert_false(m.has_fragment);
    m = parse_ok(build_v1({{natt::kPlV1Fragment, Bytes(8, 0)}}));
    assert_true(m.has_fragment);
    assert_chain(ChainStatus::Complete, m.chain);  // IKEv1 fragments are clear
    // IKEv2 delete, vendor ID, SK fragment.
    m = parse_ok(build_v2({{natt::kPlV2Delete, Bytes(4, 0)}, {natt::kPlV2VendorId, Bytes(16, 0)}},
                          natt::kExInformationalV2));
    assert_true(m.has_delete);
    assert_int_equal(m.n_vendor_ids, 1);
    assert_false(m.has_sa);
    m = parse_ok(build_v2({{natt::kPlV2EncryptedFragment, Bytes(40, 0)}}, natt::kExIkeAuth));
    assert_chain(ChainStatus::Encrypted, m.chain);
    assert_true(m.has_fragment);
    assert_int_equal(m.n_payloads, 1);
    expect_payload(m.payloads[0], natt::kPlV2EncryptedFragment, 32, 40);

    // IKEv2 SK stops the walk: whatever follows is never looked at, even a
    // generic header that would be a bad length.
    Bytes sk = build_v2({{natt::kPlV2Notify, Bytes(4, 0)}, {natt::kPlV2Encrypted, Bytes(32, 0)}}, natt::kExIkeAuth);
    sk[36] = 35;  // SK's next payload is the first inner one (IDi), as in real messages
    m = parse_ok(sk);
    assert_chain(ChainStatus::Encrypted, m.chain);
    assert_int_equal(m.n_payloads, 2);
    assert_int_equal(m.n_notify, 1);
    assert_int_equal(m.chain_error_offset, 0);

    // The numbering spaces do not mix: 13 in IKEv2 and 43 in IKEv1 are not
    // vendor IDs, 1 in IKEv2 and 33 in IKEv1 are not SAs, 20 in IKEv2 is not NAT-D.
    m = parse_ok(build_v2({{natt::kPlV2Sa, Bytes(8, 0)}, {13, Bytes(16, 0)}, {1, Bytes(8, 0)}, {20, Bytes(20, 0)},
                           {11, Bytes(8, 0)}, {12, Bytes(4, 0)}, {132, Bytes(4, 0)}}),
                 Strictness::Port);
    assert_chain(ChainStatus::Complete, m.chain);
    assert_int_equal(m.n_payloads, 7);
    assert_int_equal(m.n_vendor_ids, 0);
    assert_int_equal(m.n_natd, 0);
    assert_int_equal(m.n_notify, 0);
    assert_false(m.has_delete);
    assert_false(m.has_fragment);
    assert_int_equal(m.v1_transforms, 0);
    m = parse_ok(build_v1({{natt::kPlV1VendorId, Bytes(16, 0)}, {43, Bytes(16, 0)}, {33, Bytes(8, 0)},
                           {41, Bytes(8, 0)}, {42, Bytes(4, 0)}, {46, Bytes(8, 0)}, {53, Bytes(8, 0)}}));
    assert_chain(ChainStatus::Complete, m.chain);  // 46/53 are not SK in IKEv1
    assert_int_equal(m.n_payloads, 7);
    assert_int_equal(m.n_vendor_ids, 1);
    assert_false(m.has_sa);
    assert_false(m.has_delete);
    assert_false(m.has_fragment);
    assert_int_equal(m.n_notify, 0);
}

void test_parse_resets_output(void**) {
    Parsed m = parse_ok(from_hex(kMm3));
    assert_int_equal(m.n_natd, 2);
    // A failed parse leaves a fresh message, not the previous one's facts.
    assert_hc(HeaderCheck::TooShort, natt::parse_ike_message(nullptr, 0, Strictness::Port, &m));
    assert_int_equal(m.n_payloads, 0);
    assert_int_equal(m.n_natd, 0);
    assert_int_equal(m.n_vendor_ids, 0);
    assert_chain(ChainStatus::Complete, m.chain);
    m = parse_ok(from_hex(kNatMm1));
    Bytes bad = from_hex(kMm1);
    bad[17] = 0x30;
    assert_hc(HeaderCheck::BadVersion, natt::parse_ike_message(bad.data(), bad.size(), Strictness::Port, &m));
    assert_int_equal(m.n_payloads, 0);
    assert_int_equal(m.v1_transforms, 0);
    assert_int_equal(m.v1_hash, natt::kHashNone);
    assert_false(m.has_sa);
    assert_int_equal(m.hdr.version, 0x30);  // the header is still reported
}

// ---------------------------------------------------------------------------
// Notify payloads

Bytes v1_notify(uint8_t spi_size, uint16_t type, size_t spi_bytes, size_t data_bytes) {
    Bytes n{0, 0, 0, 1 /* DOI */, 1 /* PROTO_ISAKMP */, spi_size, 0, 0};
    put16(n, 6, type);
    append(n, Bytes(spi_bytes, 0xcc));
    append(n, Bytes(data_bytes, 0xdd));
    return n;
}
Bytes v2_notify(uint8_t spi_size, uint16_t type, size_t spi_bytes, size_t data_bytes) {
    Bytes n{0, spi_size, 0, 0};
    put16(n, 2, type);
    append(n, Bytes(spi_bytes, 0xcc));
    append(n, Bytes(data_bytes, 0xdd));
    return n;
}

void test_v1_notify(void**) {
    // RFC 3706 R-U-THERE: two cookies as SPI, a 4-byte sequence number.
    Bytes b = build(0x10, natt::kExInformational, 0, 0x1234, {{natt::kPlV1Notify, v1_notify(16, 36136, 16, 4)}});
    Parsed m = parse_ok(b);
    assert_int_equal(m.n_notify, 1);
    assert_int_equal(m.notify_types[0], natt::kNtfyV1RUThere);
    expect_payload(m.notify_data[0], natt::kPlV1Notify, 32 + 8 + 16, 4);
    assert_int_equal(b[m.notify_data[0].offset], 0xdd);

    // SPI size larger than the payload: the data is empty, at the payload end.
    for (uint8_t spi : {uint8_t(5), uint8_t(200), uint8_t(255)}) {
        b = build_v1({{natt::kPlV1Notify, v1_notify(spi, 36137, 4, 0)}}, natt::kExInformational);
        m = parse_ok(b);
        assert_int_equal(m.n_notify, 1);
        assert_int_equal(m.notify_types[0], natt::kNtfyV1RUThereAck);
        expect_payload(m.notify_data[0], natt::kPlV1Notify, 32 + 12, 0);
    }
    // SPI size exactly to the end: data empty at the end.
    m = parse_ok(build_v1({{natt::kPlV1Notify, v1_notify(8, 24578, 8, 0)}}, natt::kExInformational));
    expect_payload(m.notify_data[0], natt::kPlV1Notify, 32 + 16, 0);
    // Body shorter than the fixed 8 bytes: not recorded, the chain goes on.
    for (size_t blen = 0; blen < 8; ++blen) {
        b = build_v1({{natt::kPlV1Notify, Bytes(blen, 0x40)}, {natt::kPlV1VendorId, Bytes(16, 0)}});
        m = parse_ok(b);
        assert_int_equal(m.n_notify, 0);
        assert_int_equal(m.n_vendor_ids, 1);
        assert_chain(ChainStatus::Complete, m.chain);
    }
}

void test_v2_notify(void**) {
    // REKEY_SA style: protocol ESP, 4-byte SPI, no data.
    Bytes b = build_v2({{natt::kPlV2Notify, v2_notify(4, 16393, 4, 0)}}, natt::kExCreateChildSa);
    Parsed m = parse_ok(b, Strictness::Port);
    assert_int_equal(m.n_notify, 1);
    assert_int_equal(m.notify_types[0], 16393);
    expect_payload(m.notify_data[0], natt::kPlV2Notify, 32 + 8, 0);
    // SPI and data.
    m = parse_ok(build_v2({{natt::kPlV2Notify, v2_notify(8, 16388, 8, 20)}}));
    expect_payload(m.notify_data[0], natt::kPlV2Notify, 32 + 4 + 8, 20);
    // SPI size larger than the payload.
    for (uint8_t spi : {uint8_t(1), uint8_t(17), uint8_t(255)}) {
        m = parse_ok(build_v2({{natt::kPlV2Notify, v2_notify(spi, 16389, 0, 0)}}));
        assert_int_equal(m.n_notify, 1);
        assert_int_equal(m.notify_types[0], 16389);
        expect_payload(m.notify_data[0], natt::kPlV2Notify, 32 + 4, 0);
    }
    m = parse_ok(build_v2({{natt::kPlV2Notify, v2_notify(255, 16388, 0, 10)}}));
    expect_payload(m.notify_data[0], natt::kPlV2Notify, 32 + 14, 0);
    // Body shorter than 4 bytes: not recorded.
    for (size_t blen = 0; blen < 4; ++blen) {
        m = parse_ok(build_v2({{natt::kPlV2Notify, Bytes(blen, 0x40)}, {natt::kPlV2Notify, v2_notify(0, 16388, 0, 20)}}));
        assert_int_equal(m.n_payloads, 2);
        assert_int_equal(m.n_notify, 1);
        assert_int_equal(m.notify_types[0], 16388);
    }
}

// ---------------------------------------------------------------------------
// IKEv1 SA payload walk (parse_v1_sa), valid and hostile

struct SaResult {
    uint8_t hash;
    uint8_t transforms;
};
SaResult sa_of(const Bytes& body) {
    Bytes b = build_v1({{natt::kPlV1Sa, body}, {natt::kPlV1VendorId, Bytes(16, 0x77)}});
    Parsed m = parse_ok(b);
    // Whatever the SA body says, the outer chain is intact.
    assert_chain(ChainStatus::Complete, m.chain);
    assert_true(m.has_sa);
    assert_int_equal(m.n_payloads, 2);
    assert_int_equal(m.n_vendor_ids, 1);
    return SaResult{m.v1_hash, m.v1_transforms};
}
// Checks the hash and transform count an SA body yields; reports the caller's line.
void expect_sa(int line, const Bytes& body, unsigned hash, unsigned transforms) {
    SaResult r = sa_of(body);
    if (r.hash != hash || r.transforms != transforms)
        fail_msg("line %d: v1_hash %u, v1_transforms %u; expected %u, %u", line, r.hash, r.transforms, hash,
                 transforms);
}
// Variadic so that braces with commas pass through.
#define assert_sa(...) expect_sa(__LINE__, __VA_ARGS__)

void test_v1_sa_valid(void**) {
    // One proposal, one transform.
    assert_sa(sa_body(proposal(0, 1, transform(0, 1, p1_attrs(natt::kHashSha2_256)))), natt::kHashSha2_256, 1);
    // Every hash value is reported as-is.
    for (unsigned h : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 200u, 255u})
        assert_sa(sa_body(proposal(0, 1, transform(0, 1, p1_attrs(static_cast<uint16_t>(h))))), h, 1);
    // A transform without attributes (exactly 8 bytes, ending the proposal) counts.
    assert_sa(sa_body(proposal(0, 1, transform(0, 1, {}))), natt::kHashNone, 1);
    assert_sa(sa_body(proposal(0, 2, cat(transform(3, 1, attr_tv(2, 4)), transform(0, 2, {})))), natt::kHashSha2_256, 2);
    // Hash first, no other attributes.
    assert_sa(sa_body(proposal(0, 1, transform(0, 1, attr_tv(2, natt::kHashSha2_512)))), natt::kHashSha2_512, 1);
    // A TLV attribute (with a long value) before the hash is skipped.
    Bytes a = attr_tlv(12, Bytes(10, 0x01));
    append(a, attr_tv(2, natt::kHashSha2_384));
    assert_sa(sa_body(proposal(0, 1, transform(0, 1, a))), natt::kHashSha2_384, 1);
    // A TLV with an empty value.
    a = attr_tlv(16, {});
    append(a, attr_tv(2, natt::kHashTiger));
    assert_sa(sa_body(proposal(0, 1, transform(0, 1, a))), natt::kHashTiger, 1);
    // Several transforms: the first one's hash, all of them counted.
    Bytes ts = transform(3, 1, p1_attrs(natt::kHashMd5));
    append(ts, transform(3, 2, p1_attrs(natt::kHashSha1)));
    append(ts, transform(0, 3, p1_attrs(natt::kHashSha2_256)));
    assert_sa(sa_body(proposal(0, 3, ts)), natt::kHashMd5, 3);
    // Two proposals: transforms of both counted, the very first transform's hash.
    Bytes ps = proposal(2, 2, cat(transform(3, 1, p1_attrs(natt::kHashSha2_512)), transform(0, 2, p1_attrs(1))));
    append(ps, proposal(0, 1, transform(0, 1, p1_attrs(natt::kHashSha1))));
    assert_sa(sa_body(ps), natt::kHashSha2_512, 3);
    // A proposal with an SPI (the transforms start after it).
    assert_sa(sa_body(proposal(0, 1, transform(0, 1, p1_attrs(natt::kHashSha1)), Bytes(4, 0xee))), natt::kHashSha1, 1);
    assert_sa(sa_body(proposal(0, 1, transform(0, 1, p1_attrs(natt::kHashSha1)), Bytes(16, 0x80))), natt::kHashSha1, 1);
    // A first transform without a hash attribute: no hash, even if the second has one.
    assert_sa(sa_body(proposal(0, 2, cat(transform(3, 1, attr_tv(1, 7)), transform(0, 2, p1_attrs(2))))),
              natt::kHashNone, 2);
    // Two SA payloads: the transforms add up, the first transform wins.
    Parsed m = parse_ok(build_v1({{natt::kPlV1Sa, sa_body(proposal(0, 1, transform(0, 1, p1_attrs(1))))},
                                      {natt::kPlV1Sa, sa_body(proposal(0, 1, transform(0, 1, p1_attrs(2))))}}));
    assert_int_equal(m.v1_hash, natt::kHashMd5);
    assert_int_equal(m.v1_transforms, 2);
    // More than 255 transforms: the count saturates.
    Bytes many;
    for (int i = 0; i < 200; ++i) append(many, transform(i == 199 ? 0 : 3, static_cast<uint8_t>(i), {}));
    Bytes p2 = proposal(2, 200, many);
    append(p2, proposal(0, 200, many));
    assert_sa(sa_body(p2), natt::kHashNone, 255);
}

void test_v1_sa_hostile(void**) {
    const Bytes t1 = transform(0, 1, p1_attrs(natt::kHashSha1));
    // SA body shorter than DOI + situation, or with nothing after them.
    for (size_t n = 0; n <= 8; ++n) assert_sa(Bytes(n, 0), natt::kHashNone, 0);
    // A partial proposal header (fewer than 8 bytes after DOI/situation).
    assert_sa(sa_body(Bytes{0, 0, 0, 8, 1, 1, 0}), natt::kHashNone, 0);
    // Proposal length 0, < 8, or past the SA body.
    for (int plen : {0, 1, 7, 8 + 40 + 1, 0xffff}) assert_sa(sa_body(proposal(0, 1, t1, {}, plen)), natt::kHashNone, 0);
    // A proposal shorter than its own header, followed by a valid one: the walk stops there.
    for (int plen : {4, 7}) {
        Bytes ps = proposal(2, 1, {}, {}, plen);
        ps.resize(static_cast<size_t>(plen));
        assert_sa(sa_body(cat(ps, proposal(0, 1, t1))), natt::kHashNone, 0);
    }
    // Proposal length 8: no room for a transform.
    assert_sa(sa_body(cat(proposal(0, 1, {}, {}, 8), t1)), natt::kHashNone, 0);
    // Transform count larger than what is present: what is there is read.
    for (uint8_t n : {uint8_t(2), uint8_t(10), uint8_t(255)}) assert_sa(sa_body(proposal(0, n, t1)), natt::kHashSha1, 1);
    // Transform count 0 with a transform present: none read.
    assert_sa(sa_body(proposal(0, 0, t1)), natt::kHashNone, 0);
    // Transform length 0, < 8, or past the proposal end.
    for (int tlen : {0, 4, 7, 41, 0xffff})
        assert_sa(sa_body(proposal(0, 1, transform(0, 1, p1_attrs(natt::kHashSha1), tlen))), natt::kHashNone, 0);
    // A bad second transform after a good first: the first is kept.
    assert_sa(sa_body(proposal(0, 2, cat(t1, transform(0, 2, {}, 0)))), natt::kHashSha1, 1);
    assert_sa(sa_body(proposal(0, 2, cat(t1, transform(0, 2, {}, 300)))), natt::kHashSha1, 1);
    // A truncated second transform header (fewer than 8 bytes left).
    assert_sa(sa_body(proposal(0, 2, cat(t1, Bytes{0, 0, 0, 8}))), natt::kHashSha1, 1);
    // SPI size past the proposal end.
    // (The proposal holds 40 bytes of transform and no SPI bytes: an SPI size
    // above 32 leaves no room for a transform header.)
    for (int spi : {33, 40, 41, 100, 255}) assert_sa(sa_body(proposal(0, 1, t1, {}, -1, spi)), natt::kHashNone, 0);
    // TLV attribute longer than the transform, before the hash: the walk stops.
    for (int vlen : {5, 100, 0xffff}) {
        Bytes a = attr_tlv(12, {0, 1, 0x51, 0x80}, vlen);
        append(a, attr_tv(2, natt::kHashSha1));
        assert_sa(sa_body(proposal(0, 1, transform(0, 1, a))), natt::kHashNone, 1);
    }
    // ... after the hash: the hash is kept.
    {
        Bytes a = attr_tv(2, natt::kHashSha2_256);
        append(a, attr_tlv(12, {0, 1, 0x51, 0x80}, 0xffff));
        assert_sa(sa_body(proposal(0, 1, transform(0, 1, a))), natt::kHashSha2_256, 1);
    }
    // TLV exactly to the end of the transform, then nothing.
    assert_sa(sa_body(proposal(0, 1, transform(0, 1, attr_tlv(12, Bytes(4, 9))))), natt::kHashNone, 1);
    // Stray 1..3 bytes after the last attribute.
    for (size_t stray = 1; stray < 4; ++stray) {
        Bytes a = attr_tv(2, natt::kHashSha1);
        append(a, Bytes(stray, 0x80));
        assert_sa(sa_body(proposal(0, 1, transform(0, 1, a))), natt::kHashSha1, 1);
    }
    // A hash value that does not fit the byte: no hash.
    for (uint16_t v : {uint16_t(256), uint16_t(0x1001), uint16_t(0x7fff), uint16_t(0xffff)})
        assert_sa(sa_body(proposal(0, 1, transform(0, 1, attr_tv(2, v)))), natt::kHashNone, 1);
    // The hash algorithm is a basic (TV) attribute; a TLV of type 2 is not it.
    assert_sa(sa_body(proposal(0, 1, transform(0, 1, attr_tlv(2, {0, 2})))), natt::kHashNone, 1);
    // The last hash attribute in the first transform wins (a repeated attribute).
    assert_sa(sa_body(proposal(0, 1, transform(0, 1, cat(attr_tv(2, 1), attr_tv(2, 2))))), natt::kHashSha1, 1);
    // Proposal with next-payload 0 ends the walk even if more bytes follow.
    assert_sa(sa_body(cat(proposal(0, 1, t1), proposal(0, 1, t1))), natt::kHashSha1, 1);
    // Proposal next-payload 2 followed by nothing, by garbage, by a zero-length proposal.
    assert_sa(sa_body(proposal(2, 1, t1)), natt::kHashSha1, 1);
    assert_sa(sa_body(cat(proposal(2, 1, t1), Bytes{0xff, 0xff, 0xff})), natt::kHashSha1, 1);
    assert_sa(sa_body(cat(proposal(2, 1, t1), proposal(0, 1, t1, {}, 0))), natt::kHashSha1, 1);
    // All 0xff.
    assert_sa(Bytes(64, 0xff), natt::kHashNone, 0);
    // IKEv2 SA (type 33) is never walked as IKEv1.
    Parsed m = parse_ok(build_v2({{natt::kPlV2Sa, sa_body(proposal(0, 1, t1))}}));
    assert_true(m.has_sa);
    assert_int_equal(m.v1_transforms, 0);
    assert_int_equal(m.v1_hash, natt::kHashNone);
}

// ---------------------------------------------------------------------------
// classify_natt_datagram

void test_natt_empty(void**) {
    Classification c = natt::classify_natt_datagram(nullptr, 0);
    assert_kind(DatagramKind::Malformed, c.kind);
    assert_malf(Malformation::Empty, c.malformed);
    // A null pointer is empty whatever the length says.
    c = natt::classify_natt_datagram(nullptr, 100);
    assert_kind(DatagramKind::Malformed, c.kind);
    assert_malf(Malformation::Empty, c.malformed);
    const uint8_t x = 0xff;
    c = natt::classify_natt_datagram(&x, 0);
    assert_kind(DatagramKind::Malformed, c.kind);
    assert_malf(Malformation::Empty, c.malformed);
}

void test_natt_keepalive(void**) {
    // From the capture: the single byte 0xFF.
    const Bytes ka = from_hex(kKeepalive);
    assert_int_equal(ka.size(), 1);
    Exact e(ka.data(), ka.size());
    Classification c = natt::classify_natt_datagram(e.data(), e.n);
    assert_kind(DatagramKind::Keepalive, c.kind);
    assert_malf(Malformation::None, c.malformed);
    assert_hc(HeaderCheck::Ok, c.ike_check);
    assert_int_equal(c.esp_spi, 0);
    assert_true(natt::is_keepalive(e.data(), e.n));

    // Any other single byte is not: 0x41 ('A'), 0x00, 0xFE.
    for (unsigned v = 0; v < 0xff; ++v) {
        const uint8_t b = static_cast<uint8_t>(v);
        Exact one(&b, 1);
        c = natt::classify_natt_datagram(one.data(), 1);
        assert_kind(DatagramKind::Malformed, c.kind);
        assert_malf(Malformation::OneByteNotFF, c.malformed);
        assert_false(natt::is_keepalive(one.data(), 1));
    }
    // 0xFF followed by anything is not a keepalive.
    const uint8_t two[] = {0xff, 0xff};
    assert_false(natt::is_keepalive(two, 2));
    assert_false(natt::is_keepalive(nullptr, 0));
    c = natt::classify_natt_datagram(two, 2);
    assert_kind(DatagramKind::Malformed, c.kind);
    assert_malf(Malformation::TooShortForEsp, c.malformed);
}

void test_natt_too_short_for_esp(void**) {
    // 2..7 bytes, no marker (or too short to hold one).
    for (size_t n = 2; n < natt::kEspMinLen; ++n) {
        for (uint8_t fill : {uint8_t(0x01), uint8_t(0xff), uint8_t(0x41)}) {
            Bytes b(n, fill);
            Exact e(b.data(), n);
            Classification c = natt::classify_natt_datagram(e.data(), n);
            assert_kind(DatagramKind::Malformed, c.kind);
            assert_malf(Malformation::TooShortForEsp, c.malformed);
        }
    }
    // Two or three zero bytes: too short for a marker, so too short for ESP.
    for (size_t n = 2; n < 4; ++n) {
        Bytes z(n, 0);
        Exact e(z.data(), n);
        Classification c = natt::classify_natt_datagram(e.data(), n);
        assert_malf(Malformation::TooShortForEsp, c.malformed);
    }
    // A 4..7 byte datagram with a zero marker: marker + (no) IKE header.
    for (size_t n = 4; n < natt::kEspMinLen; ++n) {
        Bytes z(n, 0);
        Exact e(z.data(), n);
        Classification c = natt::classify_natt_datagram(e.data(), n);
        assert_kind(DatagramKind::Malformed, c.kind);
        assert_malf(Malformation::MarkerBadIke, c.malformed);
        assert_hc(HeaderCheck::TooShort, c.ike_check);
    }
}

void test_natt_floated_ike(void**) {
    for (const Real& r : kReal) {
        if (!r.floated) continue;
        Bytes b = from_hex(r.hex);
        Exact e(b.data(), b.size());
        Classification c = natt::classify_natt_datagram(e.data(), e.n);
        if (c.kind != DatagramKind::FloatedIke) fail_msg("%s: %s", r.name, natt::datagram_kind_name(c.kind));
        assert_malf(Malformation::None, c.malformed);
        assert_hc(HeaderCheck::Ok, c.ike_check);
        assert_int_equal(c.esp_spi, 0);
        assert_int_equal(c.esp_seq, 0);
    }
    // Any valid IKE behind the marker: IKEv2, clear IKEv1.
    for (const char* hex : {kV2SaInitReq, kV2AuthResp, kMm1, kAm2}) {
        Classification c = natt::classify_natt_datagram(marker(from_hex(hex)).data(), from_hex(hex).size() + 4);
        assert_kind(DatagramKind::FloatedIke, c.kind);
    }
    // The port-level check is lenient: a minor version, padding after the
    // message, an unknown exchange are still floated IKE.
    Bytes mm5 = from_hex(kMm5);
    Bytes odd = mm5;
    odd[17] = 0x11;
    odd[18] = 99;
    Bytes fl = marker(odd);
    assert_kind(DatagramKind::FloatedIke, natt::classify_natt_datagram(fl.data(), fl.size()).kind);
    fl = cat(marker(mm5), Bytes(5, 0));
    assert_kind(DatagramKind::FloatedIke, natt::classify_natt_datagram(fl.data(), fl.size()).kind);
}

void test_natt_marker_bad_ike(void**) {
    const Bytes mm5 = from_hex(kMm5);
    struct {
        size_t at;
        uint8_t value;
        HeaderCheck expect;
    } cases[] = {
        {17, 0x30, HeaderCheck::BadVersion},
        {17, 0x00, HeaderCheck::BadVersion},
        {27, 0x6d, HeaderCheck::BadLength},  // 109, one past the message
        {27, 0x00, HeaderCheck::BadLength},  // 0
        {26, 0xff, HeaderCheck::BadLength},
    };
    for (const auto& cs : cases) {
        Bytes ike = mm5;
        ike[cs.at] = cs.value;
        Bytes b = marker(ike);
        Exact e(b.data(), b.size());
        Classification c = natt::classify_natt_datagram(e.data(), e.n);
        assert_kind(DatagramKind::Malformed, c.kind);
        assert_malf(Malformation::MarkerBadIke, c.malformed);
        assert_hc(cs.expect, c.ike_check);
    }
    // Marker followed by 1..27 bytes.
    for (size_t n = 1; n < natt::kIkeHeaderLen; ++n) {
        Bytes b = marker(Bytes(mm5.begin(), mm5.begin() + static_cast<long>(n)));
        Exact e(b.data(), b.size());
        Classification c = natt::classify_natt_datagram(e.data(), e.n);
        assert_malf(Malformation::MarkerBadIke, c.malformed);
        assert_hc(HeaderCheck::TooShort, c.ike_check);
    }
}

void test_natt_esp(void**) {
    const Bytes esp = from_hex(kEspUdp);
    Exact e(esp.data(), esp.size());
    Classification c = natt::classify_natt_datagram(e.data(), e.n);
    assert_kind(DatagramKind::EspInUdp, c.kind);
    assert_malf(Malformation::None, c.malformed);
    assert_int_equal(c.esp_spi, 0xf4dc0ae5);
    assert_int_equal(c.esp_seq, 1);
    // Minimal ESP: SPI and sequence only.
    const uint8_t min[] = {0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff};
    c = natt::classify_natt_datagram(min, sizeof min);
    assert_kind(DatagramKind::EspInUdp, c.kind);
    assert_int_equal(c.esp_spi, 256);
    assert_int_equal(c.esp_seq, 0xffffffffu);
    // SPI 1..255 is reserved, but on a NAT-T port pair anything non-zero is
    // ESP by RFC 3948; only the heuristic (looks_like_esp_in_udp) is stricter.
    const uint8_t low[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07};
    c = natt::classify_natt_datagram(low, sizeof low);
    assert_kind(DatagramKind::EspInUdp, c.kind);
    assert_int_equal(c.esp_spi, 1);
    assert_int_equal(c.esp_seq, 7);
    // Something that is IKE in every field but one is ESP.
    Bytes mm1 = from_hex(kMm1);
    mm1[19] = 0x80;  // a reserved flag
    c = natt::classify_natt_datagram(mm1.data(), mm1.size());
    assert_kind(DatagramKind::EspInUdp, c.kind);
    assert_int_equal(c.esp_spi, 0xe47a591f);
    assert_int_equal(c.esp_seq, 0xd057587f);
}

void test_natt_ike_without_marker(void**) {
    // openswan: a main mode message sent to 4500 without the marker.
    const Bytes b = from_hex(kNoMarkerMm5);
    assert_int_equal(b.size(), 1324);
    Exact e(b.data(), b.size());
    Classification c = natt::classify_natt_datagram(e.data(), e.n);
    assert_kind(DatagramKind::IkeWithoutMarker, c.kind);
    assert_malf(Malformation::None, c.malformed);
    assert_int_equal(c.esp_spi, 0);
    // Every plain real message on a NAT-T port is the same.
    for (const Real& r : kReal) {
        if (r.floated) continue;
        Bytes m = from_hex(r.hex);
        c = natt::classify_natt_datagram(m.data(), m.size());
        if (c.kind != DatagramKind::IkeWithoutMarker) fail_msg("%s: %s", r.name, natt::datagram_kind_name(c.kind));
    }
    // One byte less in the length field: no longer a consistent IKE header,
    // so it is taken for ESP with SPI = CKY-I's high half.
    Bytes off = b;
    off[27] = static_cast<uint8_t>(off[27] - 1);
    c = natt::classify_natt_datagram(off.data(), off.size());
    assert_kind(DatagramKind::EspInUdp, c.kind);
    assert_int_equal(c.esp_spi, 0x80010203);
    assert_int_equal(c.esp_seq, 0x04050607);
}

// ---------------------------------------------------------------------------
// classify_ike_datagram

void test_ike_port_classify(void**) {
    Classification c = natt::classify_ike_datagram(nullptr, 0);
    assert_kind(DatagramKind::Malformed, c.kind);
    assert_malf(Malformation::Empty, c.malformed);
    c = natt::classify_ike_datagram(nullptr, 50);
    assert_malf(Malformation::Empty, c.malformed);

    for (const Real& r : kReal) {
        if (r.floated) continue;
        Bytes b = from_hex(r.hex);
        Exact e(b.data(), b.size());
        c = natt::classify_ike_datagram(e.data(), e.n);
        if (c.kind != DatagramKind::PlainIke) fail_msg("%s: %s", r.name, natt::datagram_kind_name(c.kind));
        assert_malf(Malformation::None, c.malformed);
        assert_hc(HeaderCheck::Ok, c.ike_check);
    }
    // Lenient like Wireshark's isakmp: padding, minor version, odd fields.
    Bytes mm1 = cat(from_hex(kMm1), Bytes(3, 0));
    mm1[17] = 0x1f;
    mm1[18] = 0xee;
    mm1[19] = 0xff;
    std::memset(mm1.data(), 0, 8);
    assert_kind(DatagramKind::PlainIke, natt::classify_ike_datagram(mm1.data(), mm1.size()).kind);

    // A keepalive on the IKE port: peers that detected a NAT but have not
    // floated keep their IKE socket's mapping alive with it.
    const Bytes ka = from_hex(kKeepalive);
    c = natt::classify_ike_datagram(ka.data(), ka.size());
    assert_kind(DatagramKind::Keepalive, c.kind);
    assert_malf(Malformation::None, c.malformed);
    // Not IKE: ESP, a floated message (marker on port 500).
    const Bytes esp = from_hex(kEspUdp);
    c = natt::classify_ike_datagram(esp.data(), esp.size());
    assert_kind(DatagramKind::Malformed, c.kind);
    assert_malf(Malformation::IkeHeaderInvalid, c.malformed);
    assert_true(c.ike_check != HeaderCheck::Ok);
    const Bytes fl = from_hex(kFloatMm5);
    c = natt::classify_ike_datagram(fl.data(), fl.size());
    assert_malf(Malformation::IkeHeaderInvalid, c.malformed);
    // A header length past the datagram.
    Bytes cut = from_hex(kMm2);
    cut.pop_back();
    c = natt::classify_ike_datagram(cut.data(), cut.size());
    assert_malf(Malformation::IkeHeaderInvalid, c.malformed);
    assert_hc(HeaderCheck::BadLength, c.ike_check);
}

// ---------------------------------------------------------------------------
// Heuristics

void test_looks_like_plain_ike(void**) {
    for (const Real& r : kReal) {
        Bytes b = from_hex(r.hex);
        Exact e(b.data(), b.size());
        const bool got = natt::looks_like_plain_ike(e.data(), e.n);
        if (got == r.floated) fail_msg("%s: looks_like_plain_ike = %d", r.name, got);
    }
    assert_false(natt::looks_like_plain_ike(nullptr, 0));
    assert_false(natt::looks_like_plain_ike(nullptr, 1000));
    const Bytes esp = from_hex(kEspUdp);
    assert_false(natt::looks_like_plain_ike(esp.data(), esp.size()));
    // Each strict header rule on its own defeats it.
    const Bytes mm1 = from_hex(kMm1);
    struct {
        size_t at;
        uint8_t value;
    } breaks[] = {{17, 0x11}, {18, 7}, {16, 0}, {19, 0x08}, {27, 0xa7}, {23, 1}};
    for (const auto& br : breaks) {
        Bytes b = mm1;
        b[br.at] = br.value;
        assert_false(natt::looks_like_plain_ike(b.data(), b.size()));
    }
    Bytes z = mm1;
    std::memset(z.data(), 0, 8);
    assert_false(natt::looks_like_plain_ike(z.data(), z.size()));
    // Padding after the message.
    Bytes pad = cat(mm1, Bytes(4, 0));
    assert_false(natt::looks_like_plain_ike(pad.data(), pad.size()));
    // A broken chain: bad payload length, trailing bytes.
    Bytes bad = mm1;
    put16(bad, 30, 3);
    assert_false(natt::looks_like_plain_ike(bad.data(), bad.size()));
    Bytes trail = cat(mm1, Bytes(4, 0));
    put32(trail, 24, static_cast<uint32_t>(trail.size()));
    assert_false(natt::looks_like_plain_ike(trail.data(), trail.size()));
    // Too many payloads is accepted: the chain was fine as far as it was walked.
    std::vector<Pl> pls(natt::kMaxPayloads + 2, Pl{natt::kPlV1VendorId, {}});
    Bytes many = build_v1(pls);
    assert_true(natt::looks_like_plain_ike(many.data(), many.size()));
    // The smallest acceptable: a bare IKEv2 header.
    Bytes bare = header(0, 0x20, natt::kExInformationalV2, 0x20, 9, 28);
    assert_true(natt::looks_like_plain_ike(bare.data(), bare.size()));
}

void test_looks_like_plain_ike_v1_cipher_blocks(void**) {
    // IKEv1 ciphertext is whole 8-byte blocks.
    const Bytes mm5 = from_hex(kMm5);  // 108 = 28 + 80
    assert_true(natt::looks_like_plain_ike(mm5.data(), mm5.size()));
    for (size_t extra = 1; extra <= 16; ++extra) {
        Bytes b = cat(mm5, Bytes(extra, 0x5a));
        put32(b, 24, static_cast<uint32_t>(b.size()));
        Exact e(b.data(), b.size());
        assert_int_equal(natt::looks_like_plain_ike(e.data(), e.n), extra % 8 == 0);
    }
    // Shrinking too.
    for (size_t less = 1; less <= 16; ++less) {
        Bytes b(mm5.begin(), mm5.end() - static_cast<long>(less));
        put32(b, 24, static_cast<uint32_t>(b.size()));
        assert_int_equal(natt::looks_like_plain_ike(b.data(), b.size()), less % 8 == 0);
    }
    // An encrypted message with no ciphertext at all.
    Bytes empty = header(5, 0x10, natt::kExIdentityProtection, 0x01, 0, 28);
    assert_false(natt::looks_like_plain_ike(empty.data(), empty.size()));
    Bytes qm = header(8, 0x10, natt::kExQuickMode, 0x01, 0x1234, 36);
    qm.resize(36, 0x33);
    assert_true(natt::looks_like_plain_ike(qm.data(), qm.size()));
    // IKEv2 SK bodies have no such rule: 81 bytes is fine.
    const Bytes info = from_hex(kV2InfoReq);
    assert_int_equal(info.size(), 81);
    assert_true(natt::looks_like_plain_ike(info.data(), info.size()));
}

void test_looks_like_floated_ike(void**) {
    for (const Real& r : kReal) {
        Bytes b = from_hex(r.hex);
        Exact e(b.data(), b.size());
        const bool got = natt::looks_like_floated_ike(e.data(), e.n);
        if (got != r.floated) fail_msg("%s: looks_like_floated_ike = %d", r.name, got);
        // And the same message with a marker added, if it had none.
        if (!r.floated) {
            Bytes m = marker(b);
            assert_true(natt::looks_like_floated_ike(m.data(), m.size()));
        }
    }
    assert_false(natt::looks_like_floated_ike(nullptr, 0));
    assert_false(natt::looks_like_floated_ike(nullptr, 400));
    // 4 + 28 is the minimum.
    Bytes bare = marker(header(0, 0x20, natt::kExInformationalV2, 0x20, 9, 28));
    assert_true(natt::looks_like_floated_ike(bare.data(), bare.size()));
    assert_false(natt::looks_like_floated_ike(bare.data(), bare.size() - 1));
    // A non-zero marker.
    const Bytes fl = from_hex(kFloatMm5);
    for (size_t i = 0; i < 4; ++i) {
        Bytes b = fl;
        b[i] = 1;
        assert_false(natt::looks_like_floated_ike(b.data(), b.size()));
    }
    // Zeros, and a strict-check failure behind the marker.
    Bytes zeros(64, 0);
    assert_false(natt::looks_like_floated_ike(zeros.data(), zeros.size()));
    Bytes odd = fl;
    odd.push_back(0);
    put32(odd, 4 + 24, static_cast<uint32_t>(odd.size() - 4));  // 325: not whole cipher blocks
    assert_false(natt::looks_like_floated_ike(odd.data(), odd.size()));
    // Padding after the floated message.
    Bytes pad = cat(fl, Bytes(8, 0));
    assert_false(natt::looks_like_floated_ike(pad.data(), pad.size()));
}

void test_mdns_not_floated(void**) {
    // mDNS (and DNS) queries start with ID 0, flags 0: four zero bytes, like
    // the non-ESP marker. None of them is floated IKE.
    for (const char* hex : kMdns) {
        Bytes b = from_hex(hex);
        assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
        Exact e(b.data(), b.size());
        assert_false(natt::looks_like_floated_ike(e.data(), e.n));
        assert_false(natt::looks_like_plain_ike(e.data(), e.n));
        // On a NAT-T port pair it would be a bad marker, not IKE.
        Classification c = natt::classify_natt_datagram(e.data(), e.n);
        assert_kind(DatagramKind::Malformed, c.kind);
        assert_malf(Malformation::MarkerBadIke, c.malformed);
    }
    // A crafted query: one question for _ipp._tcp.local, PTR.
    Bytes q = from_hex("00000000000100000000000004" "5f697070045f746370056c6f63616c00000c0001");
    assert_false(natt::looks_like_floated_ike(q.data(), q.size()));
}

void test_looks_like_esp(void**) {
    assert_false(natt::looks_like_esp_in_udp(nullptr, 0));
    assert_false(natt::looks_like_esp_in_udp(nullptr, 100));
    for (uint32_t spi : {0u, 1u, 2u, 255u}) {
        Bytes b(16, 0xab);
        put32(b, 0, spi);
        assert_false(natt::looks_like_esp_in_udp(b.data(), b.size()));
    }
    for (uint32_t spi : {256u, 257u, 0x10000u, 0xf4dc0ae5u, 0xffffffffu}) {
        Bytes b(8, 0);
        put32(b, 0, spi);
        Exact e(b.data(), b.size());
        assert_true(natt::looks_like_esp_in_udp(e.data(), e.n));
        // One byte short of SPI + sequence number.
        Exact s(b.data(), 7);
        assert_false(natt::looks_like_esp_in_udp(s.data(), s.n));
    }
    const Bytes esp = from_hex(kEspUdp);
    assert_true(natt::looks_like_esp_in_udp(esp.data(), esp.size()));
    const Bytes ka = from_hex(kKeepalive);
    assert_false(natt::looks_like_esp_in_udp(ka.data(), ka.size()));
    // A floated IKE message has SPI 0.
    const Bytes fl = from_hex(kFloatMm5);
    assert_false(natt::looks_like_esp_in_udp(fl.data(), fl.size()));
}

// ---------------------------------------------------------------------------
// Truncation: every prefix of every real message

void test_truncation_prefixes(void**) {
    for (const Real& r : kReal) {
        const Bytes full = from_hex(r.hex);
        const size_t skip = r.floated ? natt::kNonEspMarkerLen : 0;
        const size_t ike_len = full.size() - skip;
        IkeMessage whole;
        assert_hc(HeaderCheck::Ok, natt::parse_ike_message(full.data() + skip, ike_len, Strictness::Port, &whole));

        for (size_t n = 0; n <= full.size(); ++n) {
            Exact e(full.data(), n);
            const uint8_t* d = e.data();

            // Header and message, both strictness levels, on the IKE part.
            if (n >= skip) {
                const size_t in = n - skip;
                const uint8_t* id = in ? d + skip : nullptr;
                const HeaderCheck expect =
                    in < natt::kIkeHeaderLen ? HeaderCheck::TooShort : (in < ike_len ? HeaderCheck::BadLength : HeaderCheck::Ok);
                for (Strictness s : {Strictness::Port, Strictness::Heuristic}) {
                    IkeHeader h;
                    HeaderCheck c = natt::parse_ike_header(id, in, s, &h);
                    if (c != expect)
                        fail_msg("%s prefix %zu: header %s, expected %s", r.name, n, natt::header_check_name(c),
                                 natt::header_check_name(expect));
                    IkeMessage m;
                    c = natt::parse_ike_message(id, in, s, &m);
                    if (c != expect)
                        fail_msg("%s prefix %zu: message %s, expected %s", r.name, n, natt::header_check_name(c),
                                 natt::header_check_name(expect));
                    if (c == HeaderCheck::Ok) {
                        check_refs_inside(m, in);
                        assert_chain(whole.chain, m.chain);
                        assert_int_equal(m.n_payloads, whole.n_payloads);
                        assert_int_equal(m.n_vendor_ids, whole.n_vendor_ids);
                        assert_int_equal(m.n_natd, whole.n_natd);
                        assert_int_equal(m.n_notify, whole.n_notify);
                        assert_int_equal(m.v1_hash, whole.v1_hash);
                        assert_int_equal(m.v1_transforms, whole.v1_transforms);
                    } else {
                        assert_int_equal(m.n_payloads, 0);
                    }
                }
            }

            // Classification of the datagram prefix.
            Classification ci = natt::classify_ike_datagram(d, n);
            Classification cn = natt::classify_natt_datagram(d, n);
            const bool whole_dgram = n == full.size();
            if (n == 0) {
                assert_malf(Malformation::Empty, ci.malformed);
                assert_malf(Malformation::Empty, cn.malformed);
            } else if (!r.floated) {
                assert_kind(whole_dgram ? DatagramKind::PlainIke : DatagramKind::Malformed, ci.kind);
                if (!whole_dgram) assert_malf(Malformation::IkeHeaderInvalid, ci.malformed);
                DatagramKind expect = n == 1 ? DatagramKind::Malformed
                                      : n < natt::kEspMinLen ? DatagramKind::Malformed
                                      : whole_dgram ? DatagramKind::IkeWithoutMarker
                                                    : DatagramKind::EspInUdp;
                if (cn.kind != expect)
                    fail_msg("%s prefix %zu: natt kind %s, expected %s", r.name, n, natt::datagram_kind_name(cn.kind),
                             natt::datagram_kind_name(expect));
                if (n == 1) assert_malf(Malformation::OneByteNotFF, cn.malformed);
                else if (n < natt::kEspMinLen) assert_malf(Malformation::TooShortForEsp, cn.malformed);
            } else {
                assert_kind(DatagramKind::Malformed, ci.kind);
                Malformation expect = n == 1 ? Malformation::OneByteNotFF
                                      : n < 4 ? Malformation::TooShortForEsp
                                      : whole_dgram ? Malformation::None
                                                    : Malformation::MarkerBadIke;
                assert_malf(expect, cn.malformed);
                assert_kind(whole_dgram ? DatagramKind::FloatedIke : DatagramKind::Malformed, cn.kind);
                if (n >= 4 && !whole_dgram)
                    assert_hc(n < 4 + natt::kIkeHeaderLen ? HeaderCheck::TooShort : HeaderCheck::BadLength, cn.ike_check);
            }
            // The strict heuristics only accept the whole thing.
            assert_int_equal(natt::looks_like_plain_ike(d, n), whole_dgram && !r.floated);
            assert_int_equal(natt::looks_like_floated_ike(d, n), whole_dgram && r.floated);
            (void)natt::looks_like_esp_in_udp(d, n);
            if (n == 1) assert_false(natt::is_keepalive(d, n));
        }
    }
}

// A header length that agrees with the truncated datagram (Port strictness):
// the walk must stay inside, never report Complete before the real end, and
// agree with the whole message on every payload it did reach.
void test_truncation_consistent_length(void**) {
    for (const Real& r : kReal) {
        const Bytes full0 = from_hex(r.hex);
        const size_t skip = r.floated ? natt::kNonEspMarkerLen : 0;
        const Bytes full(full0.begin() + static_cast<long>(skip), full0.end());
        IkeMessage whole;
        assert_hc(HeaderCheck::Ok, natt::parse_ike_message(full.data(), full.size(), Strictness::Port, &whole));
        for (size_t n = natt::kIkeHeaderLen; n <= full.size(); ++n) {
            Bytes b(full.begin(), full.begin() + static_cast<long>(n));
            put32(b, 24, static_cast<uint32_t>(n));
            Exact e(b.data(), n);
            IkeMessage m;
            assert_hc(HeaderCheck::Ok, natt::parse_ike_message(e.data(), n, Strictness::Port, &m));
            check_refs_inside(m, n);
            if (whole.chain == ChainStatus::Encrypted && !whole.hdr.is_v2()) {
                assert_chain(ChainStatus::Encrypted, m.chain);
            } else if (n < full.size()) {
                if (m.chain != ChainStatus::BadPayloadLength)
                    fail_msg("%s cut at %zu: chain %s", r.name, n, natt::chain_status_name(m.chain));
            } else {
                assert_chain(whole.chain, m.chain);
            }
            assert_true(m.n_payloads <= whole.n_payloads);
            const auto cut = natt_test::payload_chain(e.data(), n);
            const auto all = natt_test::payload_chain(full.data(), full.size());
            assert_int_equal(cut.size(), m.n_payloads);
            for (unsigned i = 0; i < cut.size(); ++i) {
                assert_int_equal(cut[i].type, all[i].type);
                assert_int_equal(cut[i].offset, all[i].offset);
                assert_int_equal(cut[i].length, all[i].length);
            }
            assert_true(m.n_vendor_ids <= whole.n_vendor_ids);
            assert_true(m.n_natd <= whole.n_natd);
            assert_true(m.n_notify <= whole.n_notify);
            // The heuristic never accepts a cut clear chain.
            if (n < full.size() && m.chain == ChainStatus::BadPayloadLength)
                assert_false(natt::looks_like_plain_ike(e.data(), n));
        }
    }
}

// ---------------------------------------------------------------------------
// Mutations: random byte changes to real messages never break the invariants.

struct Rng {
    uint64_t s;
    uint32_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return static_cast<uint32_t>(s >> 16);
    }
    size_t below(size_t n) { return n ? next() % n : 0; }
};

void check_all(const uint8_t* d, size_t n) {
    for (Strictness s : {Strictness::Port, Strictness::Heuristic}) {
        IkeHeader h;
        IkeMessage m;
        HeaderCheck hc = natt::parse_ike_header(d, n, s, &h);
        HeaderCheck mc = natt::parse_ike_message(d, n, s, &m);
        assert_int_equal(static_cast<int>(hc), static_cast<int>(mc));
        if (mc == HeaderCheck::Ok) check_refs_inside(m, n);
    }
    const bool plain = natt::looks_like_plain_ike(d, n);
    const bool floated = natt::looks_like_floated_ike(d, n);
    if (plain) {
        assert_kind(DatagramKind::PlainIke, natt::classify_ike_datagram(d, n).kind);
        // (With a zero first word the marker rule comes first.)
        if (d[0] | d[1] | d[2] | d[3])
            assert_kind(DatagramKind::IkeWithoutMarker, natt::classify_natt_datagram(d, n).kind);
        IkeMessage m;
        assert_hc(HeaderCheck::Ok, natt::parse_ike_message(d, n, Strictness::Heuristic, &m));
    }
    if (floated) assert_kind(DatagramKind::FloatedIke, natt::classify_natt_datagram(d, n).kind);
    Classification c = natt::classify_natt_datagram(d, n);
    assert_true((c.kind == DatagramKind::Malformed) == (c.malformed != Malformation::None));
    if (c.kind == DatagramKind::EspInUdp) assert_true(c.esp_spi != 0);
    c = natt::classify_ike_datagram(d, n);
    assert_true((c.kind == DatagramKind::Malformed) == (c.malformed != Malformation::None));
}

void test_mutations(void**) {
    Rng rng{0x9e3779b97f4a7c15ull};
    std::vector<Bytes> corpus;
    for (const Real& r : kReal) corpus.push_back(from_hex(r.hex));
    corpus.push_back(build_v1({{natt::kPlV1Sa, sa_body(proposal(0, 2, cat(transform(3, 1, p1_attrs(2)),
                                                                           transform(0, 2, p1_attrs(1)))))},
                               {natt::kPlV1Notify, v1_notify(16, 36136, 16, 4)},
                               {natt::kPlV1NatDRfc, Bytes(20, 1)}}));
    corpus.push_back(build_v2({{natt::kPlV2Notify, v2_notify(4, 16388, 4, 20)}, {natt::kPlV2VendorId, Bytes(16, 2)}}));
    for (int iter = 0; iter < 20000; ++iter) {
        Bytes b = corpus[rng.below(corpus.size())];
        const size_t skip = (b.size() >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0) ? 4 : 0;
        const int edits = 1 + static_cast<int>(rng.below(4));
        for (int k = 0; k < edits; ++k) {
            switch (rng.below(6)) {
                case 0:  // a random byte anywhere
                    b[rng.below(b.size())] = static_cast<uint8_t>(rng.next());
                    break;
                case 1:  // a payload-length-ish position: a random 16-bit value
                {
                    size_t at = skip + natt::kIkeHeaderLen + rng.below(b.size() - skip - natt::kIkeHeaderLen);
                    if (at + 1 < b.size()) put16(b, at, static_cast<uint16_t>(rng.next()));
                    break;
                }
                case 2:  // the header length
                    put32(b, skip + 24, rng.below(2) ? static_cast<uint32_t>(rng.below(b.size() + 8)) : rng.next());
                    break;
                case 3:  // truncate
                    b.resize(skip + natt::kIkeHeaderLen + rng.below(b.size() - skip - natt::kIkeHeaderLen + 1));
                    break;
                case 4:  // extend with junk
                    for (size_t k2 = rng.below(40); k2 > 0; --k2) b.push_back(static_cast<uint8_t>(rng.next()));
                    break;
                default:  // the flags / next payload / exchange bytes
                    b[skip + 16 + rng.below(4)] = static_cast<uint8_t>(rng.next());
                    break;
            }
        }
        Exact e(b.data(), b.size());
        check_all(e.data(), e.n);
        if (skip) check_all(e.data() + skip, e.n - skip);
    }
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_header_accessors),
        cmocka_unit_test(test_header_real_v1),
        cmocka_unit_test(test_header_real_v2),
        cmocka_unit_test(test_header_all_real_ok),
        cmocka_unit_test(test_header_too_short),
        cmocka_unit_test(test_header_bad_version),
        cmocka_unit_test(test_header_bad_length),
        cmocka_unit_test(test_header_bad_exchange),
        cmocka_unit_test(test_header_bad_next_payload),
        cmocka_unit_test(test_header_bad_flags),
        cmocka_unit_test(test_header_zero_ispi),
        cmocka_unit_test(test_header_nonzero_msgid),
        cmocka_unit_test(test_header_check_order),
        cmocka_unit_test(test_msg_main_mode_1_2),
        cmocka_unit_test(test_msg_main_mode_3_4),
        cmocka_unit_test(test_msg_encrypted_v1),
        cmocka_unit_test(test_msg_aggressive),
        cmocka_unit_test(test_msg_natt_main_mode),
        cmocka_unit_test(test_msg_ikev2_sa_init),
        cmocka_unit_test(test_msg_ikev2_encrypted),
        cmocka_unit_test(test_msg_floated),
        cmocka_unit_test(test_chain_complete_empty),
        cmocka_unit_test(test_chain_too_many_payloads),
        cmocka_unit_test(test_chain_bad_payload_length),
        cmocka_unit_test(test_chain_trailing_bytes),
        cmocka_unit_test(test_chain_65535_payloads),
        cmocka_unit_test(test_collect_caps),
        cmocka_unit_test(test_collect_flags),
        cmocka_unit_test(test_parse_resets_output),
        cmocka_unit_test(test_v1_notify),
        cmocka_unit_test(test_v2_notify),
        cmocka_unit_test(test_v1_sa_valid),
        cmocka_unit_test(test_v1_sa_hostile),
        cmocka_unit_test(test_natt_empty),
        cmocka_unit_test(test_natt_keepalive),
        cmocka_unit_test(test_natt_too_short_for_esp),
        cmocka_unit_test(test_natt_floated_ike),
        cmocka_unit_test(test_natt_marker_bad_ike),
        cmocka_unit_test(test_natt_esp),
        cmocka_unit_test(test_natt_ike_without_marker),
        cmocka_unit_test(test_ike_port_classify),
        cmocka_unit_test(test_looks_like_plain_ike),
        cmocka_unit_test(test_looks_like_plain_ike_v1_cipher_blocks),
        cmocka_unit_test(test_looks_like_floated_ike),
        cmocka_unit_test(test_mdns_not_floated),
        cmocka_unit_test(test_looks_like_esp),
        cmocka_unit_test(test_truncation_prefixes),
        cmocka_unit_test(test_truncation_consistent_length),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests_name("ike_parse", tests, nullptr, nullptr);
}
