// natt: what the dissector glue shares with the plugin entry point and the
// statistics glue in tap/.
#pragma once

#include <cstdint>

#ifdef __cplusplus
extern "C" {
#endif

void proto_register_natt(void);
void proto_reg_handoff_natt(void);

#ifdef __cplusplus
}

namespace natt {
class Analyzer;
}

// The current file's model (nullptr between files).
const natt::Analyzer* natt_current_analyzer();

// What natt queues on its "natt" tap for every frame it claims.
struct NattTapRecord {
    uint32_t sa;   // SA number, 0: none
    uint8_t kind;  // natt::DatagramKind
    uint8_t dir;   // natt::Direction
};

// tap/ registers the statistics tables (called from proto_register_natt).
void natt_register_stats(void);
#endif
