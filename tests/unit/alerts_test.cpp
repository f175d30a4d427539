#include <boost/test/unit_test.hpp>

// The alert actor on simulated time against the contract fake of Slack's
// chat.postMessage and a scripted webhook receiver: one message per bad
// domain, follow-ups in its thread, reminders, acknowledgement, no second
// alert after a restart, retries after 429 and 5xx, and the webhook's
// signature.

#include <memory>
#include <optional>
#include <string>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/alerts/alerts.hpp"
#include "tests/fakes/fake_http_client.hpp"
#include "tests/fakes/slack_contract.hpp"
#include "tests/support/config_parsing.hpp"
#include "tests/support/simulated_system.hpp"
#include "tests/support/temp_dir.hpp"

BOOST_AUTO_TEST_SUITE(alerts_tests)

using namespace epmpulse;
using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* bot_token = "xoxb-alert-test-token-0123456789";
constexpr const char* webhook_secret = "webhook-secret-0123456789";

struct webhook_receiver {
  std::vector<recorded_request> requests;
  std::deque<int> statuses; ///< answers, in order; 200 when empty
};

struct fixture {
  simulated_system sim;
  temp_dir dir;
  slack_workspace workspace{bot_token};
  slack_contract contract{bot_token};
  std::shared_ptr<webhook_receiver> hook = std::make_shared<webhook_receiver>();
  std::shared_ptr<fake_http_log> http_log = std::make_shared<fake_http_log>();
  std::shared_ptr<config::service_config> cfg;
  time_point origin = *parse_time("2026-12-02T06:00:00Z");

  explicit fixture(bool webhook = false) {
    std::string hook_settings =
      webhook ? R"(, "webhook": {"url": "https://hooks.example.com/epmpulse", "secret": ")"
                  + std::string{webhook_secret} + R"("})"
              : "";
    cfg = std::make_shared<config::service_config>(config_parsing::parse_ok(
      R"({"apps": {"Planning": {"domains": ["Actual"], "channels": ["C1"]},
                   "FCCS": {"domains": ["Consolidation"], "channels": ["C1"],
                            "alert_channel": "CALERT"}},
          "channels": {"C1": {"name": "epm"}},
          "settings": {"slack": {"bot_token": ")"
      + std::string{bot_token} + R"(", "max_retries": 2},
                       "alerts": {"enabled": true)"
      + hook_settings + "}}}"));
  }

  http_client_actor client() {
    auto handler = [this](const recorded_request& req) {
      fake_http_answer out;
      if (req.path.rfind("/api/", 0) == 0) {
        auto auth = req.headers.count("authorization") ? req.headers.at("authorization") : "";
        auto c = read_slack_call(req.path.substr(5), auth, req.body);
        auto r = answer_as_slack(contract, workspace, c);
        out.response.status = r.status;
        out.response.body = r.body;
        for (const auto& [k, v] : r.headers) {
          std::string lower = k;
          for (auto& ch : lower)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          out.response.headers[lower] = v;
        }
        return out;
      }
      hook->requests.push_back(req);
      out.response.status = 200;
      if (!hook->statuses.empty()) {
        out.response.status = hook->statuses.front();
        hook->statuses.pop_front();
      }
      out.response.body = "{}";
      return out;
    };
    return spawn_fake_http_client(sim.system(), handler, http_log);
  }

  /// `wall_clock`: the wall time the actor starts at (a restart later).
  alert_actor spawn(std::optional<time_point> wall_clock = {}) {
    cfg->settings.slack.api_url = "https://slack.example.com/api";
    alert_options opts;
    opts.config = cfg;
    opts.data_dir = dir.path().string();
    opts.http = client();
    opts.writer = sim.system().spawn(text_file_writer,
                                     dir.file(alerts_file_name).string(), "the alert store");
    opts.wall_origin = wall_clock.value_or(origin);
    auto a = spawn_alerts(sim.system(), std::move(opts));
    BOOST_REQUIRE(a);
    sim.run();
    return *a;
  }

  void tell(const alert_actor& a, std::vector<alert_condition> conditions) {
    caf::anon_send(a, alert_atom_v,
                   std::make_shared<const std::vector<alert_condition>>(std::move(conditions)));
    sim.run();
  }

  json open_alerts(const alert_actor& a) {
    auto answer = sim.ask<std::string>(a, alert_atom_v);
    BOOST_REQUIRE(answer && *answer);
    return json::parse(**answer)["alerts"];
  }
};

