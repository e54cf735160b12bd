// natt: expert infos, from a frame's FrameResult and the model.

#include "experts.h"

#include <algorithm>

#include <epan/proto_data.h>

#include "fields.h"
#include "packet_access.h"
#include "tcp_close.h"

using natt::DatagramKind;

namespace natt_glue {

namespace {

// The NAT-T datagram an ICMP error quotes.
struct QuotedNatt {
    natt::Endpoint dst;  // where it was sent: the mapping or peer that is gone
    uint32_t sa;
};

int raise_icmp_error(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    const auto* q = static_cast<const QuotedNatt*>(p_get_proto_data(pinfo->pool, pinfo, proto_natt, kIcmpQuoteKey));
    if (!q) return 0;
    char dst[64];
    q->dst.format(dst, sizeof dst);
    proto_item* ti = proto_tree_add_item(tree, proto_natt, tvb, 0, 0, ENC_NA);
    proto_item_append_text(ti, ", ICMP error for NAT-T traffic");
    if (q->sa)
        expert_add_info_format(pinfo, ti, &ei_natt_icmp_error,
                               "ICMP error for NAT-T traffic to %s (SA %u): that NAT mapping or the peer is gone", dst,
                               q->sa);
    else
        expert_add_info_format(pinfo, ti, &ei_natt_icmp_error,
                               "ICMP error for NAT-T traffic to %s: that NAT mapping or the peer is gone", dst);
    return static_cast<int>(tvb_captured_length(tvb));
}

// natt's one postdissector: each one registered costs every frame of every
// capture a dissector call.
int postdissect(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    tcp_close_experts(tvb, pinfo, tree);
    return raise_icmp_error(tvb, pinfo, tree, data);
}

// Expert infos say what the first pass knew at the frame (FrameAnalysis::
// nat_verdict), so that one pass and two say the same.
void add_keepalive_experts(const natt::FrameAnalysis& a, packet_info* pinfo, proto_item* ti) {
    // Only a peer NAT-D shows not behind a NAT (its own hash matches).
    if (natt::NatVerdictView::unpack(a.nat_verdict).of(a.dir) == natt::PeerNat::NotBehind)
        expert_add_info(pinfo, ti, &ei_natt_keepalive_not_natted);
    // Sparse keepalives matter only when nothing else (ESP, IKE) kept the
    // mapping alive meanwhile: the model found the mapping idle too.
    if (a.keepalive_prev_frame && (a.findings & natt::kFindSilence) &&
        a.keepalive_interval_ns > static_cast<int64_t>(prefs.nat_timeout_s) * 1000000000)
        expert_add_info_format(pinfo, ti, &ei_natt_keepalive_gap,
                               "%.1f s since the previous keepalive: longer than the NAT UDP timeout (%u s), the "
                               "mapping may have expired",
                               static_cast<double>(a.keepalive_interval_ns) / 1e9, prefs.nat_timeout_s);
}

// "NAT rebinding: initiator 198.51.100.1:4500 -> 198.51.100.1:1024": which
// peer's mapping moved, from where to where.
void add_rebinding_expert(const natt::Analyzer& model, packet_info* pinfo, proto_item* ti,
                          const natt::FrameAnalysis& a) {
    const natt::IkeSa* sa = model.sa(a.sa);
    const natt::IkeSa::Rebinding* r = sa ? sa->rebinding_at(pinfo->num) : nullptr;
    if (!r) {
        expert_add_info_format(pinfo, ti, &ei_natt_rebinding,
                               "NAT rebinding: the SA moved to a new ip:port (last frame before: %u)", a.related_frame);
        return;
    }
    char text[384];  // two peers' IPv6 ip:port pairs fit
    char* p = text;
    const char* const end = text + sizeof text;
    const auto moved = [&](const char* peer, const natt::Endpoint& from, const natt::Endpoint& to) {
        if (from == to) return;
        char f[64], t[64];
        from.format(f, sizeof f);
        to.format(t, sizeof t);
        const gint n = g_snprintf(p, static_cast<gulong>(end - p), "%s%s %s -> %s", p == text ? "" : ", ", peer, f, t);
        p = n < end - p ? p + n : const_cast<char*>(end) - 1;
    };
    moved("initiator", r->old_initiator, r->initiator);
    moved("responder", r->old_responder, r->responder);
    expert_add_info_format(pinfo, ti, &ei_natt_rebinding, "NAT rebinding: %s (last frame before: %u)", text,
                           a.related_frame);
}

}  // namespace

void add_findings(const natt::Analyzer& model, packet_info* pinfo, proto_item* ti, const FrameResult& r) {
    const natt::FrameAnalysis& a = r.analysis;
    const natt::NatVerdictView verdict = natt::NatVerdictView::unpack(a.nat_verdict);
    if (a.findings & natt::kFindNatVerdict) {
        char words[natt::kNatVerdictWordsMax];
        natt::nat_verdict_words(verdict, words, sizeof words);
        if (verdict.forced())
            expert_add_info_format(pinfo, ti, &ei_natt_nat_forced, "NAT-T encapsulation forced: %s", words);
        else if (verdict.kind == natt::NatVerdict::Inconsistent)
            expert_add_info(pinfo, ti, &ei_natt_nat_inconsistent);
        else if (verdict.encapsulation_expected())
            expert_add_info_format(pinfo, ti, &ei_natt_nat_detected, "NAT-D: %s", words);
        if (a.findings & natt::kFindWindowsServerBehindNat)
            expert_add_info(pinfo, ti, &ei_natt_windows_server_behind_nat);
    }
    if (a.findings & natt::kFindNoFloat) expert_add_info(pinfo, ti, &ei_natt_no_float);
    if (a.findings & natt::kFindRebinding) add_rebinding_expert(model, pinfo, ti, a);
    if (a.findings & natt::kFindUnanswered) expert_add_info(pinfo, ti, &ei_natt_unanswered);
    if (a.findings & natt::kFindReflection) {
        // The SA's count is fixed when it is made: the same on every pass.
        const natt::IkeSa* sa = model.sa(a.sa);
        expert_add_info_format(pinfo, ti, &ei_natt_reflection,
                               "IKE response with no request: responder %u to this initiator cookie that sent no "
                               "request in the capture (spoofed-source reflection of IKE?)",
                               sa ? sa->unrequested : 0u);
    }
    if (a.findings & natt::kFindSharedSocket)
        expert_add_info_format(pinfo, ti, &ei_natt_shared_socket,
                               "Two IKE SAs at once from one outside ip:port (other SA from frame %u): a NAT pinning "
                               "the source port (IPsec passthrough)",
                               a.related_frame);
    if (a.findings & natt::kFindMethodMismatch) expert_add_info(pinfo, ti, &ei_natt_method_mismatch);
    if (a.findings & natt::kFindPayloadAltered)
        expert_add_info_format(pinfo, ti, &ei_natt_payload_altered,
                               "IKE payload altered by the NAT: differs from its copy in frame %u from byte %u on",
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
                               prefs.max_sas);
    if (a.findings & natt::kFindEspPairCap)
        expert_add_info_format(pinfo, ti, &ei_natt_esp_pair_cap,
                               "ESP with the SPI of a tracked SA on a new port pair, but that SA's SPIs already "
                               "moved to %u new port pairs (another side of a NAT, rebindings): not attributed, "
                               "possibly replayed from random ports",
                               static_cast<unsigned>(natt::kMaxEspPairsPerSa));
    if (a.findings & natt::kFindPlaceholderCap)
        expert_add_info_format(pinfo, ti, &ei_natt_placeholder_cap,
                               "ESP or keepalive on a port pair no IKE SA uses: natt makes at most %u SAs of such "
                               "traffic (a quarter of natt.max_sas), so replays from random ports cannot fill the "
                               "table; not tracked (said on the first %u such frames only)",
                               static_cast<unsigned>(std::max<size_t>(1, prefs.max_sas / natt::kPlaceholderShare)),
                               static_cast<unsigned>(natt::kBudgetReports));
    if (a.findings & natt::kFindSilence)
        expert_add_info_format(pinfo, ti, &ei_natt_silence,
                               "No packet on the NAT-T mapping for %.1f s, longer than the NAT UDP timeout (%u s): the "
                               "NAT may have dropped the mapping",
                               static_cast<double>(a.silence_ns) / 1e9, prefs.nat_timeout_s);
    if (r.fragmented && (r.cls.kind == DatagramKind::PlainIke || r.cls.kind == DatagramKind::FloatedIke))
        expert_add_info(pinfo, ti, &ei_natt_fragmented);
    if (a.sa == 0) return;
    if (a.floated_now && verdict.no_nat()) expert_add_info(pinfo, ti, &ei_natt_float_without_nat);
    if (r.cls.kind == DatagramKind::Keepalive && a.copy != natt::Copy::Duplicate) add_keepalive_experts(a, pinfo, ti);
}

void add_datagram_experts(tvbuff_t* tvb, packet_info* pinfo, proto_item* ti, const FrameResult& r) {
    // Quoted in an ICMP error: not a datagram of its own (the model never
    // sees it). Wireshark keeps expert infos raised inside an ICMP error out
    // of Expert Information and -z expert: the postdissector raises it on
    // the ICMP packet itself.
    if (pinfo->flags.in_error_pkt && r.role == natt::PairRole::Natt &&
        !p_get_proto_data(pinfo->pool, pinfo, proto_natt, kIcmpQuoteKey)) {
        auto* q = wmem_new(pinfo->pool, QuotedNatt);
        q->dst = dst_endpoint(pinfo);
        q->sa = r.analysis.sa;
        p_add_proto_data(pinfo->pool, pinfo, proto_natt, kIcmpQuoteKey, q);
    }
    if (r.cls.kind == DatagramKind::IkeWithoutMarker) expert_add_info(pinfo, ti, &ei_natt_no_marker);
    if (r.cls.kind == DatagramKind::Malformed) {
        if (r.cls.malformed == natt::Malformation::IkeHeaderInvalid)
            expert_add_info_format(pinfo, ti, &ei_natt_not_ike, "UDP payload on an IKE port is not an IKE header: %s",
                                   natt::header_check_name(r.cls.ike_check));
        else if (r.cls.malformed == natt::Malformation::MarkerBadIke)
            expert_add_info_format(pinfo, ti, &ei_natt_malformed,
                                   "Non-ESP marker followed by an invalid IKE header: %s",
                                   natt::header_check_name(r.cls.ike_check));
        else
            expert_add_info_format(pinfo, ti, &ei_natt_malformed, "Malformed NAT-T datagram: %s",
                                   natt::malformation_name(r.cls.malformed));
    }
    if (r.truncated)
        expert_add_info_format(pinfo, ti, &ei_natt_truncated,
                               "Only %u of %u UDP payload bytes captured: natt classified the captured bytes",
                               tvb_captured_length(tvb), tvb_reported_length(tvb));
}

void register_icmp_error_postdissector(void) {
    register_postdissector(create_dissector_handle(postdissect, proto_natt));
}

void add_raw_esp_expert(packet_info* pinfo, proto_item* ti) { expert_add_info(pinfo, ti, &ei_natt_raw_esp); }

}  // namespace natt_glue
