#pragma once

// A stand-in for the state actor (state_store_actor protocol) for pull-mode
// unit tests: records the updates applied, answers applies (optionally with
// a failure), serves a scripted snapshot and records subscribers, so a test
// can drive the EPM router with change sets of its choosing.

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/state/state_store.hpp"

namespace epmpulse::test {

/// What the fake saw; shared with the test thread (all access locked).
class state_recorder {
public:
  /// Every update applied, in order.
  std::vector<status_update> updates() const;

  /// Number of apply messages (a poller settles a job's domains in one).
  std::size_t applies() const;

  /// Waits (deadline) until at least `n` updates were applied.
  bool wait_updates(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  /// The next `n` applies are answered with ec::state_error.
  void fail_next_applies(std::size_t n);

  /// What snapshot_atom answers.
  void set_snapshot(status_snapshot snap);

  /// Actors that sent subscribe_atom.
  std::vector<caf::actor> subscribers() const;

  /// The expectation marks sent last (null before any).
  expectation_marks marks() const;
  void set_marks(expectation_marks marks);

  // -- used by the fake actor --
  caf::expected<apply_result> record(const std::vector<status_update>& ups);
  snapshot_ptr snapshot() const;
  void subscribe(caf::actor a);

private:
  mutable std::mutex mtx_;
  std::vector<status_update> updates_;
  std::size_t applies_ = 0;
  std::size_t fail_next_ = 0;
  snapshot_ptr snapshot_ = std::make_shared<const status_snapshot>();
  std::vector<caf::actor> subscribers_;
  expectation_marks marks_;
};

/// Spawns the fake state actor.
state_store_actor spawn_fake_state_store(caf::actor_system& sys,
                                         std::shared_ptr<state_recorder> rec);

/// A change set with one change (for sending (changed_atom, change_set)).
change_set one_change(domain_change c);

} // namespace epmpulse::test
