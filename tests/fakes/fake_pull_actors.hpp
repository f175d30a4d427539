#pragma once

// Stand-ins for the actors pull mode talks to, for actor tests on simulated
// time: the state actor (the part pull mode uses, pull_state_actor), the
// token actor and a poller. Each is event-based, speaks the real typed
// protocol, records what it got in a log the test reads between runs (one
// thread: no locks), and answers as the log says, or not at all when told to
// stay silent (for the timeouts).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/pull/poller.hpp"
#include "actors/pull/token_cache.hpp"
#include "actors/state/state_store.hpp"

namespace epmpulse::test {

// -- the state actor ------------------------------------------------------------------

struct fake_state_log {
  std::vector<std::vector<status_update>> applies; ///< each apply's updates, in order
  std::size_t failing_applies = 0;   ///< the next ones are answered ec::state_error
  bool holding = false;              ///< the others wait for release_held_applies()
  std::vector<std::function<void()>> held; ///< answers of held applies (committed)
  snapshot_ptr snapshot = std::make_shared<const status_snapshot>();
  std::size_t failing_snapshots = 0; ///< the next snapshot requests fail
  std::size_t snapshot_requests = 0;
  std::vector<change_listener_actor> subscribers;

  /// Every update of every apply, in order.
  std::vector<status_update> updates() const;
};

pull_state_actor spawn_fake_state(caf::actor_system& sys, std::shared_ptr<fake_state_log> log);

/// Makes the fake state answer its held applies as committed (a promise is
/// delivered from inside its actor); run the system afterwards.
void release_held_applies(const pull_state_actor& fake_state);

// -- the token actor ------------------------------------------------------------------

struct fake_token_log {
  std::uint64_t generation = 1;        ///< the current token is "Bearer token-<generation>"
  std::size_t served = 0;              ///< token requests answered with a token
  std::vector<std::uint64_t> invalidated; ///< generations reported by invalid_atom
  std::string failing;                 ///< not empty: token requests fail with this reason
  bool silent = false;                 ///< health requests are never answered
  token_health health;                 ///< what health answers

  /// The header the current generation stands for.
  std::string header() const { return "Bearer token-" + std::to_string(generation); }
};

token_cache_actor spawn_fake_token_actor(caf::actor_system& sys,
                                         std::shared_ptr<fake_token_log> log);

// -- a poller ---------------------------------------------------------------------------

struct fake_poller_log {
  std::vector<watch_request> watched;
  std::vector<std::pair<std::string, std::string>> unwatched; ///< (app, domain)
  bool silent = false;   ///< health requests are never answered
  poller_health health;  ///< what health answers
};

poller_actor spawn_fake_poller(caf::actor_system& sys, std::shared_ptr<fake_poller_log> log);

} // namespace epmpulse::test
