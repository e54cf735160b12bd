// natt: the natt.* fields of a frame, from its FrameResult and the model.
//
// Wireshark reports errors by longjmp: nothing with a destructor may be alive
// across the proto_tree_add_* calls here.

#include "tree.h"

#include <wsutil/nstime.h>

#include "fields.h"
#include "packet_access.h"

using natt::DatagramKind;

namespace natt_glue {

namespace {

proto_item* add_generated_uint(proto_tree* t, int hf, tvbuff_t* tvb, guint32 v) {
    proto_item* it = proto_tree_add_uint(t, hf, tvb, 0, 0, v);
    proto_item_set_generated(it);
    return it;
}

void add_generated_boolean(proto_tree* t, int hf, tvbuff_t* tvb, gint start, gint len, bool v) {
    proto_item* it = proto_tree_add_boolean(t, hf, tvb, start, len, v);
    proto_item_set_generated(it);
}

// A field that only repeats what another shows (natt.floated and its kind
// siblings repeat natt.kind): filterable, not shown.
void add_hidden_true(proto_tree* t, int hf, tvbuff_t* tvb) {
    proto_item* it = proto_tree_add_boolean(t, hf, tvb, 0, 0, TRUE);
    proto_item_set_hidden(it);
}

// An FT_UINT field with VALS shown as its name alone ("Datagram: IKE", not
// "IKE (1)"); filters still take the number or the name.
void add_generated_enum(proto_tree* t, int hf, tvbuff_t* tvb, guint32 v) {
    const header_field_info* hfi = proto_registrar_get_nth(hf);
    const char* name = val_to_str_const(v, static_cast<const value_string*>(hfi->strings), "?");
    proto_item* it = proto_tree_add_uint_format_value(t, hf, tvb, 0, 0, v, "%s", name);
    proto_item_set_generated(it);
}

void add_generated_string(proto_tree* t, int hf, tvbuff_t* tvb, const char* s) {
    proto_item* it = proto_tree_add_string(t, hf, tvb, 0, 0, s);
    proto_item_set_generated(it);
}

void add_endpoint_string(proto_tree* t, int hf, tvbuff_t* tvb, const natt::Endpoint& e) {
    // Formatting an address is costly: only when the field is shown or
    // filtered on.
    if (e.family == 0 || !t || !proto_field_is_referenced(t, hf)) return;
    char buf[64];
    e.format(buf, sizeof buf);
    add_generated_string(t, hf, tvb, buf);
}

// The SA's NAT verdict and NAT-T method, on every frame of the SA once known.
void add_nat_fields(proto_tree* nt, tvbuff_t* tvb, const natt::IkeSa& sa) {
    const natt::NatState& nat = sa.nat;
    const natt::NattMethod method = nat.agreed();
    if (method != natt::NattMethod::None)
        add_generated_string(nt, hf_natt_method, tvb, natt::natt_method_name(method));
    if (nat.verdict == natt::NatVerdict::Unknown) return;
    const natt::NatVerdictView v = nat.view();
    char words[natt::kNatVerdictWordsMax];
    natt::nat_verdict_words(v, words, sizeof words);
    proto_item* it = proto_tree_add_string(nt, hf_natt_nat_verdict, tvb, 0, 0, words);
    proto_item_set_generated(it);
    if (nat.verdict == natt::NatVerdict::CannotVerify) {
        proto_item_append_text(it, ": %s", natt::nat_unverifiable_text(nat.unverifiable));
        return;
    }
    if (nat.verdict == natt::NatVerdict::Inconsistent) return;  // says nothing of either peer
    // Only what the capture shows: a field only where the evidence settles
    // it (a mismatch one side of a NAT may be a NAT or a faked hash).
    const natt::PeerNat peers[2] = {v.initiator, v.responder};
    const int hf[2] = {hf_natt_nat_initiator, hf_natt_nat_responder};
    for (int k = 0; k < 2; ++k) {
        if (natt::peer_nat_translated(peers[k]) || peers[k] == natt::PeerNat::NotBehind)
            add_generated_boolean(nt, hf[k], tvb, 0, 0, natt::peer_nat_translated(peers[k]));
    }
    if (v.forced())
        add_generated_boolean(nt, hf_natt_nat_forced, tvb, 0, 0, true);
    else if (nat.initiator_hash_genuine && nat.responder_hash_genuine)
        add_generated_boolean(nt, hf_natt_nat_forced, tvb, 0, 0, false);
}

// A phase-1 request never answered, retransmitted or not (its first copy;
// the resends carry natt.ike.unanswered): known only once the whole capture
// has been seen. The exchange's last message (MM6, AM3, an IKEv2 response)
// expects no answer.
bool never_answered(const natt::IkeSa& sa, const natt::FrameAnalysis& a, uint32_t frame) {
    if (a.exchange_class != natt::ExchangeClass::Phase1 || a.retransmission || a.copy != natt::Copy::None ||
        sa.state == natt::SaState::Established || sa.state == natt::SaState::Deleted)
        return false;
    if (sa.major == 2 && a.dir != natt::Direction::FromInitiator) return false;
    if ((sa.flavour == natt::IkeFlavour::MainMode && a.phase1_message >= 6) ||
        (sa.flavour == natt::IkeFlavour::AggressiveMode && a.phase1_message >= 3))
        return false;
    bool answered = false, later = false;
    for (const natt::MessageRecord& m : sa.phase1) {
        if (m.frame == frame) later = true;
        else if (later && m.dir != a.dir && !m.retransmission) answered = true;
    }
    return later && !answered;
}

// The SA this frame belongs to: its number, first frame and this frame's
// direction; then what the SA as a whole shows (verdict, peers, float) in a
// subtree that says when: on the first pass the capture so far, on later
// passes (the GUI, tshark -2) the whole capture. Never this frame's finding.
void add_sa_fields(const natt::Analyzer& model, proto_tree* nt, tvbuff_t* tvb, packet_info* pinfo,
                   const FrameResult& r) {
    const natt::FrameAnalysis& a = r.analysis;
    if (a.sa == 0) return;
    const natt::IkeSa* sa = model.sa(a.sa);
    add_generated_uint(nt, hf_natt_sa, tvb, a.sa);
    add_generated_uint(nt, hf_natt_sa_first_frame, tvb, a.sa_first_frame);
    if (a.dir != natt::Direction::Unknown) add_generated_enum(nt, hf_natt_direction, tvb, static_cast<guint32>(a.dir));
    if (!sa) return;
    const bool whole = PINFO_FD_VISITED(pinfo);
    proto_item* si = nullptr;
    proto_tree* st = proto_tree_add_subtree_format(
        nt, tvb, 0, 0, ett_natt_sa_state, &si, whole ? "SA %u at the end of the capture" : "SA %u so far (first pass)",
        a.sa);
    proto_item_set_generated(si);
    add_nat_fields(st, tvb, *sa);
    add_endpoint_string(st, hf_natt_sa_initiator, tvb, sa->initiator);
    add_endpoint_string(st, hf_natt_sa_responder, tvb, sa->responder);
    if (sa->floating.floated) {
        add_endpoint_string(st, hf_natt_sa_initiator_float, tvb, sa->floating.initiator);
        add_endpoint_string(st, hf_natt_sa_responder_float, tvb, sa->floating.responder);
        if (sa->floating.frame) add_generated_uint(st, hf_natt_sa_float_frame, tvb, sa->floating.frame);
    }
    if (whole && never_answered(*sa, a, pinfo->num)) add_generated_boolean(st, hf_natt_never_answered, tvb, 0, 0, TRUE);
}

// The NAT-D hashes of this IKE message and what each matches.
void add_natd_fields(const natt::Analyzer& model, proto_tree* nt, tvbuff_t* tvb, const FrameResult& r) {
    const natt::FrameAnalysis& a = r.analysis;
    if (!a.natd_obs) return;
    const natt::IkeSa* sa = model.sa(a.sa);
    if (!sa || a.natd_obs > sa->nat.observations.size()) return;
    const natt::NatDObservation& o = sa->nat.observations[a.natd_obs - 1];
    const guint base = r.cls.kind == DatagramKind::FloatedIke ? natt::kNonEspMarkerLen : 0;
    for (uint8_t k = 0; k < o.n; ++k) {
        const natt::NatDHash& h = o.hashes[k];
        if (!tvb_bytes_exist(tvb, static_cast<gint>(base + h.offset), h.len)) continue;
        proto_item* ti = proto_tree_add_item(nt, hf_natt_natd, tvb, static_cast<gint>(base + h.offset), h.len, ENC_NA);
        proto_item_append_text(ti, " (%s address): %s", h.is_source ? "sender's" : "receiver's",
                               natt::natd_match_text(h.result));
        proto_tree* st = proto_item_add_subtree(ti, ett_natt_natd);
        add_generated_boolean(st, hf_natt_natd_is_source, tvb, 0, 0, h.is_source);
        if (h.result != natt::NatDMatch::Unverified) {
            add_generated_boolean(st, hf_natt_natd_match, tvb, 0, 0, h.result == natt::NatDMatch::Match);
            add_generated_string(st, hf_natt_natd_result, tvb, natt::natd_match_text(h.result));
        }
        const natt::Endpoint& ep = h.is_source ? o.src : o.dst;
        add_endpoint_string(st, hf_natt_natd_observed, tvb, ep);
    }
}

// Two-sided captures: the same message on the other side of the NAT, and the
// NAT mapping it shows.
void add_twin_fields(const natt::Analyzer& model, proto_tree* nt, tvbuff_t* tvb, const FrameResult& r) {
    const natt::FrameAnalysis& a = r.analysis;
    const natt::IkeSa* sa = model.sa(a.sa);
    if (!sa) return;
    uint32_t twin = 0;
    uint8_t mapping = a.mapping_index;
    if (a.copy == natt::Copy::Twin) {
        twin = a.related_frame;
    } else if (const natt::MessageRecord* rec = model.record(a)) {
        twin = rec->twin_frame;
        mapping = rec->mapping_index;
    }
    if (twin) add_generated_uint(nt, hf_natt_twin_frame, tvb, twin);
    if (!mapping || mapping > sa->nat_mappings.size()) return;
    const natt::NatMapping& m = sa->nat_mappings[mapping - 1];
    const int inside = model.inside_side(*sa, m);
    const natt::Endpoint& in = inside == static_cast<int>(m.second_side) ? m.second : m.first;
    const natt::Endpoint& out = inside == static_cast<int>(m.second_side) ? m.first : m.second;
    add_endpoint_string(nt, hf_natt_map_inside, tvb, in);
    add_endpoint_string(nt, hf_natt_map_outside, tvb, out);
}

// The IKE message's place in its SA: phase-1 message, quick mode links.
void add_ike_fields(const natt::Analyzer& model, proto_tree* nt, tvbuff_t* tvb, const FrameResult& r) {
    const natt::FrameAnalysis& a = r.analysis;
    add_natd_fields(model, nt, tvb, r);
    add_twin_fields(model, nt, tvb, r);
    if (a.copy == natt::Copy::Twin) add_generated_boolean(nt, hf_natt_twin, tvb, 0, 0, TRUE);
    if (a.retransmission) add_generated_boolean(nt, hf_natt_retransmission, tvb, 0, 0, TRUE);
    if (a.phase1_message) add_generated_uint(nt, hf_natt_phase1_message, tvb, a.phase1_message);
    if (a.floated_now) add_generated_boolean(nt, hf_natt_float, tvb, 0, 0, TRUE);
    if (a.exchange_class != natt::ExchangeClass::Child) return;
    add_generated_uint(nt, hf_natt_qm_msgid, tvb, a.msgid);
    add_generated_uint(nt, hf_natt_qm_message, tvb, a.child_message);
    if (guint32 prev = model.child_prev_frame(a.sa, a.child_index, a.child_message))
        add_generated_uint(nt, hf_natt_qm_prev, tvb, prev);
    if (guint32 next = model.child_next_frame(a.sa, a.child_index, a.child_message))
        add_generated_uint(nt, hf_natt_qm_next, tvb, next);
    if (a.phase1_last_frame) add_generated_uint(nt, hf_natt_qm_phase1, tvb, a.phase1_last_frame);
}

// The kind-specific fields.
void add_kind_fields(const natt::Analyzer& model, tvbuff_t* tvb, packet_info* pinfo, proto_tree* nt,
                     const FrameResult& r) {
    switch (r.cls.kind) {
        case DatagramKind::PlainIke:
            add_hidden_true(nt, hf_natt_plain_ike, tvb);
            add_ike_fields(model, nt, tvb, r);
            break;
        case DatagramKind::FloatedIke:
            add_hidden_true(nt, hf_natt_floated, tvb);
            proto_tree_add_item(nt, hf_natt_marker, tvb, 0, 4, ENC_BIG_ENDIAN);
            add_ike_fields(model, nt, tvb, r);
            break;
        case DatagramKind::Keepalive:
            add_hidden_true(nt, hf_natt_keepalive, tvb);
            if (r.analysis.keepalive_prev_frame) {
                add_generated_uint(nt, hf_natt_keepalive_prev, tvb, r.analysis.keepalive_prev_frame);
                nstime_t delta;
                delta.secs = static_cast<time_t>(r.analysis.keepalive_interval_ns / 1000000000);
                delta.nsecs = static_cast<int>(r.analysis.keepalive_interval_ns % 1000000000);
                proto_item* it = proto_tree_add_time(nt, hf_natt_keepalive_interval, tvb, 0, 0, &delta);
                proto_item_set_generated(it);
            }
            break;
        case DatagramKind::EspInUdp:
            add_hidden_true(nt, hf_natt_esp_in_udp, tvb);
            proto_tree_add_item(nt, hf_natt_esp_spi, tvb, 0, 4, ENC_BIG_ENDIAN);
            // The first packet of an SPI on the other side of the NAT: the mapping it shows.
            if (r.analysis.mapping_index) add_twin_fields(model, nt, tvb, r);
            if (r.analysis.sa && proto_field_is_referenced(nt, hf_natt_esp_qm_frame)) {
                const natt::EspLookup e = model.esp_lookup(src_endpoint(pinfo), dst_endpoint(pinfo), r.cls.esp_spi, pinfo->num);
                if (e.child_frame) add_generated_uint(nt, hf_natt_esp_qm_frame, tvb, e.child_frame);
            }
            break;
        case DatagramKind::RawEsp: proto_tree_add_item(nt, hf_natt_esp_spi, tvb, 0, 4, ENC_BIG_ENDIAN); break;
        default: break;
    }
}

}  // namespace

const char* kind_text(DatagramKind kind) {
    switch (kind) {
        case DatagramKind::PlainIke: return "IKE";
        case DatagramKind::FloatedIke: return "floated IKE";
        case DatagramKind::Keepalive: return "keepalive";
        case DatagramKind::EspInUdp: return "ESP-in-UDP";
        case DatagramKind::IkeWithoutMarker: return "IKE without non-ESP marker";
        case DatagramKind::Malformed: return "malformed";
        case DatagramKind::RawEsp: return "raw ESP";
        case DatagramKind::None: break;
    }
    return "?";
}

const char* info_kind_text(DatagramKind kind) {
    switch (kind) {
        case DatagramKind::FloatedIke:
        case DatagramKind::IkeWithoutMarker:
        case DatagramKind::Malformed: return kind_text(kind);
        default: return nullptr;
    }
}

void set_info_prefix(packet_info* pinfo, uint32_t sa, const char* kind) {
    if (!prefs.info_prefix) return;
    if (sa && kind)
        col_add_fstr(pinfo->cinfo, COL_INFO, "[natt SA %u: %s] ", sa, kind);
    else if (sa)
        col_add_fstr(pinfo->cinfo, COL_INFO, "[natt SA %u] ", sa);
    else
        col_add_fstr(pinfo->cinfo, COL_INFO, "[natt: %s] ", kind ? kind : "no SA");
    col_set_fence(pinfo->cinfo, COL_INFO);
}

proto_item* add_natt_tree(const natt::Analyzer& model, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree,
                          const FrameResult& r) {
    // When nobody looks at natt's fields (tshark -q, a tap without a natt
    // filter) only the expert infos count. A natt field in a filter
    // references proto_natt too.
    if (!tree || !proto_field_is_referenced(tree, proto_natt)) return nullptr;
    proto_item* ti = proto_tree_add_item(tree, proto_natt, tvb, 0, 0, ENC_NA);
    proto_item_append_text(ti, ", %s", kind_text(r.cls.kind));
    if (r.analysis.sa) proto_item_append_text(ti, ", SA %u", r.analysis.sa);
    proto_tree* nt = proto_item_add_subtree(ti, ett_natt);
    add_generated_enum(nt, hf_natt_kind, tvb, static_cast<guint32>(r.cls.kind));
    add_generated_enum(nt, hf_natt_recognised_by, tvb, r.recognised_by);
    add_sa_fields(model, nt, tvb, pinfo, r);
    if (r.analysis.copy == natt::Copy::Duplicate && r.analysis.related_frame)
        add_generated_uint(nt, hf_natt_duplicate_of, tvb, r.analysis.related_frame);
    add_kind_fields(model, tvb, pinfo, nt, r);
    return ti;
}

}  // namespace natt_glue
