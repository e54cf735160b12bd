// natt: the expert infos of a frame (with or without a tree: the expert tap
// and _ws.expert filters see them either way).
#pragma once

#include <epan/packet.h>

#include "capture_state.h"

namespace natt_glue {

// What the first pass found on this frame, plus what the SA's (final, on
// later passes) NAT verdict says about it.
void add_findings(const natt::Analyzer& model, packet_info* pinfo, proto_item* ti, const FrameResult& r);

// What the datagram itself shows: malformed, truncated, quoted in an ICMP
// error, IKE without the non-ESP marker.
void add_datagram_experts(tvbuff_t* tvb, packet_info* pinfo, proto_item* ti, const FrameResult& r);

// natt's postdissector: raises natt.nat.icmp_error on the ICMP error itself
// (outside its quoted payload, where the expert tap would drop it), and the
// end of RFC 8229 connections (tcp_close.h). From proto_register_natt.
void register_icmp_error_postdissector(void);

// Raw ESP between the peers of an SA whose NAT-D showed a NAT.
void add_raw_esp_expert(packet_info* pinfo, proto_item* ti);

}  // namespace natt_glue
