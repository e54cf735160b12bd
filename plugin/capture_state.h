// natt: everything natt knows about the open capture file, in one object.
// The init routine makes it, the cleanup routine deletes it; the dissector
// entry points (dispatch.cpp) hand it to the units that need it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_set>

#include "../tap/analyzer.h"
#include "../tap/endpoint.h"
#include "../tap/frame_store.h"
#include "../tap/ike_parse.h"

namespace natt_glue {

// One frame's natt result. Kept from the first pass for IKE, keepalive and
// malformed frames (CaptureState::results); ESP-in-UDP frames are recomputed
// (cheap) and looked up in the model by (port pair, SPI), so they cost no
// memory per frame.
struct FrameResult {
    natt::PairRole role;
    uint8_t recognised_by;  // RecognisedBy
    bool truncated;         // captured fewer bytes than the UDP payload
    bool fragmented;        // the datagram was reassembled from IP fragments
    natt::Classification cls;
    natt::FrameAnalysis analysis;
};

// A frame of an SA natt does not track (natt.max_sas reached, ESP of a
// known SPI replayed from too many port pairs, the placeholders' share of the
// table full) keeps only how natt reached it and why it is untracked, so that
// the many such frames of a hostile capture cost little.
struct UntrackedFrame {
    natt::PairRole role;
    uint8_t recognised_by;  // RecognisedBy
    uint8_t cap;            // which: index into kUntrackedFindings
};
constexpr uint32_t kUntrackedFindings[] = {natt::kFindSaCap, natt::kFindEspPairCap, natt::kFindPlaceholderCap};

// A capture has a handful of IKE servers; the cap bounds a scan's worth.
constexpr size_t kMaxClaimedEndpoints = 4096;

// Later passes: the (port pair, SPI) record of the frame being dissected,
// asked for by several steps of its dissection, looked up once.
struct EspRecordMemo {
    bool valid = false;
    uint32_t frame = 0, spi = 0;
    natt::Endpoint src, dst;
    natt::EspLookup record;  // as of the end of the first pass (any frame)
};

struct CaptureState {
    natt::Analyzer analyzer;
    mutable EspRecordMemo esp_memo;
    natt::PackedFrameStore<FrameResult> results;  // first-pass results worth keeping
    natt::FrameStore<UntrackedFrame> untracked;   // frames of SAs natt does not track
    // IKE/NAT-T port endpoints that own a wildcard conversation (this file).
    std::unordered_set<natt::Endpoint, natt::EndpointHash> claimed_endpoints;
};

// What natt queues on its "natt" tap for every frame it claims. The model
// outlives every tap pass over the file (deleted only at the file's cleanup).
struct TapRecord {
    const natt::Analyzer* model;
    uint32_t sa;        // SA number, 0: none
    uint32_t esp_spi;   // ESP-in-UDP
    int64_t time_ns;
    uint32_t frame;
    uint8_t kind;       // natt::DatagramKind
    uint8_t dir;        // natt::Direction
    // Counted in statistics: not a capture duplicate, not the other side of
    // a NAT's copy of a packet counted on the SA's first side.
    bool counted;
    bool finding;       // the frame has a natt finding
};

}  // namespace natt_glue
