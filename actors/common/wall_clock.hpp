#pragma once

// The wall time of an actor whose timers run on the actor clock: its state
// keeps the wall time and the actor clock's reading taken together at spawn
// (`wall_origin`, `clock_origin`), and now is the origin plus the clock's
// progress since. Under the test coordinator the clock is simulated, so the
// actor's sense of the date moves exactly as far as the test advances it.

#include <chrono>

#include "common/time_format.hpp"

namespace epmpulse {

template <class StatefulPointer>
time_point wall_now(StatefulPointer self) {
  const auto& st = self->state;
  return st.wall_origin
         + std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now()
                                                                 - st.clock_origin);
}

} // namespace epmpulse
