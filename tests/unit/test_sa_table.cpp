// Unit tests for tap/sa_table.{h,cpp}: the SA table's cells are formatted by
// hand (no snprintf on the per-frame path); they must read as printf would
// write them.

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <cinttypes>
#include <cstdio>
#include <string>

#include "tap/sa_table.h"

using namespace natt;

namespace {

uint64_t next(uint64_t& x) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

void test_keepalives(void**) {
    KeepaliveSeries k;
    assert_string_equal(render_keepalives(k).c_str(), "-");
    k.count = 1;
    assert_string_equal(render_keepalives(k).c_str(), "1");
    k.count = 12;
    k.add_interval(20000000000ll);
    assert_string_equal(render_keepalives(k).c_str(), "12 med 20.0s");
    // Against printf("%.1f"), away from exact .x5 ties (printf rounds the
    // binary double; the table rounds half up on nanoseconds).
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; ++i) {
        KeepaliveSeries s;
        s.count = 2 + next(x) % 100000;
        int64_t ns = static_cast<int64_t>(next(x) % 4000000000000ull);
        if (ns % 50000000 == 0) ns += 1;
        if ((ns / 1000000) % 100 == 50) continue;  // within 1 ms of a tie
        s.add_interval(ns);
        char expect[64];
        std::snprintf(expect, sizeof expect, "%" PRIu64 " med %.1fs", s.count, static_cast<double>(ns) / 1e9);
        assert_string_equal(render_keepalives(s).c_str(), expect);
    }
}

void test_median_of_sorted_samples(void**) {
    KeepaliveSeries k;
    const int64_t v[] = {30, 10, 50, 20, 40};
    for (int64_t i : v) k.add_interval(i);
    assert_int_equal(k.median_interval_ns(), 30);
    k.add_interval(60);
    assert_int_equal(k.median_interval_ns(), 40);  // upper median, as nth_element(size / 2)
    for (size_t i = 1; i < k.intervals.size(); ++i) assert_true(k.intervals[i - 1] <= k.intervals[i]);
}

void test_spis(void**) {
    IkeSa sa;
    assert_string_equal(render_spis(sa, Direction::FromInitiator).c_str(), "-");
    EspSpiStats a;
    a.spi = 0xc1a2b3d4;
    a.dir = Direction::FromInitiator;
    a.packets = 120;
    EspSpiStats b;
    b.spi = 0x00000100;
    b.dir = Direction::FromResponder;
    b.packets = 0;
    EspSpiStats c;
    c.spi = 0xffffffff;
    c.dir = Direction::FromInitiator;
    c.packets = 18446744073709551615ull;
    sa.esp = {a, b, c};
    assert_string_equal(render_spis(sa, Direction::FromInitiator).c_str(),
                        "c1a2b3d4(120),ffffffff(18446744073709551615)");
    assert_string_equal(render_spis(sa, Direction::FromResponder).c_str(), "00000100(0)");
}

void test_row_cookies_and_endpoints(void**) {
    IkeSa sa;
    sa.number = 7;
    sa.major = 1;
    sa.flavour = IkeFlavour::MainMode;
    sa.icookie = 0x0123456789abcdefull;
    sa.rcookie = 0;
    sa.initiator = Endpoint::v4(0xC6336417u, 500);
    sa.responder = Endpoint::v4(0xCB00710Au, 500);
    const SaTableRow r = render_sa_row(sa);
    assert_int_equal(r.numbers[kColSa], 7);
    assert_string_equal(r.cells[kColICookie].c_str(), "0123456789abcdef");
    assert_string_equal(r.cells[kColRCookie].c_str(), "0000000000000000");
    assert_string_equal(r.cells[kColInitiator].c_str(), "198.51.100.23:500");
    assert_string_equal(r.cells[kColResponder].c_str(), "203.0.113.10:500");
    assert_string_equal(r.cells[kColInitiatorFloat].c_str(), "-");
}

