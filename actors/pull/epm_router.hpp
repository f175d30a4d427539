#pragma once

// The EPM router: pull mode's one entry point. It spawns the token actor and
// one poller (with its own HTTP client) per configured EPM server, subscribes
// to the state actor and routes each domain to its app's server:
//
// - a domain entering Loading with a job_id (or switching to another job_id)
//   → (watch_atom, …) to that server's poller;
// - a domain leaving Loading (a push, the stale sweep, or the poller's own
//   result) → (unwatch_atom, app, domain);
// - at start it asks for a snapshot and watches every domain still Loading
//   with a job_id (restart recovery; those are polled at once).
//
// It also answers the HTTP layer's health and metrics questions through
// callbacks (HTTP handlers are not actors). Each callback is called exactly
// once, from the router's thread, within `answer_timeout` even when a poller
// or the token actor does not answer.
//
// Stopping: send it an exit message; the actors it spawned are linked to it
// and stop with it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/http_client.hpp"
#include "actors/pull/poller.hpp"
#include "actors/state/state_store.hpp"
#include "actors/pull/token_cache.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// Pull mode's side of GET /health.
struct epm_health {
  std::map<std::string, std::string> servers; ///< server id → "ok" | "error: …"
  std::string auth = "ok";                    ///< "ok" | "error: …"

  /// True when the auth or any server is not "ok".
  bool degraded() const;

  /// {"epm": {server: status, …}, "epm_auth": status}: merged into "checks".
  nlohmann::json checks() const;
};

/// Pull mode's counters for GET /metrics.
struct epm_metrics {
  std::vector<poller_health> servers;
  token_health auth;

  /// Prometheus text exposition lines (epmpulse_epm_*).
  std::string prometheus() const;
};

using epm_health_callback = std::function<void(epm_health)>;
using epm_metrics_callback = std::function<void(epm_metrics)>;

/// The protocol.
using epm_router_actor = caf::typed_actor<
  /// From the state actor after each durable commit.
  caf::reacts_to<changed_atom, change_set>,
  /// Health of the token actor and of every poller; the callback runs once.
  caf::reacts_to<health_atom, epm_health_callback>,
  /// Counters of the token actor and of every poller; the callback runs once.
  caf::reacts_to<metrics_atom, epm_metrics_callback>,
  /// Internal timer: retry of the start-up snapshot, with its generation.
  caf::reacts_to<tick_atom, std::uint64_t>>;

/// How pull mode is set up.
struct epm_router_options {
  std::shared_ptr<const config::service_config> config;
  std::string data_dir;      ///< for the rotated refresh token
  state_store_actor state;
  std::chrono::milliseconds answer_timeout{std::chrono::seconds{2}}; ///< health/metrics
  /// Tuning for tests; the defaults are production's.
  std::chrono::milliseconds token_min_remaining{std::chrono::seconds{60}};
  std::chrono::milliseconds token_refresh_before{std::chrono::minutes{5}};
  std::chrono::milliseconds token_backoff_initial{std::chrono::seconds{1}};
  std::chrono::milliseconds token_backoff_max{std::chrono::seconds{60}};
};

/// What the actor keeps.
struct epm_router_state {
  static inline constexpr const char* name = "epm_router";

  epm_router_options opts;
  token_cache_actor tokens;
  std::map<std::string, poller_actor> pollers;      ///< by server id
  std::map<std::string, std::string> app_server;    ///< app → server id
  std::uint64_t snapshot_generation = 0;
  bool recovered = false;                           ///< start-up snapshot handled
};

/// Spawns the token actor, one HTTP client and poller per server, and the
/// router (which subscribes to the state). Fails with a reason when the EPM
/// configuration cannot work; nothing is left running then.
caf::expected<epm_router_actor> spawn_epm_router(caf::actor_system& sys, epm_router_options opts);

/// The watch/unwatch decision for one committed change (pure, for tests):
/// a watch_request when the domain should be watched (entered Loading with a
/// job_id, or Loading again), nullopt with `unwatch` set when it left Loading.
std::optional<watch_request> watch_decision(const domain_change& change, bool& unwatch);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::epm_health_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::epm_metrics_callback)
