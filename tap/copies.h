// natt: copies of one datagram. A merged capture from both sides of a NAT
// shows each IKE message twice (twins): they are paired, the NAT mappings
// reconstructed from their addresses, and their bytes compared. A SPAN port
// or `tcpdump -i any` shows a datagram twice on one side (duplicates): they
// are neither retransmissions nor news. Copies are told by content and
// addresses, never by capture interface.
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

// The same IKE message seen on the other side of a NAT: another side of the
// SA, within kTwinWindowNs (either way: clocks of two capturing machines
// disagree), same exchange, message ID and length. The bytes may differ when
// a NAT "helper" rewrites them.
// The same IKE message by its header (a NAT rewrites none of it): exchange,
// message ID, length, first payload, whether the responder cookie is set
// (MM1 and MM3 can agree in all the rest), and its sender.
inline bool same_message(const MessageRecord& m, const Datagram& d, Direction dir) {
    const IkeHeader& h = d.ike->hdr;
    return abs_ns(d.time_ns - m.time_ns) <= kTwinWindowNs && m.length == h.length && m.exchange == h.exchange &&
           m.msgid == h.msgid && m.rspi_set == (h.rspi != 0) && m.first_payload == h.next_payload &&
           (m.dir == dir || m.dir == Direction::Unknown || dir == Direction::Unknown);
}
inline bool is_twin(const MessageRecord& m, const Datagram& d, Direction dir) {
    return m.side != d.side && same_message(m, d, dir);
}

// RFC 1918 / RFC 6598 / ULA.
bool private_address(const Endpoint& e);

// Which side shows a peer's inside (private) address, from NAT-D (the peer's
// own hash matches there) or, failing that, a private address. -1: unknown.
int inside_side(const IkeSa& sa, const NatMapping& m);

class Copies {
public:
    // An IKE datagram already seen with the same addresses, ports and bytes
    // moments ago: its first copy's frame and SA (frame 0: none).
    struct Original {
        uint32_t frame = 0;      // the first copy (the model remembers no duplicate)
        uint32_t sa = 0;
        bool ids_known = false;  // both IPv4 IDs known (and equal)
    };
    Original duplicate_of(const Datagram& d) const;
    // The record of the message d is the other side's copy of (nullptr: d is
    // a first copy). Prefers the oldest record without a twin yet (copies
    // pair in order, whatever the clocks say), and the same bytes. Between
    // the same hosts, only the same bytes from other ports moments later (a
    // NAT that translates ports only).
    MessageRecord* find_twin(IkeSa& sa, const Datagram& d, Direction dir, Exchanges& exchanges);
    // Where a datagram's first copy was seen.
    struct FirstCopy {
        Endpoint src, dst;
        uint8_t side = 0;
        uint32_t frame = 0;
        bool natt_port = false;  // on the NAT-T port pair
    };
    // d copies a datagram first seen as orig, from sender: the NAT mappings
    // its addresses show (1-based index of the first, 0: none).
    static uint8_t learn_mappings(IkeSa& sa, const FirstCopy& orig, const Datagram& d, Direction sender);
    // d is a copy of orig: reconstruct the NAT mappings and check that the
    // NAT changed nothing but addresses and ports.
    void observe_twin(IkeSa& sa, MessageRecord& orig, const Datagram& d, FrameAnalysis& fa);
    // Keep an IKE datagram's bytes and endpoints for its copies.
    void remember(const Datagram& d, uint32_t sa);

private:
    struct Recent;
public:
    // A message of an exchange natt keeps no records of (informational):
    // its first copy on another side of sa, same bytes (nullptr: none).
    const Recent* find_unrecorded_twin(const IkeSa& sa, const Datagram& d) const;
    void observe_unrecorded_twin(IkeSa& sa, const Recent& first, const Datagram& d, FrameAnalysis& fa);

private:
    // The mappings a twin shows and whether the NAT altered its bytes.
    void compare_twin(IkeSa& sa, const Recent& first, uint8_t first_side, const Datagram& d, FrameAnalysis& fa);
    // A ring whose buffers are reused: every IKE message passes through
    // here, and copies arrive within kTwinWindowNs.
    struct Recent {
        uint32_t frame = 0;  // 0: empty slot
        uint32_t sa = 0;
        int64_t time_ns = 0;
        uint64_t digest = 0;
        uint32_t length = 0;
        uint32_t ip_id = 0;
        Endpoint src, dst;
        std::vector<uint8_t> bytes;
    };
    std::vector<Recent> recent_ = std::vector<Recent>(kRecentMessages);
    size_t recent_next_ = 0;
    // The ring slot (+1) of the latest message with a datagram key, direct-
    // mapped: a duplicate looks up its original instead of scanning the ring
    // (a collision only forgets an older entry).
    static constexpr size_t kRecentIndex = 4096;
    std::vector<uint16_t> by_key_ = std::vector<uint16_t>(kRecentIndex, 0);
    static uint64_t datagram_key(uint64_t digest, const Endpoint& src, const Endpoint& dst);
    const Recent* recalled(uint32_t frame) const;
};

}  // namespace natt
