// natt: a frame's result. The first pass analyses the frame (feeds the model)
// and keeps what later passes cannot recompute; later passes read it back.
#pragma once

#include <cstdint>

#include <epan/packet.h>

#include "capture_state.h"

namespace natt_glue {

// This frame's entry in a first-pass store, or nullptr. Valid until the next
// lookup in that store.
template <typename Store>
auto find_this_frame(const Store& store, const packet_info* pinfo) -> decltype(store.find(0)) {
    // The first pass only ever finds the frame it has just stored (a frame
    // dissected twice): no search for every new frame.
    if (!PINFO_FD_VISITED(pinfo) && store.latest() != pinfo->num) return nullptr;
    return store.find(pinfo->num);
}

// How the first pass reached a frame it kept (either store).
inline bool first_pass_reach(const CaptureState& cs, const packet_info* pinfo, natt::PairRole* role, uint8_t* by) {
    if (const FrameResult* r = find_this_frame(cs.results, pinfo)) {
        *role = r->role;
        *by = r->recognised_by;
        return true;
    }
    if (const UntrackedFrame* u = find_this_frame(cs.untracked, pinfo)) {
        *role = u->role;
        *by = u->recognised_by;
        return true;
    }
    return false;
}

// Later passes: the model's record of an ESP-in-UDP frame's (port pair,
// SPI), as of that frame (sa 0: none, or the flow was not yet credible ESP
// then). Looked up once per frame however often asked.
natt::EspLookup esp_record(const CaptureState& cs, const packet_info* pinfo, const natt::Endpoint& src,
                           const natt::Endpoint& dst, uint32_t spi);

// First pass: classify, feed the model, and keep the result. Later passes:
// the kept result, or for ESP the model's (port pair, SPI) record. Fills
// *out; never throws.
void analyse_frame(CaptureState& cs, tvbuff_t* tvb, packet_info* pinfo, natt::PairRole role, uint8_t recognised_by,
                   FrameResult* out);
// The same for raw ESP (IP protocol 50): false when it is no ESP natt can
// link to an IKE SA.
bool analyse_raw_esp(CaptureState& cs, tvbuff_t* tvb, packet_info* pinfo, FrameResult* out);

}  // namespace natt_glue
