// natt: an open-addressing hash map for the model's per-frame lookups (pure
// C++, unit-tested without libwireshark).
//
// Every ESP-in-UDP frame of a busy capture looks up its port pair and its
// (port pair, SPI). std::unordered_map makes each lookup a bucket-array read,
// a modulo by a prime, and a walk of separately allocated nodes that rehashes
// every key it passes: several cache misses once Wireshark's own state has
// evicted natt's. Here key, value and a 32-bit hash tag sit together in one
// array (linear probing, power-of-two capacity, at most 3/4 full): usually
// one miss.
//
// Insert and find only, no erase (what the model needs: its tables only grow,
// within their budgets, until clear()). References to values stay valid only
// until the next insertion.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <utility>
#include <vector>

namespace natt {

// Keys come from the capture (addresses, ports, SPIs): with a fixed hash a
// crafted capture could put every key in one probe run and make each lookup
// walk the table. A per-process random seed, mixed in before the final
// multiply, keeps slot positions unpredictable. Nothing the model shows
// depends on slot order.
inline uint64_t flat_map_seed() {
    static const uint64_t seed = [] {
        uint64_t s = reinterpret_cast<uintptr_t>(&s);  // fallback: ASLR
        try {
            std::random_device rd;
            s ^= static_cast<uint64_t>(rd()) << 32 | rd();
        } catch (...) {
        }
        return s;
    }();
    return seed;
}

template <typename K, typename V, typename Hash>
class FlatMap {
public:
    FlatMap() = default;
    FlatMap(const FlatMap&) = delete;
    FlatMap& operator=(const FlatMap&) = delete;
    FlatMap(FlatMap&& o) noexcept { *this = std::move(o); }
    FlatMap& operator=(FlatMap&& o) noexcept {
        slots_ = std::move(o.slots_);
        mask_ = o.mask_;
        size_ = o.size_;
        o.mask_ = 0;
        o.size_ = 0;
        return *this;
    }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    size_t capacity() const { return mask_ ? mask_ + 1 : 0; }
    size_t heap_bytes() const { return capacity() * sizeof(Slot); }

    V* find(const K& key) {
        if (!size_) return nullptr;
        const uint32_t tag = tag_of(key);
        for (size_t i = tag & mask_;; i = (i + 1) & mask_) {
            Slot& s = slots_[i];
            if (s.tag == 0) return nullptr;
            if (s.tag == tag && s.key == key) return &s.value;
        }
    }
    const V* find(const K& key) const { return const_cast<FlatMap*>(this)->find(key); }
    bool contains(const K& key) const { return find(key) != nullptr; }

    // The value of key, default-constructed and inserted if absent.
    // second: whether it was inserted.
    std::pair<V*, bool> try_emplace(const K& key) {
        if ((size_ + 1) * 4 > capacity() * 3) grow();
        const uint32_t tag = tag_of(key);
        for (size_t i = tag & mask_;; i = (i + 1) & mask_) {
            Slot& s = slots_[i];
            if (s.tag == 0) {
                s.tag = tag;
                s.key = key;
                s.value = V();
                size_++;
                return {&s.value, true};
            }
            if (s.tag == tag && s.key == key) return {&s.value, false};
        }
    }
    V& operator[](const K& key) { return *try_emplace(key).first; }

    void clear() {
        slots_.reset();
        mask_ = 0;
        size_ = 0;
    }

    // Visits every entry (unspecified order): f(const K&, const V&).
    template <typename F>
    void for_each(F f) const {
        for (size_t i = 0; i < capacity(); ++i)
            if (slots_[i].tag) f(slots_[i].key, slots_[i].value);
    }

private:
    struct PlainSlot {
        uint32_t tag = 0;  // 0: empty; else the key's hash, never 0
        K key{};
        V value{};
    };
    // A slot of 49-64 bytes (the (port pair, SPI) records: 60) is padded and
    // aligned to a cache line, so that a lookup touches one line, not two.
    static constexpr size_t kAlign = sizeof(PlainSlot) > 48 && sizeof(PlainSlot) <= 64 ? 64 : alignof(PlainSlot);
    struct alignas(kAlign) Slot : PlainSlot {};
    std::unique_ptr<Slot[]> slots_;
    size_t mask_ = 0;  // capacity - 1 (capacity a power of two), 0 while empty
    size_t size_ = 0;

    static uint32_t tag_of(const K& key) {
        uint64_t h = (static_cast<uint64_t>(Hash()(key)) ^ flat_map_seed()) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ull;
        const uint32_t t = static_cast<uint32_t>(h >> 32);
        return t ? t : 1;
    }

    void grow() {
        const size_t cap = capacity() ? capacity() * 2 : 16;
        std::unique_ptr<Slot[]> old = std::move(slots_);
        const size_t old_cap = capacity();
        slots_.reset(new Slot[cap]);
        mask_ = cap - 1;
        for (size_t j = 0; j < old_cap; ++j) {
            Slot& o = old[j];
            if (!o.tag) continue;
            size_t i = o.tag & mask_;
            while (slots_[i].tag) i = (i + 1) & mask_;
            slots_[i] = std::move(o);
        }
    }
};

// A short list of SA numbers (the SAs under one cookie or on one port pair:
// nearly always one): up to three inline, more on the heap. A FlatMap value
// (movable, contiguous like a vector).
class SaList {
public:
    size_t size() const { return n_; }
    bool empty() const { return n_ == 0; }
    const uint32_t* begin() const { return more_ ? more_->data() : small_; }
    const uint32_t* end() const { return begin() + n_; }
    uint32_t operator[](size_t i) const { return begin()[i]; }
    bool contains(uint32_t v) const { return std::find(begin(), end(), v) != end(); }
    void push_back(uint32_t v) {
        if (!more_ && n_ < kSmall) {
            small_[n_++] = v;
            return;
        }
        if (!more_) more_.reset(new std::vector<uint32_t>(small_, small_ + n_));
        more_->push_back(v);
        n_++;
    }
    size_t heap_bytes() const { return more_ ? sizeof(*more_) + more_->capacity() * sizeof(uint32_t) : 0; }

private:
    static constexpr uint32_t kSmall = 3;
    uint32_t n_ = 0;
    uint32_t small_[kSmall] = {};
    std::unique_ptr<std::vector<uint32_t>> more_;
};

}  // namespace natt
