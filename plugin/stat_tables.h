// natt: the statistics tables on natt's tap (tshark -z natt,sa,
// -z natt,brief and -z natt,mappings; the GUI's Statistics menu entries
// "IPsec NAT-T ..."), and the cell and row helpers they share.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include <epan/packet.h>
#include <epan/stat_tap_ui.h>

#include "capture_state.h"

namespace natt_glue {

// Registers both tables (from proto_register_natt).
void register_stat_tables(void);
void register_sa_table(void);
void register_brief_sa_table(void);
void register_mapping_table(void);

// Fills *ui (static storage: Wireshark keeps the pointer) for a table on the
// natt tap with a display filter parameter, lines its columns up and
// registers it.
// group: REGISTER_PACKET_STAT_GROUP_UNSORTED puts it under Statistics in
// the Qt GUI (REGISTER_STAT_GROUP_GENERIC: in no menu of 4.0).
void register_table(stat_tap_table_ui* ui, const char* title, const char* cli_string, register_stat_group_t group,
                    decltype(stat_tap_table_ui::stat_tap_init_cb) init, tap_packet_cb packet,
                    void (*reset)(stat_tap_table*), stat_tap_table_item* fields, size_t nfields);

// The SA a tap record belongs to, or nullptr.
inline const natt::IkeSa* tapped_sa(const void* data) {
    const auto* rec = static_cast<const TapRecord*>(data);
    if (!rec || rec->sa == 0 || !rec->model) return nullptr;
    return rec->model->sa(rec->sa);
}

inline stat_tap_table* first_table(void* tapdata) {
    auto* stat_data = static_cast<stat_data_t*>(tapdata);
    return g_array_index(stat_data->stat_tap_data->tables, stat_tap_table*, 0);
}

// Cell texts that many cells share point at one static copy, never written
// to or freed; other texts are the cell's own heap strings.
const char* shared_text(const char* text);
bool is_shared_text(const char* p);
char* new_cell_text(const char* text);
void free_cell_text(const char* p);

// Writes row `row` (a new row when it is table->num_elements).
void write_row(stat_tap_table* table, guint row, const stat_tap_table_item* fields, guint nfields,
               const std::string* cells, const uint32_t* numbers);
// Drops every row (the next tap pass rebuilds them; a retap may use another filter).
void clear_table(stat_tap_table* table);

// The init callback returns void up to 4.4 and bool in 4.6.
using table_init_ret = decltype(std::declval<stat_tap_table_ui>().stat_tap_init_cb(nullptr));
template <typename R, void (*Init)(stat_tap_table_ui*)>
R table_init_adapter(stat_tap_table_ui* ui) {
    Init(ui);
    if constexpr (!std::is_void_v<R>) return R(1);
}

}  // namespace natt_glue
