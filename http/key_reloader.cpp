#include "http/key_reloader.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/log.hpp"

namespace epmpulse::http {

nlohmann::json reload_outcome::to_json() const {
  return {{"reloaded", !refused},
          {"keys", keys},
          {"keys_added", changes.added},
          {"keys_removed", changes.removed},
          {"keys_changed", changes.changed},
          {"rate_limits_changed", changes.rate_limits_changed},
          {"warnings", warnings}};
}

reload_outcome reload_keys(const reload_source& source, const std::string& trigger,
                           key_holder& keys, rate_limiter& limiter) {
  reload_outcome outcome;
  auto refuse = [&](config::config_error error) {
    keys.count_refused_reload();
    log::error("configuration reload refused; the running API keys and rate limits stay",
               {{"trigger", trigger}, {"error", error.to_string()}});
    outcome.refused = std::move(error);
    outcome.keys = keys.current().size();
    return outcome;
  };
  auto loaded = config::load_config(source.config_path, source.env);
  if (loaded.error)
    return refuse(std::move(*loaded.error));
  std::string error;
  auto key_list = keys_to_run_with(*loaded.config, source.data_dir, error);
  if (!key_list)
    return refuse({source.config_path, "api_keys", "lists no key and " + error,
                   "add an api_keys entry"});
  outcome.warnings = loaded.config->warnings;
  for (const auto& w : outcome.warnings)
    log::warn(w);
  outcome.changes = keys.replace(key_set{std::move(*key_list), loaded.config->settings.rate_limits});
  for (const auto& name : outcome.changes.removed) {
    limiter.forget(status_bucket(name));
    limiter.forget(batch_bucket(name));
  }
  outcome.keys = keys.current().size();
  log::info("configuration reloaded: API keys and rate limits",
            {{"trigger", trigger},
             {"keys", outcome.keys},
             {"keys_added", outcome.changes.added.size()},
             {"keys_removed", outcome.changes.removed.size()},
             {"keys_changed", outcome.changes.changed.size()},
             {"added", outcome.changes.added},
             {"removed", outcome.changes.removed},
             {"changed", outcome.changes.changed},
             {"rate_limits_changed", outcome.changes.rate_limits_changed}});
  return outcome;
}

key_reloader_actor spawn_key_reloader(caf::actor_system& sys, reload_source source,
                                      std::shared_ptr<key_holder> keys,
                                      std::shared_ptr<rate_limiter> limiter) {
  auto behaviour = [source = std::move(source), keys, limiter](
                     key_reloader_actor::pointer) -> key_reloader_actor::behavior_type {
    return {
      [source, keys, limiter](reload_atom, const std::string& trigger) {
        return reload_keys(source, trigger, *keys, *limiter);
      },
    };
  };
  return sys.spawn<caf::detached>(behaviour);
}

} // namespace epmpulse::http
