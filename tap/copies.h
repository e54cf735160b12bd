// natt: two-sided captures. A merged capture from both sides of a NAT shows
// each IKE message twice: the copies (twins) are paired, the NAT mappings
// reconstructed from their addresses, and their bytes compared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "datagram.h"
#include "exchanges.h"
#include "frame_analysis.h"
#include "ike_sa.h"
#include "limits.h"

namespace natt {

// The same IKE message seen on the other side of a NAT: another capture
// interface, moments apart, same exchange, message ID and length. The bytes
// may differ when a NAT "helper" rewrites them.
inline bool is_twin(const MessageRecord& m, const Datagram& d, Direction dir) {
    const IkeHeader& h = d.ike->hdr;
    const int64_t dt = d.time_ns - m.time_ns;
    return m.interface != d.interface && dt <= kTwinWindowNs && dt >= -kTwinWindowNs &&
           m.length == h.length && m.exchange == h.exchange && m.msgid == h.msgid &&
           (m.dir == dir || m.dir == Direction::Unknown || dir == Direction::Unknown);
}

// RFC 1918 / RFC 6598 / ULA.
bool private_address(const Endpoint& e);

// Which interface shows a peer's inside (private) address, from NAT-D (the
// peer's own hash matches there) or, failing that, a private address. -1: unknown.
int inside_interface(const IkeSa& sa, const NatMapping& m);

class Copies {
public:
    // The record of the message d copies (nullptr: d is a first copy).
    // Prefers the copy with the same bytes.
    MessageRecord* find_twin(IkeSa& sa, const Datagram& d, Direction dir, Exchanges& exchanges);
    // d is a copy of orig: reconstruct the NAT mappings and check that the
    // NAT changed nothing but addresses and ports.
    void observe_twin(IkeSa& sa, MessageRecord& orig, const Datagram& d, FrameAnalysis& fa);
    // Keep a first copy's bytes and endpoints for its twin.
    void remember(const Datagram& d);

private:
    // A ring whose buffers are reused: every IKE message passes through
    // here, twins are rare, and they arrive within kTwinWindowNs.
    struct Recent {
        uint32_t frame = 0;  // 0: empty slot
        Endpoint src, dst;
        std::vector<uint8_t> bytes;
    };
    std::vector<Recent> recent_ = std::vector<Recent>(kRecentMessages);
    size_t recent_next_ = 0;
    const Recent* recalled(uint32_t frame) const;
};

}  // namespace natt
