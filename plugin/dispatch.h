// natt: how frames reach natt (UDP ports, claimed conversations, heuristics,
// raw ESP) and the capture state the dissectors work on.
#pragma once

#include <epan/packet.h>

#include "../tap/datagram.h"
#include "ws_compat.h"

namespace natt_glue {

struct CaptureState;
struct FrameResult;

// The open file's state (nullptr between files).
CaptureState* current_capture();
// The common path of every message natt claims (a UDP datagram, or one
// message of an RFC 8229 TCP stream): analyse it, add natt's tree, expert
// infos and tap record, then hand it to Wireshark's isakmp or udpencap.
// *result (optional): the frame's result.
int dissect_datagram(CaptureState& cs, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data,
                     natt::PairRole role, uint8_t recognised_by, FrameResult* result = nullptr);

// Init and cleanup routines: make and delete the capture state.
void open_capture(void);
void close_capture(void);

// UDP 500/4500: natt, or stock isakmp/udpencap when natt is disabled.
int dissect_ports(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data);
// natt on those ports (data: what dissect_ports hands it).
int dissect_on_port(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data);
// A port pair or endpoint natt claimed.
int dissect_conversation(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data);
// IP protocol 50: Wireshark's esp, after natt's check for raw ESP through a NAT.
int dissect_esp_dispatch(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data);
// natt on raw ESP through a NAT (data: the SA number).
int dissect_raw_esp(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data);

natt_ws::heur_result_t heur_floated_ike(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data);
natt_ws::heur_result_t heur_plain_ike(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data);
natt_ws::heur_result_t heur_keepalive(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data);
natt_ws::heur_result_t heur_esp(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data);

}  // namespace natt_glue
