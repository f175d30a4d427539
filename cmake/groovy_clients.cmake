# -- integrations/groovy: one groovy run per test (a JVM start costs seconds) --
# clients.groovy_plain: EpmPulseClient.groovy (JDK HttpClient) against the
#   real server. clients.groovy_epm: epmpulse_rule.groovy's client block run
#   as a business rule over a stand-in of EPM's Connection API that forwards
#   to the real server. Both start servers, so they log into test-logs/ and
#   require server_logs (integration.log_secrets scans them afterwards).
find_program(GROOVY_PROGRAM groovy)
set(groovy_dir ${CMAKE_SOURCE_DIR}/integrations/groovy)
foreach(groovy_test plain epm)
  if(GROOVY_PROGRAM)
    set(groovy_command ${GROOVY_PROGRAM} -cp ${groovy_dir}:${groovy_dir}/tests
        ${groovy_dir}/tests/${groovy_test}_client_test.groovy
        $<TARGET_FILE:epmpulse> ${EPMPULSE_TEST_LOG_DIR} ${groovy_dir})
  else()
    set(groovy_command sh -c "echo 'groovy is not installed: bash scripts/install-deps.sh test' >&2; exit 1")
  endif()
  add_test(NAME clients.groovy_${groovy_test} COMMAND ${groovy_command})
  set_tests_properties(clients.groovy_${groovy_test} PROPERTIES
    TIMEOUT 120 FIXTURES_REQUIRED server_logs)
endforeach()