alert_condition late_actual(double reminder_hours = 0) {
  return {"Planning", "Actual", "late", "no update for the start at 01:00", {"FCCS/Consolidation"},
          reminder_hours};
}

} // namespace

BOOST_FIXTURE_TEST_CASE(bad_domain_gets_one_message_and_recovery_replies_in_its_thread, fixture) {
  auto a = spawn();
  tell(a, {late_actual()});
  tell(a, {late_actual()}); // still bad: nothing new
  auto top = contract.top_level("C1");
  BOOST_REQUIRE(top.size() == 1u);
  BOOST_TEST(top[0].text.find("Planning / Actual") != std::string::npos);
  BOOST_TEST(top[0].text.find("late") != std::string::npos);
  BOOST_TEST(top[0].text.find("FCCS/Consolidation") != std::string::npos);
  auto open = open_alerts(a);
  BOOST_REQUIRE(open.size() == 1u);
  BOOST_TEST(open[0]["threads"]["C1"] == top[0].ts);

  tell(a, {});
  auto replies = contract.replies(top[0].ts);
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(replies[0].text.find("Recovered") != std::string::npos);
  BOOST_TEST(open_alerts(a).empty());
}

BOOST_FIXTURE_TEST_CASE(an_app_alert_channel_takes_the_place_of_its_channels, fixture) {
  auto a = spawn();
  tell(a, {{"FCCS", "Consolidation", "warning", "Rule failed", {}, 0}});
  BOOST_TEST(contract.top_level("CALERT").size() == 1u);
  BOOST_TEST(contract.top_level("C1").empty());
}

