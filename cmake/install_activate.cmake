# After `cmake --install` onto the running system (no DESTDIR, a prefix systemd reads; not a staging
# directory, CPack or a private prefix): create the escd user from the sysusers.d file, give it
# esc-mqtt.toml's group, and make systemd re-read its units. Nothing is enabled or started: that is `systemctl enable --now escd`.
if("$ENV{DESTDIR}" STREQUAL "" AND CMAKE_INSTALL_PREFIX MATCHES "^/usr(/local)?/?$")
  find_program(sysusers systemd-sysusers)
  if(sysusers)
    execute_process(COMMAND ${sysusers} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(WARNING "systemd-sysusers failed (${rc}); create the escd user (in group audio) yourself")
    endif()
  endif()
  # esc-mqtt.toml (0640, it may hold the broker's password) readable by the escd user: root:escd.
  if(EXISTS "${ESCD_CONFIG_DIR}/esc-mqtt.toml")
    execute_process(COMMAND chgrp escd "${ESCD_CONFIG_DIR}/esc-mqtt.toml" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(WARNING "could not give ${ESCD_CONFIG_DIR}/esc-mqtt.toml to group escd: esc-mqtt cannot read it")
    endif()
  endif()
  if(IS_DIRECTORY /run/systemd/system)
    execute_process(COMMAND systemctl daemon-reload)
  endif()
endif()
