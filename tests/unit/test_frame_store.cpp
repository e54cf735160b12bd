// Unit tests for tap/frame_store.h: the first pass's per-frame results in
// frame order, found by binary search across chunks.

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <vector>

#include "tap/frame_store.h"

using natt::FrameStore;
using natt::PackedFrameStore;

namespace {

struct Value {
    uint32_t a = 0;
    uint32_t pad = 0;  // no padding bytes: values are packed word by word
    uint64_t b = 0;
};

// Every word non-zero, the widest a packed value gets (32 words).
struct Wide {
    uint32_t w[32];
};

template <template <typename> class Store>
void test_empty(void**) {
    Store<Value> s;
    assert_null(s.find(0));
    assert_null(s.find(1));
    assert_int_equal(s.latest(), 0);
    assert_int_equal(s.size(), 0);
}

// Every 3rd frame over several chunks: each stored frame found with its value,
// every other frame (before, between, after) not found.
template <template <typename> class Store>
void test_sparse_across_chunks(void**) {
    Store<Value> s;
    const uint32_t n = 3 * Store<Value>::kChunk + 17;
    for (uint32_t i = 1; i <= n; ++i) s.add(i * 3, Value{i, 0, uint64_t(i) << 33});
    assert_int_equal(s.size(), n);
    assert_int_equal(s.latest(), n * 3);
    for (uint32_t f = 0; f <= n * 3 + 5; ++f) {
        const Value* v = s.find(f);
        if (f % 3 == 0 && f != 0 && f <= n * 3) {
            assert_non_null(v);
            assert_int_equal(v->a, f / 3);
            assert_true(v->b == (uint64_t(f / 3) << 33));
        } else {
            assert_null(v);
        }
    }
}

// The same frame stored twice in a row (dissected twice in the first pass):
// the second value replaces the first, the count stays.
template <template <typename> class Store>
void test_repeat_replaces(void**) {
    Store<Value> s;
    s.add(5, Value{1, 0, 0});
    s.add(9, Value{2, 0, 0});
    s.add(9, Value{3, 0, 0});
    assert_int_equal(s.size(), 2);
    assert_int_equal(s.find(9)->a, 3);
    assert_int_equal(s.find(5)->a, 1);
    // A replacement that packs into more words, then into fewer: the latest
    // value is the last one packed, so it is repacked in place.
    s.add(9, Value{4, 5, uint64_t(6) << 40 | 7});
    const Value* v = s.find(9);
    assert_int_equal(v->a, 4);
    assert_int_equal(v->pad, 5);
    assert_true(v->b == (uint64_t(6) << 40 | 7));
    s.add(9, Value{});
    v = s.find(9);
    assert_int_equal(v->a, 0);
    assert_true(v->b == 0);
    s.add(11, Value{8, 0, 0});
    assert_int_equal(s.find(11)->a, 8);
    assert_int_equal(s.find(9)->a, 0);
    assert_int_equal(s.find(5)->a, 1);
}

// Values with every word set, and with every single word set alone, come
// back exactly (the mask covers all 32 words).
template <template <typename> class Store>
void test_wide_values(void**) {
    Store<Wide> s;
    Wide all;
    for (uint32_t i = 0; i < 32; ++i) all.w[i] = 0x01010101u * (i + 1);
    s.add(1, all);
    for (uint32_t k = 0; k < 32; ++k) {
        Wide one = {};
        one.w[k] = 0xffffffffu - k;
        s.add(2 + k, one);
    }
    assert_memory_equal(s.find(1)->w, all.w, sizeof all.w);
    for (uint32_t k = 0; k < 32; ++k) {
        const Wide* v = s.find(2 + k);
        assert_non_null(v);
        for (uint32_t i = 0; i < 32; ++i) assert_int_equal(v->w[i], i == k ? 0xffffffffu - k : 0);
    }
}

// An older frame after newer ones: kept and found (overflow), and newer
// frames keep their place.
template <template <typename> class Store>
void test_out_of_order(void**) {
    Store<Value> s;
    s.add(10, Value{10, 0, 0});
    s.add(20, Value{20, 0, 0});
    s.add(15, Value{15, 0, 0});
    s.add(30, Value{30, 0, 0});
    assert_int_equal(s.size(), 4);
    assert_int_equal(s.find(15)->a, 15);
    assert_int_equal(s.find(30)->a, 30);
    assert_int_equal(s.latest(), 30);
    assert_null(s.find(16));
}

template <template <typename> class Store>
void test_clear(void**) {
    Store<Value> s;
    for (uint32_t i = 1; i < 5000; ++i) s.add(i, Value{i, 0, 0});
    s.add(2, Value{});
    s.clear();
    assert_int_equal(s.size(), 0);
    assert_null(s.find(1));
    assert_null(s.find(2));
    s.add(7, Value{7, 0, 0});
    assert_int_equal(s.find(7)->a, 7);
}

// Memory grows in whole chunks and with the non-zero words: a frame costs
// its number, its offset, the mask word and its non-zero words.
void test_bytes_per_frame(void**) {
    FrameStore<Value> plain;
    const uint32_t n = 10 * FrameStore<Value>::kChunk;
    for (uint32_t i = 1; i <= n; ++i) plain.add(i, Value{i, 0, 0});
    assert_true(plain.bytes() <= n * (sizeof(Value) + sizeof(uint32_t)) + 64 * 10);
    PackedFrameStore<Value> s;
    for (uint32_t i = 1; i <= n; ++i) s.add(i, Value{i, 0, 0});  // one non-zero word of four
    assert_true(s.bytes() <= n * (4 + 4 + 4 + 4) + 128 * 10);  // a chunk's fixed part: its size, the shared-packing index
    assert_true(s.bytes() < plain.bytes());
}

// One value repeated over many frames (a message replayed from ever new
// ports) is packed once per chunk: each frame costs its number and offset.
// Replacing the latest frame while it shares an earlier packing leaves that
// packing (and the frames on it) alone.
void test_repeated_value_shared(void**) {
    PackedFrameStore<Value> s;
    const uint32_t n = 10 * PackedFrameStore<Value>::kChunk;
    const Value same{7, 9, uint64_t(5) << 40};
    s.add(1, Value{1, 0, 0});
    for (uint32_t i = 2; i <= n; ++i) s.add(i, same);
    // Without sharing: 4 + 4 + 4 words (mask and three non-zero) = 24 B a frame.
    assert_true(s.bytes() <= n * (4 + 4) + 64 * 10 * 4 + 64 * 10);
    s.add(n, Value{3, 0, 0});  // the latest, shared, replaced
    for (uint32_t i = 2; i < n; ++i) {
        const Value* v = s.find(i);
        assert_non_null(v);
        assert_int_equal(v->a, 7);
        assert_int_equal(v->pad, 9);
        assert_true(v->b == (uint64_t(5) << 40));
    }
    assert_int_equal(s.find(n)->a, 3);
    assert_int_equal(s.find(1)->a, 1);
    // Values alternating with others still share; a value packed after a
    // replacement truncated the words is packed afresh.
    PackedFrameStore<Value> t;
    for (uint32_t i = 1; i <= 1000; ++i) t.add(i, i % 2 ? same : Value{i, 0, 0});
    t.add(1000, Value{1, 2, 3});
    t.add(1001, Value{1, 2, 3});
    t.add(1001, same);
    t.add(1002, Value{1000, 0, 0});
    for (uint32_t i = 1; i < 1000; ++i) assert_int_equal(t.find(i)->a, i % 2 ? 7 : i);
    assert_int_equal(t.find(1000)->b, 3);
    assert_int_equal(t.find(1001)->a, 7);
    assert_int_equal(t.find(1002)->a, 1000);
}

// Lookups in any order (forwards, backwards, jumps, repeats) give what a
// search gives: later passes go in frame order and start from the previous
// lookup's position, the GUI jumps around.
template <template <typename> class Store>
void test_lookup_order(void**) {
    Store<Value> s;
    std::vector<bool> stored(5 * Store<Value>::kChunk * 3 + 10, false);
    uint32_t x = 7;
    for (uint32_t f = 1; f < stored.size(); ++f) {
        x = x * 1103515245u + 12345u;
        if ((x >> 16) % 3 == 0) {
            s.add(f, Value{f, 0, 0});
            stored[f] = true;
        }
    }
    auto check = [&](uint32_t f) {
        const Value* v = s.find(f);
        if (f < stored.size() && stored[f]) {
            assert_non_null(v);
            assert_int_equal(v->a, f);
        } else {
            assert_null(v);
        }
    };
    for (uint32_t f = 0; f < stored.size() + 3; ++f) check(f);
    for (uint32_t f = static_cast<uint32_t>(stored.size()) + 3; f-- > 0;) check(f);
    for (int k = 0; k < 20000; ++k) {
        x = x * 1103515245u + 12345u;
        const uint32_t f = (x >> 8) % static_cast<uint32_t>(stored.size() + 2);
        check(f);
        check(f + 1);
        check(f);
    }
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty<FrameStore>),
        cmocka_unit_test(test_empty<PackedFrameStore>),
        cmocka_unit_test(test_sparse_across_chunks<FrameStore>),
        cmocka_unit_test(test_sparse_across_chunks<PackedFrameStore>),
        cmocka_unit_test(test_repeat_replaces<FrameStore>),
        cmocka_unit_test(test_repeat_replaces<PackedFrameStore>),
        cmocka_unit_test(test_wide_values<FrameStore>),
        cmocka_unit_test(test_wide_values<PackedFrameStore>),
        cmocka_unit_test(test_out_of_order<FrameStore>),
        cmocka_unit_test(test_out_of_order<PackedFrameStore>),
        cmocka_unit_test(test_clear<FrameStore>),
        cmocka_unit_test(test_clear<PackedFrameStore>),
        cmocka_unit_test(test_bytes_per_frame),
        cmocka_unit_test(test_repeated_value_shared),
        cmocka_unit_test(test_lookup_order<FrameStore>),
        cmocka_unit_test(test_lookup_order<PackedFrameStore>),
    };
    return cmocka_run_group_tests_name("frame_store", tests, nullptr, nullptr);
}
