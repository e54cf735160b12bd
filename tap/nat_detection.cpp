// natt: NAT-D hashes and NAT-T vendor IDs (pure C++, hashing via libgcrypt).
//
// Every digest here comes from libgcrypt: the NAT-D hashes (RFC 3947 §3.2,
// RFC 7296 §2.23) and the vendor ID table, which is the MD5 of the strings
// each NAT-T flavour announces, computed once on first use. Wireshark
// initialises libgcrypt before any plugin runs (tests do it themselves).
#include "nat_detection.h"

#include <gcrypt.h>

#include <cstring>

namespace natt {

namespace {

// The libgcrypt algorithm of an IKEv1 hash id (RFC 2409 appendix A,
// RFC 4868), or GCRY_MD_NONE if natt cannot compute it (none, Tiger, unknown).
int gcry_algo_for(uint8_t v1_hash) {
    switch (v1_hash) {
        case kHashMd5: return GCRY_MD_MD5;
        case kHashSha1: return GCRY_MD_SHA1;
        case kHashSha2_256: return GCRY_MD_SHA256;
        case kHashSha2_384: return GCRY_MD_SHA384;
        case kHashSha2_512: return GCRY_MD_SHA512;
        default: return GCRY_MD_NONE;
    }
}

// Hashes len bytes with algo into out; false if libgcrypt refuses the
// algorithm (e.g. MD5 in FIPS mode), in which case out is untouched.
bool hash_buffer(int algo, const void* data, size_t len, uint8_t* out) {
    if (gcry_md_test_algo(algo) != 0) return false;
    gcry_md_hash_buffer(algo, out, data, len);
    return true;
}

void put_be64(uint8_t* p, uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<uint8_t>(v);
        v >>= 8;
    }
}

// ---------------------------------------------------------------------------
// Vendor IDs

constexpr size_t kVidLen = 16;  // MD5

struct VidSpec {
    const char* text;  // hashed as is (strlen bytes, no NUL)
    NattMethod method;
    const char* name;  // static, shown to the user
};

// RFC 3947 §3.1 and the drafts before it announce MD5(text). "02'" is the
// draft-02 vendor ID as printed in that draft, which is the MD5 of the
// string with a trailing newline; implementations send both.
const VidSpec kNattVids[] = {
    {"RFC 3947", NattMethod::Rfc3947, "RFC 3947"},
    {"draft-ietf-ipsec-nat-t-ike", NattMethod::DraftIetfUnversioned, "draft-ietf-ipsec-nat-t-ike"},
    {"draft-ietf-ipsec-nat-t-ike-00", NattMethod::DraftIetf00, "draft-ietf-ipsec-nat-t-ike-00"},
    {"draft-ietf-ipsec-nat-t-ike-01", NattMethod::DraftIetf01, "draft-ietf-ipsec-nat-t-ike-01"},
    {"draft-ietf-ipsec-nat-t-ike-02", NattMethod::DraftIetf02, "draft-ietf-ipsec-nat-t-ike-02"},
    {"draft-ietf-ipsec-nat-t-ike-02\n", NattMethod::DraftIetf02, "draft-ietf-ipsec-nat-t-ike-02'"},
    {"draft-ietf-ipsec-nat-t-ike-03", NattMethod::DraftIetf03, "draft-ietf-ipsec-nat-t-ike-03"},
    {"draft-ietf-ipsec-nat-t-ike-04", NattMethod::DraftIetf04, "draft-ietf-ipsec-nat-t-ike-04"},
    {"draft-ietf-ipsec-nat-t-ike-05", NattMethod::DraftIetf05, "draft-ietf-ipsec-nat-t-ike-05"},
    {"draft-ietf-ipsec-nat-t-ike-06", NattMethod::DraftIetf06, "draft-ietf-ipsec-nat-t-ike-06"},
    {"draft-ietf-ipsec-nat-t-ike-07", NattMethod::DraftIetf07, "draft-ietf-ipsec-nat-t-ike-07"},
    {"draft-ietf-ipsec-nat-t-ike-08", NattMethod::DraftIetf08, "draft-ietf-ipsec-nat-t-ike-08"},
    {"draft-ietf-ipsec-nat-t-ike-09", NattMethod::DraftIetf09, "draft-ietf-ipsec-nat-t-ike-09"},
    {"draft-stenberg-ipsec-nat-traversal-01", NattMethod::DraftStenberg01, "draft-stenberg-ipsec-nat-traversal-01"},
    {"draft-stenberg-ipsec-nat-traversal-02", NattMethod::DraftStenberg02, "draft-stenberg-ipsec-nat-traversal-02"},
    {"draft-huttunen-ipsec-esp-in-udp-00.txt", NattMethod::DraftHuttunen, "draft-huttunen-ipsec-esp-in-udp-00.txt"},
    {"draft-huttunen-ipsec-esp-in-udp-01.txt", NattMethod::DraftHuttunen, "draft-huttunen-ipsec-esp-in-udp-01.txt"},
};
constexpr size_t kNumNattVids = sizeof kNattVids / sizeof kNattVids[0];

const char* const kMicrosoftText = "MS NT5 ISAKMPOAKLEY";

struct VidTable {
    uint8_t natt[kNumNattVids][kVidLen] = {};
    bool natt_ok[kNumNattVids] = {};
    uint8_t microsoft[kVidLen] = {};
    bool microsoft_ok = false;
};

const VidTable& vid_table() {
    static const VidTable table = [] {
        VidTable t;
        for (size_t i = 0; i < kNumNattVids; ++i)
            t.natt_ok[i] = hash_buffer(GCRY_MD_MD5, kNattVids[i].text, std::strlen(kNattVids[i].text), t.natt[i]);
        t.microsoft_ok = hash_buffer(GCRY_MD_MD5, kMicrosoftText, std::strlen(kMicrosoftText), t.microsoft);
        return t;
    }();
    return table;
}

// The 4-byte big-endian version after MD5("MS NT5 ISAKMPOAKLEY"). 2-5 as
// Wireshark's packet-isakmp.c names them; 6-9 as Microsoft's [MS-IKEE]
// product list orders them (and ike-scan / nmap fingerprint them). Windows 8
// and every later release up to Windows 11 / Server 2022 still send 9.
const char* microsoft_name(uint32_t version) {
    switch (version) {
        case 2: return "MS NT5 ISAKMPOAKLEY (Windows 2000)";
        case 3: return "MS NT5 ISAKMPOAKLEY (Windows XP SP1)";
        case 4: return "MS NT5 ISAKMPOAKLEY (Windows Server 2003 or Windows XP SP2)";
        case 5: return "MS NT5 ISAKMPOAKLEY (Windows Vista)";
        case 6: return "MS NT5 ISAKMPOAKLEY (Windows Server 2008)";
        case 7: return "MS NT5 ISAKMPOAKLEY (Windows 7)";
        case 8: return "MS NT5 ISAKMPOAKLEY (Windows Server 2008 R2)";
        case 9: return "MS NT5 ISAKMPOAKLEY (Windows 8 or later)";
        default: return "MS NT5 ISAKMPOAKLEY (unknown version)";
    }
}

}  // namespace

