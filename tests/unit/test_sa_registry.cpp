// Unit tests for tap/sa_registry: numbering, cookie matching, aliases,
// direction, the max_sas cap.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include "tap/exchanges.h"
#include "tap/sa_registry.h"
#include "ike_builder.h"

using namespace natt;
using natt_test::IkeBuilder;

namespace {

const Endpoint kI500 = Endpoint::v4(0xC6336417u, 500);   // 198.51.100.23
const Endpoint kR500 = Endpoint::v4(0xCB00710Au, 500);   // 203.0.113.10
const Endpoint kI4500 = Endpoint::v4(0xC6336417u, 4500);
const Endpoint kR4500 = Endpoint::v4(0xCB00710Au, 4500);
const Endpoint kNatted = Endpoint::v4(0xC6336417u, 61000);  // the initiator from another NAT port

// An SA opened by main mode 1 from kI500.
IkeSa& open_sa(SaRegistry& reg, IkeBuilder& b, uint64_t icky) {
    const Datagram d = b.ike(kI500, kR500, icky, 0, kExIdentityProtection, 0);
    bool twin = true;
    assert_null(reg.match_cookies(d, &twin));
    assert_false(twin);
    IkeSa& sa = reg.create(d);
    reg.adopt_identity(sa, d);
    return sa;
}

void test_numbering_and_cap(void**) {
    SaRegistry reg;
    IkeBuilder b;
    reg.set_max_sas(2);
    assert_false(reg.full());
    assert_int_equal(open_sa(reg, b, 0x11).number, 1);
    assert_int_equal(open_sa(reg, b, 0x22).number, 2);
    assert_true(reg.full());
    assert_int_equal(reg.count(), 2);
    assert_null(reg.find(0));
    assert_null(reg.find(3));
    assert_int_equal(reg.find(2)->icookie, 0x22);
    reg.set_max_sas(0);  // 0 means 1
    assert_int_equal(reg.max_sas(), 1);
}

void test_identity_and_alias(void**) {
    SaRegistry reg;
    IkeBuilder b;
    IkeSa& sa = open_sa(reg, b, 0x1111);
    assert_int_equal(sa.major, 1);
    assert_int_equal(static_cast<int>(sa.flavour), static_cast<int>(IkeFlavour::MainMode));
    assert_true(sa.initiator == kI500);
    assert_true(sa.responder == kR500);
    assert_int_equal(reg.aliases(sa).size(), 1);
    assert_true(reg.alias_matches(1, kI500, kR500));
    assert_true(reg.alias_matches(1, kR500, kI500));  // either way
    assert_false(reg.alias_matches(1, kNatted, kR500));
    // add_alias: once, and at most kMaxAliasesPerSa.
    reg.add_alias(sa, kI500, kR500);
    assert_int_equal(reg.aliases(sa).size(), 1);
    for (uint16_t p = 0; p < 20; ++p) reg.add_alias(sa, Endpoint::v4(0x0A000001u, static_cast<uint16_t>(1000 + p)), kR500);
    assert_int_equal(reg.aliases(sa).size(), kMaxAliasesPerSa);
}

void test_cookie_matching(void**) {
    SaRegistry reg;
    IkeBuilder b;
    IkeSa& sa = open_sa(reg, b, 0xAAAA);
    bool twin = false;
    // MM2 gives the pending SA its responder cookie.
    Datagram mm2 = b.ike(kR500, kI500, 0xAAAA, 0xBBBB, kExIdentityProtection, 0);
    assert_ptr_equal(reg.match_cookies(mm2, &twin), &sa);
    assert_true(sa.rcookie == 0xBBBB);
    // Later messages by the cookie pair, also from a new ip:port (rebinding).
    Datagram mm3 = b.ike(kNatted, kR500, 0xAAAA, 0xBBBB, kExIdentityProtection, 0);
    assert_ptr_equal(reg.match_cookies(mm3, &twin), &sa);
    // Other cookies: no SA.
    Datagram other = b.ike(kI500, kR500, 0xCCCC, 0xDDDD, kExIdentityProtection, 0);
    assert_null(reg.match_cookies(other, &twin));
    assert_false(twin);
}

void test_pending_response_window(void**) {
    SaRegistry reg;
    IkeBuilder b;
    IkeSa& sa = open_sa(reg, b, 0x5555);
    sa.last_time_ns = b.time_ns;
    // From an unknown ip:port, the lone pending SA takes the response only
    // within kPendingResponseWindowNs.
    Datagram late = b.ike(kR4500, kNatted, 0x5555, 0x6666, kExIdentityProtection, 0);
    late.time_ns = sa.last_time_ns + kPendingResponseWindowNs;
    bool twin = false;
    assert_null(reg.match_cookies(late, &twin));
    Datagram soon = late;
    soon.time_ns = sa.last_time_ns + kPendingResponseWindowNs - 1;
    assert_ptr_equal(reg.match_cookies(soon, &twin), &sa);
    assert_true(sa.rcookie == 0x6666);
    // The new endpoints became an alias. IKEv1: only the responder knows its
    // cookie before this message, so the sender is the responder (here: the
    // initiator's NAT'd address is the destination).
    assert_true(reg.alias_matches(1, kR4500, kNatted));
    assert_int_equal(reg.aliases(sa).size(), 2);
    assert_true(reg.aliases(sa)[1].initiator == kNatted);
    assert_true(reg.aliases(sa)[1].responder == kR4500);
}

// IKEv2: the Initiator flag says who sent the response, whatever the addresses.
void test_pending_response_ikev2(void**) {
    SaRegistry reg;
    IkeBuilder b;
    const Datagram init = b.ike(kI500, kR500, 0x4444, 0, kExIkeSaInit, 0, 0x20, 0x08);
    bool twin = false;
    assert_null(reg.match_cookies(init, &twin));
    IkeSa& sa = reg.create(init);
    reg.adopt_identity(sa, init);
    sa.last_time_ns = b.time_ns;
    // The response seen on the other side of the initiator's NAT.
    const Datagram resp = b.ike(kR500, kNatted, 0x4444, 0x9999, kExIkeSaInit, 0, 0x20, 0x20);
    assert_ptr_equal(reg.match_cookies(resp, &twin), &sa);
    assert_false(twin);
    // The alias: kNatted is the initiator.
    assert_int_equal(reg.aliases(sa).size(), 2);
    assert_true(reg.aliases(sa)[1].initiator == kNatted);
    assert_true(reg.aliases(sa)[1].responder == kR500);
    // A request (Initiator flag) seen first from a new ip:port: its sender is the initiator.
    SaRegistry reg2;
    const Datagram init2 = b.ike(kI500, kR500, 0x4545, 0, kExIkeSaInit, 0, 0x20, 0x08);
    IkeSa& sa2 = reg2.create(init2);
    reg2.adopt_identity(sa2, init2);
    sa2.last_time_ns = b.time_ns;
    const Datagram req = b.ike(kNatted, kR4500, 0x4545, 0x9999, kExIkeAuth, 1, 0x20, 0x08);
    assert_ptr_equal(reg2.match_cookies(req, &twin), &sa2);
    assert_true(reg2.aliases(sa2)[1].initiator == kNatted);
    assert_true(reg2.aliases(sa2)[1].responder == kR4500);
}

// The SA's first message again between other hosts (the other side of a
// NAT) is its twin: the same SA, an alias. Between the same hosts, or
// another message, it is not.
void test_first_message_twin(void**) {
    SaRegistry reg;
    IkeBuilder b;
    IkeSa& sa = open_sa(reg, b, 0x3333);
    const Datagram mm1 = b.ike(kI500, kR500, 0x3333, 0, kExIdentityProtection, 0, 0x10, 0, 1);
    sa.phase1.push_back(message_record(mm1, Direction::FromInitiator));
    assert_int_equal(sa.sides.count, 1);
    bool twin = false;
    // Other hosts, 1 ms later: the twin.
    const Endpoint inside = Endpoint::v4(0x0A000005u, 500);
    const Datagram copy = b.ike(inside, kR500, 0x3333, 0, kExIdentityProtection, 0, 0x10, 0, 1);
    assert_ptr_equal(reg.match_cookies(copy, &twin), &sa);
    assert_true(twin);
    assert_true(reg.alias_matches(1, inside, kR500));
    // Now an alias: found by it, no longer a twin of the registry's making.
    assert_ptr_equal(reg.match_cookies(copy, &twin), &sa);
    assert_false(twin);
    // Other hosts again, but a different exchange: no SA.
    const Endpoint other = Endpoint::v4(0x0A000006u, 500);
    const Datagram aggressive = b.ike(other, kR500, 0x3333, 0, kExAggressive, 0, 0x10, 0, 1);
    assert_null(reg.match_cookies(aggressive, &twin));
    assert_false(twin);
    // The same hosts on a new port (the same side): not a twin, but the same
    // SA (a first message after later ones: frames out of time order).
    SaRegistry reg2;
    IkeBuilder b2;
    IkeSa& sa2 = open_sa(reg2, b2, 0x3333);
    const Datagram first = b2.ike(kI500, kR500, 0x3333, 0, kExIdentityProtection, 0, 0x10, 0, 1);
    sa2.phase1.push_back(message_record(first, Direction::FromInitiator));
    const Datagram same_hosts = b2.ike(kNatted, kR500, 0x3333, 0, kExIdentityProtection, 0, 0x10, 0, 1);
    assert_ptr_equal(reg2.match_cookies(same_hosts, &twin), &sa2);
    assert_false(twin);
}

void test_direction(void**) {
    SaRegistry reg;
    IkeBuilder b;
    IkeSa& sa = open_sa(reg, b, 0x7777);
    assert_int_equal(static_cast<int>(reg.direction_of(sa, b.esp(kI500, kR500, 0x1000, 1))),
                     static_cast<int>(Direction::FromInitiator));
    assert_int_equal(static_cast<int>(reg.direction_of(sa, b.esp(kR500, kI500, 0x1000, 1))),
                     static_cast<int>(Direction::FromResponder));
    // Not an alias: by the float, then by address.
    sa.floating.floated = true;
    sa.floating.initiator = kNatted;
    sa.floating.responder = kR4500;
    assert_int_equal(static_cast<int>(reg.direction_of(sa, b.esp(kR4500, kNatted, 0x1000, 1))),
                     static_cast<int>(Direction::FromResponder));
    assert_int_equal(static_cast<int>(reg.direction_of(sa, b.esp(kI4500, Endpoint::v4(0x0A000001u, 9), 1, 1))),
                     static_cast<int>(Direction::FromInitiator));
    // IKEv2: the Initiator flag decides.
    const Datagram v2 = b.ike(kR500, kI500, 0x7777, 0x8888, kExIkeSaInit, 0, 0x20, 0x08);
    assert_int_equal(static_cast<int>(reg.direction_of(sa, v2)), static_cast<int>(Direction::FromInitiator));
}

void test_hosts(void**) {
    SaRegistry reg;
    IkeBuilder b;
    open_sa(reg, b, 0x9999);
    reg.note_hosts(b.esp(kI4500, kR4500, 1, 1), 1);
    assert_int_equal(reg.sa_of_addresses(kR500, kI500), 1);  // ports ignored, either way
    assert_int_equal(reg.sa_of_addresses(kR500, kNatted), 1);
    assert_int_equal(reg.sa_of_addresses(kR500, Endpoint::v4(0x0A000001u, 500)), 0);
}

}  // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbering_and_cap),
        cmocka_unit_test(test_identity_and_alias),
        cmocka_unit_test(test_cookie_matching),
        cmocka_unit_test(test_pending_response_window),
        cmocka_unit_test(test_pending_response_ikev2),
        cmocka_unit_test(test_first_message_twin),
        cmocka_unit_test(test_direction),
        cmocka_unit_test(test_hosts),
    };
    return cmocka_run_group_tests_name("sa_registry", tests, nullptr, nullptr);
}
