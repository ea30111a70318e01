# Installs one configuration file (ESCD_CONFIG_SOURCE) into ESCD_CONFIG_DIR (under DESTDIR) without
# ever replacing a file the administrator edited: if one with different content is there, the
# shipped version is written next to it as <name>.dist and a message says so. ESCD_CONFIG_PRIVATE:
# a file that may hold a secret (esc-mqtt's broker password) gets mode 0640, not 0644 (its group
# becomes escd where that user exists: install_activate.cmake, the .deb's postinst).
get_filename_component(name "${ESCD_CONFIG_SOURCE}" NAME)
if(ESCD_CONFIG_PRIVATE)
  set(permissions OWNER_READ OWNER_WRITE GROUP_READ)
else()
  set(permissions OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
# file(INSTALL) prepends DESTDIR itself; the checks need the real path.
set(dir "${ESCD_CONFIG_DIR}")
set(target "$ENV{DESTDIR}${dir}/${name}")
if(NOT EXISTS "${target}")
  message(STATUS "Installing: ${target}")
  file(INSTALL "${ESCD_CONFIG_SOURCE}" DESTINATION "${dir}" FILE_PERMISSIONS ${permissions})
else()
  file(SHA256 "${ESCD_CONFIG_SOURCE}" shipped)
  file(SHA256 "${target}" installed)
  if(shipped STREQUAL installed)
    message(STATUS "Up-to-date: ${target}")
  else()
    message(STATUS "Keeping edited ${target}; the shipped version is ${target}.dist")
    file(INSTALL "${ESCD_CONFIG_SOURCE}" DESTINATION "${dir}" RENAME "${name}.dist"
         FILE_PERMISSIONS ${permissions})
  endif()
endif()
