#pragma once

// The token actor: one per EPM auth configuration. It hands out the value of
// the Authorization header pollers send to EPM.
//
// - OAuth (refresh_token or client_credentials grant at the identity
//   domain's token endpoint): the cached access token is handed out while
//   more than `min_remaining` (60 s) of its life remain; a token that was
//   used is refreshed proactively when `refresh_before` (5 min) remain.
// - Single flight: requests arriving while a fetch is in progress park their
//   response promise; the one fetch answers them all.
// - A 401 from EPM: the poller sends (invalid_atom, generation of the token it
//   used) and gets a fresh token; a stale generation (someone else already
//   renewed it) gets the current token without another fetch.
// - A rotated refresh token replaces the old one at once and is written
//   atomically (temp file, fsync, rename, fsync dir; mode 0600) to
//   <data_dir>/epm_refresh_token.json by a detached writer, and reloaded at
//   start-up as long as the configured refresh token it descends from is
//   unchanged.
// - Refresh tokens are single use and lapse after a period without use (OCI
//   IAM's default: 7 days). So the token actor refreshes at least every
//   `refresh_keepalive` (12 h) even when nobody polls, a failed save is
//   retried (1 s, 2 s … 5 min) until it succeeds, and a stored token that
//   cannot be used at start-up (unreadable, another client) is reported in
//   the log and in health: the configured one it falls back to may already
//   have been consumed.
// - Token-endpoint failures back off 1, 2, 4 … 60 s; during a backoff token
//   requests fail at once (ec::epm_auth_error) instead of hammering the
//   endpoint. Health turns "error: <reason>" until a fetch succeeds.
// - Basic auth: the header is built once from username and password; no fetch.
// - Never logs a token, a secret or a header value.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/errors.hpp"
#include "actors/common/http_client.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// An Authorization header value and the generation of the token inside it.
struct access_token {
  std::string header;           ///< "Bearer …" or "Basic …": a secret, never log it
  std::uint64_t generation = 0; ///< grows with every token fetched
};

/// The token actor's side of GET /health and of the metrics.
struct token_health {
  std::string status = "ok";       ///< "ok" | "error: <reason>"
  std::uint64_t fetches = 0;       ///< calls to the token endpoint
  std::uint64_t fetch_failures = 0;
  std::uint64_t served = 0;        ///< tokens handed out
  std::uint64_t invalidations = 0; ///< 401s reported by pollers
  std::uint64_t rotations = 0;     ///< new refresh tokens received
};

/// Makes token_health a message type (plain counters, nothing secret).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_health& x) {
  return f(caf::meta::type_name("token_health"), x.status, x.fetches, x.fetch_failures, x.served,
           x.invalidations, x.rotations);
}

/// The protocol.
using token_cache_actor = caf::typed_actor<
  /// A usable Authorization header value, or ec::epm_auth_error with a reason.
  caf::replies_to<token_atom>::with<access_token>,
  /// EPM rejected the token of this generation: answers a newer one.
  caf::replies_to<invalid_atom, std::uint64_t>::with<access_token>,
  /// Health status and counters.
  caf::replies_to<health_atom>::with<token_health>,
  /// Its own timer: a proactive refresh or the end of a backoff is due. The
  /// generation tells the latest timer from the ones it replaced (CAF 0.17
  /// cannot cancel a delayed message).
  caf::reacts_to<refresh_due_atom, std::uint64_t>,
  /// Its own timer: the refresh token has gone `refresh_keepalive` unused.
  caf::reacts_to<keepalive_due_atom, std::uint64_t>,
  /// Its own timer: save the rotated refresh token again after a failure.
  caf::reacts_to<save_retry_atom, std::uint64_t>>;

/// Writes small secret files atomically (mode 0600) off the worker threads.
/// Answers "" on success, else the reason.
using secret_writer_actor = caf::typed_actor<
  caf::replies_to<write_atom, std::string, std::string>::with<std::string>>;

