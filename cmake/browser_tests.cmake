# -- the dashboard in a real browser (tests/browser/) ----------------------------
# Debian's headless chromium driven by chromedriver's WebDriver HTTP API from
# a Python 3 stdlib script; `scripts/install-deps.sh test` (run by `make test`)
# installs both. Screenshots go to test-artifacts/ in the build tree. Without
# chromium the test fails and says so instead of passing untested.
find_program(EPMPULSE_CHROMIUM NAMES chromium)
find_program(EPMPULSE_CHROMEDRIVER NAMES chromedriver)
set(EPMPULSE_TEST_ARTIFACTS ${CMAKE_BINARY_DIR}/test-artifacts)
if(EPMPULSE_PYTHON3 AND EPMPULSE_CHROMIUM AND EPMPULSE_CHROMEDRIVER)
  add_test(NAME browser.dashboard
           COMMAND ${EPMPULSE_PYTHON3} -B ${CMAKE_SOURCE_DIR}/tests/browser/dashboard_browser_test.py)
else()
  add_test(NAME browser.dashboard
           COMMAND sh -c "echo 'python3, chromium or chromedriver not found: run scripts/install-deps.sh test' >&2; exit 1")
endif()
set_tests_properties(browser.dashboard PROPERTIES
  ENVIRONMENT "EPMPULSE_BINARY=$<TARGET_FILE:epmpulse>;EPMPULSE_TEST_LOG_DIR=${EPMPULSE_TEST_LOG_DIR};EPMPULSE_TEST_ARTIFACTS=${EPMPULSE_TEST_ARTIFACTS};EPMPULSE_CHROMIUM=${EPMPULSE_CHROMIUM};EPMPULSE_CHROMEDRIVER=${EPMPULSE_CHROMEDRIVER};PYTHONDONTWRITEBYTECODE=1"
  FIXTURES_REQUIRED server_logs
  TIMEOUT 180)