// The tap re-renders a row's identity cells (cookies, endpoints) only when
// sa_identity_key() changed: the key must change with every input of those
// cells, and a row rendered without them must match the full row elsewhere.
// The GUI's compact row: peers where they talk after the float, "inside ->
// outside" once a two-sided capture showed the peer's NAT mapping (the NAT-T
// one preferred), the NAT word, ESP packets as "out/in".
void test_brief_row(void**) {
    IkeSa sa;
    sa.number = 2;
    sa.major = 1;
    sa.flavour = IkeFlavour::MainMode;
    sa.state = SaState::Established;
    sa.nat.verdict = NatVerdict::Peers;
    sa.nat.initiator = PeerNat::BehindPort500;
    sa.nat.responder = PeerNat::NotBehind;
    sa.initiator = Endpoint::v4(0xC6336401u, 507);   // 198.51.100.1:507
    sa.responder = Endpoint::v4(0xCB00710Au, 500);   // 203.0.113.10:500
    BriefRow r = render_brief_row(sa);
    assert_int_equal(r.numbers[kBriefSa], 2);
    assert_string_equal(r.cells[kBriefInitiator].c_str(), "198.51.100.1:507");
    assert_string_equal(r.cells[kBriefNat].c_str(), "I NAT, R no");
    // The compact words follow the verdict: both peers' own hashes match,
    // one peer only, or no capture point could show these hashes.
    sa.nat.initiator = PeerNat::NotBehind;
    assert_string_equal(render_brief_row(sa).cells[kBriefNat].c_str(), "none");
    sa.nat.initiator = PeerNat::NatOrForcingFloat;
    sa.nat.responder = PeerNat::Unknown;
    assert_string_equal(render_brief_row(sa).cells[kBriefNat].c_str(), "I NAT?");
    sa.nat.verdict = NatVerdict::Inconsistent;
    assert_string_equal(render_brief_row(sa).cells[kBriefNat].c_str(), "inconsistent");
    sa.nat.verdict = NatVerdict::Peers;
    sa.nat.initiator = PeerNat::BehindPort500;
    sa.nat.responder = PeerNat::NotBehind;
    assert_string_equal(r.cells[kBriefState].c_str(), "established");
    sa.floating.floated = true;
    sa.floating.initiator = Endpoint::v4(0xC6336401u, 10164);
    sa.floating.responder = Endpoint::v4(0xCB00710Au, 4500);
    r = render_brief_row(sa);
    assert_string_equal(r.cells[kBriefInitiator].c_str(), "198.51.100.1:10164");
    assert_string_equal(r.cells[kBriefResponder].c_str(), "203.0.113.10:4500");
    NatMapping ike;
    ike.peer = Direction::FromInitiator;
    ike.first = Endpoint::v4(0x0A01000Cu, 500);  // 10.1.0.12, private: inside
    ike.second = sa.initiator;
    ike.first_side = 1;
    NatMapping natt = ike;
    natt.natt_port = true;
    natt.first = Endpoint::v4(0x0A01000Cu, 4500);
    natt.second = sa.floating.initiator;
    sa.nat_mappings = {ike, natt};
    r = render_brief_row(sa);
    assert_string_equal(r.cells[kBriefInitiator].c_str(), "10.1.0.12:4500 -> 198.51.100.1:10164");
    assert_string_equal(r.cells[kBriefResponder].c_str(), "203.0.113.10:4500");
    // IKE over TCP: the connection's endpoints say so, as in the full table.
    sa.transport = Transport::Tcp;
    assert_string_equal(render_brief_row(sa).cells[kBriefResponder].c_str(), "203.0.113.10:4500/tcp");
    sa.transport = Transport::Udp;
    sa.major = 0;
    assert_string_equal(render_brief_row(sa).cells[kBriefState].c_str(), "ESP only");
    assert_string_equal(brief_packets(120, 0).c_str(), "120/0");
}

void test_identity_key(void**) {
    IkeSa sa;
    sa.number = 3;
    sa.major = 1;
    sa.flavour = IkeFlavour::MainMode;
    sa.icookie = 0x1111;
    sa.initiator = Endpoint::v4(0xC6336417u, 500);
    sa.responder = Endpoint::v4(0xCB00710Au, 500);
    const uint64_t k0 = sa_identity_key(sa);
    assert_true(sa_identity_key(sa) == k0);
    sa.finding_count = 4;  // not an identity input
    assert_true(sa_identity_key(sa) == k0);

    IkeSa t = sa;
    t.rcookie = 0x2222;
    assert_true(sa_identity_key(t) != k0);
    t = sa;
    t.icookie = 0x1112;
    assert_true(sa_identity_key(t) != k0);
    t = sa;
    t.major = 2;
    assert_true(sa_identity_key(t) != k0);
    t = sa;
    t.floating.floated = true;
    assert_true(sa_identity_key(t) != k0);
    t = sa;
    t.initiator.port = 4500;
    assert_true(sa_identity_key(t) != k0);
    t = sa;
    t.responder = Endpoint::v4(0xCB00710Bu, 500);
    assert_true(sa_identity_key(t) != k0);
    t = sa;
    t.floating.initiator = Endpoint::v4(0xC6336417u, 4500);
    assert_true(sa_identity_key(t) != k0);
    t = sa;
    t.floating.responder = Endpoint::v4(0xCB00710Au, 4500);
    assert_true(sa_identity_key(t) != k0);

    const SaTableRow full = render_sa_row(sa);
    const SaTableRow rest = render_sa_row(sa, false);
    for (unsigned c = 0; c < kSaTableColumns; ++c) {
        if (is_identity_column(c)) {
            assert_true(rest.cells[c].empty());
        } else {
            assert_string_equal(rest.cells[c].c_str(), full.cells[c].c_str());
            assert_int_equal(rest.numbers[c], full.numbers[c]);
        }
    }
    assert_true(is_identity_column(kColICookie) && is_identity_column(kColResponderFloat));
    assert_false(is_identity_column(kColExchange) || is_identity_column(kColNat));
}

