#include <boost/test/unit_test.hpp>

// Alerts on a cluster: two instances on one PostgreSQL the test starts
// (tests/support/pg_server.hpp), against the fake Slack over HTTP. Only the
// leader evaluates and sends: a Warning is one chat.postMessage, an ack made
// through the follower holds on the leader, and after kill -9 of the leader
// the new one posts the recovery once, in the same thread.

#include <chrono>

#include "tests/fakes/fake_slack.hpp"
#include "tests/support/pg_server.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(postgres_alerts_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* bot_token = "xoxb-cluster-alerts-7731";

service_options alerting_on(const pg_server& pg, const fake_slack& slack) {
  service_options o;
  o.config["apps"]["Planning"]["channels"] = json::array({"C100"});
  o.config["channels"] = {{"C100", {{"name", "epm-main"}, {"canvas_id", "F100"}}}};
  o.config["settings"]["slack"] = {{"min_update_interval_sec", 0.2}, {"request_timeout_sec", 2}};
  o.config["settings"]["alerts"] = {{"enabled", true}, {"evaluate_interval_sec", 1}};
  o.config["settings"]["storage"] = {{"kind", "postgres"}, {"url", "${EPMPULSE_DATABASE_URL}"}};
  o.env = {{"SLACK_BOT_TOKEN", bot_token},
           {"SLACK_API_URL", slack.api_url()},
           {"EPMPULSE_DATABASE_URL", pg.url()}};
  return o;
}

std::string role_of(const service& svc) {
  auto h = svc.reader().get("/api/v1/health").json();
  if (!h.is_object())
    return "";
  return h.value("checks", json::object()).value("role", std::string{});
}

std::vector<slack_contract::posted_message> messages(fake_slack& slack) {
  std::vector<slack_contract::posted_message> out;
  slack.edit_contract([&](slack_contract& k) { out = k.messages; });
  return out;
}

std::size_t top_level_count(fake_slack& slack) {
  std::size_t n = 0;
  for (const auto& m : messages(slack))
    n += m.thread_ts.empty() ? 1 : 0;
  return n;
}

std::size_t replies_saying(fake_slack& slack, const std::string& words) {
  std::size_t n = 0;
  for (const auto& m : messages(slack))
    n += !m.thread_ts.empty() && m.text.find(words) != std::string::npos ? 1 : 0;
  return n;
}

json open_alerts(const service& svc) {
  auto r = svc.reader().get("/api/v1/alerts");
  return r.status == 200 ? r.json()["alerts"] : json::array();
}

/// epmpulse_expectation_evaluations_total from /metrics (-1 when absent).
long evaluations(const service& svc) {
  auto m = svc.reader().get("/metrics");
  const std::string name = "\nepmpulse_expectation_evaluations_total ";
  auto at = m.body.find(name);
  if (m.status != 200 || at == std::string::npos)
    return -1;
  return std::stol(m.body.substr(at + name.size()));
}

} // namespace

