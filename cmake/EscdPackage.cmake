# `cpack -G DEB` (in the build directory): a .deb of exactly what `cmake --install` installs, under
# the same prefix (escd's models directory is compiled in, so the package must use the build's
# prefix: scripts/package.sh builds one for /usr). Runtime dependencies come from dpkg-shlibdeps on
# the binaries; what it cannot see is listed by hand.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME escd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "escd maintainers <escd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "real-time environmental-sound classification daemon")
set(CPACK_PACKAGE_DESCRIPTION "escd listens to a microphone and classifies the last five seconds into \
the 50 ESC-50 classes with state-space sequence models (Mamba, Liquid-S4), publishing over ZeroMQ. \
Includes esc-sub (a subscriber), esc-mqtt (MQTT and Home Assistant), esc-web (a live view in the browser and \
Prometheus metrics), esc-proxy (many escd through one endpoint), esc-train, the shipped checkpoints \
and systemd units.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION sound)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Absolute destinations (/etc/escd) need the DESTDIR-style staging; the prefix stays the build's.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Not visible to dpkg-shlibdeps: libtorch links the generic libblas.so.3, and only OpenBLAS makes
# it fast (README); the maintainer scripts create the user with systemd-sysusers or adduser.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-pthread, systemd | adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd, alsa-utils")

set(ESCD_SYSUSERS_FILE ${CMAKE_INSTALL_PREFIX}/${ESCD_SYSUSERS_DIR}/escd.conf)
set(ESCD_CONFFILES "")
foreach(file ${ESCD_CONFIG_FILES})
  get_filename_component(name ${file} NAME)
  string(APPEND ESCD_CONFFILES "${ESCD_SYSCONF_DIR}/${name}\n")
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/debian/conffiles "${ESCD_CONFFILES}")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/${script}.in ${PROJECT_BINARY_DIR}/debian/${script} @ONLY)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/debian/conffiles ${PROJECT_BINARY_DIR}/debian/postinst
    ${PROJECT_BINARY_DIR}/debian/prerm ${PROJECT_BINARY_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
