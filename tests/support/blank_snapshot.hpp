#pragma once
// Every configured app and domain as the state starts them: Blank.

#include "actors/state/status_model.hpp"
#include "config/config.hpp"

namespace epmpulse::test {

inline status_snapshot blank_snapshot_for(const config::service_config& cfg) {
  status_snapshot snap;
  for (const auto& app : cfg.apps) {
    auto& a = snap.apps[app.name];
    a.display_name = app.display_name;
    a.channels = app.channels;
    for (const auto& d : app.domains)
      a.domains[d] = domain_state{};
  }
  return snap;
}

} // namespace epmpulse::test