BOOST_FIXTURE_TEST_CASE(no_second_alert_after_a_restart, fixture) {
  {
    auto a = spawn();
    tell(a, {late_actual()});
    caf::anon_send_exit(a, caf::exit_reason::kill);
    sim.run();
  }
  BOOST_REQUIRE(contract.top_level("C1").size() == 1u);
  auto first_ts = contract.top_level("C1")[0].ts;
  auto again = spawn();
  tell(again, {late_actual()});
  BOOST_TEST(contract.top_level("C1").size() == 1u);
  BOOST_TEST(open_alerts(again).size() == 1u);
  tell(again, {});
  BOOST_TEST(contract.replies(first_ts).size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(reminders_come_in_the_thread_until_acknowledged, fixture) {
  auto a = spawn();
  tell(a, {late_actual(1)});
  auto ts = contract.top_level("C1").at(0).ts;
  sim.advance(30min);
  tell(a, {late_actual(1)});
  BOOST_TEST(contract.replies(ts).empty());
  sim.advance(31min);
  tell(a, {late_actual(1)});
  BOOST_REQUIRE(contract.replies(ts).size() == 1u);
  BOOST_TEST(contract.replies(ts)[0].text.find("Still late") != std::string::npos);

  auto id = open_alerts(a)[0]["id"].get<std::string>();
  auto acked = sim.ask<std::string>(a, ack_atom_v, id);
  BOOST_REQUIRE(acked && *acked);
  BOOST_TEST(json::parse(**acked)["status"] == "acknowledged");
  sim.advance(2h);
  tell(a, {late_actual(1)});
  // The acknowledgement is said once; no reminder after it.
  BOOST_TEST(contract.replies(ts).size() == 2u);
  BOOST_TEST(open_alerts(a).size() == 1u);
  auto unknown = sim.ask<std::string>(a, ack_atom_v, std::string{"a-999"});
  BOOST_REQUIRE(unknown);
  BOOST_TEST(!*unknown);
}

BOOST_FIXTURE_TEST_CASE(a_reminder_due_while_down_is_sent_once_after_the_restart, fixture) {
  {
    auto a = spawn();
    tell(a, {late_actual(1)});
    caf::anon_send_exit(a, caf::exit_reason::kill);
    sim.run();
  }
  auto ts = contract.top_level("C1").at(0).ts;
  // Back 90 minutes later: the hourly reminder is due, and goes out once.
  {
    auto a = spawn(origin + 90min);
    tell(a, {late_actual(1)});
    BOOST_REQUIRE(contract.replies(ts).size() == 1u);
    BOOST_TEST(contract.replies(ts)[0].text.find("Still late") != std::string::npos);
    tell(a, {late_actual(1)});
    BOOST_TEST(contract.replies(ts).size() == 1u);
    caf::anon_send_exit(a, caf::exit_reason::kill);
    sim.run();
  }
  // Another restart within the hour: the reminder was stored, none again.
  auto a = spawn(origin + 120min);
  tell(a, {late_actual(1)});
  BOOST_TEST(contract.replies(ts).size() == 1u);
  BOOST_TEST(contract.top_level("C1").size() == 1u);
  // The next one comes an hour after the last.
  sim.advance(31min);
  tell(a, {late_actual(1)});
  BOOST_TEST(contract.replies(ts).size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(rate_limited_post_waits_for_retry_after, fixture) {
  auto a = spawn();
  workspace.fail_next({"chat.postMessage", 429, "", 5});
  tell(a, {late_actual()});
  BOOST_TEST(contract.top_level("C1").empty());
  sim.advance(4s);
  BOOST_TEST(contract.top_level("C1").empty());
  sim.advance(2s);
  BOOST_TEST(contract.top_level("C1").size() == 1u);
  auto events = open_alerts(a)[0]["events"];
  std::string whats;
  for (const auto& e : events)
    whats += e["event"].get<std::string>() + " ";
  BOOST_TEST(whats == "opened retried sent ");
}

BOOST_FIXTURE_TEST_CASE(channel_not_found_fails_without_retries, fixture) {
  auto a = spawn();
  contract.unknown_channels.insert("C1");
  tell(a, {late_actual()});
  sim.advance(1h);
  auto events = open_alerts(a)[0]["events"];
  BOOST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[1]["event"] == "failed");
  BOOST_TEST(events[1]["detail"].get<std::string>().find("channel_not_found") != std::string::npos);
  BOOST_TEST(http_log->requests.size() == 1u);
}

BOOST_AUTO_TEST_CASE(webhook_signature_is_hmac_sha256_of_timestamp_and_body) {
  // Computed independently: python3 -c "import hmac,hashlib;
  // print(hmac.new(b'webhook-secret-0123456789', b'1767225600.{\"event\":\"opened\"}',
  // hashlib.sha256).hexdigest())"
  BOOST_TEST(webhook_signature(webhook_secret, "1767225600", R"({"event":"opened"})")
             == "sha256=dfe7e4249361d8d83f6856b07b01c55b888c2ecfe7d1bdb42eedd99c466645be");
}

struct webhook_fixture : fixture {
  webhook_fixture() : fixture(true) {}
};

BOOST_FIXTURE_TEST_CASE(webhook_is_signed_and_retried_with_backoff, webhook_fixture) {
  auto a = spawn();
  hook->statuses = {503, 502};
  tell(a, {late_actual()});
  BOOST_REQUIRE(hook->requests.size() == 1u);
  sim.advance(1s);
  BOOST_REQUIRE(hook->requests.size() == 2u);
  sim.advance(1s);
  BOOST_TEST(hook->requests.size() == 2u); // the second wait is 2 s
  sim.advance(1s);
  BOOST_REQUIRE(hook->requests.size() == 3u);
  const auto& req = hook->requests.back();
  auto body = json::parse(req.body);
  BOOST_TEST(body["event"] == "opened");
  BOOST_TEST(body["alert"]["app"] == "Planning");
  BOOST_TEST(req.headers.at("x-epmpulse-signature")
             == webhook_signature(webhook_secret, req.headers.at("x-epmpulse-timestamp"),
                                  req.body));
  BOOST_TEST(req.body.find(webhook_secret) == std::string::npos);
  auto metrics = sim.ask<alert_metrics>(a, metrics_atom_v);
  BOOST_REQUIRE(metrics && *metrics);
  BOOST_TEST((*metrics)->text.find("target=\"webhook\",result=\"retried\"} 2")
             != std::string::npos);
  BOOST_TEST((*metrics)->text.find("target=\"webhook\",result=\"sent\"} 1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
