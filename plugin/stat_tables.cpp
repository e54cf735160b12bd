// natt: what the two statistics tables share: cell texts, rows, column widths.

#include "stat_tables.h"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace natt_glue {

namespace {

// Texts that many cells share (versions, exchanges, NAT verdicts, states,
// "-", "1/1"): such cells point at one static copy instead of a heap string
// each.
const char* const kSharedTexts[] = {"-",         "?",         "IKEv1",       "IKEv2",   "main",   "aggressive", "other",
                                    "ikev2",     "unverified", "none",       "initiator", "responder", "both", "forced",
                                    "in progress", "established", "failed",   "deleted", "ESP only", "0/0", "0/1",
                                    "1/1",       "1",         "IKE",         "NAT-T"};

void free_row(stat_tap_table* table, guint row) {
    for (guint f = 0; f < table->num_fields; ++f) {
        stat_tap_table_item_type* item = stat_tap_get_field_data(table, row, f);
        if (item->type == TABLE_ITEM_STRING) {
            free_cell_text(item->value.string_value);
            item->value.string_value = nullptr;
        }
    }
}

}  // namespace

const char* shared_text(const char* text) {
    for (const char* s : kSharedTexts)
        if (s[0] == text[0] && std::strcmp(s, text) == 0) return s;
    return nullptr;
}

bool is_shared_text(const char* p) {
    for (const char* s : kSharedTexts)
        if (p == s) return true;
    return false;
}

char* new_cell_text(const char* text) {
    const char* s = shared_text(text);
    return s ? const_cast<char*>(s) : g_strdup(text);
}

void free_cell_text(const char* p) {
    if (p && !is_shared_text(p)) g_free(const_cast<char*>(p));
}

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

void clear_table(stat_tap_table* table) {
    for (guint row = 0; row < table->num_elements; ++row) {
        free_row(table, row);
        g_free(table->elements[row]);
    }
    g_free(table->elements);
    table->elements = nullptr;
    table->num_elements = 0;
}

namespace {

void free_table_item(stat_tap_table*, guint, guint, stat_tap_table_item_type* item) {
    if (item->type != TABLE_ITEM_STRING) return;
    free_cell_text(item->value.string_value);
    item->value.string_value = nullptr;
}

// tshark prints the column names unpadded before rows printed with
// field_format: give every column the width of the wider of its name and its
// format, so the table lines up.
void align_columns(stat_tap_table_item* fields, size_t n) {
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

tap_param filter_params[] = {{PARAM_FILTER, "filter", "Filter", nullptr, TRUE}};

}  // namespace

void register_table(stat_tap_table_ui* ui, const char* title, const char* cli_string, register_stat_group_t group,
                    decltype(stat_tap_table_ui::stat_tap_init_cb) init, tap_packet_cb packet,
                    void (*reset)(stat_tap_table*), stat_tap_table_item* fields, size_t nfields) {
    align_columns(fields, nfields);
    *ui = stat_tap_table_ui{
        group,
        title,
        "natt",
        cli_string,
        init,
        packet,
        reset,
        free_table_item,
        nullptr,
        nfields,
        fields,
        G_N_ELEMENTS(filter_params),
        filter_params,
        nullptr,
        0,
    };
    register_stat_tap_table_ui(ui);
}

void register_stat_tables(void) {
    // Menu order: the compact SA table first.
    register_brief_sa_table();
    register_sa_table();
    register_mapping_table();
}

}  // namespace natt_glue
