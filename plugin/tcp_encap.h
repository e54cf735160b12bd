// natt: IKE and ESP over TCP (RFC 8229 / RFC 9329): the "IKETCP" stream on
// the TCP port preference (default 4500) or found by its prefix on any TCP
// port, framed with tcp_dissect_pdus; each message goes the way of a UDP
// 4500 datagram (model, natt tree, udpencap -> isakmp / esp).
#pragma once

#include <epan/packet.h>
#include <epan/prefs.h>

#include "../tap/ike_parse.h"

namespace natt_glue {

// Fields, expert infos, the port preference (in natt's module) and the
// dissector handle; from proto_register_natt.
void register_tcp_encap(module_t* module);
// The heuristic on "tcp"; from proto_reg_handoff_natt.
void handoff_tcp_encap(void);
// (Re)registers the TCP port preference on "tcp.port"; from the apply callback.
void apply_tcp_port_prefs(void);
// The Info column's name of a message of an RFC 8229 stream.
const char* tcp_kind_text(natt::DatagramKind kind);

}  // namespace natt_glue
