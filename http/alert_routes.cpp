#include "http/alert_routes.hpp"

#include <cmath>
#include <variant>

#include <nlohmann/json.hpp>

#include "http/edge.hpp"

namespace epmpulse::http {

using nlohmann::json;

namespace {

constexpr double max_window_minutes = 7 * 24 * 60;

api_error bad_field(const std::string& field, std::string message) {
  return {ec::invalid_request, std::move(message), {{"field", field}}};
}

/// The window a maintenance body asks for, or the error naming its field.
std::variant<maintenance_request, api_error> read_maintenance(const std::string& body,
                                                              const config::service_config& cfg,
                                                              time_point now) {
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return api_error{ec::invalid_request, "The body must be one JSON object.", {}};
  for (const auto& [key, value] : doc.items())
    if (key != "apps" && key != "start" && key != "end" && key != "duration_minutes"
        && key != "reason")
      return bad_field(key, "Unknown field '" + key
                              + "': use apps, start, end, duration_minutes, reason.");
  maintenance_request req;
  if (doc.contains("apps")) {
    if (!doc["apps"].is_array())
      return bad_field("apps", "'apps' must be an array of app names.");
    for (const auto& a : doc["apps"]) {
      if (!a.is_string() || !cfg.find_app(a.get<std::string>()))
        return api_error{ec::invalid_app, "'apps' names an app that is not configured.",
                         {{"field", "apps"}}};
      req.apps.push_back(a.get<std::string>());
    }
  }
  auto read_time = [&](const char* key) -> std::variant<std::optional<time_point>, api_error> {
    if (!doc.contains(key))
      return std::optional<time_point>{};
    auto at = doc[key].is_string() ? parse_time(doc[key].get<std::string>()) : std::nullopt;
    if (!at)
      return bad_field(key, std::string{"'"} + key + "' must be an RFC 3339 time.");
    return at;
  };
  auto start = read_time("start");
  if (auto* err = std::get_if<api_error>(&start))
    return *err;
  auto end = read_time("end");
  if (auto* err = std::get_if<api_error>(&end))
    return *err;
  req.start = std::get<std::optional<time_point>>(start);
  auto from = req.start.value_or(now);
  auto until = std::get<std::optional<time_point>>(end);
  if (doc.contains("duration_minutes")) {
    const auto& d = doc["duration_minutes"];
    if (until || !d.is_number() || d.get<double>() <= 0 || d.get<double>() > max_window_minutes)
      return bad_field("duration_minutes",
                       "Give either 'end' or 'duration_minutes' (more than 0, at most a week).");
    until = from + std::chrono::milliseconds{
                     static_cast<std::int64_t>(std::llround(d.get<double>() * 60'000))};
  }
  if (!until || *until <= from || *until - from > std::chrono::hours{24 * 7})
    return bad_field("end", "The window needs an 'end' (or 'duration_minutes') after its start, "
                            "at most a week later.");
  req.end = *until;
  if (doc.contains("reason")) {
    if (!doc["reason"].is_string() || doc["reason"].get<std::string>().size() > 200)
      return bad_field("reason", "'reason' must be a string of at most 200 characters.");
    req.reason = doc["reason"].get<std::string>();
  }
  return req;
}

} // namespace

void handle_get_alerts(request_scope& scope) {
  if (!scope.services.alerts) {
    scope.out->send(200, R"({"alerts":[],"enabled":false})");
    return;
  }
  scope.services.edge.ask<std::string>(
    scope.out, scope.services.alerts,
    [out = scope.out](std::string& body) { out->send(200, std::move(body)); }, alert_atom_v);
}

void handle_ack_alert(request_scope& scope) {
  if (!scope.services.alerts) {
    scope.out->send_error({ec::unavailable, "Alerts are disabled (settings.alerts.enabled).", {}});
    return;
  }
  scope.services.edge.ask<std::string>(
    scope.out, scope.services.alerts,
    [out = scope.out](std::string& body) { out->send(200, std::move(body)); }, ack_atom_v,
    scope.path_param);
}

void handle_post_maintenance(request_scope& scope) {
  auto parsed = read_maintenance(scope.out->request().body(), *scope.services.config, now_ms());
  if (auto* err = std::get_if<api_error>(&parsed)) {
    scope.out->send_error(*err);
    return;
  }
  scope.services.edge.ask<maintenance_window>(
    scope.out, scope.services.evaluator,
    [out = scope.out](maintenance_window& w) {
      out->send(201, json{{"id", w.id},
                          {"reason", w.name},
                          {"apps", w.apps},
                          {"start", format_time(w.start)},
                          {"end", format_time(w.end)}}
                       .dump());
    },
    maintenance_atom_v, std::move(std::get<maintenance_request>(parsed)));
}

} // namespace epmpulse::http
