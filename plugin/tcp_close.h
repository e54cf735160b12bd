// natt: how RFC 8229 connections end, and the ones natt did not take. A
// FIN or RST while a frame is incomplete (natt.tcp.cut) goes on the FIN or
// RST: TCP hands a segment without payload to no subdissector, so a
// postdissector reads it (natt's one postdissector, in experts.cpp: each
// one registered costs every frame of every capture a dissector call), and
// only in files with an RFC 8229 connection.
// Connections refused for the budget (natt.tcp.connections_full) are said on
// the segment that was refused.
#pragma once

#include <epan/packet.h>

#include "tcp_connection.h"

namespace natt_glue {

// Fields, expert infos and the init routine.
void register_tcp_close(void);
// natt's postdissector calls it for every frame: one branch in a file
// without an RFC 8229 connection.
void tcp_close_experts(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree);
// First pass: a connection is framed (from here on the postdissector looks
// at TCP frames).
void watch_tcp_connections(void);
// First pass, tcp_dissect_pdus: at this segment the direction's stream has a
// unit of `length` bytes of which `have` are in the segment (length > have:
// the unit is incomplete; otherwise the direction has no incomplete unit).
void note_tcp_unit(TcpConnection& c, int dir, const packet_info* pinfo, uint32_t length, uint32_t have);
// First pass: the segment of a connection natt refused (the budget is spent).
void note_refused_connection(const packet_info* pinfo);

}  // namespace natt_glue
