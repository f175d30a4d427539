#pragma once

// The alert actor: one open alert per bad domain, told to people in Slack
// (chat.postMessage to the app's alert channel or its channels, follow-ups
// in the alert's thread) and to a generic webhook (JSON POST, HMAC-SHA256
// signature, retries with backoff).
//
// The expectation evaluator tells it, after each evaluation, which domains
// are bad now (alert_conditions). A domain bad without an open alert opens
// one; an open alert whose domain is no longer bad recovers (a follow-up in
// the thread); an open, unacknowledged alert is reminded every
// reminder_hours. The alerts and their events live in <data_dir>/alerts.json
// (durably replaced after each change, by a detached writer), so a restart
// neither repeats an alert nor forgets one. Deliveries run through the
// outbound HTTP client actor and never hold anything else up: a Slack outage
// delays messages, never pushes or the canvas.
//
// PostgreSQL storage (a leader store given): the alerts are the cluster's,
// one document in the leader store. Only the leader's alert actor holds them,
// opens, reminds, recovers and sends (and counts that in /metrics); taking
// the lead it reads the document the last leader wrote, so an open alert
// stays one alert and its recovery goes into the same Slack thread. On a
// follower GET reads the document, and an ack is stored for the leader, which
// takes the stored acks every ack_poll interval and applies them.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/cluster/leader_store.hpp"
#include "actors/common/atoms.hpp"
#include "actors/common/http_client.hpp"
#include "actors/common/text_file_writer.hpp"
#include "actors/history/alert_history.hpp"
#include "common/time_format.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// One domain that is bad now, as the evaluator sees it.
struct alert_condition {
  std::string app;
  std::string domain;
  std::string kind;  ///< "warning", "late", "missed", "overdue", "short"
  std::string cause; ///< in words
  std::vector<std::string> holds; ///< "App/Domain" held downstream because of it
  double reminder_hours = 0;      ///< 0 = no reminders
  /// Held or in maintenance: an open alert stays open, none is opened.
  bool quiet = false;
};

using alert_conditions = std::shared_ptr<const std::vector<alert_condition>>;

/// Counters of the alert actor or the evaluator for /metrics.
struct alert_metrics {
  std::string text; ///< Prometheus text lines
  std::string prometheus() const { return text; }
};

/// The protocol.
using alert_actor = caf::typed_actor<
  /// Every domain that is bad now (all of them, each time).
  caf::reacts_to<alert_atom, alert_conditions>,
  /// GET /api/v1/alerts: {"alerts": [...]} of the open (and acknowledged) ones.
  caf::replies_to<alert_atom>::with<std::string>,
  /// POST /api/v1/alerts/{id}/ack: the alert as JSON; ec::not_found for an
  /// unknown or closed id.
  caf::replies_to<ack_atom, std::string>::with<std::string>,
  /// Timer: a delivery's (re)try is due.
  caf::reacts_to<delivery_due_atom, std::uint64_t>,
  /// From the leader elector (PostgreSQL storage): this instance leads or not.
  caf::reacts_to<leader_atom, bool>,
  /// Timer (leader, PostgreSQL storage): apply the acks other instances
  /// stored; also retries a failed takeover.
  caf::reacts_to<ack_poll_due_atom>,
  /// Counters for /metrics, as Prometheus text lines.
  caf::replies_to<metrics_atom>::with<alert_metrics>>;

/// What the alert actor needs.
struct alert_options {
  std::shared_ptr<const config::service_config> config;
  std::string data_dir;       ///< holds alerts.json
  http_client_actor http;     ///< Slack and the webhook
  text_file_writer_actor writer; ///< null: spawn one for <data_dir>/alerts.json
  alert_history_sink history;    ///< hears of every event; null: none
  /// Wall-clock time at start; alert times move with the actor clock from
  /// here (tests run it on the simulated clock). none = now.
  std::optional<time_point> wall_origin;
  /// PostgreSQL storage: the alerts live here and the actor acts only while
  /// it leads (data_dir and writer unused).
  leader_store_actor store;
};

/// Loads alerts.json (a broken file is moved aside and logged) and spawns the
/// actor; fails when the data dir cannot be read.
caf::expected<alert_actor> spawn_alerts(caf::actor_system& sys, alert_options opts);

/// File name of the alert store inside the data dir.
inline constexpr const char* alerts_file_name = "alerts.json";

/// "sha256=<hex>" of HMAC-SHA256(secret, timestamp + "." + body): the
/// webhook's X-EPMPulse-Signature header.
std::string webhook_signature(const std::string& secret, const std::string& timestamp,
                              const std::string& body);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::alert_conditions)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::alert_metrics)
