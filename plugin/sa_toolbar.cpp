// natt: the "IPsec NAT-T" toolbar of the Qt GUI (View > Additional Toolbars
// in 4.0): a list of the capture's IKE SAs; choosing one applies the display
// filter natt.sa == N, choosing "all frames" clears it. Wireshark's statistics
// dialogs offer no filter action on their rows, so this is the one-step way
// from an SA to its frames.
//
// The list is filled by a tap listener on natt's tap, registered only when a
// GUI answers plugin_if (tshark pays nothing for it).

#include "sa_toolbar.h"

#include <string>

#include <epan/packet.h>
#include <epan/plugin_if.h>
#include <epan/tap.h>

#include "../tap/sa_table.h"
#include "capture_state.h"

namespace natt_glue {

namespace {

ext_toolbar_t* sa_selector = nullptr;
GList* selector_values = nullptr;  // what the GUI's list shows at a file's start (it keeps pointers to them)
uint32_t listed_sas = 0;           // SAs 1..listed_sas are in the list
bool listening = false;

constexpr char kAllFrames[] = "all frames";

GList* initial_values(void) {
    return ext_toolbar_add_val(nullptr, g_strdup("0"), g_strdup(kAllFrames), TRUE);
}

void free_value(gpointer p) {
    auto* v = static_cast<ext_toolbar_value_t*>(p);
    g_free(v->value);
    g_free(v->display);
    g_free(v);
}

void sa_chosen(gpointer, gpointer item_data, gpointer) {
    const auto* v = static_cast<const ext_toolbar_value_t*>(item_data);
    if (!v || !v->value) return;
    const guint64 sa = g_ascii_strtoull(v->value, nullptr, 10);
    if (sa == 0) {
        plugin_if_apply_filter("", TRUE);
        return;
    }
    gchar* filter = g_strdup_printf("natt.sa == %" G_GUINT64_FORMAT, sa);
    plugin_if_apply_filter(filter, TRUE);
    g_free(filter);
}

// Adds SAs up to the tapped one; an SA is described as its first frame shows it.
tap_packet_status list_sa(void*, packet_info*, epan_dissect_t*, const void* data, tap_flags_t) {
    const auto* rec = static_cast<const TapRecord*>(data);
    if (!rec || !rec->model || rec->sa <= listed_sas) return TAP_PACKET_DONT_REDRAW;
    for (uint32_t n = listed_sas + 1; n <= rec->sa; ++n) {
        const natt::IkeSa* sa = rec->model->sa(n);
        if (!sa) continue;
        const std::string peers = natt::brief_peer(*sa, natt::Direction::FromInitiator) + " <-> " +
                                  natt::brief_peer(*sa, natt::Direction::FromResponder);
        gchar* display = g_strdup_printf("SA %u: %s", n, peers.c_str());
        gchar* value = g_strdup_printf("%u", n);
        ext_toolbar_update_data_add_entry(sa_selector, display, value, TRUE);
        // Also in the list a toolbar made later (shown after the file was read) starts from.
        selector_values = ext_toolbar_add_val(selector_values, value, display, FALSE);
        sa_selector->values = selector_values;
    }
    listed_sas = rec->sa;
    return TAP_PACKET_DONT_REDRAW;
}

// Each file starts with an empty list.
void reset_sa_list(void) {
    listed_sas = 0;
    if (!sa_selector) return;
    ws_info_t* info = nullptr;
    plugin_if_get_ws_info(&info);
    if (!info || !info->ws_info_supported) return;  // no GUI
    GList* old = selector_values;
    selector_values = initial_values();
    sa_selector->values = selector_values;
    ext_toolbar_update_data(sa_selector, selector_values, TRUE);
    g_list_free_full(old, free_value);
    if (!listening) {
        GString* err = register_tap_listener("natt", &listed_sas, nullptr, TL_REQUIRES_NOTHING, nullptr, list_sa,
                                             nullptr, nullptr);
        if (err) g_string_free(err, TRUE);
        else listening = true;
    }
}

}  // namespace

void register_sa_toolbar(int) {
    ext_toolbar_t* bar = ext_toolbar_register_toolbar("IPsec NAT-T");
    selector_values = initial_values();
    sa_selector = ext_toolbar_add_entry(bar, EXT_TOOLBAR_SELECTOR, "IKE SA ",  nullptr,
                                        "Show the frames of one IKE SA (display filter natt.sa == N)", FALSE,
                                        selector_values, FALSE, nullptr, sa_chosen, nullptr);
    register_init_routine(reset_sa_list);
}

}  // namespace natt_glue
