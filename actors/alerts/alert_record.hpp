#pragma once

// The alert actor's records and the form they are stored in: alerts.json,
// or the leader store's "alerts" document with PostgreSQL storage. Only the
// alert actor (actors/alerts/alerts.cpp) and its message texts use them.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/time_format.hpp"

namespace epmpulse::alerting {

/// Events kept per alert (the oldest go first).
inline constexpr std::size_t max_events_per_alert = 50;

struct alert_event {
  time_point at{};
  std::string what; ///< opened, changed, reminded, acknowledged, recovered, sent, retried, failed
  std::string detail;
};

struct alert_record {
  std::string id;
  std::string app;
  std::string domain;
  std::string kind;
  std::string cause;
  std::vector<std::string> holds;
  std::string status = "open"; ///< open | acknowledged | recovered
  time_point opened{};
  std::optional<time_point> recovered;
  time_point last_notice{}; ///< the opening or the last reminder
  double reminder_hours = 0;
  std::map<std::string, std::string> threads; ///< Slack channel -> ts of the opening message
  std::vector<alert_event> events;

  bool is_open() const { return status != "recovered"; }
};

/// Appends an event, dropping the oldest beyond max_events_per_alert.
void add_event(alert_record& a, time_point at, std::string what, std::string detail = {});

/// The record as stored and as GET /api/v1/alerts shows it (`events` only
/// when `with_events`).
nlohmann::json to_json(const alert_record& a, bool with_events);

/// A stored record read back; nullopt when a required field is missing or
/// malformed.
std::optional<alert_record> record_from_json(const nlohmann::json& j);

/// The store's text: {"version": 1, "next_id", "alerts": [...]}.
std::string store_text(const std::vector<alert_record>& alerts, std::uint64_t next_id);

/// The store's text read back; false when it is not one (what could be read
/// is in `out`).
bool parse_store(const std::string& text, std::vector<alert_record>& out,
                 std::uint64_t& next_id);

} // namespace epmpulse::alerting
