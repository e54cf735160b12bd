// natt: the one registration block. The protocol, its fields, subtrees and
// expert infos, preferences, the tap and its statistics tables, the dissector
// handles, the heuristics and the "IKE SA" conversation filter.

#include "natt.h"

#include <type_traits>
#include <utility>

#include <epan/packet.h>
// conversation_filter.h expects glib and packet_info declared before it.
#include <epan/conversation_filter.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/proto_data.h>
#include <epan/tap.h>

#include "../tap/analyzer.h"
#include "dispatch.h"
#include "experts.h"
#include "fields.h"
#include "sa_toolbar.h"
#include "stat_tables.h"
#include "tcp_encap.h"
#include "ws_compat.h"

using natt::DatagramKind;

namespace natt_glue {

int proto_natt = -1;
int natt_tap = -1;

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
int hf_natt_duplicate_of = -1;
int hf_natt_never_answered = -1;
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
gint ett_natt = -1;
gint ett_natt_natd = -1;
gint ett_natt_sa_state = -1;
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
expert_field ei_natt_reflection = EI_INIT;
expert_field ei_natt_nat_inconsistent = EI_INIT;
expert_field ei_natt_method_mismatch = EI_INIT;
expert_field ei_natt_keepalive_not_natted = EI_INIT;
expert_field ei_natt_keepalive_gap = EI_INIT;
expert_field ei_natt_windows_server_behind_nat = EI_INIT;
expert_field ei_natt_payload_altered = EI_INIT;
expert_field ei_natt_silence = EI_INIT;
expert_field ei_natt_sa_cap = EI_INIT;
expert_field ei_natt_esp_pair_cap = EI_INIT;
expert_field ei_natt_placeholder_cap = EI_INIT;
expert_field ei_natt_raw_esp = EI_INIT;
expert_field ei_natt_no_keepalive = EI_INIT;
expert_field ei_natt_fragmented = EI_INIT;
expert_field ei_natt_icmp_error = EI_INIT;

Handles handles;

namespace {

Preferences prefs_storage = {nullptr, nullptr, 30, static_cast<guint>(natt::kDefaultMaxSas), TRUE, TRUE};

}  // namespace

const Preferences& prefs = prefs_storage;

namespace {

const value_string recognised_by_vals[] = {
    {kByPort, "IKE/NAT-T port preference"},
    {kByConversation, "port pair already recognised"},
    {kByHeurFloated, "heuristic: non-ESP marker + IKE header"},
    {kByHeurPlainIke, "heuristic: IKE header on a non-standard port"},
    {kByHeurKeepalive, "heuristic: keepalive on a known NAT-T port pair"},
    {kByHeurEsp, "heuristic: ESP on a port pair that carried floated IKE"},
    {kByServerEndpoint, "the IKE/NAT-T port of a peer already seen"},
    {kByTcpPort, "RFC 8229 TCP stream on the TCP port preference"},
    {kByHeurTcp, "heuristic: RFC 8229 \"IKETCP\" prefix at the start of a TCP stream"},
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
    {static_cast<guint32>(DatagramKind::RawEsp), "Raw ESP (IP protocol 50)"},
    {0, nullptr},
};

// UDP ports natt's port handle is registered on (the preference may change).
range_t* registered_ike_ports = nullptr;
range_t* registered_natt_ports = nullptr;

void apply_port_prefs(void) {
    if (registered_ike_ports) dissector_delete_uint_range("udp.port", registered_ike_ports, handles.ports);
    if (registered_natt_ports) dissector_delete_uint_range("udp.port", registered_natt_ports, handles.ports);
    wmem_free(wmem_epan_scope(), registered_ike_ports);
    wmem_free(wmem_epan_scope(), registered_natt_ports);
    registered_ike_ports = range_copy(wmem_epan_scope(), prefs_storage.ike_ports);
    registered_natt_ports = range_copy(wmem_epan_scope(), prefs_storage.natt_ports);
    dissector_add_uint_range("udp.port", registered_ike_ports, handles.ports);
    dissector_add_uint_range("udp.port", registered_natt_ports, handles.ports);
    apply_tcp_port_prefs();
}

// "IKE SA" conversation filter: right-click a packet, filter its whole SA
// (IKE, keepalives and ESP-in-UDP: all carry natt.sa).
guint sa_of_shown_packet(packet_info* pinfo) {
    return GPOINTER_TO_UINT(p_get_proto_data(pinfo->pool, pinfo, proto_natt, kShownSaKey));
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

void register_fields(void) {
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
         {"Previous keepalive", "natt.keepalive.prev_frame", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_RETRANS_PREV), 0x0,
          "The previous keepalive in the same direction of the same port mapping", HFILL}},
        {&hf_natt_keepalive_interval,
         {"Time since previous keepalive", "natt.keepalive.interval", FT_RELATIVE_TIME, BASE_NONE, nullptr, 0x0,
          "Time since the previous keepalive in the same direction of the same port mapping", HFILL}},
        {&hf_natt_esp_spi,
         {"ESP SPI", "natt.esp.spi", FT_UINT32, BASE_HEX, nullptr, 0x0, "SPI of the UDP-encapsulated ESP packet",
          HFILL}},
        {&hf_natt_esp_qm_frame,
         {"Quick mode (inferred)", "natt.esp.qm_frame", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0,
          "Inferred, not decrypted: the quick mode / CHILD_SA exchange of this SA that completed last before this "
          "SPI first appeared",
          HFILL}},
        {&hf_natt_sa,
         {"IKE SA", "natt.sa", FT_UINT32, BASE_DEC, nullptr, 0x0,
          "The IKE SA this frame belongs to, numbered 1, 2, ... in order of first appearance; ESP and keepalives "
          "are linked by the UDP port mapping the SA floated to",
          HFILL}},
        {&hf_natt_sa_first_frame,
         {"SA first frame", "natt.sa.first_frame", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0,
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
         {"Initiator (NAT-T)", "natt.sa.initiator_natt", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The initiator's ip:port on the NAT-T port mapping (after the move to UDP 4500)", HFILL}},
        {&hf_natt_sa_responder_float,
         {"Responder (NAT-T)", "natt.sa.responder_natt", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The responder's ip:port on the NAT-T port mapping (after the move to UDP 4500)", HFILL}},
        {&hf_natt_sa_float_frame,
         {"Float frame", "natt.sa.float_frame", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_NONE), 0x0,
          "The first frame of this SA on the NAT-T port mapping", HFILL}},
        {&hf_natt_float,
         {"First message after the float", "natt.float", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "This is the SA's first message on the NAT-T port mapping", HFILL}},
        {&hf_natt_twin,
         {"Copy from the other side of the NAT", "natt.twin", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "The same IKE message was already seen between other addresses or ports: the other side of a NAT",
          HFILL}},
        {&hf_natt_never_answered,
         {"Never answered", "natt.sa.never_answered", FT_BOOLEAN, BASE_NONE, nullptr, 0x0,
          "At the end of the capture: this phase-1 message was retransmitted and never answered (later passes "
          "only)",
          HFILL}},
        {&hf_natt_duplicate_of,
         {"Duplicate of frame", "natt.duplicate_of", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_DUP_ACK), 0x0,
          "The same datagram captured twice (a SPAN port, tcpdump -i any on a bridge): no retransmission",
          HFILL}},
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
         {"Previous quick mode message", "natt.qm.prev_frame", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0,
          "The previous message of the same quick mode exchange", HFILL}},
        {&hf_natt_qm_next,
         {"Next quick mode message", "natt.qm.next_frame", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE), 0x0,
          "The next message of the same quick mode exchange", HFILL}},
        {&hf_natt_qm_phase1,
         {"Main mode's last message", "natt.qm.phase1_frame", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0,
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
         {"Other side of the NAT", "natt.twin_frame", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_DUP_ACK), 0x0,
          "The same IKE message seen on the other side of the NAT (a capture of both sides)", HFILL}},
        {&hf_natt_map_inside,
         {"NAT mapping inside", "natt.map.inside", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The translated peer's ip:port on the inside of the NAT, from this message's twin", HFILL}},
        {&hf_natt_map_outside,
         {"NAT mapping outside", "natt.map.outside", FT_STRING, BASE_NONE, nullptr, 0x0,
          "The translated peer's ip:port on the outside of the NAT, from this message's twin", HFILL}},
    };
    static gint* ett[] = {&ett_natt, &ett_natt_natd, &ett_natt_sa_state};
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
         {"natt.nat.rebinding", PI_SEQUENCE, PI_WARN, "NAT rebinding: the SA moved to a new ip:port", EXPFILL}},
        {&ei_natt_unanswered,
         {"natt.ike.unanswered", PI_SEQUENCE, PI_WARN,
          "IKE retransmission: the previous message of this exchange was not answered (lost, dropped by a NAT, or "
          "IP fragments dropped)",
          EXPFILL}},
        {&ei_natt_shared_socket,
         {"natt.nat.shared_socket", PI_PROTOCOL, PI_WARN, "Two IKE SAs from one outside ip:port", EXPFILL}},
        {&ei_natt_nat_inconsistent,
         {"natt.nat.inconsistent", PI_PROTOCOL, PI_WARN,
          "Inconsistent NAT-D: every hash of both peers mismatches here, which no single capture point shows "
          "(hashes forged, encapsulation forced, or the capture altered)",
          EXPFILL}},
        {&ei_natt_reflection,
         {"natt.ike.reflection", PI_SECURITY, PI_WARN,
          "IKE responses with no request from several responders to one initiator cookie", EXPFILL}},
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
        {&ei_natt_placeholder_cap,
         {"natt.sa.placeholders_full", PI_UNDECODED, PI_WARN,
          "ESP or keepalive on a port pair with no IKE SA: the SAs made from such traffic already fill their share "
          "of the table (bounded memory; reported on the first frames only)",
          EXPFILL}},
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
}

}  // namespace

}  // namespace natt_glue

