#include <boost/test/unit_test.hpp>

// EPM's daily maintenance time read through its REST API, end to end: the
// real binary, a fake EPM pod that answers the documented call, the fake
// Slack. A run due inside the window EPM reports reads "maintenance" and
// raises no alert; when EPM cannot be read the configured start stands in,
// health says why, and the run is late and alerted as usual.

#include <ctime>
#include <string>

#include <fmt/format.h>

#include "tests/fakes/fake_epm.hpp"
#include "tests/fakes/fake_slack.hpp"
#include "tests/support/alert_checks.hpp"
#include "tests/support/json_schema.hpp"
#include "tests/support/log_secrets.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(epm_maintenance_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* bot_token = "xoxb-maintenance-secret-7731";
constexpr const char* epm_password = "epm-password-secret-2290";

/// "HH:MM" in UTC, `offset` from now.
std::string utc_hh_mm(std::chrono::minutes offset) {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + offset);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min);
}

struct maintenance_setup {
  fake_epm pod;
  fake_slack slack{bot_token};
  /// The configured start: six hours away, so it holds nothing now.
  std::string configured = utc_hh_mm(std::chrono::hours{6});

  service_options options() const {
    register_secret(epm_password);
    auto cfg = default_test_config();
    cfg["apps"]["Planning"]["server"] = "planning_pod";
    cfg["epm"] = {{"auth", {{"type", "basic"}, {"username", "epm_user"}, {"password", epm_password}}},
                  {"servers",
                   {{"planning_pod",
                     {{"name", "Planning pod"}, {"base_url", pod.base_url()},
                      {"kind", "planning"}, {"application", "Vision"}}}}}};
    cfg["settings"]["pull_mode"] = {{"enabled", true}, {"poll_interval_seconds", 1}};
    // A run every 12 s with no grace: due 12 s after start-up without an update.
    cfg["expectations"] = json::array({{{"app", "Planning"},
                                        {"domain", "Actual"},
                                        {"schedule", {{"every_minutes", 0.2}}},
                                        {"grace_minutes", 0}}});
    cfg["maintenance"] = json::array({{{"name", "Planning pod"},
                                       {"server", "planning_pod"},
                                       {"start", configured},
                                       {"time_zone", "UTC"},
                                       {"duration_minutes", 60}}});
    service_options o;
    o.config = cfg;
    send_alerts_to(o, slack, bot_token);
    return o;
  }
};

std::string expectation_of(const service& svc) {
  return expectation_state_of(svc, "Planning", "Actual");
}

std::string maintenance_health(const service& svc) {
  auto h = svc.anonymous().get("/api/v1/health").json();
  auto checks = h.value("checks", json::object());
  if (!checks.contains("epm_maintenance") || !checks["epm_maintenance"].contains("planning_pod"))
    return "";
  return checks["epm_maintenance"]["planning_pod"].get<std::string>();
}

} // namespace

BOOST_AUTO_TEST_CASE(a_run_due_in_the_window_epm_reports_is_maintenance_and_not_alerted) {
  maintenance_setup setup;
  // EPM says the pod went down five minutes ago (the start in UTC, as the
  // v2 call answers without showTimeZone).
  auto read_start = utc_hh_mm(-std::chrono::minutes{5});
  setup.pod.script_daily_maintenance({epm_reply::daily_maintenance(read_start)});
  service svc{setup.options()};
  BOOST_REQUIRE(eventually([&] { return maintenance_health(svc) == "read " + read_start + " UTC"; },
                           10s));
  BOOST_TEST(setup.pod.daily_maintenance_calls() == 1u);
  auto request = setup.pod.requests().front();
  BOOST_TEST(request.path == "/interop/rest/v2/maintenance/getdailymaintenancestarttime");
  BOOST_TEST(request.headers.count("authorization") == 1u);
  // Past the run's start (12 s): maintenance, not late.
  BOOST_REQUIRE(eventually([&] { return expectation_of(svc) == "maintenance"; }, 20s));
  auto d = svc.domain("Planning", "Actual");
  auto cause = d["expectation"].value("cause", "");
  BOOST_TEST(cause.find("maintenance") != std::string::npos, d.dump());
  // Several evaluations later (one a second) still no alert.
  auto evaluations_now = svc.metric("epmpulse_expectation_evaluations_total").value_or(0);
  BOOST_REQUIRE(eventually(
    [&] {
      return svc.metric("epmpulse_expectation_evaluations_total").value_or(0)
             >= evaluations_now + 3;
    },
    10s));
  BOOST_TEST(expectation_of(svc) == "maintenance");
  BOOST_TEST(slack_posts(setup.slack).size() == 0u);
  BOOST_TEST(open_alerts_of(svc).empty());
}

BOOST_AUTO_TEST_CASE(when_epm_cannot_be_read_the_configured_start_stands_in_and_health_says_why) {
  maintenance_setup setup;
  setup.pod.script_daily_maintenance({epm_reply::http(503)});
  service svc{setup.options()};
  auto expected = "error: EPM answered HTTP 503; using the configured start " + setup.configured
                  + " UTC";
  BOOST_REQUIRE(eventually([&] { return maintenance_health(svc) == expected; }, 10s));
  // The configured window is hours away: the run is late and alerted.
  BOOST_REQUIRE(eventually([&] { return expectation_of(svc) == "late"; }, 20s));
  BOOST_REQUIRE(eventually([&] { return slack_posts(setup.slack).size() == 1u; }, 10s));
  auto m = svc.reader().get("/metrics");
  BOOST_TEST(m.body.find("epmpulse_epm_maintenance_read_ok{server=\"planning_pod\"} 0")
               != std::string::npos);
  BOOST_TEST(m.body.find("epmpulse_epm_maintenance_read_failures_total{server=\"planning_pod\"} 1")
               != std::string::npos);
  // A start that cannot be read is not an outage: the fallback stands in.
  auto health = svc.anonymous().get("/api/v1/health");
  BOOST_TEST(health.json()["status"] == "healthy", health.body);
  // As documented in the OpenAPI document the server serves.
  auto document = svc.anonymous().get("/api/v1/openapi.json").json();
  json_schema_validator openapi{document};
  auto problems = openapi.validate(health.json(), document["components"]["schemas"]["Health"]);
  BOOST_TEST(problems.empty(), "schema violations: " << json(problems).dump());
  // The password that authorised the call is in no answer.
  BOOST_TEST(health.body.find(epm_password) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