BOOST_AUTO_TEST_CASE(one_alert_per_cluster_ack_on_either_and_recovery_in_its_thread_after_kill_9) {
  pg_server pg;
  fake_slack slack{bot_token};
  service a(alerting_on(pg, slack));
  BOOST_REQUIRE(eventually([&] { return role_of(a) == "leader"; }, 10s));
  service b(alerting_on(pg, slack));
  BOOST_REQUIRE(eventually([&] { return role_of(b) == "follower"; }, 10s));

  // A Warning pushed to the follower: one message, from the leader alone.
  BOOST_REQUIRE_EQUAL(
    b.writer()
      .post("/api/v1/status", update("Planning", "Actual", "Warning", {{"job_id", "CL_1"}}))
      .status,
    200);
  BOOST_REQUIRE(eventually([&] { return top_level_count(slack) == 1; }, 10s));
  const auto seen_a = evaluations(a), seen_b = evaluations(b);
  BOOST_REQUIRE(eventually(
    [&] { return evaluations(a) >= seen_a + 3 && evaluations(b) >= seen_b + 3; }, 15s));
  BOOST_TEST(top_level_count(slack) == 1u);
  const auto top = messages(slack)[0];

  // Both instances list it; the follower reads what the leader stored.
  BOOST_REQUIRE_EQUAL(open_alerts(a).size(), 1u);
  BOOST_REQUIRE(eventually([&] {
    auto list = open_alerts(b);
    return list.size() == 1 && list[0]["threads"].value("C100", "") == top.ts;
  }, 10s));
  auto id = open_alerts(b)[0]["id"].get<std::string>();

  // An ack through the follower holds on the leader (and is told once in the thread).
  auto acked = b.writer().post("/api/v1/alerts/" + id + "/ack", json::object());
  BOOST_REQUIRE_EQUAL(acked.status, 200);
  BOOST_TEST(acked.json()["status"] == "acknowledged");
  BOOST_REQUIRE(eventually([&] {
    auto list = open_alerts(a);
    return list.size() == 1 && list[0]["status"] == "acknowledged";
  }, 10s));
  BOOST_REQUIRE(eventually([&] { return replies_saying(slack, "Acknowledged") == 1; }, 10s));
  BOOST_REQUIRE(eventually([&] {
    auto list = open_alerts(b);
    return list.size() == 1 && list[0]["status"] == "acknowledged";
  }, 10s));

  // kill -9 of the leader: the other takes over the stored alert.
  a.server().kill();
  BOOST_REQUIRE(eventually([&] { return role_of(b) == "leader"; }, 15s, 50ms));
  const auto after_takeover = evaluations(b);
  BOOST_REQUIRE(eventually([&] { return evaluations(b) >= after_takeover + 3; }, 15s));
  BOOST_TEST(top_level_count(slack) == 1u); // no second alert after takeover
  BOOST_TEST(open_alerts(b).size() == 1u);

  BOOST_REQUIRE_EQUAL(
    b.writer()
      .post("/api/v1/status", update("Planning", "Actual", "OK", {{"job_id", "CL_2"}}))
      .status,
    200);
  BOOST_REQUIRE(eventually([&] { return replies_saying(slack, "Recovered") == 1; }, 10s));
  BOOST_REQUIRE(eventually([&] { return open_alerts(b).empty(); }, 10s));
  const auto settled = evaluations(b);
  BOOST_REQUIRE(eventually([&] { return evaluations(b) >= settled + 2; }, 10s));
  BOOST_TEST(replies_saying(slack, "Recovered") == 1u);
  BOOST_TEST(top_level_count(slack) == 1u);
  for (const auto& m : messages(slack))
    if (!m.thread_ts.empty())
      BOOST_TEST(m.thread_ts == top.ts);
}

BOOST_AUTO_TEST_CASE(a_maintenance_window_added_on_one_instance_holds_on_the_other) {
  pg_server pg;
  fake_slack slack{bot_token};
  auto opts = alerting_on(pg, slack);
  // A run every 6 s with no grace: late 6 s after start-up without an update.
  opts.config["expectations"] = json::array({{{"app", "Planning"},
                                              {"domain", "Actual"},
                                              {"schedule", {{"every_minutes", 0.1}}},
                                              {"grace_minutes", 0}}});
  service a(opts);
  BOOST_REQUIRE(eventually([&] { return role_of(a) == "leader"; }, 10s));
  service b(opts);
  BOOST_REQUIRE(eventually([&] { return role_of(b) == "follower"; }, 10s));
  auto added = b.admin().post("/api/v1/maintenance",
                              {{"apps", {"Planning"}}, {"duration_minutes", 10}, {"reason", "patch"}});
  BOOST_REQUIRE_EQUAL(added.status, 201);
  BOOST_TEST(added.json()["id"] == "m-1");
  auto state_on = [](const service& svc) {
    auto d = svc.domain("Planning", "Actual");
    return d.is_object() && d.contains("expectation") ? d["expectation"].value("state", "") : "";
  };
  BOOST_REQUIRE(eventually([&] { return state_on(a) == "maintenance"; }, 10s));
  // Past the time the run would be late: the leader sent nothing.
  BOOST_REQUIRE(eventually([&] { return evaluations(a) >= 9; }, 20s));
  BOOST_TEST(state_on(a) == "maintenance");
  BOOST_TEST(state_on(b) == "maintenance");
  BOOST_TEST(top_level_count(slack) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
