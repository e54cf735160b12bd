// natt: the first pass's per-frame results, kept by natt itself in frame
// order (pure C++, unit-tested without libwireshark).
//
// A busy capture has hundreds of thousands of IKE and keepalive frames. One
// wmem block plus one p_add_proto_data() node per frame cost ~120 bytes each;
// here a frame costs its value plus a 4-byte frame number, in chunks of
// kChunk (no per-frame allocation, no capacity doubling), found by binary
// search on later passes. FrameStore keeps small values as they are;
// PackedFrameStore keeps a bit mask of the value's non-zero 32-bit words and
// those words (most of natt's 80-byte frame result is zero: an IKE or
// keepalive frame packs into ~30 bytes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <type_traits>
#include <vector>

namespace natt {

constexpr size_t kFrameChunk = 4096;

// How a chunk keeps its values: as they are...
template <typename T>
struct PlainValues {
    T values[kFrameChunk];
    // i: the chunk's next slot, or (replace) the latest one.
    void put(size_t i, const T& v, bool) { values[i] = v; }
    const T* get(size_t i, T*) const { return &values[i]; }
    void seal() {}
    size_t heap_bytes() const { return 0; }
};

// ...or packed: a mask of the value's non-zero 32-bit words, then those words.
// A value packed before in the same chunk is shared, not packed again: a
// message replayed from ever new ports gives every copy the same result, and
// each then costs its frame number and offset (8 bytes), not its words.
template <typename T>
struct PackedValues {
    static_assert(std::is_trivially_copyable<T>::value, "values are packed bytewise");
    static_assert(sizeof(T) % 4 == 0 && sizeof(T) / 4 <= 32, "packed as up to 32 32-bit words");
    static constexpr size_t kWords = sizeof(T) / 4;
    static constexpr size_t kShared = 16;  // recent packings looked up by hash

    uint32_t offsets[kFrameChunk];  // of each value's mask word in `words`
    std::vector<uint32_t> words;
    uint32_t shared[kShared] = {};  // offset + 1 of a packing, by its hash (0: none)
    bool latest_shared = false;     // the latest value points at an earlier packing

    void put(size_t i, const T& v, bool replace) {
        // The latest value is the last one packed, unless it is shared.
        if (replace && !latest_shared) words.resize(offsets[i]);
        uint32_t w[kWords];
        std::memcpy(w, &v, sizeof(T));
        uint32_t packed[kWords + 1];
        size_t n = 1;
        uint32_t mask = 0;
        uint32_t h = 0;
        for (size_t k = 0; k < kWords; ++k) {
            if (!w[k]) continue;
            mask |= 1u << k;
            packed[n++] = w[k];
            h = (h ^ w[k]) * 0x9e3779b1u;
        }
        packed[0] = mask;
        h = ((h ^ mask) * 0x9e3779b1u) >> 28;
        // A stale entry (its words replaced since) fails the comparison.
        if (const uint32_t o = shared[h]; o && o - 1 + n <= words.size() &&
                                          std::memcmp(words.data() + o - 1, packed, n * sizeof(uint32_t)) == 0) {
            offsets[i] = o - 1;
            latest_shared = true;
            return;
        }
        offsets[i] = static_cast<uint32_t>(words.size());
        words.insert(words.end(), packed, packed + n);
        shared[h] = offsets[i] + 1;
        latest_shared = false;
    }
    // Unpacks into *scratch.
    const T* get(size_t i, T* scratch) const {
        uint32_t w[kWords] = {};
        const uint32_t* p = words.data() + offsets[i];
        const uint32_t mask = *p++;
        for (size_t k = 0; k < kWords; ++k)
            if (mask & (1u << k)) w[k] = *p++;
        std::memcpy(scratch, w, sizeof(T));
        return scratch;
    }
    void seal() { words.shrink_to_fit(); }  // a full chunk keeps no spare capacity
    size_t heap_bytes() const { return words.capacity() * sizeof(uint32_t); }
};

template <typename T, template <typename> class Values>
class BasicFrameStore {
public:
    static constexpr size_t kChunk = kFrameChunk;

