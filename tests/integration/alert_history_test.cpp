#include <boost/test/unit_test.hpp>

// Alert events in the history, through the real binary against the fake
// Slack: a late domain's alert is listed by GET /api/v1/alerts/history with
// its delivery per target (sent to one channel, failed to a channel Slack
// does not know, failed to a webhook nobody answers), its recovery too, and
// no entry carries the Slack token or the webhook secret. The list is kept
// across a restart and checks its parameters.

#include "tests/fakes/fake_slack.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(alert_history_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* bot_token = "xoxb-alert-history-secret-7731";
constexpr const char* webhook_secret = "webhook-secret-for-history-0042";

service_options alerting(const fake_slack& slack) {
  auto cfg = default_test_config();
  cfg["apps"]["Planning"]["channels"] = json::array({"C100", "C404"});
  cfg["channels"] = {{"C100", {{"name", "epm-main"}, {"canvas_id", "F100"}}},
                     {"C404", {{"name", "epm-gone"}, {"canvas_id", "F404"}}}};
  cfg["expectations"] = json::array({{{"app", "Planning"},
                                      {"domain", "Actual"},
                                      {"schedule", {{"every_minutes", 0.1}}},
                                      {"grace_minutes", 0}}});
  cfg["settings"]["slack"] = {{"min_update_interval_sec", 0.2}, {"request_timeout_sec", 2}};
  // Port 1 on loopback: nothing listens, every call is "unreachable".
  cfg["settings"]["alerts"] = {{"enabled", true},
                               {"evaluate_interval_sec", 1},
                               {"webhook",
                                {{"url", "http://127.0.0.1:1/hook"},
                                 {"secret", "${HOOK_SECRET}"},
                                 {"max_retries", 1},
                                 {"timeout_sec", 1}}}};
  service_options o;
  o.config = cfg;
  o.env = {{"SLACK_BOT_TOKEN", bot_token},
           {"SLACK_API_URL", slack.api_url()},
           {"HOOK_SECRET", webhook_secret}};
  return o;
}

json alert_history(const service& svc, const std::string& query = "") {
  auto r = svc.reader().get("/api/v1/alerts/history" + query);
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  return r.json();
}

bool has(const json& page, const std::string& event, const std::string& target = "",
         const std::string& channel = "") {
  for (const auto& e : page["entries"])
    if (e["event"] == event && (target.empty() || e["target"] == target)
        && (channel.empty() || e["channel"] == channel))
      return true;
  return false;
}

} // namespace

BOOST_AUTO_TEST_CASE(an_alert_and_its_deliveries_are_in_the_history) {
  fake_slack slack{bot_token};
  slack.edit_contract([](slack_contract& k) { k.unknown_channels.insert("C404"); });
  service svc{alerting(slack)};
  BOOST_REQUIRE(eventually([&] {
    auto page = alert_history(svc);
    return has(page, "opened") && has(page, "sent", "slack", "C100")
           && has(page, "failed", "slack", "C404") && has(page, "failed", "webhook");
  }, 20s));
  auto page = alert_history(svc);
  BOOST_TEST(has(page, "retried", "webhook"));
  for (const auto& e : page["entries"]) {
    BOOST_TEST(e["app"] == "Planning");
    BOOST_TEST(e["domain"] == "Actual");
    // Late first; missed once the next run is due too.
    BOOST_TEST((e["kind"] == "late" || e["kind"] == "missed"));
    BOOST_TEST(e["alert_id"].is_string());
    BOOST_TEST(e["id"].is_string());
    if (e["event"] == "failed" && e["channel"] == "C404") {
      BOOST_TEST(e["message"] == "opened");
      BOOST_TEST(e["detail"].get<std::string>().find("channel_not_found") != std::string::npos);
    }
  }
  const auto text = page.dump();
  BOOST_TEST(text.find(bot_token) == std::string::npos);
  BOOST_TEST(text.find(webhook_secret) == std::string::npos);
  // Newest first, ids falling.
  for (std::size_t i = 1; i < page["entries"].size(); ++i)
    BOOST_TEST(std::stoull(page["entries"][i - 1]["id"].get<std::string>())
               > std::stoull(page["entries"][i]["id"].get<std::string>()));

  // Filters and paging.
  auto failed = alert_history(svc, "?event=failed&target=slack");
  BOOST_REQUIRE_EQUAL(failed["entries"].size(), 1u);
  BOOST_TEST(failed["entries"][0]["channel"] == "C404");
  auto first = alert_history(svc, "?limit=1");
  BOOST_REQUIRE(first["next_cursor"].is_string());
  auto second = alert_history(svc, "?limit=1&cursor=" + first["next_cursor"].get<std::string>());
  BOOST_REQUIRE_EQUAL(second["entries"].size(), 1u);
  BOOST_TEST(second["entries"][0]["id"] == page["entries"][1]["id"]);
  BOOST_TEST(svc.reader().get("/api/v1/alerts/history?event=exploded").status == 400);
  BOOST_TEST(svc.reader().get("/api/v1/alerts/history?target=pager").status == 400);
  BOOST_TEST(svc.reader().get("/api/v1/alerts/history?cursor=zz").status == 400);
  BOOST_TEST(svc.anonymous().get("/api/v1/alerts/history").status == 401);

  // The recovery and its delivery, then a restart keeps them all.
  BOOST_REQUIRE_EQUAL(svc.writer().post("/api/v1/status", update("Planning", "Actual", "OK")).status,
                      200);
  BOOST_REQUIRE(eventually([&] {
    auto p = alert_history(svc, "?limit=1000");
    bool recovery_sent = false;
    for (const auto& e : p["entries"])
      recovery_sent |= e["event"] == "sent" && e["message"] == "recovered";
    return has(p, "recovered") && recovery_sent;
  }, 15s));
  const auto before = alert_history(svc, "?limit=1000")["entries"].size();
  svc.server().kill();
  svc.server().restart();
  BOOST_TEST(alert_history(svc, "?limit=1000")["entries"].size() >= before);
}

BOOST_AUTO_TEST_CASE(expectation_states_are_in_the_history_with_alerts_off) {
  fake_slack slack{bot_token};
  auto options = alerting(slack);
  options.config["settings"]["alerts"] = {{"enabled", false}, {"evaluate_interval_sec", 1}};
  service svc{options};
  BOOST_REQUIRE(eventually([&] {
    return !alert_history(svc, "?event=expectation")["entries"].empty();
  }, 20s));
  auto first = alert_history(svc, "?event=expectation&app=Planning&domain=Actual");
  BOOST_REQUIRE(!first["entries"].empty());
  auto late = first["entries"].back(); // the oldest
  BOOST_TEST(late["kind"] == "late");
  BOOST_TEST(late["alert_id"] == "");
  BOOST_TEST(late["target"].is_null());
  BOOST_TEST(late["detail"].get<std::string>().find("(was on_time)") != std::string::npos,
             late.dump());
  // A push puts it back on time, and that is recorded too; no alert anywhere.
  BOOST_REQUIRE_EQUAL(
    svc.writer().post("/api/v1/status", update("Planning", "Actual", "Loading")).status, 200);
  BOOST_REQUIRE(eventually([&] {
    auto page = alert_history(svc, "?event=expectation");
    return !page["entries"].empty() && page["entries"][0]["kind"] == "on_time";
  }, 15s));
  const auto all = alert_history(svc, "?limit=1000");
  for (const auto& e : all["entries"])
    BOOST_TEST(e["event"] == "expectation", e.dump());
  std::size_t posted = 0;
  slack.edit_contract([&](slack_contract& k) { posted = k.messages.size(); });
  BOOST_TEST(posted == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
