#pragma once

// The poller: one per EPM server (pod). It watches the jobs of domains that
// went Loading with a job_id and settles them from EPM's own job status, so
// a lost push does not leave a domain Loading.
//
// - Each watched job is polled every `poll_interval_seconds`; at most
//   `max_concurrent_polls_per_server` polls are in flight at once. Pollers of
//   different servers are independent actors with their own HTTP client, so
//   pods are polled in parallel (three pods cost one interval).
// - A job shared by several domains (one job_id loading many) is polled once
//   and settles all of them.
// - Mapping (actors/pull/epm_status.hpp): success → OK with EPM's details as the
//   message; error / cancelled / invalid → Warning with the details; in
//   progress → nothing. 404 → Warning "Job not found on <server>".
//   Past `max_poll_duration_minutes` since the Loading began → Warning
//   "Timed out: no completion after N min; <what EPM said last>" (a job that
//   can never finish, such as an ARCS monitor while a reconciliation is
//   open, ends here). After any of these the job is no longer watched.
// - EDM: a job run that says COMPLETED is settled from its result
//   (GET .../jobRuns/{id}/result): `result.success` false → Warning with the
//   failed tasks' messages.
// - 403: the EPM user lacks the role (epm_status.hpp required_role). Nothing
//   is settled: the job backs off and stays watched, health names the role;
//   at the deadline it is dropped unsettled (the domain keeps its Loading
//   for the stale-Loading sweep), since EPM never told us how it ended.
// - 401 → the token actor is told the token is invalid, and the poll is
//   retried once with a fresh one. 5xx, network errors, other statuses and
//   unreadable answers back off per job (interval × 2^failures, capped) and
//   the job stays watched; the server's health shows the reason.
// - Results are a request (apply_atom, updates) to the state actor, with
//   source poll, like pushes, under the same ordering rules; the job is
//   forgotten once the state actor answers that it committed them. A failed
//   write (ec::state_error) keeps the job watched and polls it again after a
//   backoff; no answer within `settle_timeout` polls it again at once.
// - Every request has a finite timeout; timers are delayed messages carrying
//   a generation number (stale ones are ignored).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/http_client.hpp"
#include "actors/state/state_store.hpp"
#include "actors/state/status_model.hpp"
#include "actors/pull/token_cache.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// Start watching a job for one domain.
struct watch_request {
  std::string app;
  std::string domain;
  std::string job_id;
  /// When the Loading began (the domain's `started`, else its `updated`);
  /// the poll timeout counts from here, so a restart does not reset it.
  std::optional<time_point> loading_since;
  /// Event time of the Loading update: a polled result must be newer to win.
  std::optional<time_point> loading_updated;
  /// Found Loading in the start-up snapshot: poll at once instead of after
  /// one interval (the job may have finished while the service was down).
  bool recovered = false;
};

/// One poller's side of GET /health and of the metrics.
struct poller_health {
  std::string server_id;
  std::string status = "ok";             ///< "ok" | "error: <reason>"
  std::size_t watched_jobs = 0;
  std::size_t in_flight = 0;
  std::uint64_t polls = 0;                ///< job-status requests started
  std::uint64_t poll_failures = 0;        ///< 5xx, network, 401 after retry, unreadable
  std::uint64_t unauthorized_retries = 0; ///< 401 → invalidate → retry
  std::uint64_t settled = 0;              ///< results committed by the state actor
  std::uint64_t not_found = 0;            ///< 404s
  std::uint64_t timeouts = 0;             ///< jobs given up after max_poll_duration_minutes
};

/// Makes poller_health a message type (plain counters).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, poller_health& x) {
  return f(caf::meta::type_name("poller_health"), x.server_id, x.status, x.watched_jobs,
           x.in_flight, x.polls, x.poll_failures, x.unauthorized_retries, x.settled, x.not_found,
           x.timeouts);
}

/// What pull mode needs of the state actor: a subset of state_store_actor,
/// so the state actor is one; tests hand the pollers and the router a fake
/// of just this.
using pull_state_actor = caf::typed_actor<
  caf::replies_to<apply_atom, std::vector<status_update>>::with<apply_result>,
  caf::replies_to<snapshot_atom>::with<snapshot_ptr>,
  caf::reacts_to<subscribe_atom, change_listener_actor>>;

/// The protocol.
using poller_actor = caf::typed_actor<
  /// Watch a job for a domain (idempotent; a new job_id for the domain replaces the old).
  caf::reacts_to<watch_atom, watch_request>,
  /// Stop watching for (app, domain): it left Loading by other means.
  caf::reacts_to<unwatch_atom, std::string, std::string>,
  /// Health status and counters.
  caf::replies_to<health_atom>::with<poller_health>,
  /// Its own timer: a poll or a job's deadline is due. The generation tells
  /// the latest wake-up from the ones it replaced (CAF 0.17 cannot cancel a
  /// delayed message).
  caf::reacts_to<poll_due_atom, std::uint64_t>>;

/// How a poller is set up.
struct poller_options {
  config::epm_server server;
  config::pull_mode_settings pull;
  token_cache_actor tokens;
  http_client_actor http;    ///< this server's own client (pods stay independent)
  pull_state_actor state;    ///< settles the jobs (apply)
  std::chrono::milliseconds backoff_cap{std::chrono::minutes{5}}; ///< at least the interval
  double request_timeout_sec = 30; ///< one job-status call, whole transfer
  double connect_timeout_sec = 5;
  std::chrono::milliseconds settle_timeout{std::chrono::seconds{30}}; ///< state actor's answer
};

/// What the actor keeps.
struct poller_state {
  static inline constexpr const char* name = "poller";

  /// A domain waiting for a job.
  struct target {
    std::string app;
    std::string domain;
    std::optional<time_point> loading_updated;
  };

  /// A watched EPM job.
  struct job {
    std::string id;
    std::uint64_t incarnation = 0;  ///< tells a re-added job from its late answers
    std::vector<target> targets;
    caf::actor_clock::time_point next_due;
    caf::actor_clock::time_point deadline;
    unsigned failures = 0;          ///< consecutive failed polls
    bool in_flight = false;
    bool settling = false;          ///< result sent to the state actor
    std::uint64_t settle_generation = 0; ///< tells the awaited answer from a late one
    std::string settle_status;      ///< for the log line once committed
    std::vector<std::pair<std::string, std::string>> settled_keys; ///< domains in the settlement
    std::string last_state;         ///< what EPM said last, for the timeout message
    bool forbidden = false;         ///< the last answer was 403: never settled by the timeout
  };

  poller_options opts;
  std::chrono::milliseconds interval{};
  std::chrono::milliseconds max_duration{};
  std::map<std::string, job> jobs;                                      ///< by job id
  std::map<std::pair<std::string, std::string>, std::string> by_domain; ///< → job id
  std::size_t in_flight = 0;
  std::uint64_t next_incarnation = 1;
  std::uint64_t next_settlement = 1;
  std::uint64_t timer_generation = 0;
  std::optional<caf::actor_clock::time_point> timer_at;
  std::string last_error; ///< "" after the last exchange with EPM went fine
  poller_health counters;
};

/// Validates the server entry (URL, application for Planning) and the
/// settings, then spawns the poller.
caf::expected<poller_actor> spawn_poller(caf::actor_system& sys, poller_options opts);

} // namespace epmpulse

// Goes from the router to a poller of the same process only; CAF 0.17 has no
// inspector for its std::optional time points, and nothing needs one.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::watch_request)
