// epmpulse: reads options, loads the config, starts the actors and the HTTP
// server, waits for SIGINT/SIGTERM, then stops in order: drain HTTP, flush
// state, stop actors.

#include <csignal>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/canvas/canvas.hpp"     // Slack canvases (issue 3)
#include "actors/pull/epm_router.hpp" // EPM pull mode (issue 4)
#include "actors/common/log.hpp"
#include "actors/state/state_store.hpp"
#include "config/config.hpp"
#include "http/responder.hpp"
#include "http/server.hpp"

namespace {

using namespace epmpulse;

constexpr int exit_config_error = 2;
constexpr int exit_runtime_error = 1;

struct options {
  std::string config_path = "config/apps.json";
  std::string data_dir = "data";
  std::string host = "127.0.0.1";
  int port = 18800;
  bool check_config = false;
};

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// Blocks the stop signals in every thread (threads inherit the mask), so
// main alone receives them through sigwait.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int run(const options& opt, sigset_t stop_signals) {
  auto loaded = config::load_config(opt.config_path);
  if (loaded.error) {
    log::error("invalid configuration", {{"error", loaded.error->to_string()}});
    std::cerr << "epmpulse: " << loaded.error->to_string() << "\n";
    return exit_config_error;
  }
  auto cfg = std::make_shared<config::service_config>(std::move(*loaded.config));
  if (opt.check_config) {
    std::cout << "epmpulse: " << opt.config_path << " is valid (" << cfg->apps.size() << " apps, "
              << cfg->channels.size() << " channels, " << cfg->api_keys.size() << " API keys)\n";
    for (const auto& w : cfg->warnings)
      std::cout << "warning: " << w << "\n";
    return 0;
  }
  log::level lvl = log::level::info;
  if (log::parse_level(cfg->settings.log_level, lvl))
    log::set_level(lvl);
  for (const auto& w : cfg->warnings)
    log::warn(w);
  if (cfg->api_keys.empty()) {
    std::string error;
    auto keys = http::bootstrap_keys(opt.data_dir, error);
    if (!keys) {
      log::error("cannot set up API keys", {{"error", error}});
      return exit_runtime_error;
    }
    cfg->api_keys = std::move(*keys);
  }
  std::shared_ptr<const config::service_config> config = cfg;

  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", static_cast<std::size_t>(config->settings.server.actor_threads));
  sys_cfg.set("logger.console", caf::atom("none"));
  // An idle worker goes from spinning straight to its condition variable,
  // which a new message signals at once, instead of first polling every 50 µs
  // for 500 rounds: a push waits on two such wake-ups (the request, then the
  // durable log append). Interleaved wrk runs: single pushes +13%, batches
  // unchanged (bench/RESULTS.md).
  sys_cfg.set("work-stealing.moderate-poll-attempts", std::size_t{0});
  caf::actor_system sys{sys_cfg};

  auto state = spawn_state_store(sys, {opt.data_dir, config});
  if (!state) {
    log::error("cannot open the state", {{"error", sys.render(state.error())}});
    return exit_runtime_error;
  }

