// natt: the NAT mappings table (tshark -z natt,mappings[,filter]): the NAT
// mappings reconstructed from merged two-sided captures, per IKE SA.

#include <string>
#include <unordered_map>

#include <epan/packet.h>
#include <epan/stat_tap_ui.h>
#include <epan/tap.h>

#include "stat_tables.h"

namespace natt_glue {

namespace {

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
// (SA number << 8 | mapping index) -> row.
std::unordered_map<uint64_t, guint> row_of_mapping;

void map_table_init(stat_tap_table_ui* ui) {
    if (stat_tap_find_table(ui, kMapTableName)) return;
    stat_tap_add_table(ui, stat_tap_init_table(kMapTableName, kNumMapFields, 0, "natt.sa == %d"));
}

tap_packet_status map_table_packet(void* tapdata, packet_info*, epan_dissect_t*, const void* data, tap_flags_t) {
    const natt::IkeSa* sa = tapped_sa(data);
    if (!sa || sa->nat_mappings.empty()) return TAP_PACKET_DONT_REDRAW;
    const natt::Analyzer& model = *static_cast<const TapRecord*>(data)->model;
    for (size_t i = 0; i < sa->nat_mappings.size(); ++i) {
        const natt::NatMapping& m = sa->nat_mappings[i];
        const int inside = model.inside_side(*sa, m);
        const bool second_inside = inside == static_cast<int>(m.second_side);
        std::string cells[kNumMapFields];
        uint32_t numbers[kNumMapFields] = {};
        numbers[0] = sa->number;
        cells[1] = m.peer == natt::Direction::FromInitiator ? "initiator" : "responder";
        cells[2] = sa->transport == natt::Transport::Tcp ? "TCP" : m.natt_port ? "NAT-T" : "IKE";
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

stat_tap_table_ui map_table_ui;

}  // namespace

void register_mapping_table(void) {
    register_table(&map_table_ui, "IPsec NAT-T Mappings", "natt,mappings",
                   REGISTER_PACKET_STAT_GROUP_UNSORTED,
                   table_init_adapter<table_init_ret, map_table_init>, map_table_packet, map_table_reset, map_fields,
                   kNumMapFields);
}

}  // namespace natt_glue
