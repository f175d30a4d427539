# -- make install: the binary, the sample configuration, the systemd unit ------
# Layout under the prefix (deploy/README.md):
#   bin/epmpulse
#   share/epmpulse/apps.json.sample         copy to /etc/epmpulse/apps.json
#   share/epmpulse/epmpulse.env.sample      copy to /etc/epmpulse/epmpulse.env (0600)
#   share/epmpulse/integrations/groovy/     the job-side clients
#   share/doc/epmpulse/                     README.md, deployment.md
#   lib/systemd/system/epmpulse.service     its paths follow the install prefix
#   lib/sysusers.d/epmpulse.conf            the service's system user
include(GNUInstallDirs)
install(TARGETS epmpulse RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/config/apps.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/epmpulse RENAME apps.json.sample)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/epmpulse.env.sample
        DESTINATION ${CMAKE_INSTALL_DATADIR}/epmpulse)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/integrations/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/epmpulse/integrations
        PATTERN "tests" EXCLUDE PATTERN "__pycache__" EXCLUDE)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/deploy/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME deployment.md)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/epmpulse.sysusers
        DESTINATION lib/sysusers.d RENAME epmpulse.conf)
# deploy/epmpulse.service names /usr/local; the installed copy names the
# prefix the install runs with (cmake --install --prefix, make install PREFIX=).
install(CODE "
  file(READ \"${CMAKE_SOURCE_DIR}/deploy/epmpulse.service\" unit)
  string(REPLACE \"/usr/local/\" \"\${CMAKE_INSTALL_PREFIX}/\" unit \"\${unit}\")
  set(unit_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
  message(STATUS \"Installing: \${unit_dir}/epmpulse.service\")
  file(WRITE \"\${unit_dir}/epmpulse.service\" \"\${unit}\")")

# -- deploy tests --------------------------------------------------------------
# deploy.install: a DESTDIR install has every file in place, and the installed
# binary accepts the installed sample configuration (--check-config).
# deploy.unit_verify: an install into a temporary prefix, whose unit names
# that prefix's binary, passes `systemd-analyze verify` without a warning.
find_program(SYSTEMD_ANALYZE_PROGRAM systemd-analyze)
add_test(NAME deploy.install
         COMMAND bash ${CMAKE_SOURCE_DIR}/deploy/tests/install_test.sh ${CMAKE_BINARY_DIR})
add_test(NAME deploy.unit_verify
         COMMAND bash ${CMAKE_SOURCE_DIR}/deploy/tests/unit_verify_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(deploy.install deploy.unit_verify PROPERTIES TIMEOUT 60)