// The tap re-renders the state cells of a row only when sa_state_key()
// changed: the key changes with every input of those cells (and with no
// identity or counting input), and render_sa_state_cells() writes exactly
// those cells as render_sa_row() does.
void test_state_key(void**) {
    IkeSa sa;
    sa.number = 4;
    sa.major = 1;
    sa.flavour = IkeFlavour::MainMode;
    sa.initiator = Endpoint::v4(0xC6336417u, 500);
    sa.responder = Endpoint::v4(0xCB00710Au, 500);
    const uint64_t k0 = sa_state_key(sa);
    IkeSa t = sa;
    t.finding_count = 3;
    t.icookie = 0x77;
    t.initiator.port = 4500;
    assert_true(sa_state_key(t) == k0);
    t = sa;
    t.major = 2;
    assert_true(sa_state_key(t) != k0);
    t = sa;
    t.flavour = IkeFlavour::AggressiveMode;
    assert_true(sa_state_key(t) != k0);
    t = sa;
    t.roles_guessed = true;
    assert_true(sa_state_key(t) != k0);
    t = sa;
    t.state = SaState::Established;
    assert_true(sa_state_key(t) != k0);
    t = sa;
    t.nat.verdict = NatVerdict::Peers;
    t.nat.initiator = PeerNat::BehindPort500;
    assert_true(sa_state_key(t) != k0);
    t = sa;
    t.floating.floated = true;
    t.floating.frame = 9;
    const uint64_t k9 = sa_state_key(t);
    assert_true(k9 != k0);
    t.floating.frame = 10;
    assert_true(sa_state_key(t) != k9);

    SaTableRow cells;
    render_sa_state_cells(t, &cells);
    const SaTableRow full = render_sa_row(t);
    for (unsigned c = 0; c < kSaTableColumns; ++c) {
        if (is_state_column(c)) {
            assert_string_equal(cells.cells[c].c_str(), full.cells[c].c_str());
            assert_int_equal(cells.numbers[c], full.numbers[c]);
        } else {
            assert_true(cells.cells[c].empty());
            assert_false(is_identity_column(c) && is_state_column(c));
        }
    }
    assert_true(is_state_column(kColFloatFrame) && is_state_column(kColState) && is_state_column(kColVersion));
    assert_false(is_state_column(kColEspOut) || is_state_column(kColFindings) || is_state_column(kColSa));
}

// The SA table increments a count in its cell's text in place: the renderer
// says where each count of the rendered direction ends.
void test_spi_count_ends(void**) {
    std::vector<SpiCount> counts = {{0x100, Direction::FromInitiator, 0, 9},
                                    {0x200, Direction::FromResponder, 0, 5},
                                    {0x300, Direction::FromInitiator, 0, 120}};
    std::string text;
    render_spi_counts(counts, Direction::FromInitiator, &text);
    assert_string_equal(text.c_str(), "00000100(9),00000300(120)");
    assert_int_equal(counts[0].text_end, 10);
    assert_int_equal(text[counts[0].text_end], ')');
    assert_int_equal(counts[2].text_end, 24);
    assert_int_equal(text[counts[2].text_end], ')');
    assert_int_equal(counts[1].text_end, 0);  // the other direction: not rendered
    render_spi_counts(counts, Direction::FromResponder, &text);
    assert_string_equal(text.c_str(), "00000200(5)");
    assert_int_equal(counts[1].text_end, 10);
    assert_int_equal(counts[0].text_end, 10);  // unchanged
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalives),
        cmocka_unit_test(test_median_of_sorted_samples),
        cmocka_unit_test(test_spis),
        cmocka_unit_test(test_row_cookies_and_endpoints),
        cmocka_unit_test(test_identity_key),
        cmocka_unit_test(test_state_key),
        cmocka_unit_test(test_spi_count_ends),
        cmocka_unit_test(test_brief_row),
    };
    return cmocka_run_group_tests_name("sa_table", tests, nullptr, nullptr);
}
