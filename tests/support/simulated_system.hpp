#pragma once

// An actor system on CAF's test coordinator: no worker threads, messages run
// only when the test says so, and time moves only when the test moves it.
// Actor tests drive timers, debounces, backoffs and orderings with it and get
// the same run every time (after zeek/broker's time-aware fixture).
//
// Detached actors still get a thread of their own under this scheduler, so
// an actor under test is given fakes of its detached helpers (writers, HTTP
// clients): event-based actors with the same typed interface.

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/scheduler/test_coordinator.hpp>

namespace epmpulse::test {

class simulated_system {
public:
  simulated_system();

  /// Stops the actors given to stop_at_end(), drops the pending timers and
  /// does not wait for actors that are still alive: a delayed message holds
  /// its receiver, and an actor that keeps an unanswered response promise
  /// holds itself, so on a clock nobody moves they would never finish and the
  /// actor system's destructor would wait forever.
  ~simulated_system();

  simulated_system(const simulated_system&) = delete;
  simulated_system& operator=(const simulated_system&) = delete;

  caf::actor_system& system() { return sys_; }
  caf::scheduler::test_coordinator& scheduler() { return sched_; }

  /// Runs every queued message, and the ones they cause, until none is left.
  /// Returns how many ran.
  std::size_t run();

  /// Moves simulated time by `d`, firing the timers due by then in order and
  /// running what they cause after each.
  void advance(caf::timespan d);

  /// Moves simulated time to the next pending timer, fires it and runs what
  /// it causes. False when no timer is pending.
  bool advance_to_next_timer();

  /// Sends `actor` an exit (user_shutdown) when the system ends, if it still
  /// runs, as the service stops its actors. Actors that hold each other
  /// strongly (a subscriber list, a response promise, which holds the actor
  /// that made it) free their state, and each other, only when they
  /// terminate; without the exit they are never freed. Holds only the
  /// actor's address: the actor still dies with its last handle.
  template <class Handle>
  const Handle& stop_at_end(const Handle& actor) {
    stopped_at_end_.push_back(caf::actor_cast<caf::actor_addr>(actor));
    return actor;
  }

  /// True while a delayed message or a request timeout is pending.
  bool has_pending_timer() const;

  /// The simulated time actors read through `self->clock().now()`.
  caf::actor_clock::time_point now() const;

  /// Sends a request from a helper actor and runs the system; the answer
  /// (or the error) is returned. nullopt when nothing answered.
  template <class T, class Handle, class... Ts>
  std::optional<caf::expected<T>> ask(const Handle& dest, Ts&&... xs) {
    auto answer = std::make_shared<std::optional<caf::expected<T>>>();
    sys_.spawn([answer, dest, args = std::make_tuple(std::forward<Ts>(xs)...)](
                 caf::event_based_actor* self) {
      std::apply(
        [&](auto&&... unpacked) {
          self->request(dest, std::chrono::seconds{24 * 3600}, unpacked...)
            .then([answer](T& value) { *answer = std::move(value); },
                  [answer](caf::error& err) { *answer = std::move(err); });
        },
        args);
    });
    run();
    return *answer;
  }

private:
  static caf::actor_system_config& configured(caf::actor_system_config& cfg);

  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  caf::scheduler::test_coordinator& sched_;
  std::vector<caf::actor_addr> stopped_at_end_;
};

} // namespace epmpulse::test
