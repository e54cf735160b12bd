// natt: NAT-T keepalives (RFC 3948 §2.3) and the NAT mapping timeout they
// exist to beat.
#pragma once

#include <cstdint>

#include "datagram.h"
#include "endpoint.h"
#include "flat_map.h"
#include "frame_analysis.h"
#include "ike_sa.h"
#include "limits.h"

namespace natt {

class Keepalives {
public:
    // A keepalive of sa: the interval since the previous one of the same
    // flow (for the tree), the SA's per-direction series (counted on the
    // SA's side 0 only; a duplicate is neither).
    void observe(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
    void set_max_sas(size_t n) { max_sas_ = n; }
    size_t entries() const { return flows_.size(); }

private:
    size_t max_sas_ = kDefaultMaxSas;
    struct LastOfFlow {
        uint32_t frame = 0;
        uint32_t ip_id = 0;
        int64_t time_ns = 0;
    };
    FlatMap<Flow, LastOfFlow, FlowHash> flows_;
};

// A NAT drops a UDP mapping idle (no packet either way) for longer than its
// UDP timeout; the next packet meets a new mapping, or none. Notes the
// packet on the SA's NAT-T port pair, per side of the NAT (a NAT that drops
// packets leaves its outside idle, not its inside). Inline: every ESP frame
// checks it.
inline void check_mapping_idle(IkeSa& sa, uint8_t side, int64_t time_ns, FrameAnalysis& fa, int64_t nat_timeout_ns) {
    if (side >= kMaxSidesPerSa || fa.copy == Copy::Duplicate) return;
    int64_t& last = side == 0 ? sa.last_natt_ns : sa.sides.last_natt_ns(side);
    // The same silence seen on another side moments ago is reported once.
    if (last != 0 && nat_timeout_ns > 0 && time_ns - last > nat_timeout_ns && !sa.nat.view().no_nat() &&
        (sa.sides.last_silence_ns == 0 || abs_ns(time_ns - sa.sides.last_silence_ns) > kTwinWindowNs)) {
        sa.sides.last_silence_ns = time_ns;
        fa.findings |= kFindSilence;
        fa.silence_ns = time_ns - last;
        sa.finding_count++;
        // RFC 3948 §4: the peer behind the NAT must keep its mapping alive.
        if ((sa.nat.initiator_behind && sa.keepalives[1].count == 0) ||
            (sa.nat.responder_behind && sa.keepalives[2].count == 0))
            fa.findings |= kFindNoKeepalive;
    }
    last = time_ns;
}

inline void check_mapping_idle(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, int64_t nat_timeout_ns) {
    check_mapping_idle(sa, d.side, d.time_ns, fa, nat_timeout_ns);
}

}  // namespace natt
