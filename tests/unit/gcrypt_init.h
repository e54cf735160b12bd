// Test-side libgcrypt setup. Wireshark initialises libgcrypt before any
// plugin runs; the unit tests and fuzzers use natt_core without Wireshark,
// so they do it themselves before anything hashes (NAT-D, vendor IDs).
#pragma once

#include <gcrypt.h>

namespace natt_test {

inline void init_gcrypt() {
    static const bool ready = [] {
        if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
            gcry_check_version(nullptr);
            gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
            gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
        }
        return true;
    }();
    (void)ready;
}

}  // namespace natt_test
