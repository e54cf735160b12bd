// Unit tests for tap/flat_map.h: the open-addressing map behind the model's
// per-frame lookups, checked against std::unordered_map.

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <random>
#include <unordered_map>

#include "tap/endpoint.h"
#include "tap/flat_map.h"

using natt::FlatMap;

namespace {

void test_empty(void**) {
    FlatMap<uint32_t, uint32_t, std::hash<uint32_t>> m;
    assert_int_equal(m.size(), 0);
    assert_null(m.find(0));
    assert_null(m.find(7));
    assert_false(m.contains(7));
    assert_int_equal(m.heap_bytes(), 0);
}

// Inserted keys are found with their values, absent ones are not; a second
// try_emplace of a key returns the same value, not inserted.
void test_insert_find(void**) {
    FlatMap<uint32_t, uint32_t, std::hash<uint32_t>> m;
    auto r = m.try_emplace(5);
    assert_true(r.second);
    assert_int_equal(*r.first, 0);  // value-initialised
    *r.first = 50;
    r = m.try_emplace(5);
    assert_false(r.second);
    assert_int_equal(*r.first, 50);
    m[9] = 90;
    assert_int_equal(m.size(), 2);
    assert_int_equal(*m.find(5), 50);
    assert_int_equal(*m.find(9), 90);
    assert_null(m.find(6));
    m.clear();
    assert_int_equal(m.size(), 0);
    assert_null(m.find(5));
    m[5] = 1;
    assert_int_equal(*m.find(5), 1);
}

// Every key hashes alike: probing must still tell them apart, and growing
// must keep them all.
struct Colliding {
    size_t operator()(uint32_t) const noexcept { return 42; }
};

void test_collisions(void**) {
    FlatMap<uint32_t, uint32_t, Colliding> m;
    for (uint32_t k = 1; k <= 300; ++k) m[k] = k * 7;
    assert_int_equal(m.size(), 300);
    for (uint32_t k = 1; k <= 300; ++k) {
        const uint32_t* v = m.find(k);
        assert_non_null(v);
        assert_int_equal(*v, k * 7);
    }
    assert_null(m.find(0));
    assert_null(m.find(301));
}

// Random port pairs against std::unordered_map, across many growths; the
// table never gets more than 3/4 full.
void test_against_unordered_map(void**) {
    std::mt19937 rng(12345);
    FlatMap<natt::PortPair, uint32_t, natt::PortPairHash> m;
    std::unordered_map<natt::PortPair, uint32_t, natt::PortPairHash> ref;
    auto random_endpoint = [&]() {
        // A small address and port space, so that pairs repeat.
        const uint32_t addr = 0xc6336400u | (rng() % 64);
        return natt::Endpoint::v4(addr, static_cast<uint16_t>(rng() % 8 == 0 ? 4500 : 1024 + rng() % 64));
    };
    for (int i = 0; i < 50000; ++i) {
        const natt::PortPair pp(random_endpoint(), random_endpoint());
        const uint32_t v = rng();
        if (rng() % 3 == 0) {
            const uint32_t* got = m.find(pp);
            auto it = ref.find(pp);
            if (it == ref.end()) {
                assert_null(got);
            } else {
                assert_non_null(got);
                assert_int_equal(*got, it->second);
            }
        } else {
            m[pp] = v;
            ref[pp] = v;
        }
        assert_int_equal(m.size(), ref.size());
        assert_true(m.size() * 4 <= m.capacity() * 3);
    }
    size_t visited = 0;
    m.for_each([&](const natt::PortPair& k, uint32_t v) {
        visited++;
        assert_int_equal(ref.at(k), v);
    });
    assert_int_equal(visited, ref.size());
}

// SaList: inline up to three, then on the heap, in insertion order.
void test_sa_list(void**) {
    natt::SaList l;
    assert_true(l.empty());
    for (uint32_t v = 1; v <= 10; ++v) {
        l.push_back(v * 10);
        assert_int_equal(l.size(), v);
        for (uint32_t i = 0; i < v; ++i) assert_int_equal(l[i], (i + 1) * 10);
        assert_true(l.contains(v * 10));
        assert_false(l.contains(v * 10 + 1));
        assert_true(l.heap_bytes() == 0 || v > 3);
    }
    uint32_t sum = 0;
    for (uint32_t v : l) sum += v;
    assert_int_equal(sum, 550);
    // Moved with its FlatMap slot when the map grows.
    FlatMap<uint32_t, natt::SaList, std::hash<uint32_t>> m;
    for (uint32_t k = 0; k < 200; ++k)
        for (uint32_t j = 0; j <= k % 5; ++j) m[k].push_back(k * 100 + j);
    for (uint32_t k = 0; k < 200; ++k) {
        const natt::SaList* got = m.find(k);
        assert_non_null(got);
        assert_int_equal(got->size(), k % 5 + 1);
        for (uint32_t j = 0; j <= k % 5; ++j) assert_int_equal((*got)[j], k * 100 + j);
    }
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_insert_find),
        cmocka_unit_test(test_collisions),
        cmocka_unit_test(test_against_unordered_map),
        cmocka_unit_test(test_sa_list),
    };
    return cmocka_run_group_tests_name("flat_map", tests, nullptr, nullptr);
}
