#include "sa_table.h"

#include <cinttypes>
#include <cstdio>

#include "copies.h"
#include "nat_analysis.h"
#include "text.h"

namespace natt {

namespace {
std::string hex64(uint64_t v) {
    char b[16];
    return std::string(b, put_hex(b, v, 16));
}
std::string endpoint_or_dash(const Endpoint& e) { return e.family ? e.to_string() : "-"; }
// An SA over TCP (RFC 8229) shows the connection's endpoints, marked.
std::string sa_endpoint(const IkeSa& sa, const Endpoint& e) {
    std::string s = endpoint_or_dash(e);
    if (sa.transport == Transport::Tcp && e.family) s += "/tcp";
    return s;
}
// One step of the row keys' hash.
uint64_t mix_key(uint64_t h, uint64_t part) {
    h = (h ^ part) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
}
}  // namespace

std::string render_spis(const IkeSa& sa, Direction dir) {
    std::string out;
    render_spis(sa, dir, &out);
    return out;
}

namespace {
// ",c1a2b3d4(120)" (no comma first).
void append_spi(std::string& out, uint32_t spi, uint64_t packets) {
    char b[48];
    char* p = b;
    if (!out.empty()) *p++ = ',';
    p = put_hex(p, spi, 8);
    *p++ = '(';
    p = put_decimal(p, packets);
    *p++ = ')';
    out.append(b, p);
}
}  // namespace

void render_spis(const IkeSa& sa, Direction dir, std::string* text) {
    std::string& out = *text;
    out.clear();
    for (const EspSpiStats& s : sa.esp)
        if (s.dir == dir) append_spi(out, s.spi, s.packets);
    if (out.empty()) out = "-";
}

void render_spi_counts(std::vector<SpiCount>& counts, Direction dir, std::string* text) {
    std::string& out = *text;
    out.clear();
    for (SpiCount& s : counts) {
        if (s.dir != dir) continue;
        append_spi(out, s.spi, s.packets);
        const size_t end = out.size() - 1;
        s.text_end = end <= UINT16_MAX ? static_cast<uint16_t>(end) : 0;
    }
    if (out.empty()) out = "-";
}

std::string render_keepalives(const KeepaliveSeries& k) {
    if (k.count == 0) return "-";
    if (k.count == 1) return "1";
    // "12 med 20.0s": the median in tenths of a second, rounded half up
    // (from twentieths: the half is their last bit).
    const int64_t med = k.median_interval_ns();
    const uint64_t twentieths = static_cast<uint64_t>(med < 0 ? -med : med) / 50000000u;
    char b[64];
    char* p = put_decimal(b, k.count);
    const char med_text[] = " med ";
    for (const char* m = med_text; *m; ++m) *p++ = *m;
    if (med < 0) *p++ = '-';
    p = put_decimal(p, (twentieths + 1) / 20);
    *p++ = '.';
    *p++ = static_cast<char>('0' + ((twentieths + 1) / 2) % 10);
    *p++ = 's';
    return std::string(b, p);
}

SaTableRow render_sa_row(const IkeSa& sa) { return render_sa_row(sa, true); }

uint64_t sa_identity_key(const IkeSa& sa) {
    const EndpointHash eh;
    const Float& fl = sa.floating;
    uint64_t h = (static_cast<uint64_t>(sa.transport) << 16 | static_cast<uint64_t>(sa.major) << 8 | (fl.floated ? 1 : 0)) *
                 0x9e3779b97f4a7c15ull;
    const uint64_t parts[] = {sa.icookie, sa.rcookie, eh(sa.initiator), eh(sa.responder), eh(fl.initiator),
                              eh(fl.responder)};
    for (uint64_t p : parts) h = mix_key(h, p);
    return h;
}

uint64_t sa_state_key(const IkeSa& sa) {
    const uint64_t parts[] = {
        static_cast<uint64_t>(sa.major) | static_cast<uint64_t>(sa.flavour) << 8 |
            static_cast<uint64_t>(sa.roles_guessed) << 16 | static_cast<uint64_t>(sa.nat.view().pack()) << 24 |
            static_cast<uint64_t>(sa.state) << 32,
        sa.floating.floated ? sa.floating.frame : 0,
        static_cast<uint64_t>(sa.quick_modes_completed()) << 32 | sa.quick_modes()};
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (uint64_t p : parts) h = mix_key(h, p);
    return h;
}

void render_sa_state_cells(const IkeSa& sa, SaTableRow* row) {
    SaTableRow& r = *row;
    r.cells[kColVersion] = sa.major == 1 ? "IKEv1" : sa.major == 2 ? "IKEv2" : "?";
    r.cells[kColExchange] = sa.major == 0 ? "?" : ike_flavour_name(sa.flavour);
    if (sa.roles_guessed) r.cells[kColExchange] += " (roles guessed)";
    char nat[kNatVerdictWordsMax];
    nat_verdict_words(sa.nat.view(), nat, sizeof nat);
    r.cells[kColNat] = nat;
    r.numbers[kColFloatFrame] = sa.floating.floated ? sa.floating.frame : 0;
    char qm[48];
    char* q = put_decimal(qm, sa.quick_modes_completed());
    *q++ = '/';
    q = put_decimal(q, sa.quick_modes());
    r.cells[kColQuickModes].assign(qm, q);
    r.cells[kColState] = sa.major ? sa_state_name(sa.state) : "ESP only";
}

SaTableRow render_sa_row(const IkeSa& sa, bool with_identity) {
    SaTableRow r;
    r.numbers[kColSa] = sa.number;
    if (with_identity) {
        r.cells[kColICookie] = sa.major ? hex64(sa.icookie) : "-";
        r.cells[kColRCookie] = sa.major ? hex64(sa.rcookie) : "-";
        r.cells[kColInitiator] = sa_endpoint(sa, sa.initiator);
        r.cells[kColInitiatorFloat] = sa.floating.floated ? endpoint_or_dash(sa.floating.initiator) : "-";
        r.cells[kColResponder] = sa_endpoint(sa, sa.responder);
        r.cells[kColResponderFloat] = sa.floating.floated ? endpoint_or_dash(sa.floating.responder) : "-";
    }
    render_sa_state_cells(sa, &r);
    r.cells[kColEspOut] = render_spis(sa, Direction::FromInitiator);
    r.cells[kColEspIn] = render_spis(sa, Direction::FromResponder);
    r.cells[kColKeepalivesOut] = render_keepalives(sa.keepalives[static_cast<int>(Direction::FromInitiator)]);
    r.cells[kColKeepalivesIn] = render_keepalives(sa.keepalives[static_cast<int>(Direction::FromResponder)]);
    r.numbers[kColFindings] = sa.finding_count;
    return r;
}

namespace {

std::string brief_peer_address(const IkeSa& sa, Direction peer) {
    const bool init = peer == Direction::FromInitiator;
    const Endpoint& seen = init ? sa.initiator : sa.responder;
    const Endpoint& now = sa.floating.floated ? (init ? sa.floating.initiator : sa.floating.responder) : seen;
    // The NAT-T mapping if there is one, else the IKE one.
    const NatMapping* best = nullptr;
    for (const NatMapping& m : sa.nat_mappings)
        if (m.peer == peer && (!best || (m.natt_port && !best->natt_port))) best = &m;
    if (best) {
        const int inside = inside_side(sa, *best);
        if (inside >= 0) {
            const bool second_inside = inside == static_cast<int>(best->second_side);
            return (second_inside ? best->second : best->first).to_string() + " -> " +
                   (second_inside ? best->first : best->second).to_string();
        }
    }
    return now.family ? now.to_string() : (seen.family ? seen.to_string() : "-");
}

}  // namespace

std::string brief_peer(const IkeSa& sa, Direction peer) {
    std::string s = brief_peer_address(sa, peer);
    if (sa.transport == Transport::Tcp && s != "-") s += "/tcp";
    return s;
}

BriefRow render_brief_row(const IkeSa& sa) {
    BriefRow r;
    r.numbers[kBriefSa] = sa.number;
    r.cells[kBriefInitiator] = brief_peer(sa, Direction::FromInitiator);
    r.cells[kBriefResponder] = brief_peer(sa, Direction::FromResponder);
    char nat[kNatVerdictWordsMax];
    nat_verdict_short(sa.nat.view(), nat, sizeof nat);
    r.cells[kBriefNat] = nat;
    r.cells[kBriefState] = sa.major ? sa_state_name(sa.state) : "ESP only";
    return r;
}

std::string brief_packets(uint64_t out, uint64_t in) {
    char b[48];
    char* p = put_decimal(b, out);
    *p++ = '/';
    p = put_decimal(p, in);
    return std::string(b, p);
}

}  // namespace natt
