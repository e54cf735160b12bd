// natt: the plugin's entry points, called from plugin.cpp.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

void proto_register_natt(void);
void proto_reg_handoff_natt(void);

#ifdef __cplusplus
}
#endif