size_t natd_hash_len(uint8_t v1_hash) {
    switch (v1_hash) {
        case kHashMd5: return 16;
        case kHashSha1: return 20;
        case kHashSha2_256: return 32;
        case kHashSha2_384: return 48;
        case kHashSha2_512: return 64;
        default: return 0;
    }
}

size_t natd_hash(uint8_t v1_hash, uint64_t icookie, uint64_t rcookie, const Endpoint& ep, uint8_t* out) {
    const int algo = gcry_algo_for(v1_hash);
    const size_t alen = ep.addr_len();
    if (algo == GCRY_MD_NONE || alen == 0 || out == nullptr) return 0;

    // CKY-I | CKY-R | IP | Port, all in network byte order.
    uint8_t buf[8 + 8 + 16 + 2];
    put_be64(buf, icookie);
    put_be64(buf + 8, rcookie);
    std::memcpy(buf + 16, ep.addr, alen);
    buf[16 + alen] = static_cast<uint8_t>(ep.port >> 8);
    buf[16 + alen + 1] = static_cast<uint8_t>(ep.port);

    if (!hash_buffer(algo, buf, 16 + alen + 2, out)) return 0;
    return natd_hash_len(v1_hash);
}

const char* natt_method_name(NattMethod m) {
    switch (m) {
        case NattMethod::None: return "none";
        case NattMethod::DraftStenberg01: return "draft-stenberg-ipsec-nat-traversal-01";
        case NattMethod::DraftStenberg02: return "draft-stenberg-ipsec-nat-traversal-02";
        case NattMethod::DraftHuttunen: return "draft-huttunen-ipsec-esp-in-udp";
        case NattMethod::DraftIetf00: return "draft-ietf-ipsec-nat-t-ike-00";
        case NattMethod::DraftIetf01: return "draft-ietf-ipsec-nat-t-ike-01";
        case NattMethod::DraftIetf02: return "draft-ietf-ipsec-nat-t-ike-02";
        case NattMethod::DraftIetf03: return "draft-ietf-ipsec-nat-t-ike-03";
        case NattMethod::DraftIetf04: return "draft-ietf-ipsec-nat-t-ike-04";
        case NattMethod::DraftIetf05: return "draft-ietf-ipsec-nat-t-ike-05";
        case NattMethod::DraftIetf06: return "draft-ietf-ipsec-nat-t-ike-06";
        case NattMethod::DraftIetf07: return "draft-ietf-ipsec-nat-t-ike-07";
        case NattMethod::DraftIetf08: return "draft-ietf-ipsec-nat-t-ike-08";
        case NattMethod::DraftIetf09: return "draft-ietf-ipsec-nat-t-ike-09";
        case NattMethod::DraftIetfUnversioned: return "draft-ietf-ipsec-nat-t-ike";
        case NattMethod::Rfc3947: return "RFC 3947";
    }
    return "unknown";
}

