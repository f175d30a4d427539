#pragma once

// What the alerts say: the Slack text of each event of an alert, and the
// signed webhook request that carries the same event.

#include <cstdint>
#include <string>

#include "actors/alerts/alert_record.hpp"
#include "actors/common/http_client.hpp"
#include "config/config.hpp"

namespace epmpulse::alerting {

/// "*App / Domain*".
std::string where(const alert_record& a);

/// "42 min", "3 h 5 min".
std::string elapsed_words(time_point from, time_point to);

/// The Slack text of event `what` (opened, changed, reminded, acknowledged,
/// recovered) of `a`, at `now`.
std::string slack_text(const alert_record& a, const std::string& what, time_point now);

/// The webhook's POST for event `what` of `a`: the JSON payload with the
/// Slack text and the alert (without its Slack threads), signed with
/// X-EPMPulse-Timestamp and X-EPMPulse-Signature (webhook_signature).
/// `delivery` numbers the delivery: retries keep its delivery_id.
http_request webhook_request(const config::webhook_settings& w, const alert_record& a,
                             const std::string& what, std::uint64_t delivery, time_point now);

} // namespace epmpulse::alerting
