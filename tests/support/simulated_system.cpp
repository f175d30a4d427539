#include "tests/support/simulated_system.hpp"

#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

namespace epmpulse::test {

caf::actor_system_config& simulated_system::configured(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.console", caf::atom("none"));
  return cfg;
}

simulated_system::simulated_system()
  : sys_(configured(cfg_)),
    sched_(dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler())) {
}

simulated_system::~simulated_system() {
  for (const auto& actor : stopped_at_end_)
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  run();
  sched_.clock().cancel_all();
  run();
  sys_.await_actors_before_shutdown(false);
}

std::size_t simulated_system::run() {
  return sched_.run();
}

void simulated_system::advance(caf::timespan d) {
  run();
  auto until = now() + d;
  // Fire the due timers one by one, in time order, so each one's effects
  // (which may arm earlier timers) are seen before the next fires.
  while (sched_.clock().has_pending_timeout()) {
    auto next = sched_.clock().schedule().begin()->first;
    if (next > until)
      break;
    sched_.clock().current_time = std::max(sched_.clock().current_time, next);
    sched_.clock().trigger_timeout();
    run();
  }
  sched_.clock().current_time = until;
  run();
}

bool simulated_system::advance_to_next_timer() {
  run();
  if (!sched_.clock().has_pending_timeout())
    return false;
  auto next = sched_.clock().schedule().begin()->first;
  sched_.clock().current_time = std::max(sched_.clock().current_time, next);
  sched_.clock().trigger_timeout();
  run();
  return true;
}

bool simulated_system::has_pending_timer() const {
  return sched_.clock().has_pending_timeout();
}

caf::actor_clock::time_point simulated_system::now() const {
  return sched_.clock().now();
}

} // namespace epmpulse::test
