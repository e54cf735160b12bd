// natt: the dissection glue. Classifies UDP datagrams as IKE, floated IKE,
// NAT-T keepalives or ESP-in-UDP, on UDP 500/4500 and (heuristically) on any
// port, adds the natt.* tree, and hands the payload to Wireshark's own
// isakmp / udpencap (-> esp) dissectors so every isakmp.* and esp.* field stays
// exactly as in stock Wireshark.
//
// Wireshark reports errors by longjmp: nothing with a destructor may be alive
// across tvb_*/proto_tree_add_*/call_dissector calls here. The pure parsers and
// the Analyzer are called with plain copies and return plain structs.

#include "natt.h"

#include <cstring>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include <epan/conversation.h>
#include <epan/conversation_filter.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto_data.h>
#include <epan/tap.h>
#include <wsutil/nstime.h>

#include "../tap/analyzer.h"
#include "../tap/frame_store.h"
#include "../tap/ike_parse.h"
#include "ws_compat.h"

using natt::Classification;
using natt::DatagramKind;
using natt::PairRole;

namespace {

// How natt came to dissect a frame.
enum RecognisedBy : uint8_t {
    kByPort = 1,
    kByConversation = 2,
    kByHeurFloated = 3,
    kByHeurPlainIke = 4,
    kByHeurKeepalive = 5,
    kByHeurEsp = 6,
    kByServerEndpoint = 7,
};

const value_string recognised_by_vals[] = {
    {kByPort, "IKE/NAT-T port preference"},
    {kByConversation, "port pair already recognised"},
    {kByHeurFloated, "heuristic: non-ESP marker + IKE header"},
    {kByHeurPlainIke, "heuristic: IKE header on a non-standard port"},
    {kByHeurKeepalive, "heuristic: keepalive on a known NAT-T port pair"},
    {kByHeurEsp, "heuristic: ESP on a port pair that carried floated IKE"},
    {kByServerEndpoint, "the IKE/NAT-T port of a peer already seen"},
    {0, nullptr},
};

const value_string direction_vals[] = {
    {static_cast<guint32>(natt::Direction::FromInitiator), "Initiator to responder"},
    {static_cast<guint32>(natt::Direction::FromResponder), "Responder to initiator"},
    {0, nullptr},
};

const value_string kind_vals[] = {
    {static_cast<guint32>(DatagramKind::PlainIke), "IKE"},
    {static_cast<guint32>(DatagramKind::FloatedIke), "Floated IKE (non-ESP marker)"},
    {static_cast<guint32>(DatagramKind::Keepalive), "NAT-T keepalive"},
    {static_cast<guint32>(DatagramKind::EspInUdp), "ESP-in-UDP"},
    {static_cast<guint32>(DatagramKind::IkeWithoutMarker), "IKE without non-ESP marker"},
    {static_cast<guint32>(DatagramKind::Malformed), "Malformed"},
    {0, nullptr},
};

// One frame's natt result. Cached on the first pass for IKE, keepalive and
// malformed frames (in frame_store); ESP-in-UDP frames are recomputed (cheap)
// and looked up in the model by (port pair, SPI), so they cost no memory per
// frame.
struct FrameCache {
    PairRole role;
    uint8_t recognised_by;
    bool truncated;   // captured fewer bytes than the UDP payload
    bool fragmented;  // the datagram was reassembled from IP fragments
    Classification cls;
    natt::FrameAnalysis analysis;
};

int proto_natt = -1;

int hf_natt_kind = -1;
int hf_natt_floated = -1;
int hf_natt_keepalive = -1;
int hf_natt_esp_in_udp = -1;
int hf_natt_plain_ike = -1;
int hf_natt_marker = -1;
int hf_natt_recognised_by = -1;
int hf_natt_keepalive_prev = -1;
int hf_natt_keepalive_interval = -1;
int hf_natt_esp_spi = -1;
int hf_natt_esp_qm_frame = -1;
int hf_natt_sa = -1;
int hf_natt_sa_first_frame = -1;
int hf_natt_direction = -1;
int hf_natt_sa_initiator = -1;
int hf_natt_sa_responder = -1;
int hf_natt_sa_initiator_float = -1;
int hf_natt_sa_responder_float = -1;
int hf_natt_sa_float_frame = -1;
int hf_natt_float = -1;
int hf_natt_twin = -1;
int hf_natt_retransmission = -1;
int hf_natt_phase1_message = -1;
int hf_natt_qm_msgid = -1;
int hf_natt_qm_message = -1;
int hf_natt_qm_prev = -1;
int hf_natt_qm_next = -1;
int hf_natt_qm_phase1 = -1;

int hf_natt_method = -1;
int hf_natt_nat_verdict = -1;
int hf_natt_nat_initiator = -1;
int hf_natt_nat_responder = -1;
int hf_natt_nat_forced = -1;
int hf_natt_natd = -1;
int hf_natt_natd_is_source = -1;
int hf_natt_natd_match = -1;
int hf_natt_natd_result = -1;
int hf_natt_natd_observed = -1;

int hf_natt_twin_frame = -1;
int hf_natt_map_inside = -1;
int hf_natt_map_outside = -1;

int natt_tap = -1;
guint pref_nat_timeout = 30;
guint pref_max_sas = static_cast<guint>(natt::kDefaultMaxSas);
natt_ws::pref_bool_t pref_claim_endpoints = TRUE;

gint ett_natt = -1;
gint ett_natt_natd = -1;

expert_field ei_natt_malformed = EI_INIT;
expert_field ei_natt_not_ike = EI_INIT;
expert_field ei_natt_no_marker = EI_INIT;
expert_field ei_natt_truncated = EI_INIT;
expert_field ei_natt_nat_detected = EI_INIT;
expert_field ei_natt_nat_forced = EI_INIT;
expert_field ei_natt_no_float = EI_INIT;
expert_field ei_natt_float_without_nat = EI_INIT;
expert_field ei_natt_rebinding = EI_INIT;
expert_field ei_natt_unanswered = EI_INIT;
expert_field ei_natt_shared_socket = EI_INIT;
expert_field ei_natt_method_mismatch = EI_INIT;
expert_field ei_natt_keepalive_not_natted = EI_INIT;
expert_field ei_natt_keepalive_gap = EI_INIT;
expert_field ei_natt_windows_server_behind_nat = EI_INIT;
expert_field ei_natt_payload_altered = EI_INIT;
expert_field ei_natt_silence = EI_INIT;
expert_field ei_natt_sa_cap = EI_INIT;
expert_field ei_natt_esp_pair_cap = EI_INIT;
expert_field ei_natt_raw_esp = EI_INIT;
expert_field ei_natt_no_keepalive = EI_INIT;
expert_field ei_natt_fragmented = EI_INIT;
expert_field ei_natt_icmp_error = EI_INIT;

dissector_handle_t natt_port_handle;
dissector_handle_t natt_conv_handle;
dissector_handle_t natt_on_port_handle;
dissector_handle_t isakmp_handle;
dissector_handle_t udpencap_handle;
dissector_handle_t esp_handle;
dissector_handle_t esp_dispatch_handle;
dissector_handle_t natt_raw_esp_handle;

range_t* pref_ike_ports = nullptr;
range_t* pref_natt_ports = nullptr;
range_t* registered_ike_ports = nullptr;
range_t* registered_natt_ports = nullptr;

natt::Analyzer* analyzer = nullptr;
natt::PackedFrameStore<FrameCache>* frame_store = nullptr;
// A frame of an SA natt does not track (natt.max_sas reached, or ESP of a
// known SPI replayed from too many port pairs) keeps only how natt reached it
// and why it is untracked: 7 bytes instead of a FrameCache, so that the
// millions of such frames of a hostile capture cost little.
struct CappedFrame {
    PairRole role;
    uint8_t recognised_by;
    uint8_t esp_pair_cap;  // kFindEspPairCap, else kFindSaCap
};
natt::FrameStore<CappedFrame>* capped_store = nullptr;
// IKE/NAT-T port endpoints that own a wildcard conversation (this file).
// A capture has a handful of IKE servers; the cap bounds a scan's worth.
std::unordered_set<natt::Endpoint, natt::EndpointHash>* service_endpoints = nullptr;
constexpr size_t kMaxServiceEndpoints = 4096;

void natt_init(void) {
    analyzer = new natt::Analyzer();
    frame_store = new natt::PackedFrameStore<FrameCache>();
    capped_store = new natt::FrameStore<CappedFrame>();
    service_endpoints = new std::unordered_set<natt::Endpoint, natt::EndpointHash>();
    analyzer->set_nat_timeout_ns(static_cast<int64_t>(pref_nat_timeout) * 1000000000);
    analyzer->set_max_sas(pref_max_sas);
}

void natt_cleanup(void) {
    delete analyzer;
    analyzer = nullptr;
    delete frame_store;
    frame_store = nullptr;
    delete capped_store;
    capped_store = nullptr;
    delete service_endpoints;
    service_endpoints = nullptr;
}

bool endpoint_from_address(const address& a, guint32 port, natt::Endpoint* out) {
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

// The captured bytes of the UDP payload (never throws).
const uint8_t* payload_bytes(tvbuff_t* tvb, guint* len) {
    *len = tvb_captured_length(tvb);
    if (*len == 0) return nullptr;
    return tvb_get_ptr(tvb, 0, *len);
}

Classification classify(PairRole role, const uint8_t* p, guint len) {
    return role == PairRole::Natt ? natt::classify_natt_datagram(p, len) : natt::classify_ike_datagram(p, len);
}

natt::Endpoint src_endpoint(packet_info* pinfo) {
    natt::Endpoint e;
    endpoint_from_address(pinfo->src, pinfo->srcport, &e);
    return e;
}

natt::Endpoint dst_endpoint(packet_info* pinfo) {
    natt::Endpoint e;
    endpoint_from_address(pinfo->dst, pinfo->destport, &e);
    return e;
}

// The stored value (valid until the next lookup in that store), or nullptr.
template <typename Store>
auto stored(const Store* store, packet_info* pinfo) -> decltype(store->find(0)) {
    if (!store) return nullptr;
    // The first pass only ever finds the frame it has just stored (a frame
    // dissected twice): no search for every new frame.
    if (!PINFO_FD_VISITED(pinfo) && store->latest() != pinfo->num) return nullptr;
    return store->find(pinfo->num);
}

const FrameCache* cached_frame(packet_info* pinfo) { return stored(frame_store, pinfo); }

// How the first pass reached a frame it cached (either store).
bool cached_reach(packet_info* pinfo, PairRole* role, uint8_t* by) {
    if (const FrameCache* c = cached_frame(pinfo)) {
        *role = c->role;
        *by = c->recognised_by;
        return true;
    }
    if (const CappedFrame* c = stored(capped_store, pinfo)) {
        *role = c->role;
        *by = c->recognised_by;
        return true;
    }
    return false;
}

// First pass: classify, feed the model, and cache. Later passes: the cache,
// or for ESP the model's (port pair, SPI) record. Fills *out; never throws.
void analyse_frame(tvbuff_t* tvb, packet_info* pinfo, PairRole role, uint8_t recognised_by, FrameCache* out) {
    guint len = 0;
    const uint8_t* p = payload_bytes(tvb, &len);
    auto from_packet = [&]() {
        out->cls = classify(out->role, p, len);
        out->truncated = tvb_reported_length(tvb) > len;
        // A UDP payload longer than the frame itself came from IP reassembly.
        out->fragmented = tvb_reported_length(tvb) + 8 > pinfo->fd->pkt_len;
    };
    if (const FrameCache* cache = cached_frame(pinfo)) {
        // The store keeps only what the packet and the model cannot give back.
        *out = *cache;
        from_packet();
        if (const natt::IkeSa* sa = analyzer ? analyzer->sa(out->analysis.sa) : nullptr)
            out->analysis.sa_first_frame = sa->first_frame;
        return;
    }
    *out = FrameCache();
    out->role = role;
    out->recognised_by = recognised_by;
    from_packet();
    out->analysis.kind = out->cls.kind;

    if (PINFO_FD_VISITED(pinfo) || !analyzer || pinfo->flags.in_error_pkt) {
        if (const CappedFrame* capped = stored(capped_store, pinfo)) {
            out->analysis.findings = capped->esp_pair_cap ? natt::kFindEspPairCap : natt::kFindSaCap;
        } else if (pinfo->flags.in_error_pkt && analyzer) {
            out->analysis.sa = analyzer->sa_of_pair(src_endpoint(pinfo), dst_endpoint(pinfo));
            if (const natt::IkeSa* sa = analyzer->sa(out->analysis.sa)) out->analysis.sa_first_frame = sa->first_frame;
        } else if (out->cls.kind == DatagramKind::EspInUdp && analyzer) {
            const natt::EspLookup e = analyzer->esp_lookup(src_endpoint(pinfo), dst_endpoint(pinfo), out->cls.esp_spi);
            out->analysis.sa = e.sa;
            out->analysis.sa_first_frame = e.sa_first_frame;
            out->analysis.dir = e.dir;
            out->analysis.child_index = e.child_index;
        }
        return;
    }

    // A plain struct (safe across longjmp), ~1 KiB: built only for IKE frames,
    // in static storage (dissection is single-threaded; observe() keeps no
    // pointer to it).
    static natt::IkeMessage msg;
    natt::Datagram d;
    d.frame = pinfo->num;
    d.time_ns = static_cast<int64_t>(pinfo->abs_ts.secs) * 1000000000 + pinfo->abs_ts.nsecs;
    d.interface = natt_ws::frame_interface(pinfo);
    d.src = src_endpoint(pinfo);
    d.dst = dst_endpoint(pinfo);
    d.kind = out->cls.kind;
    d.udp_payload_len = tvb_reported_length(tvb);
    d.esp_spi = out->cls.esp_spi;
    d.esp_seq = out->cls.esp_seq;
    if (d.kind == DatagramKind::PlainIke || d.kind == DatagramKind::FloatedIke) {
        const size_t skip = d.kind == DatagramKind::FloatedIke ? natt::kNonEspMarkerLen : 0;
        natt::parse_ike_message(p + skip, len - skip, natt::Strictness::Port, &msg);
        d.ike = &msg;
        d.ike_bytes = p + skip;
        d.ike_len = static_cast<uint32_t>(len - skip);
    }
    d.pair_role = role;
    out->analysis = analyzer->observe(d);
    if (out->analysis.sa == 0 &&
        (out->analysis.findings == natt::kFindSaCap || out->analysis.findings == natt::kFindEspPairCap)) {
        capped_store->add(pinfo->num,
                          CappedFrame{role, recognised_by, out->analysis.findings == natt::kFindEspPairCap});
        return;
    }
    if (out->cls.kind == DatagramKind::EspInUdp && out->analysis.findings == 0) return;

    // Zero what a later pass recomputes (the store packs zero words away):
    // the classification and lengths come from the packet, the SA's first
    // frame (set once, when the SA is made) from the model.
    FrameCache kept = *out;
    kept.cls = Classification();
    kept.truncated = false;
    kept.fragmented = false;
    kept.analysis.sa_first_frame = 0;
    frame_store->add(pinfo->num, kept);
}

const char* info_text(const FrameCache* c) {
    switch (c->cls.kind) {
        case DatagramKind::PlainIke: return "IKE";
        case DatagramKind::FloatedIke: return "floated IKE";
        case DatagramKind::Keepalive: return "keepalive";
        case DatagramKind::EspInUdp: return "ESP-in-UDP";
        case DatagramKind::IkeWithoutMarker: return "IKE without non-ESP marker";
        case DatagramKind::Malformed: return "malformed";
        case DatagramKind::None: break;
    }
    return "?";
}

proto_item* add_generated_uint(proto_tree* t, int hf, tvbuff_t* tvb, guint32 v) {
    proto_item* it = proto_tree_add_uint(t, hf, tvb, 0, 0, v);
    proto_item_set_generated(it);
    return it;
}

void add_endpoint_string(proto_tree* t, int hf, tvbuff_t* tvb, const natt::Endpoint& e) {
    // Formatting an address costs more than natt's whole analysis of an ESP
    // frame: only when the field is shown or filtered on.
    if (e.family == 0 || !t || !proto_field_is_referenced(t, hf)) return;
    char buf[64];
    e.format(buf, sizeof buf);
    proto_item* it = proto_tree_add_string(t, hf, tvb, 0, 0, buf);
    proto_item_set_generated(it);
}

// The SA's NAT verdict and NAT-T method, on every frame of the SA once known.
void add_nat_fields(proto_tree* nt, tvbuff_t* tvb, const natt::IkeSa& sa) {
    const natt::NatState& nat = sa.nat;
    const natt::NattMethod method = nat.agreed();
    if (method != natt::NattMethod::None) {
        proto_item* it = proto_tree_add_string(nt, hf_natt_method, tvb, 0, 0, natt::natt_method_name(method));
        proto_item_set_generated(it);
    }
    if (nat.verdict == natt::NatVerdict::Unknown) return;
    proto_item* it = proto_tree_add_string(nt, hf_natt_nat_verdict, tvb, 0, 0, natt::nat_verdict_text(nat.verdict));
    proto_item_set_generated(it);
    if (nat.verdict == natt::NatVerdict::CannotVerify) {
        proto_item_append_text(it, ": %s", natt::nat_unverifiable_text(nat.unverifiable));
        return;
    }
    // Only what the capture shows: a peer whose own NAT-D hash is not
    // visible (encrypted AM3) gets no verdict field.
    if (nat.initiator_known) {
        it = proto_tree_add_boolean(nt, hf_natt_nat_initiator, tvb, 0, 0, nat.initiator_behind);
        proto_item_set_generated(it);
    }
    if (nat.responder_known) {
        it = proto_tree_add_boolean(nt, hf_natt_nat_responder, tvb, 0, 0, nat.responder_behind);
        proto_item_set_generated(it);
    }
    it = proto_tree_add_boolean(nt, hf_natt_nat_forced, tvb, 0, 0, nat.forced);
    proto_item_set_generated(it);
}

// The SA this frame belongs to: number, first frame, peers, float.
void add_sa_fields(proto_tree* nt, tvbuff_t* tvb, const FrameCache* c) {
    const natt::FrameAnalysis& a = c->analysis;
    if (a.sa == 0 || !analyzer) return;
    const natt::IkeSa* sa = analyzer->sa(a.sa);
    add_generated_uint(nt, hf_natt_sa, tvb, a.sa);
    add_generated_uint(nt, hf_natt_sa_first_frame, tvb, a.sa_first_frame);
    if (a.dir != natt::Direction::Unknown) add_generated_uint(nt, hf_natt_direction, tvb, static_cast<guint32>(a.dir));
    if (!sa) return;
    add_nat_fields(nt, tvb, *sa);
    add_endpoint_string(nt, hf_natt_sa_initiator, tvb, sa->initiator);
    add_endpoint_string(nt, hf_natt_sa_responder, tvb, sa->responder);
    if (sa->floating.floated) {
        add_endpoint_string(nt, hf_natt_sa_initiator_float, tvb, sa->floating.initiator);
        add_endpoint_string(nt, hf_natt_sa_responder_float, tvb, sa->floating.responder);
        add_generated_uint(nt, hf_natt_sa_float_frame, tvb, sa->floating.frame);
    }
}

// The IKE message's place in its SA: phase-1 message, quick mode links.
void add_natd_fields(proto_tree* nt, tvbuff_t* tvb, const FrameCache* c) {
    const natt::FrameAnalysis& a = c->analysis;
    if (!a.natd_obs || !analyzer) return;
    const natt::IkeSa* sa = analyzer->sa(a.sa);
    if (!sa || a.natd_obs > sa->nat.observations.size()) return;
    const natt::NatDObservation& o = sa->nat.observations[a.natd_obs - 1];
    const guint base = c->cls.kind == DatagramKind::FloatedIke ? natt::kNonEspMarkerLen : 0;
    for (uint8_t k = 0; k < o.n; ++k) {
        const natt::NatDHash& h = o.hashes[k];
        if (!tvb_bytes_exist(tvb, static_cast<gint>(base + h.offset), h.len)) continue;
        proto_item* ti = proto_tree_add_item(nt, hf_natt_natd, tvb, static_cast<gint>(base + h.offset), h.len, ENC_NA);
        proto_item_append_text(ti, " (%s address): %s", h.is_source ? "sender's" : "receiver's",
                               natt::natd_match_text(h.result));
        proto_tree* st = proto_item_add_subtree(ti, ett_natt_natd);
        proto_item* it = proto_tree_add_boolean(st, hf_natt_natd_is_source, tvb, 0, 0, h.is_source);
        proto_item_set_generated(it);
        if (h.result != natt::NatDMatch::Unverified) {
            it = proto_tree_add_boolean(st, hf_natt_natd_match, tvb, 0, 0, h.result == natt::NatDMatch::Match);
            proto_item_set_generated(it);
            it = proto_tree_add_string(st, hf_natt_natd_result, tvb, 0, 0, natt::natd_match_text(h.result));
            proto_item_set_generated(it);
        }
        const natt::Endpoint& ep = h.is_source ? o.src : o.dst;
        add_endpoint_string(st, hf_natt_natd_observed, tvb, ep);
    }
}

// Two-sided captures: the same message on the other side of the NAT, and the
// NAT mapping it shows.
void add_twin_fields(proto_tree* nt, tvbuff_t* tvb, const FrameCache* c) {
    const natt::FrameAnalysis& a = c->analysis;
    const natt::IkeSa* sa = analyzer ? analyzer->sa(a.sa) : nullptr;
    if (!sa) return;
    uint32_t twin = 0;
    uint8_t mapping = a.mapping_index;
    if (a.twin) {
        twin = a.related_frame;
    } else if (const natt::MessageRecord* rec = analyzer->record(a)) {
        twin = rec->twin_frame;
        mapping = rec->mapping_index;
    }
    if (twin) add_generated_uint(nt, hf_natt_twin_frame, tvb, twin);
    if (!mapping || mapping > sa->nat_mappings.size()) return;
    const natt::NatMapping& m = sa->nat_mappings[mapping - 1];
    const int inside = analyzer->inside_interface(*sa, m);
    const natt::Endpoint& in = inside == static_cast<int>(m.second_interface) ? m.second : m.first;
    const natt::Endpoint& out = inside == static_cast<int>(m.second_interface) ? m.first : m.second;
    add_endpoint_string(nt, hf_natt_map_inside, tvb, in);
    add_endpoint_string(nt, hf_natt_map_outside, tvb, out);
}

void add_ike_fields(proto_tree* nt, tvbuff_t* tvb, const FrameCache* c) {
    const natt::FrameAnalysis& a = c->analysis;
    add_natd_fields(nt, tvb, c);
    add_twin_fields(nt, tvb, c);
    if (a.twin) {
        proto_item* it = proto_tree_add_boolean(nt, hf_natt_twin, tvb, 0, 0, TRUE);
        proto_item_set_generated(it);
    }
    if (a.retransmission) {
        proto_item* it = proto_tree_add_boolean(nt, hf_natt_retransmission, tvb, 0, 0, TRUE);
        proto_item_set_generated(it);
    }
    if (a.phase1_message) add_generated_uint(nt, hf_natt_phase1_message, tvb, a.phase1_message);
    if (a.floated_now) {
        proto_item* it = proto_tree_add_boolean(nt, hf_natt_float, tvb, 0, 0, TRUE);
        proto_item_set_generated(it);
    }
    if (a.exchange_class != natt::ExchangeClass::Child || !analyzer) return;
    add_generated_uint(nt, hf_natt_qm_msgid, tvb, a.msgid);
    add_generated_uint(nt, hf_natt_qm_message, tvb, a.child_message);
    if (guint32 prev = analyzer->child_prev_frame(a.sa, a.child_index, a.child_message))
        add_generated_uint(nt, hf_natt_qm_prev, tvb, prev);
    if (guint32 next = analyzer->child_next_frame(a.sa, a.child_index, a.child_message))
        add_generated_uint(nt, hf_natt_qm_next, tvb, next);
    if (a.phase1_last_frame) add_generated_uint(nt, hf_natt_qm_phase1, tvb, a.phase1_last_frame);
}

// Expert infos: what the first pass found on this frame, plus what the SA's
// (final, on later passes) NAT verdict says about it.
void add_findings(packet_info* pinfo, proto_item* ti, const FrameCache* c) {
    const natt::FrameAnalysis& a = c->analysis;
    const natt::IkeSa* sa = analyzer && a.sa ? analyzer->sa(a.sa) : nullptr;
    if (a.findings & natt::kFindNatVerdict && sa) {
        const natt::NatState& nat = sa->nat;
        if (nat.forced)
            expert_add_info_format(pinfo, ti, &ei_natt_nat_forced,
                                   "NAT-T encapsulation forced: a NAT-D hash is faked or over a zeroed address/port");
        else if (nat.initiator_behind || nat.responder_behind)
            expert_add_info_format(pinfo, ti, &ei_natt_nat_detected, "NAT detected: %s",
                                   natt::nat_verdict_text(nat.verdict));
        if (nat.responder_behind && nat.microsoft_initiator)
            expert_add_info(pinfo, ti, &ei_natt_windows_server_behind_nat);
    }
    if (a.findings & natt::kFindNoFloat) expert_add_info(pinfo, ti, &ei_natt_no_float);
    if (a.findings & natt::kFindRebinding)
        expert_add_info_format(pinfo, ti, &ei_natt_rebinding,
                               "NAT mapping changed mid-SA: the same SA now uses a new ip:port (last frame before: %u)",
                               a.related_frame);
    if (a.findings & natt::kFindUnanswered)
        expert_add_info(pinfo, ti, &ei_natt_unanswered);
    if (a.findings & natt::kFindSharedSocket)
        expert_add_info_format(pinfo, ti, &ei_natt_shared_socket,
                               "Two IKE SAs negotiate at once from one outside ip:port (other SA starts in frame %u): "
                               "a NAT pins the source port (IPsec passthrough) and two inside peers collide",
                               a.related_frame);
    if (a.findings & natt::kFindMethodMismatch) expert_add_info(pinfo, ti, &ei_natt_method_mismatch);
    if (a.findings & natt::kFindPayloadAltered)
        expert_add_info_format(pinfo, ti, &ei_natt_payload_altered,
                               "IKE payload altered by the NAT: differs from frame %u (the other side of the NAT) from "
                               "byte %u of the IKE message on; a NAT may change only addresses, ports and checksums",
                               a.related_frame, a.altered_offset);
    if (a.findings & natt::kFindNoKeepalive) expert_add_info(pinfo, ti, &ei_natt_no_keepalive);
    if (a.findings & natt::kFindNotCredible)
        expert_add_info_format(pinfo, ti, &ei_natt_not_ike,
                               "Not taken as IKE: on an IKE port, but the header fails natt's strict check (version, "
                               "exchange type, flags, first payload, cookies or length); no IKE SA made");
    if (a.findings & natt::kFindSaCap)
        expert_add_info_format(pinfo, ti, &ei_natt_sa_cap,
                               "natt tracks at most %u IKE SAs (preference natt.max_sas): this frame's SA is not "
                               "tracked",
                               pref_max_sas);
    if (a.findings & natt::kFindEspPairCap)
        expert_add_info_format(pinfo, ti, &ei_natt_esp_pair_cap,
                               "ESP with the SPI of a tracked SA on a new port pair, but that SA's SPIs already "
                               "moved to %u new port pairs (another side of a NAT, rebindings): not attributed, "
                               "possibly replayed from random ports",
                               static_cast<unsigned>(natt::kMaxEspPairsPerSa));
    if (a.findings & natt::kFindSilence)
        expert_add_info_format(pinfo, ti, &ei_natt_silence,
                               "No packet on the NAT-T mapping for %.1f s, longer than the NAT UDP timeout (%u s): the "
                               "NAT may have dropped the mapping",
                               static_cast<double>(a.silence_ns) / 1e9, pref_nat_timeout);
    if (c->fragmented && (c->cls.kind == DatagramKind::PlainIke || c->cls.kind == DatagramKind::FloatedIke))
        expert_add_info(pinfo, ti, &ei_natt_fragmented);
    if (!sa) return;
    const natt::NatState& nat = sa->nat;
    // A phase-1 message that was never answered (first copy included).
    if (a.exchange_class == natt::ExchangeClass::Phase1 && !(a.findings & natt::kFindUnanswered) &&
        sa->state != natt::SaState::Established && sa->state != natt::SaState::Deleted && !a.twin &&
        PINFO_FD_VISITED(pinfo)) {
        bool answered = false, later = false;
        for (const natt::MessageRecord& m : sa->phase1) {
            if (m.frame == pinfo->num) later = true;
            else if (later && m.dir != a.dir && !m.retransmission) answered = true;
        }
        if (later && !answered && sa->phase1.back().frame != 0 && sa->phase1_retransmissions > 0)
            expert_add_info(pinfo, ti, &ei_natt_unanswered);
    }
    if (a.floated_now && nat.verdict == natt::NatVerdict::NoNat)
        expert_add_info(pinfo, ti, &ei_natt_float_without_nat);
    if (c->cls.kind == DatagramKind::Keepalive) {
        if (nat.verdict_known() && !nat.forced) {
            const bool sender_behind = a.dir == natt::Direction::FromInitiator ? nat.initiator_behind
                                                                                : nat.responder_behind;
            if (a.dir != natt::Direction::Unknown && !sender_behind)
                expert_add_info(pinfo, ti, &ei_natt_keepalive_not_natted);
        }
        if (a.keepalive_prev_frame && a.keepalive_interval_ns > static_cast<int64_t>(pref_nat_timeout) * 1000000000)
            expert_add_info_format(pinfo, ti, &ei_natt_keepalive_gap,
                                   "%.1f s since the previous keepalive: longer than the NAT UDP timeout (%u s), the "
                                   "mapping may have expired",
                                   static_cast<double>(a.keepalive_interval_ns) / 1e9, pref_nat_timeout);
    }
}

// The kind-specific fields (only with a tree).
void add_kind_fields(tvbuff_t* tvb, packet_info* pinfo, proto_tree* nt, const FrameCache* c) {
    proto_item* it;
    switch (c->cls.kind) {
        case DatagramKind::PlainIke:
            it = proto_tree_add_boolean(nt, hf_natt_plain_ike, tvb, 0, 0, TRUE);
            proto_item_set_generated(it);
            add_ike_fields(nt, tvb, c);
            break;
        case DatagramKind::FloatedIke:
            it = proto_tree_add_boolean(nt, hf_natt_floated, tvb, 0, 0, TRUE);
            proto_item_set_generated(it);
            proto_tree_add_item(nt, hf_natt_marker, tvb, 0, 4, ENC_BIG_ENDIAN);
            add_ike_fields(nt, tvb, c);
            break;
        case DatagramKind::Keepalive:
            it = proto_tree_add_boolean(nt, hf_natt_keepalive, tvb, 0, 1, TRUE);
            proto_item_set_generated(it);
            if (c->analysis.keepalive_prev_frame) {
                add_generated_uint(nt, hf_natt_keepalive_prev, tvb, c->analysis.keepalive_prev_frame);
                nstime_t delta;
                delta.secs = static_cast<time_t>(c->analysis.keepalive_interval_ns / 1000000000);
                delta.nsecs = static_cast<int>(c->analysis.keepalive_interval_ns % 1000000000);
                it = proto_tree_add_time(nt, hf_natt_keepalive_interval, tvb, 0, 0, &delta);
                proto_item_set_generated(it);
            }
            break;
        case DatagramKind::EspInUdp:
            it = proto_tree_add_boolean(nt, hf_natt_esp_in_udp, tvb, 0, 0, TRUE);
            proto_item_set_generated(it);
            proto_tree_add_item(nt, hf_natt_esp_spi, tvb, 0, 4, ENC_BIG_ENDIAN);
            if (c->analysis.sa && analyzer && proto_field_is_referenced(nt, hf_natt_esp_qm_frame)) {
                const natt::EspLookup e =
                    analyzer->esp_lookup(src_endpoint(pinfo), dst_endpoint(pinfo), c->cls.esp_spi);
                if (e.child_frame) add_generated_uint(nt, hf_natt_esp_qm_frame, tvb, e.child_frame);
            }
            break;
        default: break;
    }
}

// The expert infos of the datagram itself (with or without a tree: the expert
// tap and _ws.expert filters see them either way).
void add_kind_experts(tvbuff_t* tvb, packet_info* pinfo, proto_item* ti, const FrameCache* c) {
    // Quoted in an ICMP error: not a datagram of its own (the model never sees it).
    if (pinfo->flags.in_error_pkt && c->role == PairRole::Natt) expert_add_info(pinfo, ti, &ei_natt_icmp_error);
    if (c->cls.kind == DatagramKind::IkeWithoutMarker) expert_add_info(pinfo, ti, &ei_natt_no_marker);
    if (c->cls.kind == DatagramKind::Malformed) {
        if (c->cls.malformed == natt::Malformation::IkeHeaderInvalid)
            expert_add_info_format(pinfo, ti, &ei_natt_not_ike, "UDP payload on an IKE port is not an IKE header: %s",
                                   natt::header_check_name(c->cls.ike_check));
        else if (c->cls.malformed == natt::Malformation::MarkerBadIke)
            expert_add_info_format(pinfo, ti, &ei_natt_malformed,
                                   "Non-ESP marker followed by an invalid IKE header: %s",
                                   natt::header_check_name(c->cls.ike_check));
        else
            expert_add_info_format(pinfo, ti, &ei_natt_malformed, "Malformed NAT-T datagram: %s",
                                   natt::malformation_name(c->cls.malformed));
    }
    if (c->truncated)
        expert_add_info_format(pinfo, ti, &ei_natt_truncated,
                               "Only %u of %u UDP payload bytes captured: natt classified the captured bytes",
                               tvb_captured_length(tvb), tvb_reported_length(tvb));
}

void add_natt_tree(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const FrameCache* c) {
    proto_item* ti = nullptr;
    // When nobody looks at natt's fields (tshark -q, a tap without a natt
    // filter: the tree is absent or invisible and no natt field referenced),
    // only the expert infos count: skipping the fields saves a dozen calls on
    // every ESP frame. A natt field in a filter references proto_natt too.
    if (tree && proto_field_is_referenced(tree, proto_natt)) {
        ti = proto_tree_add_item(tree, proto_natt, tvb, 0, 0, ENC_NA);
        proto_item_append_text(ti, ", %s", info_text(c));
        if (c->analysis.sa) proto_item_append_text(ti, ", SA %u", c->analysis.sa);
        proto_tree* nt = proto_item_add_subtree(ti, ett_natt);
        add_generated_uint(nt, hf_natt_kind, tvb, static_cast<guint32>(c->cls.kind));
        add_generated_uint(nt, hf_natt_recognised_by, tvb, c->recognised_by);
        add_sa_fields(nt, tvb, c);
        add_kind_fields(tvb, pinfo, nt, c);
    }
    add_findings(pinfo, ti, c);
    add_kind_experts(tvb, pinfo, ti, c);
}

bool port_in(range_t* r, guint32 port) { return r && value_is_in_range(r, port); }

// An IKE peer's IKE/NAT-T port endpoint owns all its UDP traffic: a wildcard
// conversation (this ip:port <-> any), so that a NAT that maps another peer's
// port 500 to 67 or 135 does not hand IKE to DHCP or DCE/RPC, which UDP
// prefers because their port is lower. Only endpoints that answered (sent
// IKE of a tracked SA), at most kMaxServiceEndpoints: a scan of random
// addresses claims nothing. Preference natt.claim_ike_endpoints.
void claim_service_endpoint(packet_info* pinfo) {
    const address* addr = &pinfo->src;
    const address* other = &pinfo->dst;  // ignored: wildcard
    const guint32 port = pinfo->srcport;
    if (!pref_claim_endpoints || !service_endpoints || service_endpoints->size() >= kMaxServiceEndpoints ||
        (addr->type != AT_IPv4 && addr->type != AT_IPv6))
        return;
    natt::Endpoint ep;
    endpoint_from_address(*addr, port, &ep);
    if (!service_endpoints->insert(ep).second) return;
    conversation_t* conv = find_conversation(pinfo->num, addr, other, CONVERSATION_UDP, port, 0, NO_ADDR_B | NO_PORT_B);
    if (!conv) conv = conversation_new(pinfo->num, addr, other, CONVERSATION_UDP, port, 0, NO_ADDR2 | NO_PORT2);
    if (!conversation_get_dissector(conv, pinfo->num)) conversation_set_dissector(conv, natt_conv_handle);
}

// Common path for every frame natt claims.
int dissect_natt_role(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data, PairRole role,
                      uint8_t recognised_by) {
    FrameCache c;
    analyse_frame(tvb, pinfo, role, recognised_by, &c);
    // An endpoint that sends IKE of a tracked SA from its IKE/NAT-T port is
    // an IKE peer (a server, usually): it owns all its UDP traffic from now on.
    if (recognised_by == kByPort && c.analysis.sa && !PINFO_FD_VISITED(pinfo) && !pinfo->flags.in_error_pkt &&
        (c.cls.kind == DatagramKind::PlainIke || c.cls.kind == DatagramKind::FloatedIke) &&
        (port_in(pref_ike_ports, pinfo->srcport) || port_in(pref_natt_ports, pinfo->srcport)))
        claim_service_endpoint(pinfo);

    if (c.analysis.sa)
        col_add_fstr(pinfo->cinfo, COL_INFO, "[natt SA %u: %s] ", c.analysis.sa, info_text(&c));
    else
        col_add_fstr(pinfo->cinfo, COL_INFO, "[natt: %s] ", info_text(&c));
    col_set_fence(pinfo->cinfo, COL_INFO);

    add_natt_tree(tvb, pinfo, tree, &c);

    // For the "IKE SA" conversation filter of the packet being shown (the GUI
    // offers it on a dissected tree; tshark -q has none and pays nothing).
    if (c.analysis.sa && tree && proto_field_is_referenced(tree, proto_natt)) p_add_proto_data(pinfo->pool, pinfo, proto_natt, 1, GUINT_TO_POINTER(c.analysis.sa));

    if (have_tap_listener(natt_tap)) {
        auto* rec = wmem_new(pinfo->pool, NattTapRecord);
        rec->sa = c.analysis.sa;
        rec->kind = static_cast<uint8_t>(c.cls.kind);
        rec->dir = static_cast<uint8_t>(c.analysis.dir);
        tap_queue_packet(natt_tap, pinfo, rec);
    }

    // Wireshark's own dissectors do the protocol tree, so isakmp.*/esp.* are
    // exactly what stock Wireshark shows on 500/4500.
    dissector_handle_t next = c.role == PairRole::Natt ? udpencap_handle : isakmp_handle;
    call_dissector_with_data(next, tvb, pinfo, tree, data);
    return static_cast<int>(tvb_captured_length(tvb));
}

// Raw ESP (IP protocol 50). The dispatcher belongs to no protocol and always
// ends in Wireshark's esp; natt adds its tree only to raw ESP between the
// peers of an SA whose NAT-D showed a NAT: such ESP cannot cross the NAT.
int dissect_natt_raw_esp(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    const natt::IkeSa* sa = analyzer ? analyzer->sa(*static_cast<const uint32_t*>(data)) : nullptr;
    if (!sa) return 0;
    proto_item* ti = proto_tree_add_item(tree, proto_natt, tvb, 0, 0, ENC_NA);
    proto_item_append_text(ti, ", raw ESP, SA %u", sa->number);
    proto_tree* nt = proto_item_add_subtree(ti, ett_natt);
    add_generated_uint(nt, hf_natt_sa, tvb, sa->number);
    add_generated_uint(nt, hf_natt_sa_first_frame, tvb, sa->first_frame);
    add_nat_fields(nt, tvb, *sa);
    expert_add_info(pinfo, ti, &ei_natt_raw_esp);
    col_add_fstr(pinfo->cinfo, COL_INFO, "[natt SA %u: raw ESP through NAT] ", sa->number);
    col_set_fence(pinfo->cinfo, COL_INFO);
    return 1;
}

int dissect_raw_esp_dispatch(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    if (analyzer && !pinfo->flags.in_error_pkt) {
        natt::Endpoint s, d;
        endpoint_from_address(pinfo->src, 0, &s);
        endpoint_from_address(pinfo->dst, 0, &d);
        uint32_t number = analyzer->sa_of_addresses(s, d);
        const natt::IkeSa* sa = analyzer->sa(number);
        if (sa && (sa->nat.initiator_behind || sa->nat.responder_behind))
            call_dissector_only(natt_raw_esp_handle, tvb, pinfo, tree, &number);
    }
    return call_dissector_with_data(esp_handle, tvb, pinfo, tree, data);
}

// What the port dispatcher hands to natt's port dissector.
struct PortCall {
    PairRole role;
    void* udp_data;
};

int dissect_natt_on_port(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    const auto* call = static_cast<const PortCall*>(data);
    return dissect_natt_role(tvb, pinfo, tree, call->udp_data, call->role, kByPort);
}

// UDP 500/4500 (preferences). This handle has no protocol of its own, so it
// is neither listed in frame.protocols nor disabled with natt: it calls natt
// (call_dissector_only() refuses a disabled protocol) and, when natt is
// disabled, gives the ports their stock isakmp/udpencap dissection back.
int dissect_natt_port(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    const bool natt_port = port_in(pref_natt_ports, pinfo->srcport) || port_in(pref_natt_ports, pinfo->destport);
    PortCall call{natt_port ? PairRole::Natt : PairRole::Ike, data};
    int n = call_dissector_only(natt_on_port_handle, tvb, pinfo, tree, &call);
    if (n == 0) n = call_dissector_with_data(natt_port ? udpencap_handle : isakmp_handle, tvb, pinfo, tree, data);
    return n;
}

// ESP on a later pass: accepted when the first pass recorded its SPI on this
// port pair (ESP frames carry no per-frame cache).
bool esp_recorded(const Classification& cls, const natt::Endpoint& src, const natt::Endpoint& dst) {
    return analyzer && cls.kind == DatagramKind::EspInUdp && analyzer->esp_lookup(src, dst, cls.esp_spi).sa != 0;
}

bool esp_seen_before(tvbuff_t* tvb, packet_info* pinfo) {
    guint len = 0;
    const uint8_t* p = payload_bytes(tvb, &len);
    return esp_recorded(natt::classify_natt_datagram(p, len), src_endpoint(pinfo), dst_endpoint(pinfo));
}

// A port pair recognised by a heuristic: the rest of its conversation.
int dissect_natt_conversation(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    if (!analyzer) return 0;
    PairRole role = PairRole::Unknown;
    uint8_t cached_by = 0;
    if (cached_reach(pinfo, &role, &cached_by)) return dissect_natt_role(tvb, pinfo, tree, data, role, cached_by);
    const natt::Endpoint src = src_endpoint(pinfo), dst = dst_endpoint(pinfo);
    // Nearly every frame of a busy capture is ESP of a known SPI on a NAT-T
    // pair: its record says the pair's role (one hash lookup, not two).
    guint len = 0;
    const uint8_t* p = payload_bytes(tvb, &len);
    const Classification esp = natt::classify_natt_datagram(p, len);
    if (esp.kind == DatagramKind::EspInUdp && analyzer->known_esp_on_natt_pair(src, dst, esp.esp_spi))
        role = PairRole::Natt;
    else
        role = analyzer->role(src, dst);
    uint8_t by = kByConversation;
    if (role == PairRole::Unknown) {
        // The IKE/NAT-T port of a peer already seen, reached from a port that
        // UDP would hand to another dissector (a NAT mapped 500 to 67, ...).
        if (port_in(pref_natt_ports, pinfo->srcport) || port_in(pref_natt_ports, pinfo->destport))
            role = PairRole::Natt;
        else if (port_in(pref_ike_ports, pinfo->srcport) || port_in(pref_ike_ports, pinfo->destport))
            role = PairRole::Ike;
        else
            return 0;
        by = kByServerEndpoint;
    }
    if (PINFO_FD_VISITED(pinfo) && !(role == PairRole::Natt && esp_recorded(esp, src, dst))) return 0;
    return dissect_natt_role(tvb, pinfo, tree, data, role, by);
}

void claim_conversation(packet_info* pinfo) {
    conversation_t* conv = find_or_create_conversation(pinfo);
    conversation_set_dissector(conv, natt_conv_handle);
}

// Shared heuristic prologue: on later passes, accept exactly the frames that
// the first pass accepted with this heuristic.
bool heur_cached(packet_info* pinfo, uint8_t by, bool* accepted) {
    if (!PINFO_FD_VISITED(pinfo)) return false;
    PairRole role;
    uint8_t cached_by = 0;
    *accepted = cached_reach(pinfo, &role, &cached_by) && cached_by == by;
    return true;
}

bool whole_datagram(tvbuff_t* tvb) { return tvb_captured_length(tvb) == tvb_reported_length(tvb); }

// The two IKE-header heuristics differ only in the check and the role: claim
// the conversation on the first pass, replay the first pass's verdict later.
bool heur_ike_header(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data,
                     bool (*looks_like)(const uint8_t*, size_t), PairRole role, uint8_t by) {
    bool accepted = false;
    if (heur_cached(pinfo, by, &accepted)) {
        if (accepted) dissect_natt_role(tvb, pinfo, tree, data, role, by);
        return accepted;
    }
    guint len = 0;
    if (!whole_datagram(tvb)) return false;
    const uint8_t* p = payload_bytes(tvb, &len);
    if (!looks_like(p, len)) return false;
    claim_conversation(pinfo);
    dissect_natt_role(tvb, pinfo, tree, data, role, by);
    return true;
}

natt_ws::heur_result_t heur_natt_floated(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    return heur_ike_header(tvb, pinfo, tree, data, natt::looks_like_floated_ike, PairRole::Natt, kByHeurFloated);
}

natt_ws::heur_result_t heur_natt_plain_ike(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    return heur_ike_header(tvb, pinfo, tree, data, natt::looks_like_plain_ike, PairRole::Ike, kByHeurPlainIke);
}

PairRole known_role(packet_info* pinfo) {
    if (!analyzer) return PairRole::Unknown;
    return analyzer->role(src_endpoint(pinfo), dst_endpoint(pinfo));
}

natt_ws::heur_result_t heur_natt_keepalive(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    bool accepted = false;
    if (heur_cached(pinfo, kByHeurKeepalive, &accepted)) {
        if (accepted) dissect_natt_role(tvb, pinfo, tree, data, PairRole::Natt, kByHeurKeepalive);
        return accepted;
    }
    guint len = 0;
    const uint8_t* p = payload_bytes(tvb, &len);
    if (!natt::is_keepalive(p, len) || !whole_datagram(tvb)) return false;
    // A lone 0xFF byte is too common to claim on its own: only on a port pair
    // that already carried IKE or ESP-in-UDP.
    if (known_role(pinfo) == PairRole::Unknown) return false;
    dissect_natt_role(tvb, pinfo, tree, data, PairRole::Natt, kByHeurKeepalive);
    return true;
}

natt_ws::heur_result_t heur_natt_esp(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    if (PINFO_FD_VISITED(pinfo)) {
        if (!esp_seen_before(tvb, pinfo)) return false;
        dissect_natt_role(tvb, pinfo, tree, data, PairRole::Natt, kByHeurEsp);
        return true;
    }
    guint len = 0;
    const uint8_t* p = payload_bytes(tvb, &len);
    if (!natt::looks_like_esp_in_udp(p, len)) return false;
    if (known_role(pinfo) != PairRole::Natt) return false;
    dissect_natt_role(tvb, pinfo, tree, data, PairRole::Natt, kByHeurEsp);
    return true;
}

void apply_port_prefs(void) {
    if (registered_ike_ports) dissector_delete_uint_range("udp.port", registered_ike_ports, natt_port_handle);
    if (registered_natt_ports) dissector_delete_uint_range("udp.port", registered_natt_ports, natt_port_handle);
    wmem_free(wmem_epan_scope(), registered_ike_ports);
    wmem_free(wmem_epan_scope(), registered_natt_ports);
    registered_ike_ports = range_copy(wmem_epan_scope(), pref_ike_ports);
    registered_natt_ports = range_copy(wmem_epan_scope(), pref_natt_ports);
    dissector_add_uint_range("udp.port", registered_ike_ports, natt_port_handle);
    dissector_add_uint_range("udp.port", registered_natt_ports, natt_port_handle);
}

}  // namespace

const natt::Analyzer* natt_current_analyzer() { return analyzer; }

namespace {

// "IKE SA" conversation filter: right-click a packet, filter its whole SA
// (IKE, keepalives and ESP-in-UDP: all carry natt.sa).
guint sa_of_shown_packet(packet_info* pinfo) {
    return GPOINTER_TO_UINT(p_get_proto_data(pinfo->pool, pinfo, proto_natt, 1));
}

// The callbacks take (pinfo) in 4.0 and (pinfo, user data) later.
template <typename F>
F make_sa_filter_valid() {
    if constexpr (std::is_invocable_v<F, packet_info*>)
        return [](packet_info* pinfo) -> decltype(std::declval<F>()(nullptr)) { return sa_of_shown_packet(pinfo) != 0; };
    else
        return [](packet_info* pinfo, void*) -> decltype(std::declval<F>()(nullptr, nullptr)) {
            return sa_of_shown_packet(pinfo) != 0;
        };
}

template <typename F>
F make_sa_filter_build() {
    if constexpr (std::is_invocable_v<F, packet_info*>)
        return [](packet_info* pinfo) -> gchar* { return g_strdup_printf("natt.sa == %u", sa_of_shown_packet(pinfo)); };
    else
        return [](packet_info* pinfo, void*) -> gchar* {
            return g_strdup_printf("natt.sa == %u", sa_of_shown_packet(pinfo));
        };
}

// register_conversation_filter() takes a fifth argument, user data handed back
// to the callbacks, from 4.2 on. A template, so that only the call that fits
// is compiled.
template <typename Valid, typename Build>
void register_sa_conversation_filter() {
    if constexpr (std::is_invocable_v<decltype(&register_conversation_filter), const char*, const char*, Valid,
                                      Build, void*>)
        register_conversation_filter("natt", "IKE SA", make_sa_filter_valid<Valid>(), make_sa_filter_build<Build>(),
                                     nullptr);
    else
        register_conversation_filter("natt", "IKE SA", make_sa_filter_valid<Valid>(), make_sa_filter_build<Build>());
}

}  // namespace

extern "C" void proto_register_natt(void) {
    static hf_register_info hf[] = {
        {&hf_natt_kind,
         {"Datagram", "natt.kind", FT_UINT8, BASE_DEC, VALS(kind_vals), 0x0, "What natt recognised in this UDP datagram",
          HFILL}},
        {&hf_natt_recognised_by,
         {"Recognised by", "natt.recognised_by", FT_UINT8, BASE_DEC, VALS(recognised_by_vals), 0x0,
          "Why natt dissects this datagram: a port preference, a known port pair, or a heuristic", HFILL}},
        {&hf_natt_floated,
         {"Floated IKE", "natt.floated", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "IKE carried behind the 4-byte non-ESP marker (RFC 3948 section 2.2)", HFILL}},
        {&hf_natt_keepalive,
         {"NAT-T keepalive", "natt.keepalive", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "The single byte 0xFF that keeps a NAT mapping alive (RFC 3948 section 2.3)", HFILL}},
        {&hf_natt_esp_in_udp,
         {"ESP-in-UDP", "natt.esp_in_udp", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "UDP-encapsulated ESP (RFC 3948 section 2.1)", HFILL}},
        {&hf_natt_plain_ike,
         {"IKE", "natt.ike", FT_BOOLEAN, BASE_NONE, nullptr, 0x0, "IKE directly in UDP, without the non-ESP marker",
          HFILL}},
        {&hf_natt_marker,
         {"Non-ESP marker", "natt.non_esp_marker", FT_UINT32, BASE_HEX, nullptr, 0x0,
          "Four zero bytes that tell IKE from ESP on a NAT-T port pair", HFILL}},
        {&hf_natt_keepalive_prev,
         {"Previous keepalive", "natt.keepalive.prev_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
          "The previous keepalive in the same direction of the same port mapping", HFILL}},
        {&hf_natt_keepalive_interval,
         {"Time since previous keepalive", "natt.keepalive.interval", FT_RELATIVE_TIME, BASE_NONE, nullptr, 0x0,
          "Time since the previous keepalive in the same direction of the same port mapping", HFILL}},
        {&hf_natt_esp_spi,
         {"ESP SPI", "natt.esp.spi", FT_UINT32, BASE_HEX, nullptr, 0x0, "SPI of the UDP-encapsulated ESP packet",
          HFILL}},
        {&hf_natt_esp_qm_frame,
         {"Quick mode (inferred)", "natt.esp.qm_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
          "Inferred, not decrypted: the quick mode / CHILD_SA exchange of this SA that completed last before this "
          "SPI first appeared",
          HFILL}},
        {&hf_natt_sa,
         {"IKE SA", "natt.sa", FT_UINT32, BASE_DEC, nullptr, 0x0,
          "The IKE SA this frame belongs to, numbered 1, 2, ... in order of first appearance; ESP and keepalives "
          "are linked by the UDP port mapping the SA floated to",
          HFILL}},
        {&hf_natt_sa_first_frame,
         {"SA first frame", "natt.sa.first_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
          "The first frame of this IKE SA", HFILL}},
        {&hf_natt_direction,
         {"Direction", "natt.direction", FT_UINT8, BASE_DEC, VALS(direction_vals), 0x0,
          "Whether the initiator or the responder of the IKE SA sent this frame", HFILL}},
        {&hf_natt_sa_initiator,
         {"Initiator", "natt.sa.initiator", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The SA's initiator as ip:port, as first seen (before any float)", HFILL}},
        {&hf_natt_sa_responder,
         {"Responder", "natt.sa.responder", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The SA's responder as ip:port, as first seen (before any float)", HFILL}},
        {&hf_natt_sa_initiator_float,
         {"Initiator after float", "natt.sa.initiator_natt", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The initiator's ip:port on the NAT-T port mapping (after the move to UDP 4500)", HFILL}},
        {&hf_natt_sa_responder_float,
         {"Responder after float", "natt.sa.responder_natt", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The responder's ip:port on the NAT-T port mapping (after the move to UDP 4500)", HFILL}},
        {&hf_natt_sa_float_frame,
         {"Float frame", "natt.sa.float_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
          "The first frame of this SA on the NAT-T port mapping", HFILL}},
        {&hf_natt_float,
         {"Float", "natt.float", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "This is the SA's first message on the NAT-T port mapping", HFILL}},
        {&hf_natt_twin,
         {"Seen on another interface", "natt.twin", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "The same IKE message was already seen on another capture interface (the other side of a NAT)", HFILL}},
        {&hf_natt_retransmission,
         {"Retransmission", "natt.retransmission", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "The same message of the same exchange was already sent in this direction", HFILL}},
        {&hf_natt_phase1_message,
         {"Phase-1 message", "natt.phase1.message", FT_UINT8, BASE_DEC, nullptr, 0x0,
          "Main mode / aggressive mode message number (MM1-MM6, AM1-AM3); IKEv2: IKE_SA_INIT and IKE_AUTH messages "
          "counted from 1",
          HFILL}},
        {&hf_natt_qm_msgid,
         {"Quick mode message ID", "natt.qm.msgid", FT_UINT32, BASE_HEX, nullptr, 0x0,
          "Message ID of the quick mode (IKEv2: CREATE_CHILD_SA) exchange", HFILL}},
        {&hf_natt_qm_message,
         {"Quick mode message", "natt.qm.message", FT_UINT8, BASE_DEC, nullptr, 0x0,
          "Number of this message within its quick mode exchange", HFILL}},
        {&hf_natt_qm_prev,
         {"Previous quick mode message", "natt.qm.prev_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
          "The previous message of the same quick mode exchange", HFILL}},
        {&hf_natt_qm_next,
         {"Next quick mode message", "natt.qm.next_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
          "The next message of the same quick mode exchange", HFILL}},
        {&hf_natt_qm_phase1,
         {"Main mode's last message", "natt.qm.phase1_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
          "The last phase-1 message of the IKE SA that protects this quick mode", HFILL}},
        {&hf_natt_method,
         {"NAT-T method", "natt.method", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The NAT-T method both peers announced in their vendor IDs (the newest they share)", HFILL}},
        {&hf_natt_nat_verdict,
         {"NAT verdict", "natt.nat.verdict", FT_STRING, BASE_NONE, nullptr, 0x0,
          "What the NAT-D hashes say about NATs between the peers, checked against the addresses in this capture",
          HFILL}},
        {&hf_natt_nat_initiator,
         {"Initiator behind NAT", "natt.nat.initiator", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "The SA's NAT-D hashes show a NAT in front of the initiator", HFILL}},
        {&hf_natt_nat_responder,
         {"Responder behind NAT", "natt.nat.responder", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "The SA's NAT-D hashes show a NAT in front of the responder", HFILL}},
        {&hf_natt_nat_forced,
         {"Encapsulation forced", "natt.nat.forced", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "A peer faked its NAT-D hash (or hashed a zeroed address or port) to force UDP encapsulation", HFILL}},
        {&hf_natt_natd,
         {"NAT-D hash", "natt.natd", FT_BYTES, BASE_NONE, nullptr, 0x0,
          "A NAT-D hash (IKEv1 NAT-D payload, IKEv2 NAT_DETECTION_*_IP notify)", HFILL}},
        {&hf_natt_natd_is_source,
         {"Sender's own address", "natt.natd.source", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "True: the hash stands for the sender's address; false: for the receiver's", HFILL}},
        {&hf_natt_natd_match,
         {"Matches observed address", "natt.natd.match", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "The hash equals HASH(cookies | IP | port) of the address and port this capture shows", HFILL}},
        {&hf_natt_natd_result,
         {"Verification", "natt.natd.result", FT_STRING, BASE_NONE, nullptr, 0x0,
          "What the hash matches: the observed address, the peer's address on the other side of a NAT, a zeroed "
          "address, or nothing",
          HFILL}},
        {&hf_natt_natd_observed,
         {"Observed address", "natt.natd.observed", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The address:port this hash was checked against", HFILL}},
        {&hf_natt_twin_frame,
         {"Other side of the NAT", "natt.twin_frame", FT_FRAMENUM, BASE_NONE, nullptr, 0x0,
          "The same IKE message seen on another capture interface (a merged inside/outside capture)", HFILL}},
        {&hf_natt_map_inside,
         {"NAT mapping inside", "natt.map.inside", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The translated peer's ip:port on the inside of the NAT, from this message's twin", HFILL}},
        {&hf_natt_map_outside,
         {"NAT mapping outside", "natt.map.outside", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The translated peer's ip:port on the outside of the NAT, from this message's twin", HFILL}},
    };
    static gint* ett[] = {&ett_natt, &ett_natt_natd};
    static ei_register_info ei[] = {
        {&ei_natt_malformed,
         {"natt.malformed", PI_MALFORMED, PI_ERROR, "Malformed NAT-T datagram", EXPFILL}},
        {&ei_natt_not_ike,
         {"natt.ike.invalid_header", PI_MALFORMED, PI_WARN, "UDP payload on an IKE port is not an IKE header",
          EXPFILL}},
        {&ei_natt_no_marker,
         {"natt.ike.no_marker", PI_PROTOCOL, PI_WARN,
          "IKE on a NAT-T port pair without the 4-byte non-ESP marker: the peer breaks RFC 3948, receivers take it "
          "for ESP",
          EXPFILL}},
        {&ei_natt_truncated,
         {"natt.truncated", PI_MALFORMED, PI_NOTE, "Datagram captured only in part", EXPFILL}},
        {&ei_natt_nat_detected,
         {"natt.nat.detected", PI_PROTOCOL, PI_NOTE, "NAT detected between the IKE peers", EXPFILL}},
        {&ei_natt_nat_forced,
         {"natt.nat.forced_encapsulation", PI_PROTOCOL, PI_NOTE,
          "UDP encapsulation forced by a faked or zeroed NAT-D hash", EXPFILL}},
        {&ei_natt_no_float,
         {"natt.nat.no_float", PI_PROTOCOL, PI_WARN,
          "NAT detected, but IKE did not move to the NAT-T port by MM5 / IKE_AUTH: ESP will not pass the NAT",
          EXPFILL}},
        {&ei_natt_float_without_nat,
         {"natt.nat.float_without_nat", PI_PROTOCOL, PI_NOTE,
          "IKE moved to the NAT-T port although the NAT-D hashes show no NAT (forced encapsulation or MOBIKE)",
          EXPFILL}},
        {&ei_natt_rebinding,
         {"natt.nat.rebinding", PI_SEQUENCE, PI_WARN, "NAT mapping changed mid-SA", EXPFILL}},
        {&ei_natt_unanswered,
         {"natt.ike.unanswered", PI_SEQUENCE, PI_WARN,
          "IKE retransmission: the previous message of this exchange was not answered (lost, dropped by a NAT, or "
          "IP fragments dropped)",
          EXPFILL}},
        {&ei_natt_shared_socket,
         {"natt.nat.shared_socket", PI_PROTOCOL, PI_WARN, "Two IKE SAs from one outside ip:port", EXPFILL}},
        {&ei_natt_method_mismatch,
         {"natt.method.mismatch", PI_PROTOCOL, PI_WARN,
          "The NAT-D payload type differs from the agreed NAT-T method's (payload 15 of drafts 04-08 is decoded as "
          "GDOI by Wireshark)",
          EXPFILL}},
        {&ei_natt_keepalive_not_natted,
         {"natt.keepalive.not_behind_nat", PI_PROTOCOL, PI_NOTE,
          "NAT-T keepalive from a peer that is not behind a NAT (RFC 3948 section 4: only the peer behind a NAT needs "
          "to send them)",
          EXPFILL}},
        {&ei_natt_keepalive_gap,
         {"natt.keepalive.gap", PI_SEQUENCE, PI_WARN, "Keepalive gap longer than the NAT UDP timeout", EXPFILL}},
        {&ei_natt_windows_server_behind_nat,
         {"natt.nat.windows_server_behind_nat", PI_PROTOCOL, PI_WARN,
          "Responder behind NAT and the initiator is Windows (MS NT5 ISAKMPOAKLEY vendor ID): Windows refuses a "
          "server behind NAT unless AssumeUDPEncapsulationContextOnSendRule = 2 (DWORD) under "
          "HKLM\\SYSTEM\\CurrentControlSet\\Services\\PolicyAgent (Vista and later) or "
          "HKLM\\SYSTEM\\CurrentControlSet\\Services\\IPSec (XP SP2)",
          EXPFILL}},
        {&ei_natt_no_keepalive,
         {"natt.keepalive.missing", PI_SEQUENCE, PI_WARN,
          "The mapping idled out and the peer behind NAT has sent no NAT-T keepalive on this SA (RFC 3948 section 4)",
          EXPFILL}},
        {&ei_natt_raw_esp,
         {"natt.nat.raw_esp", PI_PROTOCOL, PI_WARN,
          "Raw ESP (IP protocol 50) between peers whose NAT-D showed a NAT: it cannot cross the NAT; the peers "
          "should use ESP-in-UDP on the NAT-T port",
          EXPFILL}},
        {&ei_natt_sa_cap,
         {"natt.sa.table_full", PI_UNDECODED, PI_WARN, "natt's SA table is full (preference natt.max_sas)",
          EXPFILL}},
        {&ei_natt_esp_pair_cap,
         {"natt.esp.too_many_port_pairs", PI_UNDECODED, PI_WARN,
          "ESP of a tracked SA's SPI on too many new port pairs: not attributed to the SA (bounded memory)", EXPFILL}},
        {&ei_natt_silence,
         {"natt.nat.mapping_timeout", PI_SEQUENCE, PI_WARN,
          "NAT-T mapping idle longer than the NAT UDP timeout: the NAT may have dropped it", EXPFILL}},
        {&ei_natt_fragmented,
         {"natt.ike.ip_fragmented", PI_PROTOCOL, PI_WARN,
          "IKE message IP-fragmented: NATs and firewalls often drop fragments; IKE fragmentation (RFC 7383, or the "
          "IKEv1 vendor extension) avoids it",
          EXPFILL}},
        {&ei_natt_icmp_error,
         {"natt.nat.icmp_error", PI_SEQUENCE, PI_WARN,
          "ICMP error for NAT-T traffic: the NAT mapping (or the peer) at this address and port is gone", EXPFILL}},
        {&ei_natt_payload_altered,
         {"natt.nat.payload_altered", PI_MALFORMED, PI_ERROR,
          "IKE payload altered by the NAT (a broken NAT \"IPsec helper\")", EXPFILL}},
    };

    proto_natt = proto_register_protocol("IPsec NAT Traversal analysis", "NATT", "natt");
    proto_register_field_array(proto_natt, hf, G_N_ELEMENTS(hf));
    proto_register_subtree_array(ett, G_N_ELEMENTS(ett));
    expert_module_t* expert = expert_register_protocol(proto_natt);
    expert_register_field_array(expert, ei, G_N_ELEMENTS(ei));

    // The UDP 500/4500 dispatcher belongs to no protocol: disabling natt
    // hands those ports back to isakmp/udpencap (not to "data").
    natt_port_handle = register_dissector_with_description(
        "natt_ports", "IKE / NAT-T (natt, falls back to ISAKMP / UDPENCAP)", dissect_natt_port, -1);
    natt_on_port_handle = register_dissector("natt_port", dissect_natt_on_port, proto_natt);
    esp_dispatch_handle = register_dissector_with_description("natt_esp", "ESP (natt checks raw ESP through NAT)",
                                                              dissect_raw_esp_dispatch, -1);
    natt_raw_esp_handle = register_dissector("natt_raw_esp", dissect_natt_raw_esp, proto_natt);
    natt_conv_handle = register_dissector("natt", dissect_natt_conversation, proto_natt);

    range_convert_str(wmem_epan_scope(), &pref_ike_ports, "500", 65535);
    range_convert_str(wmem_epan_scope(), &pref_natt_ports, "4500", 65535);
    module_t* prefs = prefs_register_protocol(proto_natt, apply_port_prefs);
    prefs_register_range_preference(prefs, "ike_udp_ports", "IKE UDP ports",
                                    "UDP ports on which IKE runs directly (default 500)", &pref_ike_ports, 65535);
    prefs_register_range_preference(prefs, "encapsulation_udp_ports", "NAT-T UDP ports",
                                    "UDP ports that carry floated IKE, ESP-in-UDP and keepalives (default 4500)",
                                    &pref_natt_ports, 65535);
    prefs_register_uint_preference(prefs, "nat_udp_timeout", "NAT UDP mapping timeout (s)",
                                   "A keepalive gap longer than this gets an expert info: a NAT may have dropped the "
                                   "mapping (Linux conntrack: 30 s unreplied, 120 s stream)",
                                   10, &pref_nat_timeout);
    prefs_register_uint_preference(prefs, "max_sas", "Maximum IKE SAs tracked",
                                   "Bounds natt's memory on hostile or huge captures (about 4-5 KiB per SA with its "
                                   "statistics row; 100000 SAs: ~0.4 GiB at most); frames of SAs beyond it get an "
                                   "expert info (natt.sa.table_full)",
                                   10, &pref_max_sas);
    prefs_register_bool_preference(prefs, "claim_ike_endpoints", "Decode all UDP of IKE peers' IKE/NAT-T ports",
                                   "An ip:port that answered IKE from an IKE/NAT-T port gets all its UDP traffic, "
                                   "so that IKE from a NAT mapping of port 500 to a low port (67, 135...) is not "
                                   "decoded as DHCP or DCE/RPC. Side effect: every flow to that ip:port is one UDP "
                                   "conversation (one udp.stream); switch off to keep stock udp.stream numbers",
                                   &pref_claim_endpoints);

    natt_tap = register_tap("natt");
    natt_register_stats();

    register_sa_conversation_filter<is_filter_valid_func, build_filter_string_func>();

    register_init_routine(natt_init);
    register_cleanup_routine(natt_cleanup);
}

extern "C" void proto_reg_handoff_natt(void) {
    isakmp_handle = find_dissector("isakmp");
    udpencap_handle = find_dissector("udpencap");
    // 4.0 registers udpencap by handle only: take the one it put on UDP 4500
    // (plugin handoffs run after every built-in one).
    if (!udpencap_handle) udpencap_handle = dissector_get_default_uint_handle("udp.port", 4500);
    if (!isakmp_handle) isakmp_handle = dissector_get_default_uint_handle("udp.port", 500);
    esp_handle = find_dissector("esp");
    if (!esp_handle) esp_handle = dissector_get_default_uint_handle("ip.proto", 50);
    if (esp_handle) dissector_add_uint("ip.proto", 50, esp_dispatch_handle);
    apply_port_prefs();

    heur_dissector_add("udp", heur_natt_floated, "NAT-T floated IKE (non-ESP marker) on any port", "natt_floated_udp",
                       proto_natt, HEURISTIC_ENABLE);
    heur_dissector_add("udp", heur_natt_plain_ike, "IKE on a non-standard port (strict header check)",
                       "natt_ike_udp", proto_natt, HEURISTIC_ENABLE);
    heur_dissector_add("udp", heur_natt_keepalive, "NAT-T keepalive on a port pair that carries IKE or ESP-in-UDP",
                       "natt_keepalive_udp", proto_natt, HEURISTIC_ENABLE);
    heur_dissector_add("udp", heur_natt_esp, "ESP-in-UDP on a port pair that carried floated IKE", "natt_esp_udp",
                       proto_natt, HEURISTIC_ENABLE);
}
