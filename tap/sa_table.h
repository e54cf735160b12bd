// natt: one row of the SA table (`-z natt,sa` and the GUI), rendered from the
// model as plain strings and numbers so that it is unit-tested without epan.
#pragma once

#include <cstdint>
#include <string>

#include "ike_sa.h"

namespace natt {

enum SaColumn : unsigned {
    kColSa = 0,
    kColVersion,
    kColExchange,
    kColICookie,
    kColRCookie,
    kColInitiator,
    kColInitiatorFloat,
    kColResponder,
    kColResponderFloat,
    kColNat,
    kColFloatFrame,
    kColQuickModes,
    kColState,
    kColEspOut,  // initiator -> responder
    kColEspIn,   // responder -> initiator
    kColKeepalivesOut,
    kColKeepalivesIn,
    kColFindings,
    kSaTableColumns
};

struct SaTableRow {
    std::string cells[kSaTableColumns];     // string columns
    uint32_t numbers[kSaTableColumns] = {};  // numeric columns (SA, float frame, findings)
};

SaTableRow render_sa_row(const IkeSa& sa);
// The same without the identity cells (cookies and the four endpoints: left
// empty) when with_identity is false: an IKE frame rarely changes them, and
// they are the costly cells to format.
SaTableRow render_sa_row(const IkeSa& sa, bool with_identity);
constexpr bool is_identity_column(unsigned col) { return col >= kColICookie && col <= kColResponderFloat; }
// What the identity cells are rendered from, hashed: equal keys, equal cells.
uint64_t sa_identity_key(const IkeSa& sa);
// The cells an IKE message changes as the SA progresses (version, exchange,
// NAT, float frame, QMs, state): rendered by render_sa_state_cells, and what
// they are rendered from, hashed (equal keys, equal cells).
constexpr bool is_state_column(unsigned col) {
    return col == kColVersion || col == kColExchange || (col >= kColNat && col <= kColState);
}
void render_sa_state_cells(const IkeSa& sa, SaTableRow* row);
uint64_t sa_state_key(const IkeSa& sa);

// "c1a2b3d4(120)" per SPI, comma-separated, "-" if none.
std::string render_spis(const IkeSa& sa, Direction dir);
// The same into *text (its buffer reused: the tap calls it for every ESP frame).
void render_spis(const IkeSa& sa, Direction dir, std::string* text);
// "12 med 20.0s" or "-".
std::string render_keepalives(const KeepaliveSeries& k);

// The GUI's compact SA table (Statistics > IPsec NAT-T SAs, -z natt,brief):
// what fits the dialog's default width (about 560 px in 4.0) on a one-sided
// capture. Version, cookies, SPIs and keepalives are in the full table.
enum BriefColumn : unsigned {
    kBriefSa = 0,
    kBriefInitiator,  // ip:port now (after the float); "inside -> outside" where the capture shows both sides of its NAT
    kBriefResponder,
    kBriefNat,        // who is behind a NAT: the full table's NAT word
    kBriefState,
    kBriefFindings,
    kBriefEsp,        // ESP packets "initiator to responder/back"
    kBriefColumns
};
struct BriefRow {
    std::string cells[kBriefColumns];
    uint32_t numbers[kBriefColumns] = {};
};
// The identity cells (initiator, responder, NAT, state).
BriefRow render_brief_row(const IkeSa& sa);
// A peer's cell: where it talks IKE/ESP now (after the float), and, when a
// two-sided capture reconstructed its NAT mapping, "inside -> outside".
std::string brief_peer(const IkeSa& sa, Direction peer);
// "120/118".
std::string brief_packets(uint64_t out, uint64_t in);

// Packets of one SPI counted by a statistics table (the frames its filter passed).
struct SpiCount {
    uint32_t spi = 0;
    Direction dir = Direction::Unknown;
    // Where the count ends in the text render_spi_counts() last wrote for
    // its direction (the index of the ')' after it), so that a table can
    // increment it in place; 0: not rendered.
    uint16_t text_end = 0;
    uint64_t packets = 0;
};
// As render_spis, from such counts; notes each rendered count's text_end
// (0 for a count past 65535 characters).
void render_spi_counts(std::vector<SpiCount>& counts, Direction dir, std::string* text);

}  // namespace natt
