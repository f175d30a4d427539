// The canvas actor's replies (declared with its protocol in canvas.hpp): the
// health its state shows, and the JSON and Prometheus forms the HTTP edge
// sends as they are.

#include <algorithm>

#include <fmt/format.h>

#include "actors/canvas/canvas.hpp"

namespace epmpulse {

using nlohmann::json;

namespace {

json canvas_time_or_null(const std::optional<time_point>& t) {
  return t ? json(format_time(*t)) : json(nullptr);
}

} // namespace

bool sync_reply::all_sent() const {
  return std::all_of(canvases.begin(), canvases.end(),
                     [](const canvas_sync_result& c) { return c.ok; });
}

json sync_reply::to_json() const {
  json list = json::array();
  for (const auto& c : canvases) {
    json entry = {{"channel", c.channel},
                  {"canvas_id", c.canvas_id},
                  {"updated_at", canvas_time_or_null(c.updated_at)},
                  {"ok", c.ok}};
    if (!c.ok)
      entry["error"] = c.error;
    list.push_back(std::move(entry));
  }
  json out = {{"success", all_sent()}};
  if (!canvases.empty()) {
    out["canvas_id"] = canvases.front().canvas_id;
    out["channel"] = canvases.front().channel;
    out["updated_at"] = canvas_time_or_null(canvases.front().updated_at);
  }
  out["canvases"] = std::move(list);
  return out;
}

json preview_reply::to_json() const {
  json list = json::array();
  for (const auto& c : canvases)
    list.push_back({{"channel", c.channel}, {"canvas_id", c.canvas_id}, {"markdown", c.markdown}});
  return {{"success", true}, {"canvases", std::move(list)}};
}

json canvas_health::checks() const {
  json list = json::object();
  for (const auto& c : canvases) {
    list[c.channel] = {{"canvas_id", c.canvas_id},
                       {"status", c.status},
                       {"last_success", canvas_time_or_null(c.last_success)},
                       {"dirty", c.dirty}};
    if (!c.fix.empty())
      list[c.channel]["fix"] = c.fix;
  }
  json out = {{"slack_api", slack_api}, {"canvases", std::move(list)}};
  if (enabled) {
    json a = {{"status", auth.status},         {"workspace", auth.team},
              {"team_id", auth.team_id},       {"url", auth.url},
              {"bot_user", auth.bot_user},     {"bot_user_id", auth.bot_user_id},
              {"bot_id", auth.bot_id},         {"scopes", auth.scopes},
              {"missing_scopes", auth.missing_scopes}};
    if (!auth.fix.empty())
      a["fix"] = auth.fix;
    out["slack_auth"] = std::move(a);
  }
  return out;
}

json canvas_metrics::to_json() const {
  return {{"renders", renders},         {"renders_unchanged", renders_unchanged},
          {"slack_calls", slack_calls}, {"edits", edits},
          {"creates", creates},         {"failures", failures},
          {"retries", retries},         {"rate_limited", rate_limited},
          {"edits_by_channel", edits_by_channel}};
}

std::string canvas_metrics::prometheus() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, v);
  };
  counter("epmpulse_canvas_renders_total", "Canvases rendered for sending.", renders);
  counter("epmpulse_canvas_renders_unchanged_total",
          "Renders identical to what Slack has, not sent.", renders_unchanged);
  counter("epmpulse_slack_calls_total", "Slack Web API calls.", slack_calls);
  counter("epmpulse_slack_failures_total", "Slack calls that failed.", failures);
  counter("epmpulse_slack_retries_total", "Retries after network errors or 5xx.", retries);
  counter("epmpulse_slack_rate_limited_total", "Slack 429 answers.", rate_limited);
  out += "# HELP epmpulse_canvas_edits_total canvases.edit calls per channel.\n"
         "# TYPE epmpulse_canvas_edits_total counter\n";
  for (const auto& [channel, n] : edits_by_channel)
    out += fmt::format("epmpulse_canvas_edits_total{{channel=\"{}\"}} {}\n", channel, n);
  return out;
}

canvas_health canvas_health_of(const canvas_state& st) {
  canvas_health h;
  h.enabled = st.enabled;
  h.slack_api = st.enabled ? "ok" : "disabled";
  h.auth = st.auth;
  // A refused token stops every canvas: it is the Slack API's state. A
  // missing scope that costs a feature degrades the service too.
  if (st.enabled && st.auth.status.rfind("error: ", 0) == 0)
    h.slack_api = st.auth.status;
  if (st.enabled && (h.slack_api != "ok" || !st.auth.missing_scopes.empty()))
    h.degraded = true;
  for (const auto& slot : st.slots) {
    canvas_status c;
    c.channel = slot.channel.id;
    c.canvas_id = slot.channel.canvas_id;
    c.status = st.enabled ? slot.status : "disabled";
    c.fix = st.enabled ? slot.fix : std::string{};
    c.last_success = slot.last_success;
    c.dirty = slot.dirty || slot.busy;
    if (st.enabled && slot.status.rfind("error: ", 0) == 0) {
      if (h.slack_api == "ok")
        h.slack_api = slot.status;
      h.degraded = true;
    }
    if (st.enabled && slot.attempts > 0)
      h.degraded = true;
    h.canvases.push_back(std::move(c));
  }
  return h;
}

} // namespace epmpulse
