# Debian package of the natt plugin for the Wireshark this build links against.
#
#   cmake -S . -B build && cmake --build build -j && (cd build && cpack)
#   -> build/natt_<version>_wireshark<X.Y>_<arch>.deb
#
# The package installs natt.so into that Wireshark's system plugin folder
# (pkg-config --variable=plugindir wireshark, + /epan) and depends on the
# package that ships the libwireshark.so.N the build links against (found with
# dpkg -S, so libwireshark16 on Debian 12, libwireshark18 on Debian 13,
# libwireshark19 on sid, whatever the distribution calls it). A plugin loads
# only into the Wireshark X.Y it was built for; the soname pins that.
#
# The packaged file comes from its own install rule in the component
# "natt_deb" (EXCLUDE_FROM_ALL): neither NATT_INSTALL_SYSTEM nor $HOME changes
# what goes into the package, and a plain `cmake --install` never writes into
# the system folder.
#
# Included from the end of the top-level CMakeLists.txt; uses WIRESHARK_*,
# GCRYPT_* and NATT_WS_MAJOR_MINOR from there.

set(NATT_DEB_COMPONENT natt_deb)

# --- where the plugin goes -------------------------------------------------
# plugindir is absolute (/usr/lib/<triplet>/wireshark/plugins/X.Y). Packages
# install under /usr: keep the destination relative to the packaging prefix so
# CPack needs no DESTDIR tricks.
set(_natt_deb_prefix "/usr")
set(_natt_deb_dest "${WIRESHARK_PLUGINDIR}/epan")
string(FIND "${_natt_deb_dest}" "${_natt_deb_prefix}/" _natt_pos)
if(_natt_pos EQUAL 0)
  string(LENGTH "${_natt_deb_prefix}/" _natt_len)
  string(SUBSTRING "${_natt_deb_dest}" ${_natt_len} -1 _natt_deb_dest)
else()
  set(_natt_deb_prefix "/")
  string(REGEX REPLACE "^/" "" _natt_deb_dest "${_natt_deb_dest}")
endif()
install(TARGETS natt
  LIBRARY DESTINATION "${_natt_deb_dest}"
  COMPONENT ${NATT_DEB_COMPONENT}
  EXCLUDE_FROM_ALL)

# --- dependencies: the packages that own the libraries natt.so links to ----
find_program(NATT_DPKG dpkg)
find_program(NATT_DPKG_QUERY dpkg-query)