uint8_t natd_payload_type_for(NattMethod m) {
    switch (m) {
        // RFC 3947 §3.2 (IANA). There is no draft -09 document (00-08 then
        // the RFC); its vendor ID is sent by RFC-era implementations.
        case NattMethod::Rfc3947:
        case NattMethod::DraftIetf09: return kPlV1NatDRfc;
        // Drafts 00-03 §3.2: "The payload type for the NAT discovery payload
        // is 130 (XXX CHANGE)". The unversioned and Stenberg vendor IDs come
        // from implementations of that era.
        case NattMethod::DraftIetf00:
        case NattMethod::DraftIetf01:
        case NattMethod::DraftIetf02:
        case NattMethod::DraftIetf03:
        case NattMethod::DraftIetfUnversioned:
        case NattMethod::DraftStenberg01:
        case NattMethod::DraftStenberg02: return kPlV1NatDDraft;
        // Drafts 04-08 §3.2: "The payload type for the NAT discovery payload
        // is 15." (GDOI SAK in RFC 3547).
        case NattMethod::DraftIetf04:
        case NattMethod::DraftIetf05:
        case NattMethod::DraftIetf06:
        case NattMethod::DraftIetf07:
        case NattMethod::DraftIetf08: return kPlV1NatDDraft15;
        case NattMethod::DraftHuttunen:
        case NattMethod::None: return kPlNone;
    }
    return kPlNone;
}

VendorIdInfo classify_vendor_id(const uint8_t* data, size_t len) {
    VendorIdInfo info;
    // Some implementations append bytes after the digest; fewer than 16
    // bytes cannot be one of these vendor IDs.
    if (data == nullptr || len < kVidLen) return info;
    const VidTable& t = vid_table();
    for (size_t i = 0; i < kNumNattVids; ++i) {
        if (t.natt_ok[i] && std::memcmp(data, t.natt[i], kVidLen) == 0) {
            info.method = kNattVids[i].method;
            info.name = kNattVids[i].name;
            return info;
        }
    }
    if (t.microsoft_ok && std::memcmp(data, t.microsoft, kVidLen) == 0) {
        info.microsoft = true;
        if (len >= kVidLen + 4) {
            const uint8_t* v = data + kVidLen;
            info.microsoft_version = (uint32_t{v[0]} << 24) | (uint32_t{v[1]} << 16) | (uint32_t{v[2]} << 8) | v[3];
            info.name = microsoft_name(info.microsoft_version);
        } else {
            info.name = kMicrosoftText;
        }
    }
    return info;
}

NattMethod agreed_method(const NattMethod* initiator, size_t ni, const NattMethod* responder, size_t nr) {
    if (initiator == nullptr) ni = 0;
    if (responder == nullptr) nr = 0;
    NattMethod best = NattMethod::None;
    for (size_t i = 0; i < ni; ++i) {
        const NattMethod m = initiator[i];
        if (static_cast<uint8_t>(m) <= static_cast<uint8_t>(best)) continue;
        for (size_t j = 0; j < nr; ++j) {
            if (responder[j] == m) {
                best = m;
                break;
            }
        }
    }
    return best;
}

}  // namespace natt
