#include "v1_fragments.h"

#include <algorithm>

namespace natt {

bool V1Fragments::add(uint32_t sa, uint8_t side, Direction dir, uint32_t frame, const IkeMessage& m,
                      const uint8_t* ike, uint32_t ike_len, std::vector<uint8_t>* whole) {
    const PayloadRef& f = m.fragment_data;
    if (m.hdr.is_v2() || !m.has_fragment || m.fragment_number == 0 || m.fragment_number > kMaxV1Fragments ||
        f.length == 0 || f.offset + f.length > ike_len)
        return false;
    auto it = std::find_if(slots_.begin(), slots_.end(), [&](const Slot& s) {
        return s.sa == sa && s.side == side && s.dir == dir && s.id == m.fragment_id;
    });
    if (it == slots_.end()) {
        if (slots_.size() >= kMaxV1Reassemblies) {
            // The oldest message in reassembly gives way.
            it = std::min_element(slots_.begin(), slots_.end(),
                                  [](const Slot& a, const Slot& b) { return a.touched < b.touched; });
            *it = Slot();
        } else {
            it = slots_.emplace(slots_.end());
        }
        it->sa = sa;
        it->side = side;
        it->dir = dir;
        it->id = m.fragment_id;
    }
    Slot& s = *it;
    s.touched = frame;
    std::vector<uint8_t>& piece = s.pieces[m.fragment_number - 1];
    if (s.bytes - piece.size() + f.length > kMaxV1ReassemblyBytes) {
        slots_.erase(it);  // larger than any real message: give up on it
        return false;
    }
    s.bytes = static_cast<uint32_t>(s.bytes - piece.size() + f.length);
    piece.assign(ike + f.offset, ike + f.offset + f.length);
    s.have |= 1u << (m.fragment_number - 1);
    if (m.fragment_last) s.last = static_cast<uint8_t>(m.fragment_number);
    const uint32_t all = s.last ? (s.last == 32 ? ~0u : (1u << s.last) - 1) : 0;
    if (!s.last || (s.have & all) != all) return false;
    whole->clear();
    whole->reserve(s.bytes);
    for (uint8_t n = 0; n < s.last; ++n) whole->insert(whole->end(), s.pieces[n].begin(), s.pieces[n].end());
    slots_.erase(it);
    return true;
}

}  // namespace natt
