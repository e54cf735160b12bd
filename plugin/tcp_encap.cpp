// natt: IKE and ESP over TCP (RFC 8229 / RFC 9329).
//
// A connection is natt's when its initiator's stream starts with "IKETCP"
// (the heuristic natt_iketcp_tcp, any port) or, on the TCP port preference,
// also when a segment starts with a framed IKE message (a capture that
// starts mid-connection). tcp_dissect_pdus cuts the stream into the prefix
// and length-prefixed frames; each frame's message takes the path of a UDP
// 4500 datagram (dissect_datagram: the model with the TCP endpoints, natt's
// tree, udpencap -> isakmp / esp), so isakmp.* and esp.* are what Wireshark
// shows for the same message on UDP.
//
// Wireshark reports errors by longjmp: nothing with a destructor may be alive
// across tvb_*/proto_tree_add_*/call_dissector calls here.

#include "tcp_encap.h"

#include <new>

#include <epan/conversation.h>
#include <epan/dissectors/packet-tcp.h>
#include <epan/expert.h>

#include "../tap/limits.h"
#include "../tap/tcp_framing.h"
#include "capture_state.h"
#include "dispatch.h"
#include "fields.h"
#include "packet_access.h"
#include "tcp_close.h"
#include "tcp_connection.h"

namespace natt_glue {

namespace {

int hf_tcp_prefix = -1;
int hf_tcp_length = -1;
int hf_tcp_empty = -1;
int hf_tcp_unframed = -1;
int hf_tcp_fallback_from = -1;
gint ett_tcp = -1;
expert_field ei_tcp_fallback = EI_INIT;
expert_field ei_tcp_bad_length = EI_INIT;
expert_field ei_tcp_unframed = EI_INIT;

range_t* tcp_ports = nullptr;
range_t* registered_tcp_ports = nullptr;
dissector_handle_t tcp_handle = nullptr;
// Connections of this file with framing state (Budget kTcpConnectionsPerSa).
size_t tracked_connections = 0;

// nullptr: the budget is spent; the connection is marked refused (left to
// TCP from here on) and reported.
TcpConnection* new_connection(conversation_t* conv, packet_info* pinfo, bool prefix, uint8_t by) {
    if (!natt::Budget(natt::kTcpConnectionsPerSa).has_room(tracked_connections, prefs.max_sas)) {
        conversation_add_proto_data(conv, proto_natt, refused_connection_marker());
        note_refused_connection(pinfo);
        return nullptr;
    }
    tracked_connections++;
    watch_tcp_connections();
    auto* c = new (wmem_alloc0(wmem_file_scope(), sizeof(TcpConnection))) TcpConnection();
    c->first_frame = pinfo->num;
    c->prefix_frame = prefix ? pinfo->num : 0;
    c->recognised_by = by;
    c->first_sender = src_endpoint(pinfo);
    conversation_add_proto_data(conv, proto_natt, c);
    return c;
}

bool refused(conversation_t* conv) {
    return conv && conversation_get_proto_data(conv, proto_natt) == refused_connection_marker();
}

// tcp_dissect_pdus: the length of the unit at offset (the prefix, a frame,
// or after a bad length the rest of the segment).
guint tcp_unit_len(packet_info* pinfo, tvbuff_t* tvb, int offset, void* data) {
    auto* c = static_cast<TcpConnection*>(data);
    const int dir = c->direction(pinfo);
    const guint rest = tvb_reported_length_remaining(tvb, offset);
    if (c->broken_frame[dir] == pinfo->num && offset >= c->broken_offset[dir]) return rest;
    const guint have = tvb_captured_length_remaining(tvb, offset);
    const guint want = have < natt::kIkeTcpPrefixLen ? have : static_cast<guint>(natt::kIkeTcpPrefixLen);
    const uint8_t* p = tvb_get_ptr(tvb, offset, want);  // in bounds: want <= captured
    const bool start = c->prefix_frame == pinfo->num && offset == 0;
    const natt::TcpFraming f = natt::next_tcp_unit(p, want, start);
    if (f.unit != natt::TcpUnit::BadLength) {
        if (!PINFO_FD_VISITED(pinfo)) note_tcp_unit(*c, dir, pinfo, f.length, rest);
        return f.length;
    }
    if (!PINFO_FD_VISITED(pinfo) && !c->broken_frame[dir]) {
        c->broken_frame[dir] = pinfo->num;
        c->broken_offset[dir] = offset;
    }
    return rest;
}

// One unit of the stream.
int dissect_tcp_unit(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    const auto* c = static_cast<const TcpConnection*>(data);
    CaptureState* cs = current_capture();
    const guint len = tvb_reported_length(tvb);
    guint have = 0;
    const uint8_t* p = payload_bytes(tvb, &have);
    proto_item* ti = proto_tree_add_item(tree, proto_natt, tvb, 0, -1, ENC_NA);
    proto_item_set_text(ti, "IKE/ESP over TCP (RFC 8229)");
    proto_tree* t = proto_item_add_subtree(ti, ett_tcp);
    if (len == natt::kIkeTcpPrefixLen && natt::starts_with_iketcp(p, have)) {
        // A frame's first two bytes are its length: 6 bytes of "IKETCP" are the prefix.
        proto_tree_add_item(t, hf_tcp_prefix, tvb, 0, static_cast<gint>(natt::kIkeTcpPrefixLen), ENC_ASCII);
        proto_item_append_text(ti, ": stream prefix");
        col_append_str(pinfo->cinfo, COL_INFO, "[natt: IKETCP stream prefix] ");
        return static_cast<gint>(len);
    }
    proto_item* li = proto_tree_add_item(t, hf_tcp_length, tvb, 0, 2, ENC_BIG_ENDIAN);
    const guint n = tvb_get_ntohs(tvb, 0);
    if (n < natt::kTcpLengthFieldLen) {
        expert_add_info_format(pinfo, li, &ei_tcp_bad_length,
                               "Frame length %u (less than the 2-byte length field itself): the rest of this "
                               "direction of the stream cannot be framed",
                               n);
        if (len > 2) proto_tree_add_item(t, hf_tcp_unframed, tvb, 2, -1, ENC_NA);
        col_append_str(pinfo->cinfo, COL_INFO, "[natt: bad TCP frame length] ");
        return static_cast<gint>(len);
    }
    if (n == natt::kTcpLengthFieldLen) {
        proto_item* e = proto_tree_add_boolean(t, hf_tcp_empty, tvb, 0, 2, TRUE);
        proto_item_set_generated(e);
        proto_item_append_text(ti, ": empty frame");
        col_append_str(pinfo->cinfo, COL_INFO, "[natt: empty TCP frame] ");
        return static_cast<gint>(len);
    }
    proto_item_append_text(ti, ": %u-byte frame", n);
    if (!cs) return static_cast<gint>(len);
    tvbuff_t* body = tvb_new_subset_length(tvb, 2, static_cast<gint>(n - natt::kTcpLengthFieldLen));
    FrameResult r;
    dissect_datagram(*cs, body, pinfo, tree, nullptr, natt::PairRole::Natt, c->recognised_by, &r);
    if (r.analysis.findings & natt::kFindTcpFallback) {
        proto_item* fb = proto_tree_add_uint(t, hf_tcp_fallback_from, tvb, 0, 0, r.analysis.related_frame);
        proto_item_set_generated(fb);
        expert_add_info_format(pinfo, ti, &ei_tcp_fallback,
                               "UDP 500/4500 got no answer; IKE moved to TCP (the unanswered UDP attempt starts in "
                               "frame %u)",
                               r.analysis.related_frame);
    }
    return static_cast<gint>(len);
}

// A segment of a connection natt frames.
int frame_stream(TcpConnection& c, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree) {
    const int dir = c.direction(pinfo);
    if (c.broken_frame[dir] && pinfo->num > c.broken_frame[dir]) {
        proto_item* ti = proto_tree_add_item(tree, proto_natt, tvb, 0, -1, ENC_NA);
        proto_item_set_text(ti, "IKE/ESP over TCP (RFC 8229): unframed (a bad length in frame %u)",
                            c.broken_frame[dir]);
        proto_tree* t = proto_item_add_subtree(ti, ett_tcp);
        proto_tree_add_item(t, hf_tcp_unframed, tvb, 0, -1, ENC_NA);
        expert_add_info(pinfo, ti, &ei_tcp_unframed);
        col_append_str(pinfo->cinfo, COL_INFO, "[natt: unframed TCP bytes] ");
        return static_cast<int>(tvb_captured_length(tvb));
    }
    tcp_dissect_pdus(tvb, pinfo, tree, TRUE, static_cast<guint>(natt::kTcpLengthFieldLen), tcp_unit_len,
                     dissect_tcp_unit, &c);
    return static_cast<int>(tvb_captured_length(tvb));
}

// The TCP port preference (and the conversation the heuristic claimed).
int dissect_tcp_stream(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    if (!current_capture()) return 0;
    conversation_t* conv = find_or_create_conversation(pinfo);
    TcpConnection* c = connection_of(conv);
    if (!c) {
        if (PINFO_FD_VISITED(pinfo) || refused(conv)) return 0;
        guint have = 0;
        const uint8_t* p = payload_bytes(tvb, &have);
        const bool prefix = natt::looks_like_iketcp_stream(p, have);
        if (!prefix && !natt::looks_like_tcp_ike_frame(p, have)) return 0;
        c = new_connection(conv, pinfo, prefix, kByTcpPort);
        if (!c) return 0;
    }
    if (pinfo->num < c->first_frame) return 0;
    return frame_stream(*c, tvb, pinfo, tree);
}

natt_ws::heur_result_t heur_iketcp(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    if (!current_capture() || PINFO_FD_VISITED(pinfo)) return false;
    guint have = 0;
    const uint8_t* p = payload_bytes(tvb, &have);
    if (!natt::looks_like_iketcp_stream(p, have)) return false;
    conversation_t* conv = find_or_create_conversation(pinfo);
    if (connection_of(conv) || refused(conv)) return false;
    TcpConnection* c = new_connection(conv, pinfo, true, kByHeurTcp);
    if (!c) return false;
    // The rest of the connection comes to natt directly, on every pass.
    conversation_set_dissector(conv, tcp_handle);
    frame_stream(*c, tvb, pinfo, tree);
    return true;
}

void reset_connections(void) { tracked_connections = 0; }

}  // namespace

const char* tcp_kind_text(natt::DatagramKind kind) {
    switch (kind) {
        case natt::DatagramKind::FloatedIke: return "IKE over TCP";
        case natt::DatagramKind::EspInUdp: return "ESP over TCP";
        case natt::DatagramKind::Keepalive: return "keepalive over TCP";
        default: return "malformed TCP frame";
    }
}

void register_tcp_encap(module_t* module) {
    static hf_register_info hf[] = {
        {&hf_tcp_prefix,
         {"TCP stream prefix", "natt.tcp.prefix", FT_STRING, BASE_NONE, nullptr, 0x0,
          "\"IKETCP\": the first bytes the initiator sends on an IKE/ESP-over-TCP connection (RFC 8229 section 3)",
          HFILL}},
        {&hf_tcp_length,
         {"TCP frame length", "natt.tcp.length", FT_UINT16, BASE_DEC, nullptr, 0x0,
          "Length of this frame of the TCP stream, the 2-byte length field included (RFC 8229 section 3)", HFILL}},
        {&hf_tcp_empty,
         {"Empty TCP frame", "natt.tcp.empty_frame", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "A frame of length 2: no message", HFILL}},
        {&hf_tcp_unframed,
         {"Unframed bytes", "natt.tcp.unframed", FT_BYTES, BASE_NONE, nullptr, 0x0,
          "Bytes of the stream after a frame length of 0 or 1: no frame boundary can be found in them", HFILL}},
        {&hf_tcp_fallback_from,
         {"Fell back from UDP attempt", "natt.tcp.fallback_from", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
          "The first frame of the same peers' IKE attempt over UDP that got no answer before this SA started over "
          "TCP",
          HFILL}},
    };
    static gint* ett[] = {&ett_tcp};
    static ei_register_info ei[] = {
        {&ei_tcp_fallback,
         {"natt.tcp.fallback", PI_SEQUENCE, PI_WARN,
          "UDP 500/4500 got no answer; IKE moved to TCP (RFC 8229): UDP is blocked on the path", EXPFILL}},
        {&ei_tcp_bad_length,
         {"natt.tcp.bad_length", PI_MALFORMED, PI_ERROR,
          "TCP frame length less than 2: the stream cannot be framed from here on", EXPFILL}},
        {&ei_tcp_unframed,
         {"natt.tcp.unframed", PI_MALFORMED, PI_WARN,
          "Bytes of an RFC 8229 stream whose framing was lost to a bad length earlier", EXPFILL}},
    };
    proto_register_field_array(proto_natt, hf, G_N_ELEMENTS(hf));
    proto_register_subtree_array(ett, G_N_ELEMENTS(ett));
    expert_register_field_array(expert_register_protocol(proto_natt), ei, G_N_ELEMENTS(ei));

    tcp_handle = register_dissector("natt_tcp", dissect_tcp_stream, proto_natt);
    range_convert_str(wmem_epan_scope(), &tcp_ports, "4500", 65535);
    prefs_register_range_preference(module, "encapsulation_tcp_ports", "IKE/ESP over TCP ports",
                                    "TCP ports carrying IKE and ESP in RFC 8229 framing (default 4500); on any "
                                    "other port the \"IKETCP\" prefix finds them (heuristic natt_iketcp_tcp)",
                                    &tcp_ports, 65535);
    register_init_routine(reset_connections);
    register_tcp_close();
}

void apply_tcp_port_prefs(void) {
    if (!tcp_handle) return;
    if (registered_tcp_ports) dissector_delete_uint_range("tcp.port", registered_tcp_ports, tcp_handle);
    wmem_free(wmem_epan_scope(), registered_tcp_ports);
    registered_tcp_ports = range_copy(wmem_epan_scope(), tcp_ports);
    dissector_add_uint_range("tcp.port", registered_tcp_ports, tcp_handle);
}

void handoff_tcp_encap(void) {
    heur_dissector_add("tcp", heur_iketcp, "IKE/ESP over TCP (RFC 8229 \"IKETCP\" prefix) on any port",
                       "natt_iketcp_tcp", proto_natt, HEURISTIC_ENABLE);
}

}  // namespace natt_glue
