// natt: what registration.cpp registers and the other glue units use: the
// protocol, its fields, subtrees, expert infos, tap, dissector handles and
// (read-only) preferences.
#pragma once

#include <cstdint>

#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/range.h>

#include "ws_compat.h"

namespace natt_glue {

// How natt came to dissect a frame (the values of natt.recognised_by).
enum RecognisedBy : uint8_t {
    kByPort = 1,
    kByConversation = 2,
    kByHeurFloated = 3,
    kByHeurPlainIke = 4,
    kByHeurKeepalive = 5,
    kByHeurEsp = 6,
    kByServerEndpoint = 7,
    kByTcpPort = 8,      // RFC 8229 TCP stream on the TCP port preference
    kByHeurTcp = 9,      // RFC 8229 TCP stream found by its "IKETCP" prefix
};

// p_add_proto_data key of the SA number that the "IKE SA" conversation
// filter offers for the packet being shown.
constexpr guint32 kShownSaKey = 1;
// p_add_proto_data key of the NAT-T datagram an ICMP error quotes (experts.cpp).
constexpr guint32 kIcmpQuoteKey = 2;

extern int proto_natt;
extern int natt_tap;

extern int hf_natt_kind;
extern int hf_natt_floated;
extern int hf_natt_keepalive;
extern int hf_natt_esp_in_udp;
extern int hf_natt_plain_ike;
extern int hf_natt_marker;
extern int hf_natt_recognised_by;
extern int hf_natt_keepalive_prev;
extern int hf_natt_keepalive_interval;
extern int hf_natt_esp_spi;
extern int hf_natt_esp_qm_frame;
extern int hf_natt_sa;
extern int hf_natt_sa_first_frame;
extern int hf_natt_direction;
extern int hf_natt_sa_initiator;
extern int hf_natt_sa_responder;
extern int hf_natt_sa_initiator_float;
extern int hf_natt_sa_responder_float;
extern int hf_natt_sa_float_frame;
extern int hf_natt_float;
extern int hf_natt_twin;
extern int hf_natt_duplicate_of;
extern int hf_natt_never_answered;
extern int hf_natt_retransmission;
extern int hf_natt_phase1_message;
extern int hf_natt_qm_msgid;
extern int hf_natt_qm_message;
extern int hf_natt_qm_prev;
extern int hf_natt_qm_next;
extern int hf_natt_qm_phase1;
extern int hf_natt_method;
extern int hf_natt_nat_verdict;
extern int hf_natt_nat_initiator;
extern int hf_natt_nat_responder;
extern int hf_natt_nat_forced;
extern int hf_natt_natd;
extern int hf_natt_natd_is_source;
extern int hf_natt_natd_match;
extern int hf_natt_natd_result;
extern int hf_natt_natd_observed;
extern int hf_natt_twin_frame;
extern int hf_natt_map_inside;
extern int hf_natt_map_outside;

extern gint ett_natt;
extern gint ett_natt_natd;
extern gint ett_natt_sa_state;

extern expert_field ei_natt_malformed;
extern expert_field ei_natt_not_ike;
extern expert_field ei_natt_no_marker;
extern expert_field ei_natt_truncated;
extern expert_field ei_natt_nat_detected;
extern expert_field ei_natt_nat_forced;
extern expert_field ei_natt_no_float;
extern expert_field ei_natt_float_without_nat;
extern expert_field ei_natt_rebinding;
extern expert_field ei_natt_unanswered;
extern expert_field ei_natt_shared_socket;
extern expert_field ei_natt_reflection;
extern expert_field ei_natt_nat_inconsistent;
extern expert_field ei_natt_method_mismatch;
extern expert_field ei_natt_keepalive_not_natted;
extern expert_field ei_natt_keepalive_gap;
extern expert_field ei_natt_windows_server_behind_nat;
extern expert_field ei_natt_payload_altered;
extern expert_field ei_natt_silence;
extern expert_field ei_natt_sa_cap;
extern expert_field ei_natt_esp_pair_cap;
extern expert_field ei_natt_placeholder_cap;
extern expert_field ei_natt_raw_esp;
extern expert_field ei_natt_no_keepalive;
extern expert_field ei_natt_fragmented;
extern expert_field ei_natt_icmp_error;

// The dissector handles natt registers (first group) and hands payloads to.
struct Handles {
    dissector_handle_t ports;         // UDP 500/4500 dispatcher, no protocol of its own
    dissector_handle_t on_port;       // natt on those ports
    dissector_handle_t conversation;  // natt on a claimed conversation
    dissector_handle_t esp_dispatch;  // IP protocol 50 dispatcher, no protocol of its own
    dissector_handle_t raw_esp;       // natt on raw ESP through a NAT
    dissector_handle_t isakmp;
    dissector_handle_t udpencap;
    dissector_handle_t esp;
};
extern Handles handles;

// natt's preferences. Wireshark writes them (registration.cpp registers the
// members); everyone else reads them through prefs.
struct Preferences {
    range_t* ike_ports;
    range_t* natt_ports;
    guint nat_timeout_s;
    guint max_sas;
    natt_ws::pref_bool_t claim_endpoints;
    natt_ws::pref_bool_t info_prefix;  // "[natt SA n: ...]" before the Info column
};
extern const Preferences& prefs;

inline bool port_in(const range_t* r, guint32 port) { return r && value_is_in_range(r, port); }

}  // namespace natt_glue
