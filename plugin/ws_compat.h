// natt: the few Wireshark API differences between 4.0, 4.4 and 4.6, behind
// feature tests rather than version numbers where a feature test exists.
#pragma once

#include <tuple>
#include <type_traits>
#include <utility>

#include <epan/packet.h>
#include <epan/prefs.h>

namespace natt_ws {

// Heuristic dissectors return gboolean in 4.0 and bool from 4.4 on; C++ makes
// the wrong one a hard error, so take the type from the typedef itself.
using heur_result_t = decltype(std::declval<heur_dissector_t>()(nullptr, nullptr, nullptr, nullptr));

// A boolean preference's variable is a gboolean in 4.0 and a bool from 4.4
// on: take the type from prefs_register_bool_preference's last parameter.
template <typename F>
struct last_param;
template <typename R, typename... A>
struct last_param<R (*)(A...)> {
    using type = std::tuple_element_t<sizeof...(A) - 1, std::tuple<A...>>;
};
using pref_bool_t = std::remove_pointer_t<typename last_param<decltype(&prefs_register_bool_preference)>::type>;

}  // namespace natt_ws

#include <wiretap/wtap.h>

namespace natt_ws {

}  // namespace natt_ws

#include <wiretap/wtap.h>

namespace natt_ws {

// The capture interface of a frame (pcapng IDB index; 0 for pcap).
inline unsigned frame_interface(const packet_info* pinfo) {
    if (pinfo && pinfo->rec && (pinfo->rec->presence_flags & WTAP_HAS_INTERFACE_ID))
        return pinfo->rec->rec_header.packet_header.interface_id;
    return 0;
}

}  // namespace natt_ws
