// natt: the state natt keeps of one RFC 8229 TCP connection, shared by the
// framing (tcp_encap.cpp) and the connection's end (tcp_close.cpp).
// Conversation data in file scope: plain data, a few dozen bytes.
#pragma once

#include <epan/conversation.h>
#include <epan/packet.h>

#include "../tap/datagram.h"
#include "../tap/endpoint.h"
#include "../tap/tcp_framing.h"
#include "fields.h"
#include "packet_access.h"

namespace natt_glue {

// Its two directions are told by the first accepted segment's sender.
struct TcpConnection {
    uint32_t first_frame;   // frames before it were left to TCP: later passes do the same
    uint32_t prefix_frame;  // the initiator's "IKETCP" (0: not in the capture)
    uint8_t recognised_by;  // RecognisedBy
    natt::Endpoint first_sender;
    // A length of 0 or 1 ends the framing of a direction: the frame and
    // offset where it happened (0: framed to the end).
    uint32_t broken_frame[2];
    int broken_offset[2];
    // First pass: how each direction stands, for a FIN or RST mid-frame.
    natt::TcpConnectionEnd end;

    int direction(const packet_info* pinfo) const { return src_endpoint(pinfo) == first_sender ? 0 : 1; }
};

// What a connection natt refused to track (the budget was spent) holds as
// its conversation data: later segments are left to TCP without asking again.
inline void* refused_connection_marker() {
    static char marker;
    return &marker;
}

inline TcpConnection* connection_of(conversation_t* conv) {
    if (!conv) return nullptr;
    void* d = conversation_get_proto_data(conv, proto_natt);
    return d == refused_connection_marker() ? nullptr : static_cast<TcpConnection*>(d);
}

}  // namespace natt_glue
