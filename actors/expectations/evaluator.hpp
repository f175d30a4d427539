#pragma once

// The expectation evaluator: judges every configured expectation (see
// expectation_model) on a timer and after each durable change, and acts on
// the result:
//   - the marks go to the state actor, which shows them in GET /status, and
//     to the canvas actor, which shows them on the canvases;
//   - an overdue Loading becomes Warning through the state actor's apply
//     (source system), so it is durable and in the history like any update;
//   - the domains that are bad now (Warning after alert_after_failures
//     consecutive Warnings, late, missed, overdue, short; not held ones, whose
//     upstream alert names them) go to the alert actor;
//   - each change of a domain's expectation state (late, back on time, held,
//     maintenance, …) goes to the history as an alert history entry with
//     event "expectation", whether or not alerts are on (the leader's only).
// Time is the actor clock's, anchored to the wall clock at start, so tests
// drive it on the simulated clock.
//
// Durable: the ad-hoc maintenance windows, the consecutive-Warning counts and
// the expectation states last written to the history (so a restart neither
// repeats one nor misses a change that came while it was down).
// With the JSON file they are in <data_dir>/expectations.json (0600, replaced
// by a detached writer after each change, ended windows pruned). With
// PostgreSQL every instance judges (for the marks its own GET bodies show)
// and counts Warnings from the shared change stream, but only the leader
// applies overdue Warnings, tells the alert actor and writes the counts
// (through the leader store, fenced); the windows are rows any instance adds,
// read again on every timer tick.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/alerts/alerts.hpp"
#include "actors/canvas/canvas_marks.hpp"
#include "actors/cluster/leader_store.hpp"
#include "actors/common/atoms.hpp"
#include "actors/common/text_file_writer.hpp"
#include "actors/expectations/expectation_model.hpp"
#include "actors/pull/maintenance_reader.hpp"
#include "actors/state/state_store.hpp"

namespace epmpulse {

using expectation_results_ptr = std::shared_ptr<const expectation_results>;

/// An ad-hoc maintenance window asked for through the API.
struct maintenance_request {
  std::vector<std::string> apps; ///< empty = every app
  std::optional<time_point> start; ///< none = now
  time_point end{};
  std::string reason;
};

/// The protocol.
using evaluator_actor = caf::typed_actor<
  /// From the state actor: a durable change set.
  caf::reacts_to<changed_atom, change_set>,
  /// Timer: evaluate now.
  caf::reacts_to<evaluate_due_atom>,
  /// POST /api/v1/maintenance: adds a window; answers it (with its id), or
  /// ec::database_unavailable when the shared store did not take it.
  caf::replies_to<maintenance_atom, maintenance_request>::with<maintenance_window>,
  /// From a maintenance reader: the daily maintenance start an EPM server
  /// reported; it replaces the configured start of the windows naming that
  /// server until the next one is read (kept in memory: read again at start).
  caf::reacts_to<maintenance_atom, epm_daily_maintenance>,
  /// The latest judgement (after the next evaluation when none yet).
  caf::replies_to<get_atom>::with<expectation_results_ptr>,
  /// From the leader elector (PostgreSQL storage): this instance leads or not.
  caf::reacts_to<leader_atom, bool>,
  /// Timer: read the leader store again after it failed.
  caf::reacts_to<takeover_due_atom>,
  /// Counters for /metrics, as Prometheus text lines.
  caf::replies_to<metrics_atom>::with<alert_metrics>>;

struct evaluator_options {
  std::shared_ptr<const config::service_config> config;
  state_store_actor state;
  alert_actor alerts; ///< null = no alerts
  canvas_marks_listener canvas; ///< null = no canvas marks
  alert_history_sink history;   ///< null = expectation states not in the history
  /// Wall-clock time at start (see above); none = now.
  std::optional<time_point> wall_origin;
  /// JSON mode: holds expectations.json; "" keeps windows and counts in
  /// memory only (unit tests).
  std::string data_dir;
  /// Null with a data dir: one is spawned for <data_dir>/expectations.json.
  text_file_writer_actor writer;
  /// The document to start from instead of reading the data dir's file.
  std::optional<std::string> saved;
  /// PostgreSQL storage: the shared store; the evaluator then acts only while
  /// the election says it leads (data_dir and writer unused).
  leader_store_actor store;
};

/// File name of the evaluator's store inside the data dir.
inline constexpr const char* expectations_file_name = "expectations.json";

/// Spawns the evaluator and subscribes it to the state (a broken store file
/// is moved aside and logged: its windows and counts are then forgotten).
evaluator_actor spawn_evaluator(caf::actor_system& sys, evaluator_options opts);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::expectation_results_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::maintenance_request)
