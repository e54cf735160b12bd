// natt: the first pass's per-frame results, kept by natt itself in frame
// order (pure C++, unit-tested without libwireshark).
//
// A busy capture has hundreds of thousands of IKE and keepalive frames. One
// wmem block plus one p_add_proto_data() node per frame cost ~120 bytes each;
// here a frame costs its value plus a 4-byte frame number, in chunks of
// kChunk (no per-frame allocation, no capacity doubling), found by binary
// search on later passes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace natt {

template <typename T>
class FrameStore {
public:
    static constexpr size_t kChunk = 4096;

    // First pass: frames come in ascending order. A repeat of the latest
    // frame replaces its value; an older frame (a first pass out of order,
    // never seen in practice) goes to a small overflow map.
    void add(uint32_t frame, const T& value) {
        if (!chunks_.empty()) {
            Chunk& last = *chunks_.back();
            const uint32_t latest = last.frames[last.n - 1];
            if (frame == latest) {
                last.values[last.n - 1] = value;
                return;
            }
            if (frame < latest) {
                overflow_[frame] = value;
                return;
            }
        }
        if (chunks_.empty() || chunks_.back()->n == kChunk) chunks_.emplace_back(new Chunk());
        Chunk& c = *chunks_.back();
        c.frames[c.n] = frame;
        c.values[c.n] = value;
        c.n++;
        size_++;
    }

    // The value stored for a frame, or nullptr.
    const T* find(uint32_t frame) const {
        // The chunk whose first frame is the last one <= frame.
        auto it = std::upper_bound(chunks_.begin(), chunks_.end(), frame,
                                   [](uint32_t f, const std::unique_ptr<Chunk>& c) { return f < c->frames[0]; });
        if (it != chunks_.begin()) {
            const Chunk& c = **(it - 1);
            const uint32_t* end = c.frames + c.n;
            const uint32_t* p = std::lower_bound(c.frames, end, frame);
            if (p != end && *p == frame) return &c.values[p - c.frames];
        }
        if (overflow_.empty()) return nullptr;
        auto o = overflow_.find(frame);
        return o == overflow_.end() ? nullptr : &o->second;
    }

    // The latest frame stored (0: none): the first pass asks only about it.
    uint32_t latest() const { return chunks_.empty() ? 0 : chunks_.back()->frames[chunks_.back()->n - 1]; }

    size_t size() const { return size_ + overflow_.size(); }
    size_t bytes() const { return chunks_.size() * sizeof(Chunk); }

    void clear() {
        chunks_.clear();
        overflow_.clear();
        size_ = 0;
    }

private:
    struct Chunk {
        size_t n = 0;
        uint32_t frames[kChunk];
        T values[kChunk];
    };
    std::vector<std::unique_ptr<Chunk>> chunks_;
    std::map<uint32_t, T> overflow_;
    size_t size_ = 0;
};

}  // namespace natt
