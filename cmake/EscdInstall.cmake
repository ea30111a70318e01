# What `cmake --install build` puts where (prefix /usr/local by default; DESTDIR= for staging):
#   bin/                        escd, esc-sub, esc-train, esc-mqtt, esc-web, esc-proxy
#   share/escd/models/          the shipped checkpoints (*.ckpt, *.pt) and their *.json metadata
#   share/escd/config/          esc-train's model recipes
#   share/doc/escd/README.md
#   lib/systemd/system/         escd.service, escd@.service, esc-mqtt.service, esc-web.service,
#                               esc-proxy.service
#   lib/sysusers.d/escd.conf    the escd system user
#   /etc/escd/                  escd.toml, esc-mqtt.toml and one <model>.env per escd@ instance; an edited file is
#                               never overwritten (the shipped one lands next to it as *.dist)
# escd's compiled-in models directory (ESCD_SHARE_DIR) comes from the same CMAKE_INSTALL_FULL_DATADIR.
set(ESCD_SYSCONF_DIR "/etc/escd" CACHE PATH
    "Where escd.toml and the escd@ environment files are installed (absolute; DESTDIR applies)")
set(ESCD_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "systemd system units, relative to the prefix (systemd also reads /usr/local/lib/systemd/system)")
set(ESCD_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING "sysusers.d files, relative to the prefix")

install(TARGETS escd esc-sub esc-train esc-mqtt esc-web esc-proxy RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Checkpoints by glob, so that a renamed (*.pt) or added model ships without touching this file;
# the training logs and HTML reports stay in the source tree.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/escd/models
        FILES_MATCHING PATTERN "*.ckpt" PATTERN "*.pt" PATTERN "*.json")
install(FILES ${PROJECT_SOURCE_DIR}/config/mamba.toml ${PROJECT_SOURCE_DIR}/config/liquid_s4.toml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/escd/config)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The units, with this build's paths. One sandbox block (systemd/sandbox.conf) serves every unit.
file(READ ${PROJECT_SOURCE_DIR}/systemd/sandbox.conf ESCD_UNIT_SANDBOX)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/systemd/sandbox.conf)
string(STRIP "${ESCD_UNIT_SANDBOX}" ESCD_UNIT_SANDBOX)
set(ESCD_BIN_DIR ${CMAKE_INSTALL_FULL_BINDIR})
set(ESCD_DOC_README ${CMAKE_INSTALL_FULL_DOCDIR}/README.md)
foreach(unit escd.service escd@.service esc-mqtt.service esc-web.service esc-proxy.service)
  configure_file(${PROJECT_SOURCE_DIR}/systemd/${unit}.in ${PROJECT_BINARY_DIR}/systemd/${unit} @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/systemd/${unit} DESTINATION ${ESCD_SYSTEMD_UNIT_DIR})
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/systemd/escd.sysusers DESTINATION ${ESCD_SYSUSERS_DIR} RENAME escd.conf)

# Configuration: never over an edited file (install_config.cmake). The .deb marks the same files
# as conffiles, so dpkg asks instead.
set(ESCD_CONFIG_FILES ${PROJECT_SOURCE_DIR}/config/escd.toml ${PROJECT_SOURCE_DIR}/config/esc-mqtt.toml
    ${PROJECT_SOURCE_DIR}/systemd/mamba.env
    ${PROJECT_SOURCE_DIR}/systemd/liquid_s4.env ${PROJECT_SOURCE_DIR}/systemd/vjepa2.env)
# esc-mqtt.toml may hold the broker's password: 0640 (root:escd where the escd user exists).
set(ESCD_PRIVATE_CONFIG_FILES ${PROJECT_SOURCE_DIR}/config/esc-mqtt.toml)
foreach(file ${ESCD_CONFIG_FILES})
  set(private OFF)
  if(file IN_LIST ESCD_PRIVATE_CONFIG_FILES)
    set(private ON)
  endif()
  install(CODE "set(ESCD_CONFIG_SOURCE \"${file}\")
set(ESCD_CONFIG_PRIVATE ${private})
set(ESCD_CONFIG_DIR \"${ESCD_SYSCONF_DIR}\")
include(\"${PROJECT_SOURCE_DIR}/cmake/install_config.cmake\")")
endforeach()

# On a live system (no DESTDIR, systemd running): create the user and let systemd see the units,
# as the .deb's postinst does.
install(CODE "set(ESCD_CONFIG_DIR \"${ESCD_SYSCONF_DIR}\")
include(\"${PROJECT_SOURCE_DIR}/cmake/install_activate.cmake\")")
