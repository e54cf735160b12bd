// natt: plugin entry points. Wireshark finds these by name with dlsym, so they
// need external C linkage and default visibility.
#include <ws_symbol_export.h>
#include <ws_version.h>

#include <epan/proto.h>

#if defined(__has_include)
#if __has_include(<wsutil/plugins.h>)
#include <wsutil/plugins.h>
#define NATT_HAVE_PLUGIN_DESCRIBE 1
#endif
#endif

#include "natt.h"

#ifndef NATT_VERSION
#define NATT_VERSION "0.0.0"
#endif

extern "C" {

// WS_DLL_PUBLIC carries "extern": without it a namespace-scope const in C++
// has internal linkage and Wireshark silently skips the plugin.
WS_DLL_PUBLIC const char plugin_version[] = NATT_VERSION;
WS_DLL_PUBLIC const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);
#ifdef NATT_HAVE_PLUGIN_DESCRIBE
WS_DLL_PUBLIC uint32_t plugin_describe(void);
#endif

void plugin_register(void) {
    static proto_plugin natt_plugin;
    natt_plugin.register_protoinfo = proto_register_natt;
    natt_plugin.register_handoff = proto_reg_handoff_natt;
    proto_register_plugin(&natt_plugin);
}

#ifdef NATT_HAVE_PLUGIN_DESCRIBE
// wsutil/plugins.h names the flag WS_PLUGIN_DESC_TAP_LISTENER (4.4 and 4.6).
uint32_t plugin_describe(void) { return WS_PLUGIN_DESC_DISSECTOR | WS_PLUGIN_DESC_TAP_LISTENER; }
#endif

}  // extern "C"
