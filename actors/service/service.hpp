#pragma once

// The service's root: the one owner of the actor system and of the parts
// that run in it. It starts them in order — the history (which the state
// feeds), the state actor (which loads, recovers and replays the state, and
// hands the history what the change log holds), the event hub of the live
// streams, EPM pull mode when configured, the canvas side (disabled,
// previews only, without a Slack token) — and stops them in
// reverse, flushing the state in between, on every path: a part that fails
// to start stops the ones before it the same way a signal does.
//
// The HTTP server is not a part: it lives outside the actors (it depends on
// them, never they on it) and is drained by its owner before stop().

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>

#include "actors/alerts/alerts.hpp"
#include "actors/canvas/canvas.hpp"
#include "actors/expectations/evaluator.hpp"
#include "actors/cluster/leader_elector.hpp"
#include "actors/events/event_hub.hpp"
#include "actors/history/history_store.hpp"
#include "actors/pull/epm_router.hpp"
#include "actors/state/state_store.hpp"
#include "config/config.hpp"

namespace epmpulse {

class service {
public:
  /// Starts every part; on failure the parts already started are stopped
  /// and the error names the part and the reason.
  static caf::expected<std::unique_ptr<service>>
  start(std::shared_ptr<const config::service_config> config, const std::string& data_dir);

  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  caf::actor_system& system() { return *system_; }
  const state_store_actor& state() const { return state_; }
  const canvas_actor& canvas() const { return canvas_; }
  const history_store_actor& history() const { return history_; }
  const event_hub_actor& events() const { return events_; }
  /// Pull mode's router; null when pull mode is off.
  const epm_router_actor& epm() const { return epm_; }
  /// The expectation evaluator.
  const evaluator_actor& evaluator() const { return evaluator_; }
  /// The alert actor; null unless settings.alerts.enabled.
  const alert_actor& alerts() const { return alerts_; }
  /// The leader election; null with the JSON file (one instance leads alone).
  const leader_elector_actor& elector() const { return elector_; }

  /// Stops pull mode (no polled result lands after the flush), makes every
  /// change durable in the JSON file (and in the history), then stops the
  /// live streams, the canvas side, the state and the history. True when the flush succeeded. Later calls do nothing.
  bool stop();

private:
  explicit service(std::shared_ptr<const config::service_config> config);

  /// How long a shutdown waits for the state to be flushed.
  static constexpr std::chrono::seconds flush_timeout{15};

  std::shared_ptr<const config::service_config> config_;
  caf::actor_system_config system_config_;
  std::unique_ptr<caf::actor_system> system_;
  history_store_actor history_;
  state_store_actor state_;
  event_hub_actor events_;
  epm_router_actor epm_;
  canvas_actor canvas_;
  http_client_actor alert_http_;
  alert_actor alerts_;
  evaluator_actor evaluator_;
  leader_store_actor leader_store_; ///< PostgreSQL storage only
  leader_elector_actor elector_;
  std::optional<bool> stopped_; ///< the flush's outcome once stopped
};

} // namespace epmpulse
