#pragma once

// What the HTTP layer talks to: the actors behind the API, by their typed
// handles, and the server's own shared parts.

#include <memory>

#include <caf/fwd.hpp>

#include "actors/alerts/alerts.hpp"
#include "actors/canvas/canvas.hpp"
#include "actors/expectations/evaluator.hpp"
#include "actors/cluster/leader_elector.hpp"
#include "actors/events/event_hub.hpp"
#include "actors/history/history_store.hpp"
#include "actors/pull/epm_router.hpp"
#include "actors/state/state_store.hpp"
#include "config/config.hpp"
#include "http/auth.hpp"
#include "http/edge.hpp"
#include "http/key_reloader.hpp"
#include "http/rate_limiter.hpp"
#include "http/signed_tokens.hpp"

namespace epmpulse::http {

struct server_counters;

struct http_services {
  caf::actor_system* system = nullptr;
  std::shared_ptr<const config::service_config> config;
  /// The API keys and rate limits in force (replaced whole by a reload).
  std::shared_ptr<key_holder> keys;
  /// Re-reads them from the configuration file; null: reload unavailable.
  key_reloader_actor reloader;
  state_store_actor state;
  /// The history (GET /history, /stats) and the live streams' hub.
  history_store_actor history;
  event_hub_actor events;
  /// The canvas actor (it runs disabled, previews only, without a Slack token).
  canvas_actor canvas;
  /// Pull mode's router; null when pull mode is off.
  epm_router_actor epm;
  /// The expectation evaluator (always running) and the alert actor (null
  /// unless settings.alerts.enabled).
  evaluator_actor evaluator;
  alert_actor alerts;
  /// The leader election (PostgreSQL storage); null with the JSON file.
  leader_elector_actor elector;
  std::shared_ptr<server_counters> counters;
  std::shared_ptr<rate_limiter> limiter; ///< created by the server when absent
  http::edge edge;                       ///< spawned by the server
  /// Signs the session cookies and badge tokens; null: neither is issued
  /// nor accepted.
  std::shared_ptr<const token_signer> signer;
};

} // namespace epmpulse::http
