#pragma once

// What the HTTP layer talks to: the actors behind the API and the probes that
// other parts (canvas, EPM pull mode) register for /health and /metrics.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <nlohmann/json.hpp>

#include "actors/state/state_store.hpp"
#include "config/config.hpp"
#include "http/auth.hpp"
#include "http/edge.hpp"
#include "http/rate_limiter.hpp"

namespace epmpulse::http {

struct server_counters;

/// One part's contribution to GET /health: entries merged into "checks".
struct health_report {
  nlohmann::json checks = nlohmann::json::object();
  bool degraded = false;
};

/// Asks a part for its health; must call the continuation exactly once.
using health_probe = std::function<void(std::function<void(health_report)>)>;

/// Asks a part for its Prometheus text lines; must call the continuation once.
using metrics_probe = std::function<void(std::function<void(std::string)>)>;

struct http_services {
  caf::actor_system* system = nullptr;
  std::shared_ptr<const config::service_config> config;
  std::shared_ptr<const key_store> keys;
  state_store_actor state;
  std::vector<health_probe> health_probes;
  std::vector<metrics_probe> metrics_probes;
  std::shared_ptr<server_counters> counters;
  std::shared_ptr<rate_limiter> limiter; ///< created by the server when absent
  http::edge edge;                       ///< spawned by the server

  /// The canvas actor (it runs disabled, previews only, without a Slack token).
  caf::actor canvas;
};

} // namespace epmpulse::http
