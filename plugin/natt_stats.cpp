// natt: the statistics glue. The SA table is a stat-tap-table, so the same
// registration gives `tshark -z natt,sa[,filter]` and the Wireshark GUI's
// Statistics > natt menu entry. Rows are rendered from the model (the
// Analyzer), one row per IKE SA, refreshed when a frame of that SA is tapped.

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <epan/packet.h>
#include <epan/stat_tap_ui.h>
#include <epan/tap.h>

#include "natt.h"
#include "../tap/analyzer.h"
#include "../tap/sa_table.h"

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
// frames of a busy capture (ESP-in-UDP, keepalives) touch one small record
// instead of the table's rows: a 12k-tunnel capture missed the cache on the
// row pointer, the row's items and the cell text of every ESP frame.
struct RowState {
    guint row = 0;          // row index + 1 (0: no row yet); rows in order of first tapped frame
    uint32_t findings = 0;  // in the Findings cell
    uint64_t identity = 0;  // sa_identity_key() of the identity cells shown
    // The ESP SPIs cells' texts: the table items' own strings (the items own
    // them), written in place while the length stays.
    char* esp[2] = {nullptr, nullptr};
    size_t esp_len[2] = {0, 0};
};
std::vector<RowState> row_of_sa;

void sa_table_init(stat_tap_table_ui* ui) {
    if (stat_tap_find_table(ui, kTableName)) return;
    stat_tap_table* table = stat_tap_init_table(kTableName, kNumFields, 0, "natt.sa == %d");
    stat_tap_add_table(ui, table);
}

// Texts that many cells share (versions, exchanges, NAT verdicts, states,
// "-", "1/1"): such cells point at one static copy instead of a heap string
// each (a 12k-SA table held ~70k of them). Never written to or freed.
const char* const kSharedTexts[] = {"-",         "?",         "IKEv1",       "IKEv2",   "main",   "aggressive", "other",
                                    "ikev2",     "unverified", "none",       "initiator", "responder", "both", "forced",
                                    "in progress", "established", "failed",   "deleted", "ESP only", "0/0", "0/1",
                                    "1/1",       "1",         "IKE",         "NAT-T"};

const char* shared_text(const char* text) {
    for (const char* s : kSharedTexts)
        if (s[0] == text[0] && std::strcmp(s, text) == 0) return s;
    return nullptr;
}

bool is_shared(const char* p) {
    for (const char* s : kSharedTexts)
        if (p == s) return true;
    return false;
}

char* new_cell_text(const char* text) {
    const char* s = shared_text(text);
    return s ? const_cast<char*>(s) : g_strdup(text);
}

void free_cell_text(const char* p) {
    if (p && !is_shared(p)) g_free(const_cast<char*>(p));
}

void free_row(stat_tap_table* table, guint row) {
    for (guint f = 0; f < table->num_fields; ++f) {
        stat_tap_table_item_type* item = stat_tap_get_field_data(table, row, f);
        if (item->type == TABLE_ITEM_STRING) {
            free_cell_text(item->value.string_value);
            item->value.string_value = nullptr;
        }
    }
}

// Writes row `row` (a new row when it is table->num_elements).
void write_row(stat_tap_table* table, guint row, const stat_tap_table_item* fields, guint nfields,
               const std::string* cells, const uint32_t* numbers) {
    if (row < table->num_elements) free_row(table, row);
    std::vector<stat_tap_table_item_type> items(nfields);
    for (guint f = 0; f < nfields; ++f) {
        items[f] = stat_tap_table_item_type();
        items[f].type = fields[f].type;
        if (fields[f].type == TABLE_ITEM_UINT)
            items[f].value.uint_value = numbers[f];
        else
            items[f].value.string_value = new_cell_text(cells[f].c_str());
    }
    stat_tap_init_table_row(table, row, nfields, items.data());
}

const natt::IkeSa* tapped_sa(const void* data) {
    const auto* rec = static_cast<const NattTapRecord*>(data);
    const natt::Analyzer* model = natt_current_analyzer();
    if (!rec || rec->sa == 0 || !model) return nullptr;
    return model->sa(rec->sa);
}

stat_tap_table* first_table(void* tapdata) {
    auto* stat_data = static_cast<stat_data_t*>(tapdata);
    return g_array_index(stat_data->stat_tap_data->tables, stat_tap_table*, 0);
}

// Replaces a string cell only when its text changed: a re-rendered row
// usually differs in one or two cells.
void set_string_cell(stat_tap_table* table, guint row, guint col, const char* text) {
    stat_tap_table_item_type* item = stat_tap_get_field_data(table, row, col);
    char* old = const_cast<char*>(item->value.string_value);
    if (old && !is_shared(old)) {
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
        rs.esp[i] = text && !is_shared(text) ? const_cast<char*>(text) : nullptr;  // "-" is not ours to write
        rs.esp_len[i] = rs.esp[i] ? std::strlen(rs.esp[i]) : 0;
    }
}