    // First pass: frames come in ascending order. A repeat of the latest
    // frame replaces its value; an older frame (a first pass out of order,
    // never seen in practice) goes to a small overflow map.
    void add(uint32_t frame, const T& value) {
        if (!chunks_.empty()) {
            Chunk& last = *chunks_.back();
            const uint32_t latest = last.frames[last.n - 1];
            if (frame == latest) {
                last.values.put(last.n - 1, value, true);
                return;
            }
            if (frame < latest) {
                overflow_[frame] = value;
                return;
            }
        }
        if (chunks_.empty() || chunks_.back()->n == kChunk) {
            if (!chunks_.empty()) chunks_.back()->values.seal();
            chunks_.emplace_back(new Chunk());
        }
        Chunk& c = *chunks_.back();
        c.frames[c.n] = frame;
        c.values.put(c.n, value, false);
        c.n++;
        size_++;
        latest_ = frame;
    }

    // The value stored for a frame, or nullptr. The pointer is valid until
    // the next find() on this store (packed values are unpacked into one slot).
    const T* find(uint32_t frame) const {
        // Later passes ask in frame order, mostly about frames not stored
        // (ESP): where the previous lookup ended, or just after it, usually
        // answers without a search.
        size_t c = 0, i = 0;
        if (!near_hint(frame, &c, &i)) {
            // The chunk whose first frame is the last one <= frame.
            auto it = std::upper_bound(chunks_.begin(), chunks_.end(), frame,
                                       [](uint32_t f, const std::unique_ptr<Chunk>& ch) { return f < ch->frames[0]; });
            c = it == chunks_.begin() ? 0 : static_cast<size_t>(it - chunks_.begin()) - 1;
            if (c < chunks_.size()) {
                const Chunk& ch = *chunks_[c];
                i = static_cast<size_t>(std::lower_bound(ch.frames, ch.frames + ch.n, frame) - ch.frames);
            }
        }
        hint_c_ = c;
        hint_i_ = i;
        if (c < chunks_.size() && i < chunks_[c]->n && chunks_[c]->frames[i] == frame)
            return chunks_[c]->values.get(i, &found_);
        if (overflow_.empty()) return nullptr;
        auto o = overflow_.find(frame);
        return o == overflow_.end() ? nullptr : &o->second;
    }

    // The latest frame stored (0: none): the first pass asks only about it,
    // for every frame, so it is kept at hand.
    uint32_t latest() const { return latest_; }

    size_t size() const { return size_ + overflow_.size(); }
    size_t bytes() const {
        size_t b = chunks_.size() * sizeof(Chunk);
        for (const auto& c : chunks_) b += c->values.heap_bytes();
        return b;
    }

    void clear() {
        chunks_.clear();
        overflow_.clear();
        size_ = 0;
        latest_ = 0;
        hint_c_ = hint_i_ = 0;
    }

private:
    struct Chunk {
        size_t n = 0;
        uint32_t frames[kChunk];
        Values<T> values;
    };
    // Position (chunk c, index i <= n) of the first stored frame >= frame,
    // if the last lookup's position or the one after it is that; false: search.
    bool near_hint(uint32_t frame, size_t* c, size_t* i) const {
        if (hint_c_ >= chunks_.size()) return false;
        size_t hc = hint_c_, hi = hint_i_;
        for (int step = 0; step < 2; ++step) {
            const Chunk& ch = *chunks_[hc];
            if (hi == ch.n && hc + 1 < chunks_.size()) {  // the next chunk's first frame
                hc++;
                hi = 0;
            }
            const Chunk& at = *chunks_[hc];
            const bool at_or_after = hi == at.n || at.frames[hi] >= frame;
            const bool before = hi > 0 ? at.frames[hi - 1] < frame : hc == 0 || chunks_[hc - 1]->frames[chunks_[hc - 1]->n - 1] < frame;
            if (at_or_after && before) {
                *c = hc;
                *i = hi;
                return true;
            }
            if (!at_or_after) {
                hi++;  // the frame is after this position: try the next one
                continue;
            }
            return false;  // before the hint: search
        }
        return false;
    }

    std::vector<std::unique_ptr<Chunk>> chunks_;
    std::map<uint32_t, T> overflow_;
    size_t size_ = 0;
    uint32_t latest_ = 0;
    mutable T found_{};
    mutable size_t hint_c_ = 0, hint_i_ = 0;  // where the last find() ended
};

// Small values (the 4-byte record of an untracked SA's frame) as they are;
// natt's 80-byte frame result packed.
template <typename T>
using FrameStore = BasicFrameStore<T, PlainValues>;
template <typename T>
using PackedFrameStore = BasicFrameStore<T, PackedValues>;

}  // namespace natt