using namespace natt_glue;

extern "C" void proto_register_natt(void) {
    register_fields();

    // The UDP 500/4500 dispatcher belongs to no protocol: disabling natt
    // hands those ports back to isakmp/udpencap (not to "data").
    handles.ports = register_dissector_with_description(
        "natt_ports", "IKE / NAT-T (natt, falls back to ISAKMP / UDPENCAP)", dissect_ports, -1);
    handles.on_port = register_dissector("natt_port", dissect_on_port, proto_natt);
    handles.esp_dispatch = register_dissector_with_description("natt_esp", "ESP (natt checks raw ESP through NAT)",
                                                                dissect_esp_dispatch, -1);
    handles.raw_esp = register_dissector("natt_raw_esp", dissect_raw_esp, proto_natt);
    handles.conversation = register_dissector("natt", dissect_conversation, proto_natt);

    range_convert_str(wmem_epan_scope(), &prefs_storage.ike_ports, "500", 65535);
    range_convert_str(wmem_epan_scope(), &prefs_storage.natt_ports, "4500", 65535);
    module_t* module = prefs_register_protocol(proto_natt, apply_port_prefs);
    prefs_register_range_preference(module, "ike_udp_ports", "IKE UDP ports",
                                    "UDP ports on which IKE runs directly (default 500)", &prefs_storage.ike_ports,
                                    65535);
    prefs_register_range_preference(module, "encapsulation_udp_ports", "NAT-T UDP ports",
                                    "UDP ports that carry floated IKE, ESP-in-UDP and keepalives (default 4500)",
                                    &prefs_storage.natt_ports, 65535);
    prefs_register_uint_preference(module, "nat_udp_timeout", "NAT UDP mapping timeout (s)",
                                   "A keepalive gap longer than this gets an expert info: a NAT may have dropped the "
                                   "mapping (Linux conntrack: 30 s unreplied, 120 s stream)",
                                   10, &prefs_storage.nat_timeout_s);
    prefs_register_uint_preference(module, "max_sas", "Maximum IKE SAs tracked",
                                   "Bounds natt's memory on hostile or huge captures (about 4-5 KiB per SA with its "
                                   "statistics row; 100000 SAs: ~0.4 GiB at most); frames of SAs beyond it get an "
                                   "expert info (natt.sa.table_full)",
                                   10, &prefs_storage.max_sas);
    prefs_register_bool_preference(module, "claim_ike_endpoints", "Decode all UDP of IKE peers' IKE/NAT-T ports",
                                   "An ip:port that answered IKE from an IKE/NAT-T port gets all its UDP traffic, "
                                   "so that IKE from a NAT mapping of port 500 to a low port (67, 135...) is not "
                                   "decoded as DHCP or DCE/RPC. Side effect: every flow to that ip:port is one UDP "
                                   "conversation (one udp.stream); switch off to keep stock udp.stream numbers",
                                   &prefs_storage.claim_endpoints);
    prefs_register_bool_preference(module, "info_prefix", "Show the IKE SA in the Info column",
                                   "Prefix the Info column with natt's SA number, \"[natt SA 1] \", and what natt "
                                   "recognised when the Protocol column does not say it (\"[natt SA 1: floated "
                                   "IKE] \")",
                                   &prefs_storage.info_prefix);

    register_tcp_encap(module);

    natt_tap = register_tap("natt");
    register_stat_tables();
    register_sa_toolbar(proto_natt);
    register_icmp_error_postdissector();

    register_sa_conversation_filter<is_filter_valid_func, build_filter_string_func>();

    register_init_routine(open_capture);
    register_cleanup_routine(close_capture);
}