void set_findings(stat_tap_table* table, RowState& rs, const natt::IkeSa& sa) {
    if (rs.findings == sa.finding_count) return;
    rs.findings = sa.finding_count;
    stat_tap_get_field_data(table, rs.row - 1, natt::kColFindings)->value.uint_value = sa.finding_count;
}

// Refreshes the cells that a frame of this kind can change: an ESP frame
// changes only its SPI's counters (and possibly the findings), a keepalive
// only its direction's series; anything else re-renders the row, its
// identity cells only when what they show changed.
void update_row(stat_tap_table* table, RowState& rs, const natt::IkeSa& sa, const NattTapRecord& rec) {
    const guint row = rs.row - 1;
    const auto kind = static_cast<natt::DatagramKind>(rec.kind);
    const auto dir = static_cast<natt::Direction>(rec.dir);
    const bool outbound = dir == natt::Direction::FromInitiator;
    if (dir != natt::Direction::Unknown && kind == natt::DatagramKind::EspInUdp) {
        static std::string spis;  // the tap runs on one thread; no longjmp between here and its use
        natt::render_spis(sa, dir, &spis);
        const int i = outbound ? 0 : 1;
        if (rs.esp[i] && rs.esp_len[i] == spis.size() && spis[0] != '-') {
            std::memcpy(rs.esp[i], spis.data(), spis.size());  // e.g. a packet count that kept its digits
        } else {
            set_string_cell(table, row, natt::kColEspOut + i, spis.c_str());
            note_esp_cells(table, rs);
        }
    } else if (dir != natt::Direction::Unknown && kind == natt::DatagramKind::Keepalive) {
        set_string_cell(table, row, outbound ? natt::kColKeepalivesOut : natt::kColKeepalivesIn,
                        natt::render_keepalives(sa.keepalives[static_cast<int>(dir)]).c_str());
    } else {
        const uint64_t identity = natt::sa_identity_key(sa);
        const bool with_identity = identity != rs.identity;
        rs.identity = identity;
        const natt::SaTableRow r = natt::render_sa_row(sa, with_identity);
        for (guint f = 0; f < kNumFields; ++f) {
            if (!with_identity && natt::is_identity_column(f)) continue;
            if (sa_fields[f].type == TABLE_ITEM_UINT)
                stat_tap_get_field_data(table, row, f)->value.uint_value = r.numbers[f];
            else
                set_string_cell(table, row, f, r.cells[f].c_str());
        }
        rs.findings = sa.finding_count;
        note_esp_cells(table, rs);
        return;
    }
    set_findings(table, rs, sa);
}

tap_packet_status sa_table_packet(void* tapdata, packet_info*, epan_dissect_t*, const void* data, tap_flags_t) {
    const natt::IkeSa* sa = tapped_sa(data);
    if (!sa) return TAP_PACKET_DONT_REDRAW;
    stat_tap_table* table = first_table(tapdata);
    if (row_of_sa.size() < sa->number) row_of_sa.resize(sa->number);
    RowState& rs = row_of_sa[sa->number - 1];
    if (rs.row) {
        update_row(table, rs, *sa, *static_cast<const NattTapRecord*>(data));
    } else {
        rs.row = table->num_elements + 1;
        const natt::SaTableRow r = natt::render_sa_row(*sa);
        write_row(table, rs.row - 1, sa_fields, kNumFields, r.cells, r.numbers);
        rs.findings = sa->finding_count;
        rs.identity = natt::sa_identity_key(*sa);
        note_esp_cells(table, rs);
    }
    return TAP_PACKET_REDRAW;
}

void clear_table(stat_tap_table* table) {
    // Rows are rebuilt by the next tap pass (a retap may use another filter).
    for (guint row = 0; row < table->num_elements; ++row) {
        free_row(table, row);
        g_free(table->elements[row]);
    }
    g_free(table->elements);
    table->elements = nullptr;
    table->num_elements = 0;
}

void sa_table_reset(stat_tap_table* table) {
    clear_table(table);
    row_of_sa.clear();
}

void sa_table_free_item(stat_tap_table*, guint, guint, stat_tap_table_item_type* item) {
    if (item->type != TABLE_ITEM_STRING) return;
    free_cell_text(item->value.string_value);
    item->value.string_value = nullptr;
}

// The init callback returns void up to 4.4 and bool in 4.6.
using table_init_ret = decltype(std::declval<stat_tap_table_ui>().stat_tap_init_cb(nullptr));
template <typename R, void (*Init)(stat_tap_table_ui*)>
R table_init_adapter(stat_tap_table_ui* ui) {
    Init(ui);
    if constexpr (!std::is_void_v<R>) return R(1);
}

tap_param sa_params[] = {{PARAM_FILTER, "filter", "Filter", nullptr, TRUE}};

