// natt: the end of RFC 8229 connections (see tcp_close.h).
//
// The first pass computes, later passes only show: the cuts and refusals are
// kept by frame number, so one pass and two show the same, with or without a
// tree, whatever TCP's preferences (the FIN or RST is read from the frame's
// own bytes, not from TCP's sequence analysis).

#include "tcp_close.h"

#include <algorithm>
#include <cstring>

#include <epan/expert.h>

#include "../tap/limits.h"

namespace natt_glue {

namespace {

int hf_cut_start = -1;
int hf_cut_missing = -1;
gint ett_close = -1;
expert_field ei_cut = EI_INIT;
expert_field ei_connections_full = EI_INIT;

// What one FIN or RST frame cut: a RST can cut both directions.
struct TcpCuts {
    bool rst;
    uint8_t n;
    natt::TcpCut cut[2];
};

// A file with no RFC 8229 connection costs the postdissector this one branch.
bool watching = false;
wmem_map_t* cuts = nullptr;  // frame -> TcpCuts (file scope; kMaxTcpCutsPerConnection per connection)
// The frames of the first kBudgetReports refused connections, in frame order.
uint32_t refused_frames[natt::kBudgetReports];
uint32_t refused_count = 0;

void reset(void) {
    watching = false;
    cuts = nullptr;  // freed with the file scope
    refused_count = 0;
}

void record_cut(const packet_info* pinfo, bool rst, const natt::TcpCut* cut, int n) {
    if (!cuts) cuts = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    auto* c = wmem_new0(wmem_file_scope(), TcpCuts);
    c->rst = rst;
    for (int i = 0; i < n; ++i) c->cut[c->n++] = cut[i];
    wmem_map_insert(cuts, GUINT_TO_POINTER(pinfo->num), c);
}

// How far into a frame natt looks for an IPv6 header (link layer, VLAN
// tags, MPLS, a tunnel's outer headers).
constexpr guint kIpv6Search = 512;

// Where the packet's IP source address is in the frame's bytes (-1: not
// there, e.g. reassembled). IPv4 leaves pinfo->src pointing into the frame;
// IPv6 copies its header: the first source and destination pair is it.
gint source_offset(const uint8_t* base, guint len, const packet_info* pinfo) {
    const auto* src = static_cast<const uint8_t*>(pinfo->src.data);
    if (src >= base && src + pinfo->src.len <= base + len) return static_cast<gint>(src - base);
    if (pinfo->src.type != AT_IPv6 || pinfo->src.len != 16 || pinfo->dst.len != 16) return -1;
    const guint end = len < kIpv6Search ? len : kIpv6Search;
    for (guint at = 8; at + 32 <= end; ++at)
        if (memcmp(base + at, src, 16) == 0 && memcmp(base + at + 16, pinfo->dst.data, 16) == 0)
            return static_cast<gint>(at);
    return -1;
}

// The TCP header of this frame (the segment natt's conversation lookup
// used), read after the IP header the source address is in.
natt::TcpSegmentHeader segment_header(tvbuff_t* tvb, const packet_info* pinfo) {
    const int version = pinfo->src.type == AT_IPv4 ? 4 : pinfo->src.type == AT_IPv6 ? 6 : 0;
    const guint len = tvb_captured_length(tvb);
    if (!version || len == 0) return natt::TcpSegmentHeader();
    const auto* base = static_cast<const uint8_t*>(tvb_get_ptr(tvb, 0, static_cast<gint>(len)));
    const gint at = source_offset(base, len, pinfo);
    if (at < 0) return natt::TcpSegmentHeader();
    return natt::tcp_header_after(base, len, static_cast<size_t>(at), version,
                                  static_cast<uint16_t>(pinfo->srcport), static_cast<uint16_t>(pinfo->destport));
}

// First pass: the segment's place in its direction's stream; a FIN ends that
// direction, a RST both.
void observe_segment(tvbuff_t* tvb, packet_info* pinfo) {
    if (pinfo->ptype != PT_TCP || proto_is_frame_protocol(pinfo->layers, "icmp") ||
        proto_is_frame_protocol(pinfo->layers, "icmpv6"))
        return;  // an ICMP error quotes a segment: not the connection's own
    TcpConnection* c = connection_of(find_conversation_pinfo(pinfo, 0));
    if (!c || pinfo->num < c->first_frame) return;
    const natt::TcpSegmentHeader h = segment_header(tvb, pinfo);
    if (!h.found) return;
    natt::TcpCut cut[2];
    if (const int n = c->end.segment(c->direction(pinfo), pinfo->num, h, cut))
        record_cut(pinfo, (h.flags & natt::kTcpRst) != 0, cut, n);
}

bool refused_here(uint32_t frame) {
    return std::binary_search(refused_frames, refused_frames + refused_count, frame);
}

void show(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree) {
    const auto* c = cuts ? static_cast<const TcpCuts*>(wmem_map_lookup(cuts, GUINT_TO_POINTER(pinfo->num))) : nullptr;
    const bool refused = refused_count && refused_here(pinfo->num);
    if (!c && !refused) return;
    proto_item* ti = proto_tree_add_item(tree, proto_natt, tvb, 0, 0, ENC_NA);
    proto_tree* t = proto_item_add_subtree(ti, ett_close);
    if (refused) {
        proto_item_append_text(ti, ", RFC 8229 connection not framed (connection budget spent)");
        expert_add_info_format(pinfo, ti, &ei_connections_full,
                               "natt frames at most %u RFC 8229 connections per file (%u per natt.max_sas): this "
                               "connection is left to TCP (said for the first %u refused connections only)",
                               static_cast<unsigned>(natt::kTcpConnectionsPerSa * prefs.max_sas),
                               static_cast<unsigned>(natt::kTcpConnectionsPerSa),
                               static_cast<unsigned>(natt::kBudgetReports));
    }
    if (!c) return;
    proto_item_append_text(ti, ", RFC 8229 connection %s mid-frame", c->rst ? "reset" : "closed");
    col_append_str(pinfo->cinfo, COL_INFO, c->rst ? "[natt: TCP reset mid-frame] " : "[natt: TCP closed mid-frame] ");
    for (uint8_t i = 0; i < c->n; ++i) {
        const natt::TcpCut& k = c->cut[i];
        proto_item_set_generated(proto_tree_add_uint(t, hf_cut_start, tvb, 0, 0, k.start_frame));
        proto_item_set_generated(proto_tree_add_uint(t, hf_cut_missing, tvb, 0, 0, k.missing));
        expert_add_info_format(pinfo, ti, &ei_cut,
                               "Connection %s mid-frame: the frame that starts in frame %u (length %u) never got "
                               "its last %u bytes",
                               c->rst ? "reset (RST)" : "closed (FIN)", k.start_frame, k.length, k.missing);
    }
}

}  // namespace

void tcp_close_experts(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree) {
    if (!watching) return;
    if (!PINFO_FD_VISITED(pinfo)) observe_segment(tvb, pinfo);
    show(tvb, pinfo, tree);
}

void watch_tcp_connections(void) { watching = true; }

void note_tcp_unit(TcpConnection& c, int dir, const packet_info* pinfo, uint32_t length, uint32_t have) {
    c.end.unit(dir, pinfo->num, length, have);
}

void note_refused_connection(const packet_info* pinfo) {
    watching = true;
    if (refused_count < natt::kBudgetReports) refused_frames[refused_count++] = pinfo->num;
}

void register_tcp_close(void) {
    static hf_register_info hf[] = {
        {&hf_cut_start,
         {"Cut frame starts in", "natt.tcp.cut_frame_start", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
          "The capture frame where the RFC 8229 frame this FIN or RST cut short starts", HFILL}},
        {&hf_cut_missing,
         {"Bytes missing", "natt.tcp.cut_missing", FT_UINT32, BASE_DEC, nullptr, 0x0,
          "Bytes of the cut RFC 8229 frame that never arrived before the FIN or RST", HFILL}},
    };
    static gint* ett[] = {&ett_close};
    static ei_register_info ei[] = {
        {&ei_cut,
         {"natt.tcp.cut", PI_MALFORMED, PI_WARN,
          "RFC 8229 connection closed or reset mid-frame: a message was cut short", EXPFILL}},
        {&ei_connections_full,
         {"natt.tcp.connections_full", PI_UNDECODED, PI_WARN,
          "natt's RFC 8229 connection budget is spent: this connection is left to TCP (bounded memory; reported on "
          "the first connections only)",
          EXPFILL}},
    };
    proto_register_field_array(proto_natt, hf, G_N_ELEMENTS(hf));
    proto_register_subtree_array(ett, G_N_ELEMENTS(ett));
    expert_register_field_array(expert_register_protocol(proto_natt), ei, G_N_ELEMENTS(ei));
    register_init_routine(reset);
}

}  // namespace natt_glue
