// Unit tests for plugin/frame_store.h: the first pass's per-frame results in
// frame order, found by binary search across chunks.

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <vector>

#include "plugin/frame_store.h"

using natt::FrameStore;

namespace {

struct Value {
    uint32_t a = 0;
    uint64_t b = 0;
};

void test_empty(void**) {
    FrameStore<Value> s;
    assert_null(s.find(0));
    assert_null(s.find(1));
    assert_int_equal(s.latest(), 0);
    assert_int_equal(s.size(), 0);
}

// Every 3rd frame over several chunks: each stored frame found with its value,
// every other frame (before, between, after) not found.
void test_sparse_across_chunks(void**) {
    FrameStore<Value> s;
    const uint32_t n = 3 * FrameStore<Value>::kChunk + 17;
    for (uint32_t i = 1; i <= n; ++i) s.add(i * 3, Value{i, uint64_t(i) << 33});
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
void test_repeat_replaces(void**) {
    FrameStore<Value> s;
    s.add(5, Value{1, 0});
    s.add(9, Value{2, 0});
    s.add(9, Value{3, 0});
    assert_int_equal(s.size(), 2);
    assert_int_equal(s.find(9)->a, 3);
    assert_int_equal(s.find(5)->a, 1);
}

// An older frame after newer ones: kept and found (overflow), and newer
// frames keep their place.
void test_out_of_order(void**) {
    FrameStore<Value> s;
    s.add(10, Value{10, 0});
    s.add(20, Value{20, 0});
    s.add(15, Value{15, 0});
    s.add(30, Value{30, 0});
    assert_int_equal(s.size(), 4);
    assert_int_equal(s.find(15)->a, 15);
    assert_int_equal(s.find(30)->a, 30);
    assert_int_equal(s.latest(), 30);
    assert_null(s.find(16));
}

void test_clear(void**) {
    FrameStore<Value> s;
    for (uint32_t i = 1; i < 5000; ++i) s.add(i, Value{i, 0});
    s.add(2, Value{});
    s.clear();
    assert_int_equal(s.size(), 0);
    assert_null(s.find(1));
    assert_null(s.find(2));
    s.add(7, Value{7, 0});
    assert_int_equal(s.find(7)->a, 7);
}

// Memory grows in whole chunks: bytes per stored frame stay near the value's
// size plus the frame number.
void test_bytes_per_frame(void**) {
    FrameStore<Value> s;
    const uint32_t n = 10 * FrameStore<Value>::kChunk;
    for (uint32_t i = 1; i <= n; ++i) s.add(i, Value{});
    assert_true(s.bytes() <= n * (sizeof(Value) + sizeof(uint32_t)) + 64 * 10);
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_sparse_across_chunks),
        cmocka_unit_test(test_repeat_replaces),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_bytes_per_frame),
    };
    return cmocka_run_group_tests_name("frame_store", tests, nullptr, nullptr);
}
