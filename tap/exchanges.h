// natt: the exchanges of an SA: phase 1 (main / aggressive mode,
// IKE_SA_INIT + IKE_AUTH), quick modes and CREATE_CHILD_SA, informational;
// retransmissions, message numbering, the SA's state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "datagram.h"
#include "flat_map.h"
#include "frame_analysis.h"
#include "ike_sa.h"
#include "limits.h"

namespace natt {

ExchangeClass classify_exchange(const IkeHeader& h);

// A cheap 64-bit digest of the bytes, for retransmission and twin matching.
uint64_t digest_bytes(const uint8_t* p, size_t n);
// The digest of an IKE datagram's message: computed once per datagram.
inline uint64_t message_digest(const Datagram& d) {
    return d.ike_digest ? d.ike_digest : digest_bytes(d.ike_bytes, d.ike_len);
}

// The record of one IKE message as seen in d, before it is placed.
MessageRecord message_record(const Datagram& d, Direction dir);

// The latest first copy in v decides: a message from the same sender (with
// same_bytes, also the same bytes) is a retransmission of it.
bool is_retransmission(const std::vector<MessageRecord>& v, Direction dir, uint64_t digest, bool same_bytes);
// Messages of the exchange, retransmissions not counted (at most 255).
uint8_t first_copies(const std::vector<MessageRecord>& v);
// The message a resend repeats: is_retransmission()'s, else an earlier first
// copy from the same sender with the same bytes (a responder resending QM2
// after QM3 went by). Its message number (1-based), 0: not a resend.
uint8_t resent_message(const std::vector<MessageRecord>& v, Direction dir, uint64_t digest, bool same_bytes);

class Exchanges {
public:
    // Place an IKE message (not a twin) in its exchange; fills fa's exchange
    // fields and findings.
    void observe(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, size_t max_sas);
    // The child exchange of a message ID (nullptr: none).
    ChildExchange* child(IkeSa& sa, uint32_t msgid) {
        const uint32_t* idx = child_by_msgid_.find(key(sa, msgid));
        return idx ? &sa.children[*idx - 1] : nullptr;
    }

private:
    FlatMap<uint64_t, uint32_t, std::hash<uint64_t>> child_by_msgid_;  // (sa, msgid) -> 1-based child index
    Budget records_{kRecordsPerSa};
    Budget children_{kChildrenPerSa};

    static uint64_t key(const IkeSa& sa, uint32_t msgid) { return (static_cast<uint64_t>(sa.number) << 32) | msgid; }
    bool record(std::vector<MessageRecord>& v, const MessageRecord& rec, size_t max_sas);
    void observe_phase1(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, MessageRecord& rec, size_t max_sas);
    void observe_child(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, MessageRecord& rec, size_t max_sas);
    // Fragment 2..N of a fragmented message (RFC 7383, IKEv1 payload 132):
    // part of the message its first fragment placed, not a message of its own.
    void observe_continuation(IkeSa& sa, const Datagram& d, FrameAnalysis& fa);
};

}  // namespace natt
