// natt: registration functions shared by the plugin entry point and the
// dissector/tap glue.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

void proto_register_natt(void);
void proto_reg_handoff_natt(void);

#ifdef __cplusplus
}
#endif