  http::http_services services;
  services.system = &sys;
  services.config = config;
  services.keys = std::make_shared<const http::key_store>(config->api_keys);
  services.state = *state;
  services.counters = std::make_shared<http::server_counters>();
  // -- wiring of optional parts (canvas, EPM pull mode) goes here --
  // -- EPM pull mode (issue 4): router + token actor + one poller per server --
  std::optional<epm_router_actor> epm;
  if (config->settings.pull_mode.enabled) {
    epm_router_options epm_opts;
    epm_opts.config = config;
    epm_opts.data_dir = opt.data_dir;
    epm_opts.state = *state;
    auto router = spawn_epm_router(sys, std::move(epm_opts));
    if (!router) {
      log::error("cannot start EPM pull mode", {{"error", describe_error(router.error())}});
      anon_send_exit(*state, caf::exit_reason::user_shutdown);
      return exit_runtime_error;
    }
    epm = *router;
    services.health_probes.push_back([r = *router](std::function<void(http::health_report)> k) {
      caf::anon_send(r, health_atom_v, epm_health_callback{[k](epm_health h) {
        k(http::health_report{h.checks(), h.degraded()});
      }});
    });
    services.metrics_probes.push_back([r = *router](std::function<void(std::string)> k) {
      caf::anon_send(r, metrics_atom_v,
                     epm_metrics_callback{[k](epm_metrics m) { k(m.prometheus()); }});
    });
  }
  // -- end EPM pull mode --
  // -- Slack canvases (issue 3): runs disabled (previews only) without a token --
  canvas_options canvas_opts;
  canvas_opts.config = config;
  canvas_opts.state = *state;
  canvas_opts.data_dir = opt.data_dir;
  auto canvas = spawn_canvas(sys, std::move(canvas_opts));
  if (!canvas) {
    log::error("cannot start the canvas side", {{"error", sys.render(canvas.error())}});
    if (epm)
      anon_send_exit(*epm, caf::exit_reason::user_shutdown);
    anon_send_exit(*state, caf::exit_reason::user_shutdown);
    return exit_runtime_error;
  }
  services.canvas = caf::actor_cast<caf::actor>(*canvas);
  // A short-lived actor per probe asks the canvas actor (a stand-in until the
  // HTTP edge's bridge); a probe must answer exactly once, also on error.
  services.health_probes.push_back([&sys, c = *canvas](std::function<void(http::health_report)> k) {
    sys.spawn([c, k](caf::event_based_actor* self) {
      self->request(c, std::chrono::seconds(5), health_atom_v)
        .then([k](canvas_health& h) { k(http::health_report{h.checks(), h.degraded}); },
              [k](caf::error&) {
                k(http::health_report{{{"slack_api", "error: no answer"}}, true});
              });
    });
  });
  services.metrics_probes.push_back([&sys, c = *canvas](std::function<void(std::string)> k) {
    sys.spawn([c, k](caf::event_based_actor* self) {
      self->request(c, std::chrono::seconds(5), metrics_atom_v)
        .then([k](canvas_metrics& m) { k(m.prometheus()); }, [k](caf::error&) { k(""); });
    });
  });
  // -- end Slack canvases --

  std::string error;
  auto server = http::http_server::start(opt.host, static_cast<std::uint16_t>(opt.port),
                                         std::move(services), error);
  if (!server) {
    log::error("cannot start the HTTP server", {{"error", error}});
    if (epm) // EPM pull mode (issue 4)
      anon_send_exit(*epm, caf::exit_reason::user_shutdown);
    anon_send_exit(*canvas, caf::exit_reason::user_shutdown); // Slack canvases (issue 3)
    anon_send_exit(*state, caf::exit_reason::user_shutdown);
    return exit_runtime_error;
  }
  log::info("listening", {{"address", server->host()},
                          {"port", server->port()},
                          {"url", "http://" + server->host() + ":" + std::to_string(server->port())},
                          {"version", EPMPULSE_VERSION}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server->begin_draining();
  if (!server->wait_idle(std::chrono::seconds(10)))
    log::warn("stopping with requests still in flight");
  if (epm) // EPM pull mode (issue 4): no polled result lands after the flush
    anon_send_exit(*epm, caf::exit_reason::user_shutdown);
  bool flushed = false;
  {
    caf::scoped_actor self{sys};
    self->request(*state, std::chrono::seconds(15), flush_atom_v)
      .receive([&](bool ok) { flushed = ok; },
               [&](caf::error& err) { log::error("state flush failed", {{"error", sys.render(err)}}); });
  }
  server->stop();
  anon_send_exit(*canvas, caf::exit_reason::user_shutdown); // Slack canvases (issue 3)
  anon_send_exit(*state, caf::exit_reason::user_shutdown);
  log::info("stopped", {{"state_flushed", flushed}});
  return flushed ? 0 : exit_runtime_error;
}

} // namespace

int main(int argc, char** argv) {
  auto stop_signals = block_stop_signals();
  options opt;
  opt.config_path = env_or("EPMPULSE_CONFIG", opt.config_path);
  opt.data_dir = env_or("EPMPULSE_DATA_DIR", opt.data_dir);
  opt.host = env_or("EPMPULSE_HOST", opt.host);
  opt.port = std::atoi(env_or("EPMPULSE_PORT", std::to_string(opt.port)).c_str());

  CLI::App app{"EPMPulse: job status from Oracle EPM Cloud to Slack canvases"};
  app.set_version_flag("--version", std::string("epmpulse ") + EPMPULSE_VERSION);
  app.add_option("--config", opt.config_path, "configuration file (env EPMPULSE_CONFIG)");
  app.add_option("--data-dir", opt.data_dir, "state, backups and generated keys (env EPMPULSE_DATA_DIR)");
  app.add_option("--host", opt.host, "address to listen on (env EPMPULSE_HOST)");
  app.add_option("--port", opt.port, "port; 0 picks a free one (env EPMPULSE_PORT)")
    ->check(CLI::Range(0, 65535));
  app.add_flag("--check-config", opt.check_config, "validate the configuration and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_config_error;
  }
  return run(opt, stop_signals);
}
