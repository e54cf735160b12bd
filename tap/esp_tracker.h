// natt: ESP-in-UDP. Each (port pair, SPI) points at its SA and SPI stats;
// SPIs are followed to new port pairs (the other side of a NAT, a
// rebinding); ESP with no IKE must show evidence before it gets an SA; an
// SPI is linked to the child exchange that most likely created it.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "datagram.h"
#include "flat_map.h"
#include "frame_analysis.h"
#include "ike_sa.h"
#include "limits.h"
#include "float_tracker.h"
#include "sa_registry.h"

namespace natt {

struct EspKey {
    PortPair pair;
    uint32_t spi = 0;
    bool operator==(const EspKey& o) const { return spi == o.spi && pair == o.pair; }
};
struct EspKeyHash {
    size_t operator()(const EspKey& k) const noexcept { return PortPairHash()(k.pair) * 1315423911u + k.spi; }
};

// What one FlatMap lookup gives the ESP fast path.
struct EspRef {
    uint32_t sa = 0;
    uint32_t index = 0;      // into IkeSa::esp
    uint32_t pair_slot = 0;  // the port pair's slot in the PairIndex (its latest SA)
    // The first frame counted through this record: earlier packets of the
    // flow had no SA on the first pass (not yet credible ESP), and later
    // passes must show what the first one did.
    uint32_t first_frame = 0;
    uint32_t last_seq = 0;  // of the latest packet on this pair: tells duplicates
    uint32_t last_frame = 0;
    int64_t last_ns = 0;
    uint8_t side = 0;       // IkeSa::sides
    // The pair has the NAT-T role (learnt before the record was made; a role
    // is never removed or downgraded): the dissector need not look it up.
    bool natt_pair = false;
};

// The same ESP packet captured twice on one port pair.
inline bool esp_duplicate(const EspRef& ref, const Datagram& d) {
    return ref.last_ns != 0 && d.esp_seq == ref.last_seq && abs_ns(d.time_ns - ref.last_ns) <= kDuplicateWindowNs;
}

// Count a packet of a known SPI. A two-sided capture shows each packet
// twice: count side 0 only.
inline void count_esp(EspSpiStats& st, uint8_t side, uint32_t udp_payload_len, uint32_t frame) {
    if (side != 0) return;
    st.packets++;
    st.bytes += udp_payload_len;
    st.last_frame = frame;
}
inline void count_esp(EspSpiStats& st, const Datagram& d) { count_esp(st, d.side, d.udp_payload_len, d.frame); }

// SPIs travel inside encrypted quick modes: the exchange of a new SPI is the
// latest run of exchanges completed before its first packet that have no SPI
// in this direction yet (the oldest of that run), else the latest completed
// one. 1-based into sa.children, 0 none.
uint32_t infer_child(const IkeSa& sa, uint32_t frame, Direction dir);

class EspTracker {
public:
    const EspRef* find(const Endpoint& src, const Endpoint& dst, uint32_t spi) const {
        return refs_.find(EspKey{PortPair(src, dst), spi});
    }
    EspRef* find(const Endpoint& src, const Endpoint& dst, uint32_t spi) {
        return refs_.find(EspKey{PortPair(src, dst), spi});
    }

    // ESP with no IKE on its port pair (a capture that starts mid-tunnel):
    // records this packet as evidence; true once the flow looks like ESP (RFC
    // 4303 §2.1-2.2: an SPI outside the reserved 1-255, kEspEvidencePackets
    // packets whose sequence numbers, never 0, rise by at most kEspSeqStep).
    // Other traffic sent to UDP 4500 (syslog, TFTP, DTLS, QUIC...) is ESP only
    // by RFC 3948's first-four-bytes rule, and must not become an SA.
    bool record_esp_evidence(const Datagram& d, size_t max_sas);

    // The SA that already owns this SPI (on another port pair), 0 none.
    struct SpiOwner {
        uint32_t sa;
        // Where the SPI was first seen: a packet of it on another side of
        // the NAT shows the NAT's mapping.
        Endpoint src, dst;
        uint8_t side;
        uint32_t frame;
    };
    const SpiOwner* owner_of_spi(uint32_t spi) const { return spi_owner_.find(spi); }
    bool spi_owned(uint32_t spi) const { return spi_owner_.contains(spi); }
    // The owner's SPIs move to one more port pair; false past kMaxEspPairsPerSa.
    bool follow_to_new_pair(uint32_t sa);
    // Only SPIs the SA records are followed to other port pairs (budgeted).
    void set_owner(uint32_t spi, uint32_t sa, const Datagram& first, size_t max_sas);

    // Several IKE SAs can share one port pair (a phase-1 rekey or
    // re-authentication). A new SPI belongs to the SA whose exchange created
    // it: the latest completed exchange still without an SPI in this
    // direction; otherwise the latest SA on the pair.
    size_t entries() const { return refs_.size() + evidence_.size() + spi_owner_.size(); }
    IkeSa* owner_of_new_spi(IkeSa& latest, const Datagram& d, Direction dir, const PairIndex& pairs,
                            SaRegistry& registry) const;

    // Count the packet in its SPI stats, creating them (and the record of
    // its port pair) within budget. false: the SPI is not recorded. d.side
    // is the packet's side of the SA.
    bool observe(IkeSa& sa, const Datagram& d, Direction dir, PairIndex& pairs, SaRegistry& registry, bool natt_pair,
                 size_t max_sas);

private:
    FlatMap<EspKey, EspRef, EspKeyHash> refs_;
    struct Evidence {
        uint32_t last_seq;
        uint8_t packets;
    };
    std::unordered_map<EspKey, Evidence, EspKeyHash> evidence_;  // ESP not yet credible (bounded)
    FlatMap<uint32_t, SpiOwner, std::hash<uint32_t>> spi_owner_;  // SPI -> SA (to follow a NAT rebinding)
    std::vector<uint8_t> pairs_moved_;  // per SA: port pairs its known SPIs moved to
    Budget spi_stats_{kEspRecordsPerSa};
};

}  // namespace natt
