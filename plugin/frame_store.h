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
        latest_ = frame;
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

    // The latest frame stored (0: none): the first pass asks only about it,
    // for every frame, so it is kept at hand.
    uint32_t latest() const { return latest_; }

    size_t size() const { return size_ + overflow_.size(); }
    size_t bytes() const { return chunks_.size() * sizeof(Chunk); }

    void clear() {
        chunks_.clear();
        overflow_.clear();
        size_ = 0;
        latest_ = 0;
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
    uint32_t latest_ = 0;
};

template <typename T>
class PackedFrameStore {
    static_assert(std::is_trivially_copyable<T>::value, "values are packed bytewise");
    static_assert(sizeof(T) % 4 == 0 && sizeof(T) / 4 <= 32, "packed as up to 32 32-bit words");
    static constexpr size_t kWords = sizeof(T) / 4;

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
                last.words.resize(last.offsets[last.n - 1]);  // the latest value is the last one packed
                pack(value, &last.words);
                return;
            }
            if (frame < latest) {
                overflow_[frame] = value;
                return;
            }
        }
        if (chunks_.empty() || chunks_.back()->n == kChunk) {
            if (!chunks_.empty()) chunks_.back()->words.shrink_to_fit();  // full: no spare capacity
            chunks_.emplace_back(new Chunk());
        }
        Chunk& c = *chunks_.back();
        c.frames[c.n] = frame;
        c.offsets[c.n] = static_cast<uint32_t>(c.words.size());
        pack(value, &c.words);
        c.n++;
        size_++;
        latest_ = frame;
    }

    // The value stored for a frame, or nullptr. The pointer is valid until
    // the next find() on this store (values are unpacked into one slot).
    const T* find(uint32_t frame) const {
        // The chunk whose first frame is the last one <= frame.
        auto it = std::upper_bound(chunks_.begin(), chunks_.end(), frame,
                                   [](uint32_t f, const std::unique_ptr<Chunk>& c) { return f < c->frames[0]; });
        if (it != chunks_.begin()) {
            const Chunk& c = **(it - 1);
            const uint32_t* end = c.frames + c.n;
            const uint32_t* p = std::lower_bound(c.frames, end, frame);
            if (p != end && *p == frame) {
                unpack(c.words.data() + c.offsets[p - c.frames], &found_);
                return &found_;
            }
        }
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
        for (const auto& c : chunks_) b += c->words.capacity() * sizeof(uint32_t);
        return b;
    }

    void clear() {
        chunks_.clear();
        overflow_.clear();
        size_ = 0;
        latest_ = 0;
    }

private:
    struct Chunk {
        size_t n = 0;
        uint32_t frames[kChunk];
        uint32_t offsets[kChunk];  // of each value's mask word in `words`
        std::vector<uint32_t> words;
    };

    static void pack(const T& value, std::vector<uint32_t>* out) {
        uint32_t w[kWords];
        std::memcpy(w, &value, sizeof(T));
        uint32_t mask = 0;
        for (size_t i = 0; i < kWords; ++i)
            if (w[i]) mask |= 1u << i;
        out->push_back(mask);
        for (size_t i = 0; i < kWords; ++i)
            if (w[i]) out->push_back(w[i]);
    }

    static void unpack(const uint32_t* p, T* value) {
        uint32_t w[kWords] = {};
        const uint32_t mask = *p++;
        for (size_t i = 0; i < kWords; ++i)
            if (mask & (1u << i)) w[i] = *p++;
        std::memcpy(value, w, sizeof(T));
    }

    std::vector<std::unique_ptr<Chunk>> chunks_;
    std::map<uint32_t, T> overflow_;
    size_t size_ = 0;
    uint32_t latest_ = 0;
    mutable T found_{};
};

}  // namespace natt
