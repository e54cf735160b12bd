// Test-side walk of an IKE payload chain: every payload's type, body offset
// and length, as the parser walks it (the parser keeps only what the model
// reads; the tests check the whole chain with this).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tap/ike_parse.h"

namespace natt_test {

// The payloads of the IKE message at d (len bytes, header already valid):
// stops where the parser stops (ciphertext, a bad length, kMaxPayloads).
inline std::vector<natt::PayloadRef> payload_chain(const uint8_t* d, size_t len) {
    std::vector<natt::PayloadRef> out;
    natt::IkeHeader h;
    if (natt::parse_ike_header(d, len, natt::Strictness::Port, &h) != natt::HeaderCheck::Ok) return out;
    if (h.v1_encrypted()) return out;
    uint8_t next = h.next_payload;
    uint32_t off = natt::kIkeHeaderLen;
    while (next != natt::kPlNone && out.size() < natt::kMaxPayloads) {
        if (off + 4 > h.length) break;
        const uint16_t plen = static_cast<uint16_t>(d[off + 2] << 8 | d[off + 3]);
        if (plen < 4 || off + plen > h.length) break;
        natt::PayloadRef ref;
        ref.type = next;
        ref.offset = off + 4;
        ref.length = plen - 4u;
        out.push_back(ref);
        if (h.is_v2() && (next == natt::kPlV2Encrypted || next == natt::kPlV2EncryptedFragment)) break;
        next = d[off];
        off += plen;
    }
    return out;
}

}  // namespace natt_test
