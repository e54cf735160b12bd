// natt: how frames reach natt. UDP 500/4500 by port preference, port pairs
// and IKE endpoints natt claimed as conversations, four heuristics on any UDP
// port, and raw ESP. Every path ends in dissect_datagram(), which hands the
// payload on to Wireshark's own isakmp / udpencap (-> esp) dissectors so that
// every isakmp.* and esp.* field stays exactly as in stock Wireshark.
//
// Wireshark reports errors by longjmp: nothing with a destructor may be alive
// across tvb_*/proto_tree_add_*/call_dissector calls here.

#include "dispatch.h"

#include <epan/conversation.h>
#include <epan/proto_data.h>
#include <epan/tap.h>

#include "capture_state.h"
#include "experts.h"
#include "fields.h"
#include "frame_results.h"
#include "packet_access.h"
#include "tcp_encap.h"
#include "tree.h"

using natt::Classification;
using natt::DatagramKind;
using natt::PairRole;

namespace natt_glue {

namespace {

// The open file's state (nullptr between files).
CaptureState* capture = nullptr;

// An IKE peer's IKE/NAT-T port endpoint owns all its UDP traffic: a wildcard
// conversation (this ip:port <-> any), so that a NAT that maps another peer's
// port 500 to 67 or 135 does not hand IKE to DHCP or DCE/RPC, which UDP
// prefers because their port is lower. Only endpoints that answered (sent
// IKE of a tracked SA), at most kMaxClaimedEndpoints: a scan of random
// addresses claims nothing. Preference natt.claim_ike_endpoints.
void claim_ike_endpoint(CaptureState& cs, packet_info* pinfo) {
    const address* addr = &pinfo->src;
    const address* other = &pinfo->dst;  // ignored: wildcard
    const guint32 port = pinfo->srcport;
    if (!prefs.claim_endpoints || cs.claimed_endpoints.size() >= kMaxClaimedEndpoints ||
        (addr->type != AT_IPv4 && addr->type != AT_IPv6))
        return;
    natt::Endpoint ep;
    endpoint_from_address(*addr, port, &ep);
    if (!cs.claimed_endpoints.insert(ep).second) return;
    conversation_t* conv = find_conversation(pinfo->num, addr, other, CONVERSATION_UDP, port, 0, NO_ADDR_B | NO_PORT_B);
    if (!conv) conv = conversation_new(pinfo->num, addr, other, CONVERSATION_UDP, port, 0, NO_ADDR2 | NO_PORT2);
    if (!conversation_get_dissector(conv, pinfo->num)) conversation_set_dissector(conv, handles.conversation);
}

void claim_port_pair(packet_info* pinfo) {
    conversation_t* conv = find_or_create_conversation(pinfo);
    conversation_set_dissector(conv, handles.conversation);
}

// ESP is counted on the side of the NAT its SA was first seen on (ESP frames
// keep no per-frame result: their record says the side). Only an SA seen on
// several sides has packets it does not count.
bool esp_on_counted_side(const CaptureState& cs, packet_info* pinfo, const FrameResult& r) {
    const bool udp = r.cls.kind == DatagramKind::EspInUdp;
    if (!udp && r.cls.kind != DatagramKind::RawEsp) return true;
    const natt::IkeSa* sa = cs.analyzer.sa(r.analysis.sa);
    if (!sa || sa->sides.count < 2) return true;
    natt::Endpoint s, d;
    endpoint_from_address(pinfo->src, udp ? pinfo->srcport : 0, &s);
    endpoint_from_address(pinfo->dst, udp ? pinfo->destport : 0, &d);
    if (PINFO_FD_VISITED(pinfo)) return esp_record(cs, pinfo, s, d, r.cls.esp_spi).side == 0;
    return cs.analyzer.esp_lookup(s, d, r.cls.esp_spi, UINT32_MAX).side == 0;
}

void queue_tap_record(const CaptureState& cs, packet_info* pinfo, const FrameResult& r) {
    if (!have_tap_listener(natt_tap)) return;
    auto* rec = wmem_new(pinfo->pool, TapRecord);
    rec->model = &cs.analyzer;
    rec->sa = r.analysis.sa;
    rec->esp_spi = r.cls.esp_spi;
    rec->time_ns = static_cast<int64_t>(pinfo->abs_ts.secs) * 1000000000 + pinfo->abs_ts.nsecs;
    rec->frame = pinfo->num;
    rec->kind = static_cast<uint8_t>(r.cls.kind);
    rec->dir = static_cast<uint8_t>(r.analysis.dir);
    rec->counted = r.analysis.copy == natt::Copy::None && esp_on_counted_side(cs, pinfo, r);
    rec->finding = (r.analysis.findings & natt::kSaFindings) != 0;
    tap_queue_packet(natt_tap, pinfo, rec);
}

}  // namespace

CaptureState* current_capture() { return capture; }

// Common path for every frame natt claims.
int dissect_datagram(CaptureState& cs, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data,
                     PairRole role, uint8_t recognised_by, FrameResult* result) {
    FrameResult r;
    analyse_frame(cs, tvb, pinfo, role, recognised_by, &r);
    if (result) *result = r;
    // An endpoint that sends IKE of a tracked SA from its IKE/NAT-T port is
    // an IKE peer (a server, usually): it owns all its UDP traffic from now on.
    if (recognised_by == kByPort && r.analysis.sa && !PINFO_FD_VISITED(pinfo) && !pinfo->flags.in_error_pkt &&
        (r.cls.kind == DatagramKind::PlainIke || r.cls.kind == DatagramKind::FloatedIke) &&
        (port_in(prefs.ike_ports, pinfo->srcport) || port_in(prefs.natt_ports, pinfo->srcport)))
        claim_ike_endpoint(cs, pinfo);

    // A message of an RFC 8229 TCP stream: named by what it is on TCP (the
    // Protocol column says ISAKMP or ESP, not TCP).
    set_info_prefix(pinfo, r.analysis.sa,
                    pinfo->ptype == PT_TCP ? tcp_kind_text(r.cls.kind) : info_kind_text(r.cls.kind));

    proto_item* ti = add_natt_tree(cs.analyzer, tvb, pinfo, tree, r);
    add_findings(cs.analyzer, pinfo, ti, r);
    add_datagram_experts(tvb, pinfo, ti, r);

    // For the "IKE SA" conversation filter of the packet being shown (the GUI
    // offers it on a dissected tree; tshark -q has none and pays nothing).
    if (r.analysis.sa && tree && proto_field_is_referenced(tree, proto_natt))
        p_add_proto_data(pinfo->pool, pinfo, proto_natt, kShownSaKey, GUINT_TO_POINTER(r.analysis.sa));

    if (have_tap_listener(natt_tap)) queue_tap_record(cs, pinfo, r);

    // Wireshark's own dissectors do the protocol tree, so isakmp.*/esp.* are
    // exactly what stock Wireshark shows on 500/4500.
    dissector_handle_t next = r.role == PairRole::Natt ? handles.udpencap : handles.isakmp;
    call_dissector_with_data(next, tvb, pinfo, tree, data);
    return static_cast<int>(tvb_captured_length(tvb));
}

namespace {

// What dissect_ports hands to natt's port dissector.
struct PortCall {
    PairRole role;
    void* udp_data;
};

// ESP on a later pass: accepted when the first pass recorded its SPI on this
// port pair (ESP frames have no kept FrameResult).
bool esp_recorded(const CaptureState& cs, const packet_info* pinfo, const Classification& cls,
                  const natt::Endpoint& src, const natt::Endpoint& dst) {
    if (cls.kind != DatagramKind::EspInUdp) return false;
    // Any frame of the flow: the first pass reached its early packets too.
    esp_record(cs, pinfo, src, dst, cls.esp_spi);
    return cs.esp_memo.record.sa != 0;
}

// Later passes accept exactly the frames the first pass accepted with heuristic
// `by`. Returns false on the first pass (the heuristic decides).
bool replay_heuristic(const CaptureState& cs, packet_info* pinfo, uint8_t by, bool* accepted) {
    if (!PINFO_FD_VISITED(pinfo)) return false;
    PairRole role;
    uint8_t first_by = 0;
    *accepted = first_pass_reach(cs, pinfo, &role, &first_by) && first_by == by;
    return true;
}

bool whole_datagram(tvbuff_t* tvb) { return tvb_captured_length(tvb) == tvb_reported_length(tvb); }

// The two IKE-header heuristics differ only in the check and the role: claim
// the port pair on the first pass, replay the first pass's verdict later.
bool heur_ike_header(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data,
                     bool (*looks_like)(const uint8_t*, size_t), PairRole role, uint8_t by) {
    if (!capture) return false;
    CaptureState& cs = *capture;
    bool accepted = false;
    if (replay_heuristic(cs, pinfo, by, &accepted)) {
        if (accepted) dissect_datagram(cs, tvb, pinfo, tree, data, role, by);
        return accepted;
    }
    guint len = 0;
    if (!whole_datagram(tvb)) return false;
    const uint8_t* p = payload_bytes(tvb, &len);
    if (!looks_like(p, len)) return false;
    claim_port_pair(pinfo);
    dissect_datagram(cs, tvb, pinfo, tree, data, role, by);
    return true;
}

PairRole known_role(const CaptureState& cs, packet_info* pinfo) {
    return cs.analyzer.role(src_endpoint(pinfo), dst_endpoint(pinfo));
}

}  // namespace

void open_capture(void) {
    capture = new CaptureState();
    capture->analyzer.set_nat_timeout_ns(static_cast<int64_t>(prefs.nat_timeout_s) * 1000000000);
    capture->analyzer.set_max_sas(prefs.max_sas);
    // A changed preference redissects, which opens a new capture.
    natt::PortRanges natt_ports;
    if (prefs.natt_ports)
        for (guint i = 0; i < prefs.natt_ports->nranges; i++)
            natt_ports.push_back({static_cast<uint16_t>(prefs.natt_ports->ranges[i].low),
                                  static_cast<uint16_t>(prefs.natt_ports->ranges[i].high)});
    capture->analyzer.set_natt_ports(std::move(natt_ports));
}

void close_capture(void) {
    delete capture;
    capture = nullptr;
}

// Registered by name: another dissector, a Lua script or a plugin may call it
// with no data (no PortCall); the ports then say the role, as dissect_ports does.
int dissect_on_port(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    if (!capture) return 0;
    if (!data) {
        const bool natt_port = port_in(prefs.natt_ports, pinfo->srcport) || port_in(prefs.natt_ports, pinfo->destport);
        return dissect_datagram(*capture, tvb, pinfo, tree, nullptr, natt_port ? PairRole::Natt : PairRole::Ike,
                                kByPort);
    }
    const auto* call = static_cast<const PortCall*>(data);
    return dissect_datagram(*capture, tvb, pinfo, tree, call->udp_data, call->role, kByPort);
}

// This handle has no protocol of its own, so it is neither listed in
// frame.protocols nor disabled with natt: it calls natt (call_dissector_only()
// refuses a disabled protocol) and, when natt is disabled, gives the ports
// their stock isakmp/udpencap dissection back.
int dissect_ports(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    const bool natt_port = port_in(prefs.natt_ports, pinfo->srcport) || port_in(prefs.natt_ports, pinfo->destport);
    PortCall call{natt_port ? PairRole::Natt : PairRole::Ike, data};
    int n = call_dissector_only(handles.on_port, tvb, pinfo, tree, &call);
    if (n == 0) n = call_dissector_with_data(natt_port ? handles.udpencap : handles.isakmp, tvb, pinfo, tree, data);
    return n;
}

// A port pair recognised by a heuristic, or a claimed IKE endpoint: the rest
// of its traffic.
int dissect_conversation(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    if (!capture) return 0;
    CaptureState& cs = *capture;
    PairRole role = PairRole::Unknown;
    uint8_t first_by = 0;
    if (first_pass_reach(cs, pinfo, &role, &first_by))
        return dissect_datagram(cs, tvb, pinfo, tree, data, role, first_by);
    const natt::Endpoint src = src_endpoint(pinfo), dst = dst_endpoint(pinfo);
    // Nearly every frame of a busy capture is ESP of a known SPI on a NAT-T
    // pair: its record says the pair's role (one hash lookup, not two).
    guint len = 0;
    const uint8_t* p = payload_bytes(tvb, &len);
    const Classification esp = natt::classify_natt_datagram(p, len);
    if (esp.kind == DatagramKind::EspInUdp && cs.analyzer.known_esp_on_natt_pair(src, dst, esp.esp_spi))
        role = PairRole::Natt;
    else
        role = cs.analyzer.role(src, dst);
    uint8_t by = kByConversation;
    if (role == PairRole::Unknown) {
        // The IKE/NAT-T port of a peer already seen, reached from a port that
        // UDP would hand to another dissector (a NAT mapped 500 to 67, ...).
        if (port_in(prefs.natt_ports, pinfo->srcport) || port_in(prefs.natt_ports, pinfo->destport))
            role = PairRole::Natt;
        else if (port_in(prefs.ike_ports, pinfo->srcport) || port_in(prefs.ike_ports, pinfo->destport))
            role = PairRole::Ike;
        else
            return 0;
        by = kByServerEndpoint;
    }
    if (PINFO_FD_VISITED(pinfo) && !(role == PairRole::Natt && esp_recorded(cs, pinfo, esp, src, dst))) return 0;
    return dissect_datagram(cs, tvb, pinfo, tree, data, role, by);
}

// Raw ESP (IP protocol 50). The dispatcher belongs to no protocol and always
// ends in Wireshark's esp; natt links raw ESP to the IKE SA between its hosts
// (by SPI, counted in the SA table), and warns when that SA's NAT-D showed
// a NAT: such ESP cannot cross the NAT.
int dissect_esp_dispatch(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    if (capture && !pinfo->flags.in_error_pkt) {
        FrameResult r;
        if (analyse_raw_esp(*capture, tvb, pinfo, &r)) call_dissector_only(handles.raw_esp, tvb, pinfo, tree, &r);
    }
    return call_dissector_with_data(handles.esp, tvb, pinfo, tree, data);
}

// Registered by name: called with no data (no FrameResult), it declines.
int dissect_raw_esp(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    if (!capture || !data) return 0;
    const FrameResult& r = *static_cast<const FrameResult*>(data);
    if (r.analysis.sa == 0) return 0;
    const bool through_nat = natt::NatVerdictView::unpack(r.analysis.nat_verdict).encapsulation_expected();
    set_info_prefix(pinfo, r.analysis.sa, through_nat ? "raw ESP through NAT" : nullptr);
    proto_item* ti = add_natt_tree(capture->analyzer, tvb, pinfo, tree, r);
    if (through_nat) add_raw_esp_expert(pinfo, ti);
    queue_tap_record(*capture, pinfo, r);
    return 1;
}

natt_ws::heur_result_t heur_floated_ike(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    return heur_ike_header(tvb, pinfo, tree, data, natt::looks_like_floated_ike, PairRole::Natt, kByHeurFloated);
}

natt_ws::heur_result_t heur_plain_ike(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    return heur_ike_header(tvb, pinfo, tree, data, natt::looks_like_plain_ike, PairRole::Ike, kByHeurPlainIke);
}

natt_ws::heur_result_t heur_keepalive(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    if (!capture) return false;
    CaptureState& cs = *capture;
    bool accepted = false;
    if (replay_heuristic(cs, pinfo, kByHeurKeepalive, &accepted)) {
        if (accepted) dissect_datagram(cs, tvb, pinfo, tree, data, PairRole::Natt, kByHeurKeepalive);
        return accepted;
    }
    guint len = 0;
    const uint8_t* p = payload_bytes(tvb, &len);
    if (!natt::is_keepalive(p, len) || !whole_datagram(tvb)) return false;
    // A lone 0xFF byte is too common to claim on its own: only on a port pair
    // that already carried IKE or ESP-in-UDP.
    if (known_role(cs, pinfo) == PairRole::Unknown) return false;
    dissect_datagram(cs, tvb, pinfo, tree, data, PairRole::Natt, kByHeurKeepalive);
    return true;
}

natt_ws::heur_result_t heur_esp(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    if (!capture) return false;
    CaptureState& cs = *capture;
    guint len = 0;
    const uint8_t* p = payload_bytes(tvb, &len);
    if (PINFO_FD_VISITED(pinfo)) {
        if (!esp_recorded(cs, pinfo, natt::classify_natt_datagram(p, len), src_endpoint(pinfo), dst_endpoint(pinfo)))
            return false;
    } else if (!natt::looks_like_esp_in_udp(p, len) || known_role(cs, pinfo) != PairRole::Natt) {
        return false;
    }
    dissect_datagram(cs, tvb, pinfo, tree, data, PairRole::Natt, kByHeurEsp);
    return true;
}

}  // namespace natt_glue
