// natt: first-pass analysis of a frame and its later-pass lookup.
//
// Wireshark reports errors by longjmp: nothing with a destructor may be alive
// across the tvb_* calls here. The model is called with plain copies and
// returns plain structs.

#include "frame_results.h"

#include "packet_access.h"
#include "ws_compat.h"

namespace natt_glue {

namespace {

// Later passes (and ICMP-quoted datagrams): what the first pass kept, else
// what the model knows.
void look_up_frame(const CaptureState& cs, packet_info* pinfo, FrameResult* out) {
    const natt::Analyzer& model = cs.analyzer;
    if (const UntrackedFrame* untracked = find_this_frame(cs.untracked, pinfo)) {
        out->analysis.findings = kUntrackedFindings[untracked->cap];
    } else if (pinfo->flags.in_error_pkt) {
        out->analysis.sa = model.sa_of_pair(src_endpoint(pinfo), dst_endpoint(pinfo));
        if (const natt::IkeSa* sa = model.sa(out->analysis.sa)) out->analysis.sa_first_frame = sa->first_frame;
    } else if (out->cls.kind == natt::DatagramKind::EspInUdp) {
        const natt::EspLookup e = esp_record(cs, pinfo, src_endpoint(pinfo), dst_endpoint(pinfo), out->cls.esp_spi);
        out->analysis.sa = e.sa;
        out->analysis.sa_first_frame = e.sa_first_frame;
        out->analysis.dir = e.dir;
        out->analysis.child_index = e.child_index;
    }
}

// First pass: the model observes the datagram; the result is kept unless a
// later pass can recompute it.
void observe_frame(CaptureState& cs, tvbuff_t* tvb, packet_info* pinfo, const uint8_t* p, guint len,
                   FrameResult* out) {
    // A large plain struct (safe across longjmp): built only for IKE frames,
    // in static storage (dissection is single-threaded; observe() keeps no
    // pointer to it).
    static natt::IkeMessage msg;
    natt::Datagram d;
    d.frame = pinfo->num;
    d.time_ns = static_cast<int64_t>(pinfo->abs_ts.secs) * 1000000000 + pinfo->abs_ts.nsecs;
    d.src = src_endpoint(pinfo);
    d.dst = dst_endpoint(pinfo);
    if (out->cls.kind != natt::DatagramKind::EspInUdp) d.ip_id = ipv4_id_of(tvb, pinfo);
    d.kind = out->cls.kind;
    d.udp_payload_len = tvb_reported_length(tvb);
    d.esp_spi = out->cls.esp_spi;
    d.esp_seq = out->cls.esp_seq;
    if (d.kind == natt::DatagramKind::PlainIke || d.kind == natt::DatagramKind::FloatedIke) {
        const size_t skip = d.kind == natt::DatagramKind::FloatedIke ? natt::kNonEspMarkerLen : 0;
        natt::parse_ike_message(p + skip, len - skip, natt::Strictness::Port, &msg);
        d.ike = &msg;
        d.ike_bytes = p + skip;
        d.ike_len = static_cast<uint32_t>(len - skip);
    }
    d.pair_role = out->role;
    d.transport = pinfo->ptype == PT_TCP ? natt::Transport::Tcp : natt::Transport::Udp;
    out->analysis = cs.analyzer.observe(d);
    if (out->analysis.sa == 0) {
        for (uint8_t k = 0; k < sizeof kUntrackedFindings / sizeof kUntrackedFindings[0]; ++k) {
            if (out->analysis.findings != kUntrackedFindings[k]) continue;
            cs.untracked.add(pinfo->num, UntrackedFrame{out->role, out->recognised_by, k});
            return;
        }
    }
    if (out->cls.kind == natt::DatagramKind::EspInUdp && out->analysis.findings == 0 &&
        out->analysis.copy == natt::Copy::None)
        return;

    // Zero what a later pass recomputes (the store packs zero words away):
    // the classification and lengths come from the packet, the SA's first
    // frame (set once, when the SA is made) from the model.
    FrameResult kept = *out;
    kept.cls = natt::Classification();
    kept.truncated = false;
    kept.fragmented = false;
    kept.analysis.sa_first_frame = 0;
    cs.results.add(pinfo->num, kept);
}

}  // namespace

natt::EspLookup esp_record(const CaptureState& cs, const packet_info* pinfo, const natt::Endpoint& src,
                           const natt::Endpoint& dst, uint32_t spi) {
    EspRecordMemo& m = cs.esp_memo;
    if (!m.valid || m.frame != pinfo->num || m.spi != spi || !(m.src == src) || !(m.dst == dst)) {
        m.valid = true;
        m.frame = pinfo->num;
        m.spi = spi;
        m.src = src;
        m.dst = dst;
        m.record = cs.analyzer.esp_lookup(src, dst, spi, UINT32_MAX);
    }
    if (pinfo->num < m.record.first_frame) return natt::EspLookup();
    return m.record;
}

void analyse_frame(CaptureState& cs, tvbuff_t* tvb, packet_info* pinfo, natt::PairRole role, uint8_t recognised_by,
                   FrameResult* out) {
    guint len = 0;
    const uint8_t* p = payload_bytes(tvb, &len);
    auto from_packet = [&]() {
        out->cls = classify(out->role, p, len);
        out->truncated = tvb_reported_length(tvb) > len;
        // A UDP payload longer than the frame itself came from IP reassembly
        // (a TCP message from TCP reassembly: no IP fragments).
        out->fragmented = pinfo->ptype != PT_TCP && tvb_reported_length(tvb) + 8 > pinfo->fd->pkt_len;
    };
    if (const FrameResult* kept = find_this_frame(cs.results, pinfo)) {
        // The store keeps only what the packet and the model cannot give back.
        *out = *kept;
        from_packet();
        if (const natt::IkeSa* sa = cs.analyzer.sa(out->analysis.sa)) out->analysis.sa_first_frame = sa->first_frame;
        return;
    }
    *out = FrameResult();
    out->role = role;
    out->recognised_by = recognised_by;
    from_packet();
    out->analysis.kind = out->cls.kind;

    if (PINFO_FD_VISITED(pinfo) || pinfo->flags.in_error_pkt)
        look_up_frame(cs, pinfo, out);
    else
        observe_frame(cs, tvb, pinfo, p, len, out);
}

bool analyse_raw_esp(CaptureState& cs, tvbuff_t* tvb, packet_info* pinfo, FrameResult* out) {
    *out = FrameResult();
    guint len = 0;
    const uint8_t* p = payload_bytes(tvb, &len);
    if (len < 8) return false;
    natt::Endpoint src, dst;
    if (!endpoint_from_address(pinfo->src, 0, &src) || !endpoint_from_address(pinfo->dst, 0, &dst)) return false;
    out->cls.kind = natt::DatagramKind::RawEsp;
    out->cls.esp_spi = static_cast<uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
    out->cls.esp_seq = static_cast<uint32_t>(p[4]) << 24 | p[5] << 16 | p[6] << 8 | p[7];
    if (out->cls.esp_spi == 0) return false;
    if (const FrameResult* kept = find_this_frame(cs.results, pinfo)) {
        const natt::Classification cls = out->cls;
        *out = *kept;
        out->cls = cls;
    } else if (PINFO_FD_VISITED(pinfo)) {
        const natt::EspLookup e = cs.analyzer.esp_lookup(src, dst, out->cls.esp_spi, pinfo->num);
        out->analysis.sa = e.sa;
        out->analysis.dir = e.dir;
        out->analysis.child_index = e.child_index;
        if (const natt::IkeSa* sa = cs.analyzer.sa(e.sa)) out->analysis.nat_verdict = sa->nat.view().pack();
    } else {
        natt::Datagram d;
        d.frame = pinfo->num;
        d.time_ns = static_cast<int64_t>(pinfo->abs_ts.secs) * 1000000000 + pinfo->abs_ts.nsecs;
        d.src = src;
        d.dst = dst;
        d.kind = natt::DatagramKind::RawEsp;
        d.udp_payload_len = tvb_reported_length(tvb);
        d.esp_spi = out->cls.esp_spi;
        d.esp_seq = out->cls.esp_seq;
        out->analysis = cs.analyzer.observe(d);
        // Like ESP-in-UDP, kept only when it has something a later pass
        // cannot look up (a capture duplicate); its verdict is the SA's, set
        // long before (raw ESP follows the quick mode).
        if (out->analysis.sa && out->analysis.copy != natt::Copy::None) {
            FrameResult kept = *out;
            kept.cls = natt::Classification();
            kept.analysis.sa_first_frame = 0;
            cs.results.add(pinfo->num, kept);
        }
    }
    out->analysis.kind = natt::DatagramKind::RawEsp;
    if (const natt::IkeSa* sa = cs.analyzer.sa(out->analysis.sa)) out->analysis.sa_first_frame = sa->first_frame;
    return out->analysis.sa != 0;
}

}  // namespace natt_glue
