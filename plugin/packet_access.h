// natt: a frame's UDP payload and endpoints as the pure core wants them
// (plain copies: nothing here throws or outlives the call).
#pragma once

#include <cstdint>
#include <cstring>

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
// The IPv4 Identification of the datagram whose UDP payload is tvb (0: not
// known: IPv6, reassembled from fragments, tunnelled oddly, or zero). It tells
// a resend (a new datagram) from the same datagram captured twice. Read from
// the frame's bytes just before the UDP header, checked against the source
// address, as a plain byte walk: no exception can leave here.
inline uint32_t ipv4_id_of(tvbuff_t* tvb, const packet_info* pinfo) {
    if (pinfo->src.type != AT_IPv4 || pinfo->src.len != 4) return 0;
    tvbuff_t* ds = tvb_get_ds_tvb(tvb);
    const gint off = tvb_raw_offset(tvb);
    if (!ds || off < 8 + 20) return 0;
    const gint have = static_cast<gint>(tvb_captured_length(ds));
    if (off > have) return 0;
    const guint8* b = tvb_get_ptr(ds, 0, off);  // in bounds: off <= captured length
    for (gint ihl = 5; ihl <= 15; ++ihl) {
        const gint start = off - 8 - 4 * ihl;
        if (start < 0) break;
        if (b[start] != (0x40 | ihl) || b[start + 9] != 17) continue;
        if (memcmp(b + start + 12, pinfo->src.data, 4) != 0) continue;
        return static_cast<uint32_t>(b[start + 4] << 8 | b[start + 5]);
    }
    return 0;
}

inline const uint8_t* payload_bytes(tvbuff_t* tvb, guint* len) {
    *len = tvb_captured_length(tvb);
    if (*len == 0) return nullptr;
    return tvb_get_ptr(tvb, 0, *len);
}

inline natt::Classification classify(natt::PairRole role, const uint8_t* p, guint len) {
    return role == natt::PairRole::Natt ? natt::classify_natt_datagram(p, len) : natt::classify_ike_datagram(p, len);
}

}  // namespace natt_glue