# natt_deb_owner(<library file> <out package> <out version>)
# Resolves symlinks (libwireshark.so -> .so.18 -> .so.18.0.18) and asks dpkg
# which package ships the file. Tries the /usr-less spelling too (libraries
# registered under /lib on systems before the /usr merge).
function(natt_deb_owner lib out_pkg out_ver)
  set(${out_pkg} "" PARENT_SCOPE)
  set(${out_ver} "" PARENT_SCOPE)
  if(NOT NATT_DPKG OR NOT EXISTS "${lib}")
    return()
  endif()
  get_filename_component(_real "${lib}" REALPATH)
  set(_candidates "${_real}")
  string(REGEX REPLACE "^/usr/" "/" _nousr "${_real}")
  list(APPEND _candidates "${_nousr}")
  foreach(_c IN LISTS _candidates)
    execute_process(COMMAND ${NATT_DPKG} -S "${_c}"
      OUTPUT_VARIABLE _owner RESULT_VARIABLE _rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(_rc EQUAL 0 AND _owner MATCHES "^([^:, ]+)(:[^:]+)?: ")
      set(_pkg "${CMAKE_MATCH_1}")
      execute_process(COMMAND ${NATT_DPKG_QUERY} -W -f=\${Version} "${_pkg}${CMAKE_MATCH_2}"
        OUTPUT_VARIABLE _ver ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
      set(${out_pkg} "${_pkg}" PARENT_SCOPE)
      set(${out_ver} "${_ver}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
endfunction()

# natt_deb_find_lib(<name> <out path> <hint dirs...>): the file the linker
# would take for -l<name> (pkg_check_modules' *_LINK_LIBRARIES first).
function(natt_deb_find_lib name out)
  foreach(_l IN LISTS WIRESHARK_LINK_LIBRARIES GCRYPT_LINK_LIBRARIES)
    if(_l MATCHES "/lib${name}\\.so(\\.[0-9.]+)?$")
      set(${out} "${_l}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  find_library(NATT_DEB_LIB_${name} NAMES ${name} HINTS ${ARGN})
  mark_as_advanced(NATT_DEB_LIB_${name})
  set(${out} "${NATT_DEB_LIB_${name}}" PARENT_SCOPE)
endfunction()

set(NATT_DEB_DEPENDS "")
set(NATT_DEB_WIRESHARK_PACKAGE "")
# libwireshark: the one dependency that pins the Wireshark X.Y. Versioned with
# the upstream version built against (4.0.17-0+deb12u3 -> >= 4.0.17).
natt_deb_find_lib(wireshark _natt_ws_lib ${WIRESHARK_LIBDIR})
natt_deb_owner("${_natt_ws_lib}" NATT_DEB_WIRESHARK_PACKAGE _natt_ws_pkgver)
if(NATT_DEB_WIRESHARK_PACKAGE)
  string(REGEX REPLACE "^[0-9]+:" "" _natt_ws_up "${_natt_ws_pkgver}")
  string(REGEX REPLACE "-[^-]*$" "" _natt_ws_up "${_natt_ws_up}")
  list(APPEND NATT_DEB_DEPENDS "${NATT_DEB_WIRESHARK_PACKAGE} (>= ${_natt_ws_up})")
else()
  message(STATUS "natt: packaging: no dpkg owner for libwireshark (${_natt_ws_lib}); the .deb gets no libwireshark dependency")
endif()
# The other libraries natt.so links directly: libgcrypt (natt_core), glib
# (through wireshark.pc), libstdc++ and libc (the compiler's runtime).
foreach(_name gcrypt glib-2.0)
  natt_deb_find_lib(${_name} _natt_lib ${WIRESHARK_LIBDIR})
  natt_deb_owner("${_natt_lib}" _natt_pkg _natt_ver)
  if(_natt_pkg)
    list(APPEND NATT_DEB_DEPENDS "${_natt_pkg}")
  endif()
endforeach()
foreach(_file libstdc++.so.6 libc.so.6)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=${_file}
    OUTPUT_VARIABLE _natt_rt OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(IS_ABSOLUTE "${_natt_rt}")
    natt_deb_owner("${_natt_rt}" _natt_pkg _natt_ver)
    if(_natt_pkg)
      list(APPEND NATT_DEB_DEPENDS "${_natt_pkg}")
    endif()
  endif()
endforeach()
list(REMOVE_DUPLICATES NATT_DEB_DEPENDS)
list(JOIN NATT_DEB_DEPENDS ", " _natt_deb_depends)

# --- architecture and file name ---------------------------------------------
set(NATT_DEB_ARCH "")
if(NATT_DPKG)
  execute_process(COMMAND ${NATT_DPKG} --print-architecture
    OUTPUT_VARIABLE NATT_DEB_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT NATT_DEB_ARCH)
  set(NATT_DEB_ARCH "${CMAKE_SYSTEM_PROCESSOR}")
endif()

# --- CPack -------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "natt")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "natt")
set(CPACK_PACKAGE_CONTACT "natt maintainers <natt@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Wireshark plugin that makes IPsec NAT Traversal visible")
set(CPACK_PACKAGE_FILE_NAME "natt_${PROJECT_VERSION}_wireshark${NATT_WS_MAJOR_MINOR}_${NATT_DEB_ARCH}")
set(CPACK_PACKAGING_INSTALL_PREFIX "${_natt_deb_prefix}")
set(CPACK_STRIP_FILES ON)
# Only the package's own component, as one package (no component suffixes).
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};${NATT_DEB_COMPONENT};/")

set(CPACK_DEBIAN_PACKAGE_NAME "natt")
set(CPACK_DEBIAN_FILE_NAME "${CPACK_PACKAGE_FILE_NAME}.deb")
set(CPACK_DEBIAN_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "${NATT_DEB_ARCH}")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${_natt_deb_depends}")
set(CPACK_DEBIAN_PACKAGE_ENHANCES "wireshark, tshark")
# CPack takes the synopsis from CPACK_PACKAGE_DESCRIPTION_SUMMARY and indents
# these lines itself (an empty line becomes " .").
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"natt recognises IKE, floated IKE, NAT-T keepalives and ESP-in-UDP on any
UDP port, links them to their IKE SA and port mapping, and adds the natt.*
fields and the -z natt,sa table.

Built for Wireshark ${WIRESHARK_VERSION}; loads only into Wireshark ${NATT_WS_MAJOR_MINOR}.")

include(CPack)

message(STATUS "natt: package ${CPACK_DEBIAN_FILE_NAME} -> ${_natt_deb_prefix}/${_natt_deb_dest}/natt.so, Depends: ${_natt_deb_depends}")
