// IKEv1 fragments (payload 132) put back together, and the NAT-D of the
// whole message analysed like any other.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <vector>

#include "gcrypt_init.h"
#include "tap/analyzer.h"
#include "tap/v1_fragments.h"

using namespace natt;

namespace {

const uint64_t kIcky = 0x0102030405060708ull, kRcky = 0x1112131415161718ull;
const Endpoint kI = Endpoint::v4(0xC6336417u, 500);  // 198.51.100.23
const Endpoint kR = Endpoint::v4(0xCB00710Au, 500);  // 203.0.113.10

void header(std::vector<uint8_t>& b, uint8_t first_payload, uint8_t exchange) {
    b.assign(28, 0);
    for (int i = 0; i < 8; ++i) {
        b[i] = static_cast<uint8_t>(kIcky >> (56 - 8 * i));
        b[8 + i] = static_cast<uint8_t>(kRcky >> (56 - 8 * i));
    }
    b[16] = first_payload;
    b[17] = 0x10;
    b[18] = exchange;
}

void set_length(std::vector<uint8_t>& b) {
    const size_t n = b.size();
    for (int i = 0; i < 4; ++i) b[24 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
}

// A main-mode message (exchange 2) from the responder with two NAT-D
// payloads (type 20) of 20 bytes each: what a fragmented MM4/AM2 shows.
std::vector<uint8_t> whole_message() {
    std::vector<uint8_t> b;
    header(b, 20, 2);
    for (int k = 0; k < 2; ++k) {
        const uint8_t next = k == 0 ? 20 : 0;
        const uint8_t hdr[4] = {next, 0, 0, 24};
        b.insert(b.end(), hdr, hdr + 4);
        for (int i = 0; i < 20; ++i) b.push_back(static_cast<uint8_t>(0x40 + k * 20 + i));
    }
    set_length(b);
    return b;
}

// Fragment `number` of message `id` carrying piece [from, to) of whole.
std::vector<uint8_t> fragment(const std::vector<uint8_t>& whole, uint16_t id, uint8_t number, bool last, size_t from,
                              size_t to) {
    std::vector<uint8_t> b;
    header(b, 132, 2);
    const size_t plen = 8 + (to - from);
    const uint8_t hdr[8] = {0, 0, static_cast<uint8_t>(plen >> 8), static_cast<uint8_t>(plen), static_cast<uint8_t>(id >> 8),
                            static_cast<uint8_t>(id), number, static_cast<uint8_t>(last ? 1 : 0)};
    b.insert(b.end(), hdr, hdr + 8);
    b.insert(b.end(), whole.begin() + static_cast<long>(from), whole.begin() + static_cast<long>(to));
    set_length(b);
    return b;
}

struct Frag {
    std::vector<uint8_t> bytes;
    IkeMessage msg;
    explicit Frag(std::vector<uint8_t> b) : bytes(std::move(b)) {
        assert_int_equal(static_cast<int>(parse_ike_message(bytes.data(), bytes.size(), Strictness::Port, &msg)),
                         static_cast<int>(HeaderCheck::Ok));
    }
};

void test_reassembly(void**) {
    const std::vector<uint8_t> whole = whole_message();
    Frag f1(fragment(whole, 7, 1, false, 0, 30)), f2(fragment(whole, 7, 2, false, 30, 60)),
        f3(fragment(whole, 7, 3, true, 60, whole.size()));
    assert_true(f1.msg.has_fragment);
    assert_int_equal(f3.msg.fragment_id, 7);
    assert_true(f3.msg.fragment_last);
    V1Fragments v;
    std::vector<uint8_t> out;
    // Out of order, with a repeated piece: complete once every piece is in.
    assert_false(v.add(1, 0, Direction::FromResponder, 1, f3.msg, f3.bytes.data(), f3.bytes.size(), &out));
    assert_false(v.add(1, 0, Direction::FromResponder, 2, f1.msg, f1.bytes.data(), f1.bytes.size(), &out));
    assert_false(v.add(1, 0, Direction::FromResponder, 3, f1.msg, f1.bytes.data(), f1.bytes.size(), &out));
    // The same message on another side of the NAT is a reassembly of its own.
    assert_false(v.add(1, 1, Direction::FromResponder, 4, f2.msg, f2.bytes.data(), f2.bytes.size(), &out));
    assert_int_equal(v.in_flight(), 2);
    assert_true(v.add(1, 0, Direction::FromResponder, 5, f2.msg, f2.bytes.data(), f2.bytes.size(), &out));
    assert_true(out == whole);
    assert_int_equal(v.in_flight(), 1);
}

// Whole-file bound: at most kMaxV1Reassemblies messages wait at once (the
// oldest gives way); a message larger than kMaxV1ReassemblyBytes is dropped.
void test_bounds(void**) {
    const std::vector<uint8_t> whole = whole_message();
    V1Fragments v;
    std::vector<uint8_t> out;
    Frag f1(fragment(whole, 1, 1, false, 0, 30));
    for (uint32_t sa = 1; sa <= 10 * kMaxV1Reassemblies; ++sa)
        assert_false(v.add(sa, 0, Direction::FromInitiator, sa, f1.msg, f1.bytes.data(), f1.bytes.size(), &out));
    assert_int_equal(v.in_flight(), kMaxV1Reassemblies);
    // Pieces past kMaxV1Fragments are not taken.
    Frag far(fragment(whole, 1, static_cast<uint8_t>(kMaxV1Fragments + 1), true, 0, 30));
    assert_false(v.add(1, 0, Direction::FromInitiator, 1, far.msg, far.bytes.data(), far.bytes.size(), &out));
    // Too many bytes: 3 fragments of 12 KB exceed 32 KB.
    std::vector<uint8_t> big(12000, 0xAB);
    V1Fragments w;
    for (uint8_t n = 1; n <= 3; ++n) {
        Frag f(fragment(big, 2, n, n == 3, 0, big.size()));
        assert_false(w.add(1, 0, Direction::FromInitiator, n, f.msg, f.bytes.data(), f.bytes.size(), &out));
    }
    assert_int_equal(w.in_flight(), 0);
}

// Through the model: the NAT-D of the reassembled message is observed (the
// hash algorithm is unknown here, so the verdict is "not verified": without
// the reassembly no NAT-D would be seen at all).
void test_model_observes_reassembled_natd(void**) {
    const std::vector<uint8_t> whole = whole_message();
    Analyzer an;
    int64_t t = 1000000000;
    uint32_t frame = 0;
    auto feed = [&](const std::vector<uint8_t>& bytes, const Endpoint& src, const Endpoint& dst) {
        static IkeMessage msg;
        msg = IkeMessage();
        parse_ike_message(bytes.data(), bytes.size(), Strictness::Port, &msg);
        Datagram d;
        d.frame = ++frame;
        d.time_ns = t += 10000000;
        d.src = src;
        d.dst = dst;
        d.pair_role = PairRole::Ike;
        d.kind = DatagramKind::PlainIke;
        d.ike = &msg;
        d.ike_bytes = bytes.data();
        d.ike_len = static_cast<uint32_t>(bytes.size());
        d.udp_payload_len = d.ike_len;
        return an.observe(d);
    };
    // MM1 from the initiator opens the SA (one vendor ID payload).
    std::vector<uint8_t> mm1;
    header(mm1, 13, 2);
    for (int i = 8; i < 16; ++i) mm1[i] = 0;
    const uint8_t vid[4] = {0, 0, 0, 20};
    mm1.insert(mm1.end(), vid, vid + 4);
    for (int i = 0; i < 16; ++i) mm1.push_back(static_cast<uint8_t>(i));
    set_length(mm1);
    assert_int_equal(feed(mm1, kI, kR).sa, 1);
    const std::vector<uint8_t> p1 = fragment(whole, 9, 1, false, 0, 40), p2 = fragment(whole, 9, 2, true, 40, whole.size());
    FrameAnalysis a = feed(p1, kR, kI);
    assert_int_equal(a.sa, 1);
    assert_int_equal(an.sa(1)->nat.observations.size(), 0);
    a = feed(p2, kR, kI);
    assert_int_equal(a.sa, 1);
    assert_int_equal(an.sa(1)->nat.observations.size(), 1);
    assert_int_equal(an.sa(1)->nat.observations[0].n, 2);
    assert_int_equal(static_cast<int>(an.sa(1)->nat.verdict), static_cast<int>(NatVerdict::CannotVerify));
    // The frame shows no hash of its own (the offsets are the whole message's).
    assert_int_equal(a.natd_obs, 0);
}

}  // namespace

int main() {
    natt_test::init_gcrypt();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reassembly),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_model_observes_reassembled_natd),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
