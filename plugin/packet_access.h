// natt: a frame's UDP payload and endpoints as the pure core wants them
// (plain copies: nothing here throws or outlives the call).
#pragma once

#include <cstdint>

#include <epan/address.h>
#include <epan/packet.h>

#include "../tap/endpoint.h"
#include "../tap/ike_parse.h"

namespace natt_glue {

inline bool endpoint_from_address(const address& a, guint32 port, natt::Endpoint* out) {
    if (a.type == AT_IPv4 && a.len == 4) {
        *out = natt::Endpoint::from_bytes(4, static_cast<const uint8_t*>(a.data), static_cast<uint16_t>(port));
        return true;
    }
    if (a.type == AT_IPv6 && a.len == 16) {
        *out = natt::Endpoint::from_bytes(6, static_cast<const uint8_t*>(a.data), static_cast<uint16_t>(port));
        return true;
    }
    *out = natt::Endpoint();
    out->port = static_cast<uint16_t>(port);
    return false;
}

inline natt::Endpoint src_endpoint(const packet_info* pinfo) {
    natt::Endpoint e;
    endpoint_from_address(pinfo->src, pinfo->srcport, &e);
    return e;
}

inline natt::Endpoint dst_endpoint(const packet_info* pinfo) {
    natt::Endpoint e;
    endpoint_from_address(pinfo->dst, pinfo->destport, &e);
    return e;
}

// The captured bytes of the UDP payload (never throws).
inline const uint8_t* payload_bytes(tvbuff_t* tvb, guint* len) {
    *len = tvb_captured_length(tvb);
    if (*len == 0) return nullptr;
    return tvb_get_ptr(tvb, 0, *len);
}

inline natt::Classification classify(natt::PairRole role, const uint8_t* p, guint len) {
    return role == natt::PairRole::Natt ? natt::classify_natt_datagram(p, len) : natt::classify_ike_datagram(p, len);
}

}  // namespace natt_glue
