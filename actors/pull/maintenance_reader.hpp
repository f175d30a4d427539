#pragma once

// The maintenance reader: one per EPM server that a `maintenance` entry
// names. It asks the pod when its daily maintenance starts
// (epm_status.hpp daily_maintenance_url) at start and every `refresh` after,
// and tells the listener (the expectation evaluator) each start it read, so
// that a window moved by the service administrator moves here too.
//
// - Authorization comes from the token actor, as for the pollers; a 401 is
//   reported to it and the call retried once with a fresh token.
// - A failed read (network, 4xx/5xx, an answer it cannot read) is retried
//   after `retry_initial`, doubling up to `refresh`. Meanwhile the listener
//   keeps what it had: the last start read, else the configured one. The
//   health text says which, and why the read failed:
//     "read 19:00 Etc/UTC"
//     "error: EPM answered HTTP 503; using the configured start 03:00 UTC"
//   A 403 names the roles Oracle documents for the call.
// - Oracle documents the start only, not the window's length: the
//   configured `duration_minutes` stays the length.
// - Every request has a finite timeout; the timer is a delayed message with
//   a generation number (stale ones are ignored).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/http_client.hpp"
#include "actors/pull/token_cache.hpp"
#include "common/cron.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// A daily maintenance start read from an EPM server.
struct epm_daily_maintenance {
  std::string server_id;
  time_of_day start;
};

/// Who hears of the starts read.
using daily_maintenance_listener =
  caf::typed_actor<caf::reacts_to<maintenance_atom, epm_daily_maintenance>>;

/// One reader's side of GET /health.
struct maintenance_read_health {
  std::string server_id;
  std::string status = "reading"; ///< "read HH:MM <zone>" | "error: <reason>; using …"
  std::uint64_t reads = 0;        ///< calls started
  std::uint64_t failures = 0;     ///< calls that gave no start
};

/// Makes maintenance_read_health a message type (nothing secret in it).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, maintenance_read_health& x) {
  return f(caf::meta::type_name("maintenance_read_health"), x.server_id, x.status, x.reads,
           x.failures);
}

/// The protocol.
using maintenance_reader_actor = caf::typed_actor<
  /// Health text and counters.
  caf::replies_to<health_atom>::with<maintenance_read_health>,
  /// Its own timer: read again. The generation tells the latest wake-up
  /// from the ones it replaced.
  caf::reacts_to<refresh_due_atom, std::uint64_t>>;

struct maintenance_reader_options {
  config::epm_server server;
  /// What applies while nothing was read, for the health text: the
  /// configured start of the windows naming this server, if any.
  std::optional<time_of_day> configured;
  token_cache_actor tokens;
  http_client_actor http;
  daily_maintenance_listener listener;
  std::chrono::milliseconds refresh{std::chrono::hours{6}};
  std::chrono::milliseconds retry_initial{std::chrono::minutes{1}};
  double request_timeout_sec = 30;
  double connect_timeout_sec = 5;
};

/// Spawns the reader, which reads at once. Fails when a handle is missing.
caf::expected<maintenance_reader_actor> spawn_maintenance_reader(caf::actor_system& sys,
                                                                 maintenance_reader_options opts);

} // namespace epmpulse

// Goes from a reader to the evaluator of the same process only.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::epm_daily_maintenance)
