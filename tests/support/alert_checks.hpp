#pragma once

// What the expectation and alert tests of the real binary look at: the
// messages the fake Slack received, a domain's expectation state in GET
// /status, the open alerts; and the settings that send a service's alerts
// to the fake Slack.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakes/fake_slack.hpp"
#include "tests/support/service_fixture.hpp"

namespace epmpulse::test {

/// Every chat.postMessage the fake Slack took, in order.
inline std::vector<slack_contract::posted_message> slack_posts(fake_slack& slack) {
  std::vector<slack_contract::posted_message> out;
  slack.edit_contract([&](slack_contract& k) { out = k.messages; });
  return out;
}

/// The messages that opened a thread (one per alert and channel).
inline std::size_t slack_top_level_posts(fake_slack& slack) {
  std::size_t n = 0;
  for (const auto& m : slack_posts(slack))
    n += m.thread_ts.empty() ? 1 : 0;
  return n;
}

/// Thread replies that contain `words`.
inline std::size_t slack_replies_saying(fake_slack& slack, const std::string& words) {
  std::size_t n = 0;
  for (const auto& m : slack_posts(slack))
    n += !m.thread_ts.empty() && m.text.find(words) != std::string::npos ? 1 : 0;
  return n;
}

/// The domain's `expectation.state` in GET /api/v1/status/{app} ("" when the
/// request fails or the domain has none).
inline std::string expectation_state_of(const service& svc, const std::string& app,
                                        const std::string& domain) {
  auto r = svc.reader().get("/api/v1/status/" + app);
  if (r.status != 200)
    return "";
  auto d = r.json()["domains"][domain];
  return d.contains("expectation") ? d["expectation"]["state"].get<std::string>() : "";
}

/// GET /api/v1/alerts's list (empty when the request fails).
inline nlohmann::json open_alerts_of(const service& svc) {
  auto r = svc.reader().get("/api/v1/alerts");
  return r.status == 200 ? r.json()["alerts"] : nlohmann::json::array();
}

/// epmpulse_expectation_evaluations_total from /metrics (-1 when absent).
inline long expectation_evaluations(const service& svc) {
  return static_cast<long>(svc.metric("epmpulse_expectation_evaluations_total").value_or(-1));
}

/// Planning's channel C100 (canvas F100), quick canvases, alerts evaluated
/// every second, and the bot token and API URL of the fake Slack.
inline void send_alerts_to(service_options& o, const fake_slack& slack,
                           const std::string& bot_token) {
  o.config["apps"]["Planning"]["channels"] = nlohmann::json::array({"C100"});
  o.config["channels"] = {{"C100", {{"name", "epm-main"}, {"canvas_id", "F100"}}}};
  o.config["settings"]["slack"] = {{"min_update_interval_sec", 0.2}, {"request_timeout_sec", 2}};
  o.config["settings"]["alerts"] = {{"enabled", true}, {"evaluate_interval_sec", 1}};
  o.env["SLACK_BOT_TOKEN"] = bot_token;
  o.env["SLACK_API_URL"] = slack.api_url();
}

} // namespace epmpulse::test
