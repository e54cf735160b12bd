// natt: the few Wireshark API differences between 4.0, 4.4 and 4.6, behind
// feature tests rather than version numbers where a feature test exists.
#pragma once

#include <utility>

#include <epan/packet.h>

namespace natt_ws {

// Heuristic dissectors return gboolean in 4.0 and bool from 4.4 on; C++ makes
// the wrong one a hard error, so take the type from the typedef itself.
using heur_result_t = decltype(std::declval<heur_dissector_t>()(nullptr, nullptr, nullptr, nullptr));

}  // namespace natt_ws
