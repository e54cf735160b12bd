// natt: the compact IKE SA table of the GUI's Statistics menu ("IPsec NAT-T
// SAs"; tshark -z natt,brief[,filter]): the columns that fit the dialog's
// default width. The full table is -z natt,sa ("IPsec NAT-T SAs (all
// columns)"). The counting columns count the tapped frames (those the
// table's filter passed), as in the full table.

#include <string>
#include <vector>

#include <epan/packet.h>
#include <epan/stat_tap_ui.h>
#include <epan/tap.h>

#include "../tap/sa_table.h"
#include "stat_tables.h"

namespace natt_glue {

namespace {

stat_tap_table_item brief_fields[] = {
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "SA", "%3u"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Initiator", "%-21s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Responder", "%-21s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "NAT", "%-10s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "State", "%-11s"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Findings", "%3u"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "ESP", "%-9s"},
};
constexpr guint kNumFields = G_N_ELEMENTS(brief_fields);
static_assert(kNumFields == natt::kBriefColumns, "stat table and BriefRow disagree");

const char kTableName[] = "IPsec NAT-T SAs";

// Per SA (index: SA number - 1): its row, what the identity cells were
// rendered from, and what its tapped frames count.
struct BriefState {
    guint row = 0;  // row index + 1 (0: no row yet)
    uint64_t identity = 0;
    uint8_t state = 0xff, verdict = 0xff;
    uint64_t esp[2] = {0, 0};  // initiator to responder, back
    uint32_t findings = 0;
};
std::vector<BriefState> brief_of_sa;

void brief_table_init(stat_tap_table_ui* ui) {
    if (stat_tap_find_table(ui, kTableName)) return;
    stat_tap_add_table(ui, stat_tap_init_table(kTableName, kNumFields, 0, "natt.sa == %d"));
}

// Counts a tapped frame; true if it changed the ESP cell.
bool count_frame(BriefState& bs, const TapRecord& rec) {
    if (rec.finding) bs.findings++;
    const auto kind = static_cast<natt::DatagramKind>(rec.kind);
    const auto dir = static_cast<natt::Direction>(rec.dir);
    if (!rec.counted || dir == natt::Direction::Unknown ||
        (kind != natt::DatagramKind::EspInUdp && kind != natt::DatagramKind::RawEsp))
        return false;
    bs.esp[dir == natt::Direction::FromInitiator ? 0 : 1]++;
    return true;
}

tap_packet_status brief_table_packet(void* tapdata, packet_info*, epan_dissect_t*, const void* data, tap_flags_t) {
    const natt::IkeSa* sa = tapped_sa(data);
    if (!sa) return TAP_PACKET_DONT_REDRAW;
    stat_tap_table* table = first_table(tapdata);
    if (brief_of_sa.size() < sa->number) brief_of_sa.resize(sa->number);
    BriefState& bs = brief_of_sa[sa->number - 1];
    const bool esp = count_frame(bs, *static_cast<const TapRecord*>(data));
    // The identity cells only when what they show changed (formatting
    // endpoints is the costly part; an ESP frame rarely changes them).
    const uint64_t identity = natt::sa_identity_key(*sa) ^ sa->nat_mappings.size();
    const auto state = static_cast<uint8_t>(sa->state), verdict = static_cast<uint8_t>(sa->nat.verdict);
    if (!bs.row || identity != bs.identity || state != bs.state || verdict != bs.verdict) {
        natt::BriefRow r = natt::render_brief_row(*sa);
        r.cells[natt::kBriefEsp] = natt::brief_packets(bs.esp[0], bs.esp[1]);
        r.numbers[natt::kBriefFindings] = bs.findings;
        if (!bs.row) bs.row = table->num_elements + 1;
        write_row(table, bs.row - 1, brief_fields, kNumFields, r.cells, r.numbers);
        bs.identity = identity;
        bs.state = state;
        bs.verdict = verdict;
        return TAP_PACKET_REDRAW;
    }
    if (esp) {
        stat_tap_table_item_type* item = stat_tap_get_field_data(table, bs.row - 1, natt::kBriefEsp);
        free_cell_text(item->value.string_value);
        item->value.string_value = new_cell_text(natt::brief_packets(bs.esp[0], bs.esp[1]).c_str());
    }
    stat_tap_get_field_data(table, bs.row - 1, natt::kBriefFindings)->value.uint_value = bs.findings;
    return TAP_PACKET_REDRAW;
}

void brief_table_reset(stat_tap_table* table) {
    clear_table(table);
    brief_of_sa.clear();
}

stat_tap_table_ui brief_table_ui;

}  // namespace

void register_brief_sa_table(void) {
    register_table(&brief_table_ui, kTableName, "natt,brief", REGISTER_PACKET_STAT_GROUP_UNSORTED,
                   table_init_adapter<table_init_ret, brief_table_init>, brief_table_packet, brief_table_reset,
                   brief_fields, kNumFields);
}

}  // namespace natt_glue
