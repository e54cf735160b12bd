// natt: IKEv1 fragmentation (payload 132, Cisco's and strongSwan's): each
// fragment datagram carries a piece of one whole ISAKMP message. The pieces
// are put back together so that what the message shows in clear (NAT-D,
// vendor IDs: a fragmented aggressive-mode AM2 with certificates) is
// analysed like any other message, as Wireshark's isakmp reassembles it.
#pragma once

#include <cstdint>
#include <vector>

#include "datagram.h"
#include "ike_parse.h"
#include "limits.h"

namespace natt {

class V1Fragments {
public:
    // Adds one fragment of SA `sa` seen on `side`, sent by `dir`. When it
    // completes its message (every number up to the one flagged last), the
    // whole message is written to *whole and true returned. At most
    // kMaxV1Reassemblies messages are in reassembly at once in the whole
    // file (the oldest gives way), each at most kMaxV1Fragments pieces and
    // kMaxV1ReassemblyBytes.
    bool add(uint32_t sa, uint8_t side, Direction dir, uint32_t frame, const IkeMessage& m, const uint8_t* ike,
             uint32_t ike_len, std::vector<uint8_t>* whole);
    size_t in_flight() const { return slots_.size(); }

private:
    struct Slot {
        uint32_t sa = 0;
        uint8_t side = 0;
        Direction dir = Direction::Unknown;
        uint16_t id = 0;
        uint8_t last = 0;        // number of the fragment flagged last; 0: not seen yet
        uint32_t touched = 0;    // frame of the latest fragment
        uint32_t bytes = 0;
        std::vector<uint8_t> pieces[kMaxV1Fragments];
        uint32_t have = 0;       // bit n-1: piece n present
    };
    std::vector<Slot> slots_;
};

}  // namespace natt
