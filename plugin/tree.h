// natt: the natt.* fields of a frame.
#pragma once

#include <epan/packet.h>

#include "capture_state.h"

namespace natt_glue {

// "IKE", "floated IKE", ... for the Info column and the tree's top item.
const char* kind_text(natt::DatagramKind kind);

// What the Info column's prefix says of a datagram: nullptr when the
// Protocol column already says it (ISAKMP, ESP, UDPENCAP keepalive).
const char* info_kind_text(natt::DatagramKind kind);

// "[natt SA 1: floated IKE] " / "[natt SA 1] " before the Info column, and
// a fence (unless the natt.info_prefix preference is off).
void set_info_prefix(packet_info* pinfo, uint32_t sa, const char* kind);

// Adds natt's subtree when anyone looks at natt's fields; returns its item
// (nullptr without one: expert infos still attach to the frame).
proto_item* add_natt_tree(const natt::Analyzer& model, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree,
                          const FrameResult& r);

// Raw ESP (IP protocol 50) between the peers of an SA that saw a NAT.

}  // namespace natt_glue
