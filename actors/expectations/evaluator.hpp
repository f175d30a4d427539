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
//     upstream alert names them) go to the alert actor.
// Time is the actor clock's, anchored to the wall clock at start, so tests
// drive it on the simulated clock.

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
#include "actors/common/atoms.hpp"
#include "actors/expectations/expectation_model.hpp"
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
  /// POST /api/v1/maintenance: adds a window; answers it (with its id).
  caf::replies_to<maintenance_atom, maintenance_request>::with<maintenance_window>,
  /// The latest judgement (after the next evaluation when none yet).
  caf::replies_to<get_atom>::with<expectation_results_ptr>,
  /// Counters for /metrics, as Prometheus text lines.
  caf::replies_to<metrics_atom>::with<alert_metrics>>;

struct evaluator_options {
  std::shared_ptr<const config::service_config> config;
  state_store_actor state;
  alert_actor alerts; ///< null = no alerts
  canvas_marks_listener canvas; ///< null = no canvas marks
  /// Wall-clock time at start (see above); none = now.
  std::optional<time_point> wall_origin;
};

/// Spawns the evaluator and subscribes it to the state.
evaluator_actor spawn_evaluator(caf::actor_system& sys, evaluator_options opts);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::expectation_results_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::maintenance_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::maintenance_window)
