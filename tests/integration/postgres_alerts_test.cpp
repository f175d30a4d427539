#include <boost/test/unit_test.hpp>

// Alerts on a cluster: two instances on one PostgreSQL the test starts
// (tests/support/pg_server.hpp), against the fake Slack over HTTP. Only the
// leader evaluates and sends: a Warning is one chat.postMessage, an ack made
// through the follower holds on the leader, and after kill -9 of the leader
// the new one posts the recovery once, in the same thread.

#include <chrono>

#include "tests/fakes/fake_slack.hpp"
#include "tests/support/alert_checks.hpp"
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
  send_alerts_to(o, slack, bot_token);
  o.config["settings"]["storage"] = {{"kind", "postgres"}, {"url", "${EPMPULSE_DATABASE_URL}"}};
  o.env["EPMPULSE_DATABASE_URL"] = pg.url();
  return o;
}

std::string role_of(const service& svc) {
  auto h = svc.reader().get("/api/v1/health").json();
  if (!h.is_object())
    return "";
  return h.value("checks", json::object()).value("role", std::string{});
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
  BOOST_REQUIRE(eventually([&] { return slack_top_level_posts(slack) == 1; }, 10s));
  const auto seen_a = expectation_evaluations(a), seen_b = expectation_evaluations(b);
  BOOST_REQUIRE(eventually(
    [&] { return expectation_evaluations(a) >= seen_a + 3 && expectation_evaluations(b) >= seen_b + 3; }, 15s));
  BOOST_TEST(slack_top_level_posts(slack) == 1u);
  const auto top = slack_posts(slack)[0];

  // Both instances list it; the follower reads what the leader stored.
  BOOST_REQUIRE_EQUAL(open_alerts_of(a).size(), 1u);
  BOOST_REQUIRE(eventually([&] {
    auto list = open_alerts_of(b);
    return list.size() == 1 && list[0]["threads"].value("C100", "") == top.ts;
  }, 10s));
  auto id = open_alerts_of(b)[0]["id"].get<std::string>();

  // An ack through the follower holds on the leader (and is told once in the thread).
  auto acked = b.writer().post("/api/v1/alerts/" + id + "/ack", json::object());
  BOOST_REQUIRE_EQUAL(acked.status, 200);
  BOOST_TEST(acked.json()["status"] == "acknowledged");
  BOOST_REQUIRE(eventually([&] {
    auto list = open_alerts_of(a);
    return list.size() == 1 && list[0]["status"] == "acknowledged";
  }, 10s));
  BOOST_REQUIRE(eventually([&] { return slack_replies_saying(slack, "Acknowledged") == 1; }, 10s));
  BOOST_REQUIRE(eventually([&] {
    auto list = open_alerts_of(b);
    return list.size() == 1 && list[0]["status"] == "acknowledged";
  }, 10s));

  // kill -9 of the leader: the other takes over the stored alert.
  a.server().kill();
  BOOST_REQUIRE(eventually([&] { return role_of(b) == "leader"; }, 15s, 50ms));
  const auto after_takeover = expectation_evaluations(b);
  BOOST_REQUIRE(eventually([&] { return expectation_evaluations(b) >= after_takeover + 3; }, 15s));
  BOOST_TEST(slack_top_level_posts(slack) == 1u); // no second alert after takeover
  BOOST_TEST(open_alerts_of(b).size() == 1u);

  BOOST_REQUIRE_EQUAL(
    b.writer()
      .post("/api/v1/status", update("Planning", "Actual", "OK", {{"job_id", "CL_2"}}))
      .status,
    200);
  BOOST_REQUIRE(eventually([&] { return slack_replies_saying(slack, "Recovered") == 1; }, 10s));
  BOOST_REQUIRE(eventually([&] { return open_alerts_of(b).empty(); }, 10s));
  const auto settled = expectation_evaluations(b);
  BOOST_REQUIRE(eventually([&] { return expectation_evaluations(b) >= settled + 2; }, 10s));
  BOOST_TEST(slack_replies_saying(slack, "Recovered") == 1u);
  BOOST_TEST(slack_top_level_posts(slack) == 1u);
  for (const auto& m : slack_posts(slack))
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
  BOOST_REQUIRE(eventually([&] { return expectation_evaluations(a) >= 9; }, 20s));
  BOOST_TEST(state_on(a) == "maintenance");
  BOOST_TEST(state_on(b) == "maintenance");
  BOOST_TEST(slack_top_level_posts(slack) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
