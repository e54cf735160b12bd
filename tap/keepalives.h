// natt: NAT-T keepalives (RFC 3948 §2.3) and the NAT mapping timeout they
// exist to beat.
#pragma once

#include <cstdint>

#include "datagram.h"
#include "endpoint.h"
#include "flat_map.h"
#include "frame_analysis.h"
#include "ike_sa.h"

namespace natt {

class Keepalives {
public:
    // A keepalive of sa: the interval since the previous one of the same
    // flow (for the tree), the SA's per-direction series (counted on the
    // SA's first interface only).
    void observe(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);

private:
    struct LastOfFlow {
        uint32_t frame = 0;
        int64_t time_ns = 0;
    };
    FlatMap<Flow, LastOfFlow, FlowHash> flows_;
};

// A NAT drops a UDP mapping idle (no packet either way) for longer than its
// UDP timeout; the next packet meets a new mapping, or none. Notes the
// packet on the SA's NAT-T port pair.
void check_mapping_idle(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, int64_t nat_timeout_ns);

}  // namespace natt