/// How the token actor is set up.
struct token_cache_options {
  config::epm_auth auth;
  std::string data_dir;         ///< where the rotated refresh token lives; "" = memory only
  http_client_actor http;       ///< carries the token-endpoint calls
  /// Saves the rotated refresh token. Empty: the spawn function starts the
  /// detached writer (tests pass a fake of the same interface).
  secret_writer_actor writer;
  std::chrono::milliseconds min_remaining{std::chrono::seconds{60}};
  std::chrono::milliseconds refresh_before{std::chrono::minutes{5}};
  std::chrono::milliseconds backoff_initial{std::chrono::seconds{1}};
  std::chrono::milliseconds backoff_max{std::chrono::seconds{60}};
  /// Longest time the refresh token goes unused (0: never refresh only to
  /// keep it alive). Shorter than the identity domain's refresh-token expiry.
  std::chrono::milliseconds refresh_keepalive{std::chrono::hours{12}};
  std::chrono::milliseconds save_retry_initial{std::chrono::seconds{1}};
  std::chrono::milliseconds save_retry_max{std::chrono::minutes{5}};
  double request_timeout_sec = 15;  ///< whole token-endpoint call
  double connect_timeout_sec = 5;
};

/// What the actor keeps.
struct token_cache_state {
  static inline constexpr const char* name = "token_cache";

  struct cached {
    access_token token;
    caf::actor_clock::time_point expires_at;
  };

  token_cache_options opts;
  std::string refresh_token;          ///< current one (config, stored, or rotated)
  std::string refresh_origin;         ///< fingerprint of the configured refresh token
  std::optional<cached> current;
  bool used_since_fetch = false;      ///< proactive refresh only for tokens in use
  bool fetching = false;
  std::vector<caf::typed_response_promise<access_token>> parked;
  std::uint64_t next_generation = 1;
  std::uint64_t timer_generation = 0;
  unsigned failures = 0;              ///< consecutive fetch failures
  std::optional<caf::actor_clock::time_point> backoff_until;
  std::string last_error;             ///< "" when the last fetch succeeded
  std::string persist_error;          ///< "" when the last save succeeded
  std::string startup_warning;        ///< a stored token could not be used at start-up
  unsigned save_failures = 0;         ///< consecutive failed saves
  std::uint64_t save_generation = 0;  ///< tells the latest save retry from older ones
  std::uint64_t keepalive_generation = 0;
  caf::actor_clock::time_point last_refresh{}; ///< last use of the refresh token (or start)
  secret_writer_actor writer;
  token_health counters;
};

/// Checks the auth configuration, loads a stored rotated refresh token, and
/// spawns the actor (and its detached writer). Errors name the problem.
caf::expected<token_cache_actor> spawn_token_cache(caf::actor_system& sys,
                                                   token_cache_options opts);

// -- pure helpers (tests call them) ---------------------------------------------

/// File name of the stored refresh token inside the data dir.
inline constexpr const char* refresh_token_file_name = "epm_refresh_token.json";

/// A successful token-endpoint answer.
struct token_grant {
  std::string access_token;
  std::string token_type = "Bearer";
  std::chrono::seconds expires_in{3600};
  std::string refresh_token; ///< "" when the endpoint did not rotate it
};

/// Parses a token-endpoint answer. On failure returns nullopt and sets
/// `error` to a reason fit for logs and health (no secret in it).
std::optional<token_grant> parse_token_response(long status, std::string_view body,
                                                std::string& error);

/// The token-endpoint request for `auth` using `refresh_token` (refresh grant)
/// or the client's credentials (client_credentials grant).
http_request make_token_request(const config::epm_auth& auth, const std::string& refresh_token,
                                double timeout_sec, double connect_timeout_sec);

/// "Basic " + base64(user ":" password).
std::string basic_auth_header(std::string_view user, std::string_view password);

/// RFC 4648 base64 with padding.
std::string base64_encode(std::string_view bytes);

/// application/x-www-form-urlencoded value encoding.
std::string form_encode(std::string_view text);

/// A stable, non-reversible fingerprint (FNV-1a 64, hex) used to tell whether
/// the configured refresh token changed since a rotated one was stored.
std::string fingerprint(std::string_view secret);

/// The note of load_stored_refresh_token when the configured refresh token
/// was replaced on purpose (the one case that is not a warning).
inline constexpr const char* configured_token_changed_note =
  "the configured refresh token changed since the stored one was saved";

/// The rotated refresh token stored in `data_dir` if it descends from the
/// configured one (same fingerprint, client and token URL); nullopt otherwise.
/// `note` says why a file present was not used.
std::optional<std::string> load_stored_refresh_token(const std::string& data_dir,
                                                     const config::epm_auth& auth,
                                                     std::string& note);

/// The stored document for a rotated refresh token.
std::string stored_refresh_token_document(const config::epm_auth& auth,
                                          const std::string& refresh_token);


} // namespace epmpulse

// An access token only travels between actors of this process; it has no
// inspect() on purpose, so nothing can ever serialise (or print) the secret.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::access_token)
