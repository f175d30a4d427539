#pragma once

// Between the state's start-up (state_startup.cpp: the JSON file and its
// logs, or the database, read before the actor runs) and its behaviour
// (state_store.cpp). Nothing outside actors/state includes this.

#include <cstdint>
#include <optional>
#include <string>

#include "actors/state/state_store.hpp"
#include "actors/state/state_writer.hpp"
#include "actors/state/status_model.hpp"

namespace epmpulse {

/// Where start-up left the state: its log position, the position the JSON
/// file holds (lower when start-up could not rewrite it), and why not.
struct start_position {
  std::uint64_t version = 0;
  std::uint64_t snapshot_seq = 0;
  std::optional<std::string> snapshot_error;
};


/// The merge rules as the configuration sets them (replay and apply alike).
merge_settings merge_settings_of(const config::service_config& cfg);

/// Spawns the state actor on a state start-up has loaded.
state_store_actor spawn_state_actor(caf::actor_system& sys, state_store_options opts,
                                    status_snapshot initial, start_position position,
                                    state_store_helpers helpers, state_bytes initial_bytes);

} // namespace epmpulse
