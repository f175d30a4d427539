#pragma once

// Alert events in the history: each alert opened, changed, reminded,
// acknowledged and recovered, and each delivery's outcome (sent, retried,
// failed) per target, and each change of a domain's expectation state
// (event "expectation", sent by the expectation evaluator whether or not
// alerts are on; alert_id "" and kind the new state). The senders send one
// entry per event to the history actor, which keeps it durably (SQLite in the data dir, or the
// epm_alert_events table in PostgreSQL mode) for GET /api/v1/alerts/history.
// Entries carry the alert's identity and the outcome's reason, never a
// Slack token, a webhook secret or a webhook URL.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"

#include "common/time_format.hpp"

namespace epmpulse {

struct alert_history_entry {
  std::uint64_t id = 0; ///< given by the history when stored
  time_point at{};
  std::string alert_id;
  std::string app;
  std::string domain;
  std::string kind;  ///< the alert's kind: warning, late, missed, overdue, short (expectation: the new state)
  std::string event; ///< opened, changed, reminded, acknowledged, recovered, sent, retried, failed, expectation
  std::optional<std::string> target;  ///< deliveries: "slack" or "webhook"
  std::optional<std::string> channel; ///< Slack deliveries: the channel
  std::optional<std::string> message; ///< deliveries: which message (opened, reminded, ...)
  std::string detail;                 ///< the cause, or the delivery's reason
};

/// Where the alert actor sends its events (the history actor).
using alert_history_sink = caf::typed_actor<caf::reacts_to<alert_atom, alert_history_entry>>;

/// GET /api/v1/alerts/history; every filter is off when absent.
struct alert_history_query {
  std::optional<std::string> app;
  std::optional<std::string> domain;
  std::optional<std::string> alert_id;
  std::optional<std::string> event;
  std::optional<std::string> target;
  std::optional<time_point> since;
  std::optional<time_point> until;
  std::size_t limit = 100;
  std::optional<std::uint64_t> before_id; ///< newest first, ids below this (a cursor)
};

struct alert_history_page {
  std::vector<alert_history_entry> entries; ///< newest first
  std::optional<std::uint64_t> next;        ///< the id to continue below
};

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::alert_history_entry)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::alert_history_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::alert_history_page)