stat_tap_table_ui sa_table_ui = {
    REGISTER_STAT_GROUP_GENERIC,
    "NAT-T/IKE SAs",
    "natt",
    "natt,sa",
    table_init_adapter<table_init_ret, sa_table_init>,
    sa_table_packet,
    sa_table_reset,
    sa_table_free_item,
    nullptr,
    kNumFields,
    sa_fields,
    G_N_ELEMENTS(sa_params),
    sa_params,
    nullptr,
    0,
};

}  // namespace

// -z natt,mappings: the NAT mappings reconstructed from merged two-sided captures.
stat_tap_table_item map_fields[] = {
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "SA", "%3u"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Peer", "%-9s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Port", "%-5s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Inside", "%-21s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Outside", "%-21s"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Inside frame", "%6u"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Outside frame", "%6u"},
};
constexpr guint kNumMapFields = G_N_ELEMENTS(map_fields);
const char kMapTableName[] = "NAT mappings";
std::unordered_map<uint64_t, guint> row_of_mapping;

void map_table_init(stat_tap_table_ui* ui) {
    if (stat_tap_find_table(ui, kMapTableName)) return;
    stat_tap_add_table(ui, stat_tap_init_table(kMapTableName, kNumMapFields, 0, "natt.sa == %d"));
}

tap_packet_status map_table_packet(void* tapdata, packet_info*, epan_dissect_t*, const void* data, tap_flags_t) {
    const natt::IkeSa* sa = tapped_sa(data);
    const natt::Analyzer* model = natt_current_analyzer();
    if (!sa || sa->nat_mappings.empty()) return TAP_PACKET_DONT_REDRAW;
    for (size_t i = 0; i < sa->nat_mappings.size(); ++i) {
        const natt::NatMapping& m = sa->nat_mappings[i];
        const int inside = model->inside_interface(*sa, m);
        const bool second_inside = inside == static_cast<int>(m.second_interface);
        std::string cells[kNumMapFields];
        uint32_t numbers[kNumMapFields] = {};
        numbers[0] = sa->number;
        cells[1] = m.peer == natt::Direction::FromInitiator ? "initiator" : "responder";
        cells[2] = m.natt_port ? "NAT-T" : "IKE";
        cells[3] = (second_inside ? m.second : m.first).to_string() + (inside < 0 ? "?" : "");
        cells[4] = (second_inside ? m.first : m.second).to_string() + (inside < 0 ? "?" : "");
        numbers[5] = second_inside ? m.second_frame : m.first_frame;
        numbers[6] = second_inside ? m.first_frame : m.second_frame;
        stat_tap_table* table = first_table(tapdata);
        const auto key = (static_cast<uint64_t>(sa->number) << 8) | i;
        auto it = row_of_mapping.find(key);
        const guint row = it != row_of_mapping.end() ? it->second : table->num_elements;
        if (it == row_of_mapping.end()) row_of_mapping.emplace(key, row);
        write_row(table, row, map_fields, kNumMapFields, cells, numbers);
    }
    return TAP_PACKET_REDRAW;
}

void map_table_reset(stat_tap_table* table) {
    clear_table(table);
    row_of_mapping.clear();
}


tap_param map_params[] = {{PARAM_FILTER, "filter", "Filter", nullptr, TRUE}};

stat_tap_table_ui map_table_ui = {
    REGISTER_STAT_GROUP_GENERIC,
    "NAT-T/NAT mappings (two-sided captures)",
    "natt",
    "natt,mappings",
    table_init_adapter<table_init_ret, map_table_init>,
    map_table_packet,
    map_table_reset,
    sa_table_free_item,
    nullptr,
    kNumMapFields,
    map_fields,
    G_N_ELEMENTS(map_params),
    map_params,
    nullptr,
    0,
};

// tshark prints the column names unpadded before rows printed with
// field_format: give every column the width of the wider of its name and its
// format, so the table lines up.
static void align_columns(stat_tap_table_item* fields, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const char* fmt = fields[i].field_format;
        const bool left = fmt[1] == '-';
        const int fmt_width = std::atoi(fmt + (left ? 2 : 1));
        const int name_width = static_cast<int>(std::strlen(fields[i].column_name));
        const int width = fmt_width > name_width ? fmt_width : name_width;
        const char conv = fmt[std::strlen(fmt) - 1];  // 's' or 'u'
        fields[i].column_name = g_strdup_printf(left ? "%-*s" : "%*s", width, fields[i].column_name);
        fields[i].field_format = g_strdup_printf(left ? "%%-%d%c" : "%%%d%c", width, conv);
    }
}

void natt_register_stats(void) {
    align_columns(sa_fields, kNumFields);
    align_columns(map_fields, kNumMapFields);
    register_stat_tap_table_ui(&sa_table_ui);
    register_stat_tap_table_ui(&map_table_ui);
}
