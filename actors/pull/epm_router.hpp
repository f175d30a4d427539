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
// It also spawns a maintenance reader for each server a `maintenance` entry
// names (they read whether or not this instance leads: every instance judges
// expectations).
//
// It answers pull mode's health and metrics: it asks the token actor, every
// poller and every maintenance reader and answers within `answer_timeout` even when one of them
// does not (that part then shows as an error entry), so a stuck poller can
// not hold up GET /health.
//
// Stopping: send it an exit message; the actors it spawned are linked to it
// and stop with it.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/http_client.hpp"
#include "actors/pull/maintenance_reader.hpp"
#include "actors/pull/poller.hpp"
#include "actors/state/state_store.hpp"
#include "actors/pull/token_cache.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// Pull mode's side of GET /health.
struct epm_health {
  std::map<std::string, std::string> servers; ///< server id → "ok" | "error: …"
  std::string auth = "ok";                    ///< "ok" | "error: …"
  /// server id → the maintenance reader's text ("read 19:00 Etc/UTC", …).
  std::map<std::string, std::string> maintenance;

  /// True when the auth or any server is not "ok". A maintenance time that
  /// cannot be read is not: the configured start stands in, and the text says so.
  bool degraded() const;

  /// {"epm": {server: status, …}, "epm_auth": status} and, with readers,
  /// "epm_maintenance": {server: text, …}: merged into "checks".
  nlohmann::json checks() const;
};

/// Makes epm_health a message type.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, epm_health& x) {
  return f(caf::meta::type_name("epm_health"), x.servers, x.auth, x.maintenance);
}

/// Pull mode's counters for GET /metrics.
struct epm_metrics {
  std::vector<poller_health> servers; ///< a poller that did not answer has only its id and status
  token_health auth;
  std::vector<maintenance_read_health> maintenance;

  /// Prometheus text exposition lines (epmpulse_epm_*).
  std::string prometheus() const;
};

/// Makes epm_metrics a message type.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, epm_metrics& x) {
  return f(caf::meta::type_name("epm_metrics"), x.servers, x.auth, x.maintenance);
}

/// The protocol.
using epm_router_actor = caf::typed_actor<
  /// From the state actor after each durable commit: watch or unwatch.
  caf::reacts_to<changed_atom, change_set>,
  /// PostgreSQL storage: only the cluster's leader polls. Becoming leader
  /// watches every Loading domain again; stepping down unwatches them.
  caf::reacts_to<leader_atom, bool>,
  /// Health of the token actor and of every poller, within answer_timeout.
  caf::replies_to<health_atom>::with<epm_health>,
  /// Counters of the token actor and of every poller, within answer_timeout.
  caf::replies_to<metrics_atom>::with<epm_metrics>,
  /// Its own timer: ask for the start-up snapshot again. The generation
  /// tells the latest retry from a stale one.
  caf::reacts_to<snapshot_retry_atom, std::uint64_t>>;

/// How pull mode is set up.
struct epm_router_options {
  std::shared_ptr<const config::service_config> config;
  std::string data_dir;      ///< for the rotated refresh token
  pull_state_actor state;    ///< the state actor
  std::chrono::milliseconds answer_timeout{std::chrono::seconds{2}}; ///< health/metrics
  /// Tuning for tests; the defaults are production's.
  std::chrono::milliseconds token_min_remaining{std::chrono::seconds{60}};
  std::chrono::milliseconds token_refresh_before{std::chrono::minutes{5}};
  std::chrono::milliseconds token_backoff_initial{std::chrono::seconds{1}};
  std::chrono::milliseconds token_backoff_max{std::chrono::seconds{60}};
  /// Tests: route to these instead of spawning the token actor, the pollers
  /// and their HTTP clients from the configuration (the pollers by server id).
  token_cache_actor tokens;
  std::map<std::string, poller_actor> pollers;
  /// Polls nothing until told it leads (PostgreSQL storage's leader election).
  bool follows_leader = false;
  /// Hears the daily maintenance starts read from EPM (the evaluator); null
  /// = no readers.
  daily_maintenance_listener maintenance_listener;
  /// Tests: bring these instead (by server id).
  std::map<std::string, maintenance_reader_actor> readers;
};

/// What the actor keeps.
struct epm_router_state {
  static inline constexpr const char* name = "epm_router";

  epm_router_options opts;
  token_cache_actor tokens;
  std::map<std::string, poller_actor> pollers;      ///< by server id
  std::map<std::string, maintenance_reader_actor> readers; ///< by server id
  std::map<std::string, std::string> app_server;    ///< app → server id
  std::uint64_t snapshot_generation = 0;
  bool recovered = false;                           ///< start-up snapshot handled
  bool leading = true; ///< false on a follower of the leader election
};

/// Spawns the token actor, one HTTP client and poller per server (unless the
/// options bring them), and the router, which subscribes to the state. Fails
/// with a reason when the EPM configuration cannot work; nothing is left
/// running then.
caf::expected<epm_router_actor> spawn_epm_router(caf::actor_system& sys, epm_router_options opts);

/// The watch/unwatch decision for one committed change (pure, for tests):
/// a watch_request when the domain should be watched (entered Loading with a
/// job_id, or Loading again), nullopt with `unwatch` set when it left Loading.
std::optional<watch_request> watch_decision(const domain_change& change, bool& unwatch);

} // namespace epmpulse
