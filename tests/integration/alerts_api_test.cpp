#include <boost/test/unit_test.hpp>

// Expectations and alerts through the real binary, against the fake Slack
// over HTTP: a domain with no update shows "late" in GET /status and gets one
// Slack message, which a crash and restart do not repeat; its recovery
// replies in the thread; the alert and maintenance endpoints check roles and
// bodies.

#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "tests/fakes/fake_slack.hpp"
#include "tests/support/alert_checks.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(alerts_api_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* bot_token = "xoxb-alerts-secret-5512";

service_options alerting(const fake_slack& slack) {
  service_options o;
  send_alerts_to(o, slack, bot_token);
  // A run every 6 s with no grace: late 6 s after start-up without an update.
  o.config["expectations"] = json::array({{{"app", "Planning"},
                                           {"domain", "Actual"},
                                           {"schedule", {{"every_minutes", 0.1}}},
                                           {"grace_minutes", 0}}});
  return o;
}

std::string expectation_of(const service& svc) {
  return expectation_state_of(svc, "Planning", "Actual");
}

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
}

} // namespace

BOOST_AUTO_TEST_CASE(late_domain_alerts_once_across_a_crash_and_recovers_in_its_thread) {
  fake_slack slack{bot_token};
  service svc{alerting(slack)};
  BOOST_REQUIRE(eventually([&] { return expectation_of(svc) == "on_time"; }, 5s));
  BOOST_REQUIRE(eventually([&] { return expectation_of(svc) == "late"; }, 15s));
  BOOST_REQUIRE(eventually([&] { return slack_top_level_posts(slack) == 1; }, 10s));
  auto alerts = svc.reader().get("/api/v1/alerts");
  BOOST_REQUIRE_EQUAL(alerts.status, 200);
  BOOST_REQUIRE_EQUAL(alerts.json()["alerts"].size(), 1u);
  BOOST_TEST(alerts.json()["alerts"][0]["kind"] == "late");

  // The kill comes once the store on disk holds the message's ts (an alert
  // killed before that is sent again at start-up, by design).
  auto ts = slack_posts(slack)[0].ts;
  BOOST_REQUIRE(eventually([&] {
    std::ifstream in(svc.data_dir() / "alerts.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find(ts) != std::string::npos;
  }, 10s));
  svc.server().kill();
  svc.server().restart();
  // Several evaluations later (each second) the domain is still bad, and
  // still only one message.
  BOOST_REQUIRE(eventually([&] { return expectation_evaluations(svc) >= 3; }, 15s));
  BOOST_TEST(slack_top_level_posts(slack) == 1u);
  BOOST_TEST(svc.reader().get("/api/v1/alerts").json()["alerts"].size() == 1u);

  auto r = svc.writer().post("/api/v1/status", update("Planning", "Actual", "OK"));
  BOOST_REQUIRE_EQUAL(r.status, 200);
  BOOST_REQUIRE(eventually([&] {
    for (const auto& m : slack_posts(slack))
      if (!m.thread_ts.empty() && m.text.find("Recovered") != std::string::npos)
        return true;
    return false;
  }, 10s));
  auto top = slack_posts(slack)[0];
  for (const auto& m : slack_posts(slack))
    if (!m.thread_ts.empty())
      BOOST_TEST(m.thread_ts == top.ts);
  for (const auto& c : slack.calls_to("chat.postMessage"))
    BOOST_TEST(c.authorization == std::string{"Bearer "} + bot_token);
}

BOOST_AUTO_TEST_CASE(ack_needs_a_write_key_and_an_open_alert) {
  fake_slack slack{bot_token};
  service svc{alerting(slack)};
  BOOST_REQUIRE(eventually(
    [&] { return svc.reader().get("/api/v1/alerts").json()["alerts"].size() == 1; }, 15s));
  auto id = svc.reader().get("/api/v1/alerts").json()["alerts"][0]["id"].get<std::string>();
  BOOST_TEST(svc.reader().post("/api/v1/alerts/" + id + "/ack", json::object()).status == 403);
  auto acked = svc.writer().post("/api/v1/alerts/" + id + "/ack", json::object());
  BOOST_REQUIRE_EQUAL(acked.status, 200);
  BOOST_TEST(acked.json()["status"] == "acknowledged");
  auto unknown = svc.writer().post("/api/v1/alerts/a-999/ack", json::object());
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(unknown.json()["error"]["code"] == "NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(maintenance_window_needs_admin_and_a_valid_body) {
  fake_slack slack{bot_token};
  service svc{alerting(slack)};
  json body = {{"apps", {"Planning"}}, {"duration_minutes", 10}, {"reason", "upgrade"}};
  BOOST_TEST(svc.writer().post("/api/v1/maintenance", body).status == 403);
  auto bad = svc.admin().post("/api/v1/maintenance", {{"duration_minutes", -1}});
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(bad.json()["error"]["details"]["field"] == "duration_minutes");
  auto unknown_app = svc.admin().post("/api/v1/maintenance",
                                      {{"apps", {"Nope"}}, {"duration_minutes", 10}});
  BOOST_TEST(unknown_app.status == 400);
  auto ok = svc.admin().post("/api/v1/maintenance", body);
  BOOST_REQUIRE_EQUAL(ok.status, 201);
  BOOST_TEST(ok.json()["id"] == "m-1");
  // Inside the window the overdue run is "maintenance" and nothing is sent.
  BOOST_REQUIRE(eventually([&] { return expectation_of(svc) == "maintenance"; }, 15s));
  BOOST_TEST(slack_top_level_posts(slack) == 0u);
}

BOOST_AUTO_TEST_CASE(maintenance_window_holds_across_a_crash_and_restart) {
  fake_slack slack{bot_token};
  service svc{alerting(slack)};
  auto ok = svc.admin().post("/api/v1/maintenance",
                             {{"apps", {"Planning"}}, {"duration_minutes", 10}, {"reason", "patch"}});
  BOOST_REQUIRE_EQUAL(ok.status, 201);
  auto store = svc.data_dir() / "expectations.json";
  BOOST_REQUIRE(eventually([&] { return file_text(store).find("\"m-1\"") != std::string::npos; },
                           10s));
  struct stat info {};
  BOOST_REQUIRE_EQUAL(::stat(store.c_str(), &info), 0);
  BOOST_TEST((info.st_mode & 0777) == 0600);
  svc.server().kill();
  svc.server().restart();
  // The run is late 6 s after start-up: well past that, still inside the
  // window, and nothing was sent.
  BOOST_REQUIRE(eventually([&] { return expectation_evaluations(svc) >= 9; }, 20s));
  BOOST_TEST(expectation_of(svc) == "maintenance");
  BOOST_TEST(slack_top_level_posts(slack) == 0u);
  // The next window's id follows the stored one.
  auto next = svc.admin().post("/api/v1/maintenance", {{"duration_minutes", 5}});
  BOOST_REQUIRE_EQUAL(next.status, 201);
  BOOST_TEST(next.json()["id"] == "m-2");
}

BOOST_AUTO_TEST_CASE(consecutive_warnings_count_across_a_crash_and_restart) {
  fake_slack slack{bot_token};
  auto opts = alerting(slack);
  opts.config.erase("expectations");
  opts.config["settings"]["alerts"]["alert_after_failures"] = 3;
  service svc{opts};
  for (int i = 1; i <= 2; ++i)
    BOOST_REQUIRE_EQUAL(svc.writer()
                          .post("/api/v1/status", update("Planning", "Actual", "Warning",
                                                         {{"job_id", "RUN_" + std::to_string(i)}}))
                          .status,
                        200);
  auto store = svc.data_dir() / "expectations.json";
  BOOST_REQUIRE(eventually(
    [&] {
      auto doc = json::parse(file_text(store), nullptr, false);
      return doc.is_object() && doc["warnings_in_a_row"].value("Planning/Actual", 0) == 2;
    },
    10s));
  svc.server().kill();
  svc.server().restart();
  BOOST_REQUIRE(eventually([&] { return expectation_evaluations(svc) >= 2; }, 10s));
  BOOST_TEST(slack_top_level_posts(slack) == 0u);
  // The third in a row alerts: the two before the crash were kept.
  BOOST_REQUIRE_EQUAL(
    svc.writer()
      .post("/api/v1/status", update("Planning", "Actual", "Warning", {{"job_id", "RUN_3"}}))
      .status,
    200);
  BOOST_REQUIRE(eventually([&] { return slack_top_level_posts(slack) == 1; }, 10s));
  BOOST_TEST(slack_posts(slack)[0].text.find("3 Warnings in a row") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
