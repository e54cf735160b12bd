// natt: the full IKE SA table (tshark -z natt,sa[,filter], Statistics >
// IPsec NAT-T SAs (all columns)). One row per IKE SA, rendered from the model the tap record points to
// and refreshed when a frame of that SA is tapped. The counting columns (ESP
// packets per SPI, keepalives and their median interval, findings) count the
// tapped frames, i.e. those the table's filter passed, as Wireshark's other
// statistics do; the rest describes the SA as the model knows it then.

#include <cstring>
#include <string>
#include <vector>

#include <epan/packet.h>
#include <epan/stat_tap_ui.h>
#include <epan/tap.h>

#include "../tap/sa_table.h"
#include "stat_tables.h"

namespace natt_glue {

namespace {

// tshark prints each cell with field_format followed by " |".
stat_tap_table_item sa_fields[] = {
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "SA", "%3u"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Version", "%-5s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Exchange", "%-10s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Initiator cookie", "%-16s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Responder cookie", "%-16s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Initiator", "%-21s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Initiator (NAT-T)", "%-21s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Responder", "%-21s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Responder (NAT-T)", "%-21s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "NAT", "%-10s"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Float frame", "%6u"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "QMs", "%-5s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "State", "%-11s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "ESP SPIs I->R", "%-20s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "ESP SPIs R->I", "%-20s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Keepalives I->R", "%-16s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Keepalives R->I", "%-16s"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Findings", "%3u"},
};
constexpr guint kNumFields = G_N_ELEMENTS(sa_fields);
static_assert(kNumFields == natt::kSaTableColumns, "stat table and SaTableRow disagree");

const char kTableName[] = "IKE SAs";

// Per SA (index: SA number - 1) its row and what the row shows, so that the
// many frames of a busy SA (ESP-in-UDP, keepalives) update only the cells
// that changed.
struct RowState {
    guint row = 0;          // row index + 1 (0: no row yet); rows in order of first tapped frame
    uint32_t findings = 0;  // in the Findings cell
    uint64_t identity = 0;  // sa_identity_key() of the identity cells shown
    uint64_t state = 0;     // sa_state_key() of the state cells shown
    // The ESP SPIs cells' texts: the table items' own strings (the items own
    // them), whose packet counts are incremented in place.
    char* esp[2] = {nullptr, nullptr};
    // What the tapped frames of this SA count (each SPI's text_end: where its
    // count ends in the cell's text).
    std::vector<natt::SpiCount> spis;
    natt::KeepalivesByDirection keepalives;
    uint32_t finding_frames = 0;
};
std::vector<RowState> row_of_sa;

void sa_table_init(stat_tap_table_ui* ui) {
    if (stat_tap_find_table(ui, kTableName)) return;
    stat_tap_table* table = stat_tap_init_table(kTableName, kNumFields, 0, "natt.sa == %d");
    stat_tap_add_table(ui, table);
}

// Replaces a string cell only when its text changed: a re-rendered row
// usually differs in one or two cells.
void set_string_cell(stat_tap_table* table, guint row, guint col, const char* text) {
    stat_tap_table_item_type* item = stat_tap_get_field_data(table, row, col);
    char* old = const_cast<char*>(item->value.string_value);
    if (old && std::strcmp(old, text) == 0) return;
    if (old && !is_shared_text(old)) {
        const size_t n = std::strlen(text);
        if (std::strlen(old) == n && !shared_text(text)) {  // e.g. an ESP packet count that kept its digits
            std::memcpy(old, text, n);
            return;
        }
    }
    free_cell_text(old);
    item->value.string_value = new_cell_text(text);
}

// Remembers where the ESP cells' texts are (after the table items changed).
void note_esp_cells(stat_tap_table* table, RowState& rs) {
    for (int i = 0; i < 2; ++i) {
        const char* text = stat_tap_get_field_data(table, rs.row - 1, natt::kColEspOut + i)->value.string_value;
        rs.esp[i] = text && !is_shared_text(text) ? const_cast<char*>(text) : nullptr;  // "-" is not ours to write
    }
}

// Adds one to the decimal count that ends before text[end]; false when that
// needs another digit (all nines: the cell is then rendered again).
bool increment_count(char* text, uint16_t end) {
    for (uint16_t p = end; p-- > 0;) {
        if (text[p] == '(') return false;
        if (text[p] != '9') {
            text[p]++;
            return true;
        }
        text[p] = '0';
    }
    return false;
}

void set_findings(stat_tap_table* table, RowState& rs) {
    if (rs.findings == rs.finding_frames) return;
    rs.findings = rs.finding_frames;
    stat_tap_get_field_data(table, rs.row - 1, natt::kColFindings)->value.uint_value = rs.finding_frames;
}

// Counts a tapped frame in the row's counters. Returns the index in rs.spis
// of the SPI counted, or -1 (no ESP counted, or a new SPI: its cell needs
// rendering).
int count_frame(RowState& rs, const TapRecord& rec) {
    if (rec.finding) rs.finding_frames++;
    if (!rec.counted) return -1;
    const auto kind = static_cast<natt::DatagramKind>(rec.kind);
    const auto dir = static_cast<natt::Direction>(rec.dir);
    if (dir == natt::Direction::Unknown) return -1;
    if (kind == natt::DatagramKind::Keepalive) {
        rs.keepalives[static_cast<int>(dir)].add(rec.frame, rec.time_ns);
    } else if (kind == natt::DatagramKind::EspInUdp || kind == natt::DatagramKind::RawEsp) {
        for (size_t k = 0; k < rs.spis.size(); ++k) {
            natt::SpiCount& c = rs.spis[k];
            if (c.spi == rec.esp_spi && c.dir == dir) {
                c.packets++;
                return static_cast<int>(k);
            }
        }
        // Bounded as the model's SPIs per SA are.
        if (rs.spis.size() < natt::kMaxSpisPerSa) rs.spis.push_back(natt::SpiCount{rec.esp_spi, dir, 0, 1});
    }
    return -1;
}

// The counting cells of a freshly rendered row, from the row's counters.
void counted_cells(RowState& rs, natt::SaTableRow* r) {
    natt::render_spi_counts(rs.spis, natt::Direction::FromInitiator, &r->cells[natt::kColEspOut]);
    natt::render_spi_counts(rs.spis, natt::Direction::FromResponder, &r->cells[natt::kColEspIn]);
    r->cells[natt::kColKeepalivesOut] = natt::render_keepalives(rs.keepalives[1]);
    r->cells[natt::kColKeepalivesIn] = natt::render_keepalives(rs.keepalives[2]);
    r->numbers[natt::kColFindings] = rs.finding_frames;
}

// Refreshes the cells that a frame of this kind can change: an ESP frame
// changes only its SPI's count (incremented in the cell's text while it keeps
// its digits) and possibly the findings, a keepalive only its direction's
// series; anything else the identity or state cells, each group only when
// what it shows changed.
void update_row(stat_tap_table* table, RowState& rs, const natt::IkeSa& sa, const TapRecord& rec, int spi) {
    const guint row = rs.row - 1;
    const auto kind = static_cast<natt::DatagramKind>(rec.kind);
    const auto dir = static_cast<natt::Direction>(rec.dir);
    const bool outbound = dir == natt::Direction::FromInitiator;
    const bool counting = kind == natt::DatagramKind::EspInUdp || kind == natt::DatagramKind::RawEsp ||
                          kind == natt::DatagramKind::Keepalive;
    if (counting && (!rec.counted || dir == natt::Direction::Unknown)) {  // a copy: counted once, elsewhere
        set_findings(table, rs);
        return;
    }
    if (kind == natt::DatagramKind::EspInUdp || kind == natt::DatagramKind::RawEsp) {
        const int i = outbound ? 0 : 1;
        const uint16_t end = spi >= 0 ? rs.spis[static_cast<size_t>(spi)].text_end : 0;
        if (end && rs.esp[i] && increment_count(rs.esp[i], end)) {
            set_findings(table, rs);
            return;
        }
        static std::string spis;  // the tap runs on one thread; no longjmp between here and its use
        natt::render_spi_counts(rs.spis, dir, &spis);
        set_string_cell(table, row, natt::kColEspOut + i, spis.c_str());
        note_esp_cells(table, rs);
    } else if (kind == natt::DatagramKind::Keepalive) {
        set_string_cell(table, row, outbound ? natt::kColKeepalivesOut : natt::kColKeepalivesIn,
                        natt::render_keepalives(rs.keepalives[static_cast<int>(dir)]).c_str());
    } else {
        const uint64_t identity = natt::sa_identity_key(sa);
        const uint64_t state = natt::sa_state_key(sa);
        const bool with_identity = identity != rs.identity;
        const bool with_state = state != rs.state;
        rs.identity = identity;
        rs.state = state;
        if (with_identity || with_state) {
            natt::SaTableRow r;
            if (with_identity) r = natt::render_sa_row(sa, true);
            else natt::render_sa_state_cells(sa, &r);
            for (guint f = 0; f < kNumFields; ++f) {
                if (!(with_identity && natt::is_identity_column(f)) && !natt::is_state_column(f)) continue;
                if (sa_fields[f].type == TABLE_ITEM_UINT)
                    stat_tap_get_field_data(table, row, f)->value.uint_value = r.numbers[f];
                else
                    set_string_cell(table, row, f, r.cells[f].c_str());
            }
        }
    }
    set_findings(table, rs);
}

tap_packet_status sa_table_packet(void* tapdata, packet_info*, epan_dissect_t*, const void* data, tap_flags_t) {
    const natt::IkeSa* sa = tapped_sa(data);
    if (!sa) return TAP_PACKET_DONT_REDRAW;
    stat_tap_table* table = first_table(tapdata);
    if (row_of_sa.size() < sa->number) row_of_sa.resize(sa->number);
    RowState& rs = row_of_sa[sa->number - 1];
    const auto& rec = *static_cast<const TapRecord*>(data);
    const int spi = count_frame(rs, rec);
    if (rs.row) {
        update_row(table, rs, *sa, rec, spi);
    } else {
        rs.row = table->num_elements + 1;
        natt::SaTableRow r = natt::render_sa_row(*sa);
        counted_cells(rs, &r);
        write_row(table, rs.row - 1, sa_fields, kNumFields, r.cells, r.numbers);
        rs.findings = rs.finding_frames;
        rs.identity = natt::sa_identity_key(*sa);
        rs.state = natt::sa_state_key(*sa);
        note_esp_cells(table, rs);
    }
    return TAP_PACKET_REDRAW;
}

void sa_table_reset(stat_tap_table* table) {
    clear_table(table);
    row_of_sa.clear();
}

stat_tap_table_ui sa_table_ui;

}  // namespace

void register_sa_table(void) {
    register_table(&sa_table_ui, "IPsec NAT-T SAs (all columns)", "natt,sa", REGISTER_PACKET_STAT_GROUP_UNSORTED,
                   table_init_adapter<table_init_ret, sa_table_init>,
                   sa_table_packet, sa_table_reset, sa_fields, kNumFields);
}

}  // namespace natt_glue
