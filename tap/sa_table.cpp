#include "sa_table.h"

#include <cinttypes>
#include <cstdio>

namespace natt {

namespace {
// Hand-made hex and decimal: cells are re-rendered on busy captures' every
// IKE, keepalive and ESP frame, where snprintf dominated natt's cost.
char* put_hex(char* p, uint64_t v, int digits) {
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i) *p++ = hex[(v >> (4 * i)) & 0xf];
    return p;
}
char* put_decimal(char* p, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}
std::string hex64(uint64_t v) {
    char b[16];
    return std::string(b, put_hex(b, v, 16));
}
std::string endpoint_or_dash(const Endpoint& e) { return e.family ? e.to_string() : "-"; }
}  // namespace

std::string render_spis(const IkeSa& sa, Direction dir) {
    std::string out;
    for (const EspSpiStats& s : sa.esp) {
        if (s.dir != dir) continue;
        char b[48];
        char* p = b;
        if (!out.empty()) *p++ = ',';
        p = put_hex(p, s.spi, 8);
        *p++ = '(';
        p = put_decimal(p, s.packets);
        *p++ = ')';
        out.append(b, p);
    }
    return out.empty() ? "-" : out;
}

std::string render_keepalives(const KeepaliveStats& k) {
    if (k.count == 0) return "-";
    char b[64];
    if (k.count == 1)
        std::snprintf(b, sizeof b, "1");
    else
        std::snprintf(b, sizeof b, "%" PRIu64 " med %.1fs", k.count, static_cast<double>(k.median_interval_ns()) / 1e9);
    return b;
}

SaTableRow render_sa_row(const IkeSa& sa) {
    SaTableRow r;
    r.numbers[kColSa] = sa.number;
    r.cells[kColVersion] = sa.major == 1 ? "IKEv1" : sa.major == 2 ? "IKEv2" : "?";
    r.cells[kColExchange] = sa.major == 0 ? "?" : ike_flavour_name(sa.flavour);
    r.cells[kColICookie] = sa.major ? hex64(sa.icookie) : "-";
    r.cells[kColRCookie] = sa.major ? hex64(sa.rcookie) : "-";
    r.cells[kColInitiator] = endpoint_or_dash(sa.initiator);
    r.cells[kColInitiatorFloat] = sa.floated ? endpoint_or_dash(sa.initiator_float) : "-";
    r.cells[kColResponder] = endpoint_or_dash(sa.responder);
    r.cells[kColResponderFloat] = sa.floated ? endpoint_or_dash(sa.responder_float) : "-";
    r.cells[kColNat] = nat_verdict_name(sa.nat.verdict);
    // A peer the capture cannot judge (its own NAT-D hash not visible).
    if (sa.nat.verdict_known() && sa.nat.verdict != NatVerdict::Forced) {
        if (!sa.nat.initiator_known) r.cells[kColNat] += ",I?";
        if (!sa.nat.responder_known) r.cells[kColNat] += ",R?";
    }
    r.numbers[kColFloatFrame] = sa.floated ? sa.float_frame : 0;
    char qm[32];
    std::snprintf(qm, sizeof qm, "%u/%u", sa.quick_modes_completed(), sa.quick_modes());
    r.cells[kColQuickModes] = qm;
    r.cells[kColState] = sa.major ? sa_state_name(sa.state) : "ESP only";
    r.cells[kColEspOut] = render_spis(sa, Direction::FromInitiator);
    r.cells[kColEspIn] = render_spis(sa, Direction::FromResponder);
    r.cells[kColKeepalivesOut] = render_keepalives(sa.keepalives[static_cast<int>(Direction::FromInitiator)]);
    r.cells[kColKeepalivesIn] = render_keepalives(sa.keepalives[static_cast<int>(Direction::FromResponder)]);
    r.numbers[kColFindings] = sa.findings;
    return r;
}

}  // namespace natt
