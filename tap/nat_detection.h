// natt: NAT-D hashes and NAT-T vendor IDs (pure C++, hashing via libgcrypt).
//
// RFC 3947 §3.2: HASH = HASH(CKY-I | CKY-R | IP | Port) with the negotiated
// IKEv1 hash; RFC 7296 §2.23: SHA-1(SPIi | SPIr | IP | Port) in the
// NAT_DETECTION_*_IP notifies, SPIr zero in the IKE_SA_INIT request.
#pragma once

#include <cstddef>
#include <cstdint>

#include "endpoint.h"
#include "ike_parse.h"

namespace natt {

constexpr size_t kMaxNatDHashLen = 64;  // SHA2-512

// Length of the NAT-D hash for an IKEv1 hash algorithm (IkeV1Hash), 0 if
// natt cannot compute it (none, Tiger, unknown).
size_t natd_hash_len(uint8_t v1_hash);

// Computes the NAT-D hash into out (at least natd_hash_len() bytes; IKEv2
// always uses SHA-1, 20 bytes: pass kHashSha1). Returns the length written, 0
// if the algorithm is unsupported or the endpoint has no address.
size_t natd_hash(uint8_t v1_hash, uint64_t icookie, uint64_t rcookie, const Endpoint& ep, uint8_t* out);

// The NAT-T flavour a vendor ID announces, ordered oldest to newest so that
// the agreed method is the highest one both peers announce.
enum class NattMethod : uint8_t {
    None = 0,
    DraftStenberg01,
    DraftStenberg02,
    DraftHuttunen,     // draft-huttunen-ipsec-esp-in-udp-00/01
    DraftIetf00,
    DraftIetf01,
    DraftIetf02,       // "draft-ietf-ipsec-nat-t-ike-02\n" (02') and without the newline
    DraftIetf03,
    DraftIetf04,
    DraftIetf05,
    DraftIetf06,
    DraftIetf07,
    DraftIetf08,
    DraftIetf09,
    DraftIetfUnversioned,  // "draft-ietf-ipsec-nat-t-ike"
    Rfc3947,
};

const char* natt_method_name(NattMethod m);

// The NAT-D payload type that method uses in IKEv1: 20 (RFC 3947), 130
// (drafts 01-03), 15 (drafts 04-08, which Wireshark decodes as GDOI SAK), 0 if
// the method defines none.
uint8_t natd_payload_type_for(NattMethod m);

struct VendorIdInfo {
    NattMethod method = NattMethod::None;  // a NAT-T vendor ID
    bool microsoft = false;                // "MS NT5 ISAKMPOAKLEY" (+ 4-byte version)
    uint32_t microsoft_version = 0;
    const char* name = nullptr;            // human-readable, nullptr if unknown
};

// Classifies one vendor ID payload body.
VendorIdInfo classify_vendor_id(const uint8_t* data, size_t len);

// The method two peers agree on: the highest NAT-T method announced by both
// (None if they share none).
NattMethod agreed_method(const NattMethod* initiator, size_t ni, const NattMethod* responder, size_t nr);

}  // namespace natt
