#pragma once

// The key reloader: re-reads the configuration file and publishes its API
// keys and rate limits (nothing else) without a restart. SIGHUP (main) and
// POST /api/v1/admin/reload (http/admin_routes) both ask it, so reloads run
// one at a time. It reads files, so it runs detached, never on a worker.
//
// The whole file is validated as at start-up; an invalid file changes
// nothing and the answer carries the loader's message (file, field, fix;
// never a secret). Every reload is logged with the key names added, removed
// and changed, never a key.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "config/config.hpp"
#include "http/auth.hpp"
#include "http/rate_limiter.hpp"

namespace epmpulse::http {

/// Where a reload reads from: the file given at start, the environment its
/// ${VAR}s come from, and the data dir of the generated keys.
struct reload_source {
  std::string config_path;
  std::string data_dir;
  config::env_lookup env = config::process_env();
};

/// What one reload did.
struct reload_outcome {
  /// Set when the file was refused; then nothing changed.
  std::optional<config::config_error> refused;
  key_changes changes;
  std::size_t keys = 0;              ///< keys in force afterwards
  std::vector<std::string> warnings; ///< the new file's warnings (e.g. an expired key)

  /// {"reloaded": true, "keys", "keys_added", "keys_removed", "keys_changed",
  /// "rate_limits_changed", "warnings"} (names only).
  nlohmann::json to_json() const;
};

/// reload_atom, trigger ("SIGHUP", "POST /api/v1/admin/reload by <key name>")
/// -> what changed or why nothing did.
using key_reloader_actor =
  caf::typed_actor<caf::replies_to<reload_atom, std::string>::with<reload_outcome>>;

/// One reload without actors (tests call it): reads `source`, and when the
/// file is valid publishes its keys and rate limits into `keys` and drops
/// the rate buckets of removed keys from `limiter`. Logs the outcome.
reload_outcome reload_keys(const reload_source& source, const std::string& trigger,
                           key_holder& keys, rate_limiter& limiter);

/// Spawns the reloader (detached).
key_reloader_actor spawn_key_reloader(caf::actor_system& sys, reload_source source,
                                      std::shared_ptr<key_holder> keys,
                                      std::shared_ptr<rate_limiter> limiter);

} // namespace epmpulse::http

// In-process only: an outcome travels from the reloader to the HTTP edge.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::http::reload_outcome)
