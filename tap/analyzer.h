// natt: the per-file NAT-T model (pure C++, no epan types).
//
// The dissector feeds every datagram it claims, in frame order, on the first
// pass (observe()). The model links IKE messages into IKE SAs by cookie pair,
// quick modes to their main mode, ESP-in-UDP SPIs and keepalives to the SA by
// the UDP port pair it floated to. The dissector caches the small
// FrameAnalysis of IKE and keepalive frames; ESP frames are looked up by
// (port pair, SPI) on later passes so that ESP costs no per-frame memory.
//
// The Analyzer dispatches each datagram to the units that own one NAT-T
// concept each: sa_registry (SAs, cookies, aliases), exchanges, float_tracker
// (port pairs, float, rebinding), esp_tracker, keepalives, copies (two-sided
// captures) and nat_analysis (NAT-D, verdict, method).
#pragma once

#include <cstdint>
#include <deque>

#include "copies.h"
#include "datagram.h"
#include "endpoint.h"
#include "esp_tracker.h"
#include "exchanges.h"
#include "flat_map.h"
#include "float_tracker.h"
#include "frame_analysis.h"
#include "ike_parse.h"
#include "ike_sa.h"
#include "keepalives.h"
#include "limits.h"
#include "nat_analysis.h"
#include "sa_registry.h"
#include "v1_fragments.h"

namespace natt {

class Analyzer {
public:
    FrameAnalysis observe(const Datagram& d);

    PairRole role(const Endpoint& a, const Endpoint& b) const {
        const PairRole* r = roles_.find(PortPair(a, b));
        return r ? *r : PairRole::Unknown;
    }
    // Remember what a port pair carries; a NAT-T role is never downgraded.
    void learn(const Endpoint& a, const Endpoint& b, PairRole r);

    // The (port pair, SPI) of an ESP packet is recorded and the pair has the
    // NAT-T role: role(src, dst) is PairRole::Natt, found with the lookup
    // that observe() repeats for the packet (then in the cache).
    bool known_esp_on_natt_pair(const Endpoint& src, const Endpoint& dst, uint32_t spi) const {
        const EspRef* ref = esp_.find(src, dst, spi);
        return ref && ref->natt_pair;
    }
    // Later passes: the SA and inferred exchange of an ESP packet.
    // Later passes: the SA and inferred exchange of an ESP packet, as the
    // first pass saw frame.
    EspLookup esp_lookup(const Endpoint& src, const Endpoint& dst, uint32_t spi, uint32_t frame) const;

    const IkeSa* sa(uint32_t number) const { return registry_.find(number); }
    // Raw ESP (IP protocol 50) between the peers of an SA: the SA (0: none).
    // Peers whose NAT-D showed a NAT must not send raw ESP: it cannot pass.
    uint32_t sa_of_addresses(const Endpoint& a, const Endpoint& b) const { return registry_.sa_of_addresses(a, b); }
    // The SA on a UDP port pair (0: none), without recording anything: for
    // packets quoted in ICMP errors.
    uint32_t sa_of_pair(const Endpoint& a, const Endpoint& b) const { return pairs_.sa_on(PortPair(a, b)); }
    size_t sa_count() const { return registry_.count(); }
    const std::deque<IkeSa>& sas() const { return registry_.all(); }
    size_t pair_count() const { return roles_.size(); }

    // The message record of an IKE frame (nullptr: none).
    const MessageRecord* record(const FrameAnalysis& fa) const;
    // Which side shows a peer's inside (private) address. -1: unknown.
    int inside_side(const IkeSa& sa, const NatMapping& m) const { return natt::inside_side(sa, m); }

    // Neighbouring messages of a child exchange (0: none).
    uint32_t child_prev_frame(uint32_t sa, uint32_t child_index, uint8_t child_message) const;
    uint32_t child_next_frame(uint32_t sa, uint32_t child_index, uint8_t child_message) const;

    void clear();
    // The NAT's UDP mapping timeout: a sender silent for longer is a finding.
    void set_nat_timeout_ns(int64_t ns) { nat_timeout_ns_ = ns; }
    // At most this many IKE SAs are tracked; frames of further SAs get
    // kFindSaCap and no SA (bounded memory on hostile captures).
    void set_max_sas(size_t n) {
        registry_.set_max_sas(n);
        pairs_.set_max_sas(registry_.max_sas());
        floats_.set_max_sas(registry_.max_sas());
        keepalives_.set_max_sas(registry_.max_sas());
    }
    // Entries of the indexes keyed by addresses, ports, cookies and SPIs a
    // capture chooses (for the fuzz harnesses and tests: each stays within
    // its Budget of max_sas).
    size_t keyed_entries() const {
        return registry_.keyed_entries() + pairs_.entries() + floats_.entries() + keepalives_.entries() +
               esp_.entries() + roles_.size() + initiator_socket_.size() + v1_fragments_.in_flight();
    }
    // The NAT-T ports (natt.encapsulation_udp_ports; default 4500): ESP or
    // keepalives before any IKE take the side on one as the responder.
    void set_natt_ports(PortRanges ports) { floats_.set_natt_ports(std::move(ports)); }

private:
    SaRegistry registry_;
    FlatMap<PortPair, PairRole, PortPairHash> roles_;
    PairIndex pairs_;
    Exchanges exchanges_;
    FloatTracker floats_;
    EspTracker esp_;
    Keepalives keepalives_;
    Copies copies_;
    Budget natd_budget_{kNatDPerSa};
    uint32_t placeholder_reports_ = 0;  // frames told kFindPlaceholderCap (at most kBudgetReports)
    V1Fragments v1_fragments_;
    struct SocketUse {
        uint32_t sa;
        int64_t time_ns;
    };
    FlatMap<Endpoint, SocketUse, EndpointHash> initiator_socket_;  // phase-1 initiator ip:port -> SA
    int64_t nat_timeout_ns_ = kDefaultNatTimeoutNs;

    size_t max_sas() const { return registry_.max_sas(); }
    IkeSa* ike_sa_for(const Datagram& d, bool* twin, bool* not_credible);
    IkeSa* sa_on_pair(const Datagram& d, FrameAnalysis& fa);
    IkeSa* observe_ike(const Datagram& d, FrameAnalysis& fa);
    IkeSa* observe_esp(const Datagram& d, FrameAnalysis& fa);
    IkeSa* observe_keepalive(const Datagram& d, FrameAnalysis& fa);
    IkeSa* observe_raw_esp(const Datagram& d, FrameAnalysis& fa);
    void note_unrequested(IkeSa& sa, const Datagram& d);
    void note_tcp_transport(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
    void observe_v1_fragment(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
    bool observe_known_esp(const Datagram& d, FrameAnalysis& fa);
    void observe_path_findings(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
    // The frame belongs to this SA.
    static void attribute_frame(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
        fa.sa = sa.number;
        fa.sa_first_frame = sa.first_frame;
        fa.nat_verdict = sa.nat.view().pack();
        sa.last_frame = d.frame;
        if (fa.copy != Copy::Duplicate) sa.last_new_frame = d.frame;
        sa.last_time_ns = d.time_ns;
    }
};

}  // namespace natt
