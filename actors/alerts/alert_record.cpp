#include "actors/alerts/alert_record.hpp"

namespace epmpulse::alerting {

using nlohmann::json;

void add_event(alert_record& a, time_point at, std::string what, std::string detail) {
  a.events.push_back({at, std::move(what), std::move(detail)});
  if (a.events.size() > max_events_per_alert)
    a.events.erase(a.events.begin());
}

json to_json(const alert_record& a, bool with_events) {
  json j = {{"id", a.id},
            {"app", a.app},
            {"domain", a.domain},
            {"kind", a.kind},
            {"cause", a.cause},
            {"holds", a.holds},
            {"status", a.status},
            {"opened", format_time(a.opened)},
            {"recovered", a.recovered ? json(format_time(*a.recovered)) : json(nullptr)},
            {"last_notice", format_time(a.last_notice)},
            {"reminder_hours", a.reminder_hours},
            {"threads", a.threads}};
  if (with_events) {
    json events = json::array();
    for (const auto& e : a.events)
      events.push_back({{"time", format_time(e.at)}, {"event", e.what}, {"detail", e.detail}});
    j["events"] = std::move(events);
  }
  return j;
}

std::optional<alert_record> record_from_json(const json& j) {
  try {
    alert_record a;
    a.id = j.at("id").get<std::string>();
    a.app = j.at("app").get<std::string>();
    a.domain = j.at("domain").get<std::string>();
    a.kind = j.at("kind").get<std::string>();
    a.cause = j.value("cause", "");
    a.holds = j.value("holds", std::vector<std::string>{});
    a.status = j.at("status").get<std::string>();
    auto opened = parse_time(j.at("opened").get<std::string>());
    if (!opened)
      return std::nullopt;
    a.opened = *opened;
    if (j.contains("recovered") && j["recovered"].is_string())
      a.recovered = parse_time(j["recovered"].get<std::string>());
    a.last_notice = parse_time(j.value("last_notice", "")).value_or(a.opened);
    a.reminder_hours = j.value("reminder_hours", 0.0);
    a.threads = j.value("threads", std::map<std::string, std::string>{});
    for (const auto& e : j.value("events", json::array()))
      a.events.push_back({parse_time(e.value("time", "")).value_or(a.opened),
                          e.value("event", ""), e.value("detail", "")});
    return a;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

bool parse_store(const std::string& text, std::vector<alert_record>& out,
                 std::uint64_t& next_id) {
  auto doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("alerts") || !doc["alerts"].is_array())
    return false;
  next_id = doc.value("next_id", std::uint64_t{1});
  bool valid = true;
  for (const auto& j : doc["alerts"])
    if (auto a = record_from_json(j))
      out.push_back(std::move(*a));
    else
      valid = false;
  return valid;
}

std::string store_text(const std::vector<alert_record>& alerts, std::uint64_t next_id) {
  json doc = {{"version", 1}, {"next_id", next_id}, {"alerts", json::array()}};
  for (const auto& a : alerts)
    doc["alerts"].push_back(to_json(a, true));
  return doc.dump(2);
}

} // namespace epmpulse::alerting