extern "C" void proto_reg_handoff_natt(void) {
    handles.isakmp = find_dissector("isakmp");
    handles.udpencap = find_dissector("udpencap");
    // 4.0 registers udpencap by handle only: take the one it put on UDP 4500
    // (plugin handoffs run after every built-in one).
    if (!handles.udpencap) handles.udpencap = dissector_get_default_uint_handle("udp.port", 4500);
    if (!handles.isakmp) handles.isakmp = dissector_get_default_uint_handle("udp.port", 500);
    handles.esp = find_dissector("esp");
    if (!handles.esp) handles.esp = dissector_get_default_uint_handle("ip.proto", 50);
    if (handles.esp) dissector_add_uint("ip.proto", 50, handles.esp_dispatch);
    apply_port_prefs();

    heur_dissector_add("udp", heur_floated_ike, "NAT-T floated IKE (non-ESP marker) on any port", "natt_floated_udp",
                       proto_natt, HEURISTIC_ENABLE);
    heur_dissector_add("udp", heur_plain_ike, "IKE on a non-standard port (strict header check)",
                       "natt_ike_udp", proto_natt, HEURISTIC_ENABLE);
    heur_dissector_add("udp", heur_keepalive, "NAT-T keepalive on a port pair that carries IKE or ESP-in-UDP",
                       "natt_keepalive_udp", proto_natt, HEURISTIC_ENABLE);
    handoff_tcp_encap();
    heur_dissector_add("udp", heur_esp, "ESP-in-UDP on a port pair that carried floated IKE", "natt_esp_udp",
                       proto_natt, HEURISTIC_ENABLE);
}

