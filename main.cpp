// epmpulse: reads options, loads the config, starts the service's parts
// (actors/service) and the HTTP server, waits for SIGINT/SIGTERM, then stops
// in order: drain HTTP, stop the parts (flushing the state), close HTTP.

#include <csignal>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "actors/common/log.hpp"
#include "actors/service/service.hpp"
#include "actors/state/data_dir.hpp"
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

// The configuration as the service runs it: validated, the log level set,
// API keys generated into the data dir when none is configured. nullopt with
// the exit code when it cannot run.
std::shared_ptr<const config::service_config> prepare_config(const options& opt, int& exit_code) {
  auto loaded = config::load_config(opt.config_path);
  if (loaded.error) {
    log::error("invalid configuration", {{"error", loaded.error->to_string()}});
    std::cerr << "epmpulse: " << loaded.error->to_string() << "\n";
    exit_code = exit_config_error;
    return nullptr;
  }
  auto cfg = std::make_shared<config::service_config>(std::move(*loaded.config));
  if (opt.check_config) {
    std::cout << "epmpulse: " << opt.config_path << " is valid (" << cfg->apps.size() << " apps, "
              << cfg->channels.size() << " channels, " << cfg->api_keys.size() << " API keys)\n";
    for (const auto& w : cfg->warnings)
      std::cout << "warning: " << w << "\n";
    exit_code = 0;
    return nullptr;
  }
  log::level lvl = log::level::info;
  if (log::parse_level(cfg->settings.log_level, lvl))
    log::set_level(lvl);
  for (const auto& w : cfg->warnings)
    log::warn(w);
  if (cfg->api_keys.empty()) {
    std::string error;
    // The generated keys are written before the state actor prepares the dir.
    if (auto failure = prepare_private_dir(opt.data_dir))
      error = *failure;
    auto keys = error.empty() ? http::bootstrap_keys(opt.data_dir, error) : std::nullopt;
    if (!keys) {
      log::error("cannot set up API keys", {{"error", error}});
      exit_code = exit_runtime_error;
      return nullptr;
    }
    cfg->api_keys = std::move(*keys);
  }
  return cfg;
}

// What the HTTP layer talks to: the parts' actors.
http::http_services services_of(service& svc, std::shared_ptr<const config::service_config> config) {
  http::http_services services;
  services.system = &svc.system();
  services.config = config;
  services.keys = std::make_shared<const http::key_store>(config->api_keys);
  services.state = svc.state();
  services.canvas = svc.canvas();
  services.epm = svc.epm();
  services.counters = std::make_shared<http::server_counters>();
  return services;
}

int run(const options& opt, sigset_t stop_signals) {
  int exit_code = 0;
  auto config = prepare_config(opt, exit_code);
  if (!config)
    return exit_code;
  auto svc = service::start(config, opt.data_dir);
  if (!svc) {
    log::error("cannot start", {{"error", describe_error(svc.error())}});
    return exit_runtime_error;
  }
  std::string error;
  auto server = http::http_server::start(opt.host, static_cast<std::uint16_t>(opt.port),
                                         services_of(**svc, config), error);
  if (!server) {
    log::error("cannot start the HTTP server", {{"error", error}});
    return exit_runtime_error;
  }
  log::info("listening", {{"address", server->host()},
                          {"port", server->port()},
                          {"url", "http://" + server->host() + ":" + std::to_string(server->port())},
                          {"version", EPMPULSE_VERSION}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  // New requests are answered 503 from here on; those in flight finish
  // before the parts stop.
  server->begin_draining();
  if (!server->wait_idle(std::chrono::seconds(10)))
    log::warn("stopping with requests still in flight");
  bool flushed = (*svc)->stop();
  server->stop();
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
