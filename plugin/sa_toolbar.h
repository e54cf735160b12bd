// natt: the GUI toolbar that takes the user from an IKE SA to its frames.
#pragma once

namespace natt_glue {

// From proto_register_natt.
void register_sa_toolbar(int proto);

}  // namespace natt_glue
