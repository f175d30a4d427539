// epmpulse: reads options, loads the config, starts the service's parts
// (actors/service) and the HTTP server, waits for SIGINT/SIGTERM, then stops
// in order: drain HTTP, stop the parts (flushing the state), close HTTP.
// SIGHUP meanwhile reloads the API keys and rate limits (http/key_reloader).

#include <csignal>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/common/log.hpp"
#include "actors/service/service.hpp"
#include "actors/state/data_dir.hpp"
#include "actors/state/storage_migration.hpp"
#include "config/config.hpp"
#include "http/key_reloader.hpp"
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

// Blocks the stop signals and SIGHUP in every thread (threads inherit the
// mask), so main alone receives them through sigwait.
sigset_t block_handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
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
  std::string error;
  // Generated keys are written into the data dir before the state actor
  // prepares it, so it is made private here first.
  if (cfg->api_keys.empty())
    if (auto failure = prepare_private_dir(opt.data_dir))
      error = *failure;
  auto keys = error.empty() ? http::keys_to_run_with(*cfg, opt.data_dir, error) : std::nullopt;
  if (!keys) {
    log::error("cannot set up API keys", {{"error", error}});
    exit_code = exit_runtime_error;
    return nullptr;
  }
  cfg->api_keys = std::move(*keys);
  return cfg;
}

// What the HTTP layer talks to: the parts' actors.
http::http_services services_of(service& svc, std::shared_ptr<const config::service_config> config,
                                const options& opt) {
  http::http_services services;
  services.system = &svc.system();
  services.config = config;
  services.keys = std::make_shared<http::key_holder>(
    http::key_set{config->api_keys, config->settings.rate_limits});
  services.limiter = std::make_shared<http::rate_limiter>();
  services.reloader = http::spawn_key_reloader(
    svc.system(), {opt.config_path, opt.data_dir, config::process_env()}, services.keys,
    services.limiter);
  services.state = svc.state();
  services.canvas = svc.canvas();
  services.history = svc.history();
  services.events = svc.events();
  services.epm = svc.epm();
  services.evaluator = svc.evaluator();
  services.alerts = svc.alerts();
  services.elector = svc.elector();
  services.counters = std::make_shared<http::server_counters>();
  return services;
}

// Waits for SIGINT or SIGTERM; each SIGHUP before it asks for a reload (the
// reloader logs its outcome). Returns the stop signal.
int wait_for_stop(const sigset_t& signals, const http::key_reloader_actor& reloader) {
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0)
      continue;
    if (sig != SIGHUP)
      return sig;
    log::info("SIGHUP: reloading the API keys and rate limits");
    caf::anon_send(reloader, reload_atom_v, std::string{"SIGHUP"});
  }
}

int run(const options& opt, sigset_t signals) {
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
  // After the state actor prepared the data dir (the generated key lives there).
  auto signing_key = http::signing_key_to_run_with(*config, opt.data_dir, error);
  if (!signing_key) {
    log::error("cannot set up the dashboard signing key", {{"error", error}});
    (*svc)->stop();
    return exit_runtime_error;
  }
  auto services = services_of(**svc, config, opt);
  services.signer = std::make_shared<const http::token_signer>(std::move(*signing_key));
  auto reloader = services.reloader;
  auto server = http::http_server::start(opt.host, static_cast<std::uint16_t>(opt.port),
                                         std::move(services), error);
  if (!server) {
    log::error("cannot start the HTTP server", {{"error", error}});
    caf::anon_send_exit(reloader, caf::exit_reason::user_shutdown);
    return exit_runtime_error;
  }
  log::info("listening", {{"address", server->host()},
                          {"port", server->port()},
                          {"url", "http://" + server->host() + ":" + std::to_string(server->port())},
                          {"version", EPMPULSE_VERSION}});

  int sig = wait_for_stop(signals, reloader);
  log::info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  // New requests are answered 503 from here on; those in flight finish
  // before the parts stop.
  server->begin_draining();
  if (!server->wait_idle(std::chrono::seconds(10)))
    log::warn("stopping with requests still in flight");
  bool flushed = (*svc)->stop();
  server->stop();
  caf::anon_send_exit(reloader, caf::exit_reason::user_shutdown);
  log::info("stopped", {{"state_flushed", flushed}});
  return flushed ? 0 : exit_runtime_error;
}

} // namespace

/// `epmpulse migrate`: the JSON data dir into PostgreSQL or back. The URL
/// comes from --to / --from or EPMPULSE_DATABASE_URL (which keeps the
/// password out of the process list); it is never printed.
struct migrate_options {
  std::string from_json;
  std::string to_json;
  std::string to_url;
  std::string from_url;
};

int run_migrate(const migrate_options& m) {
  const bool importing = !m.from_json.empty();
  const bool exporting = !m.to_json.empty();
  if (importing == exporting) {
    std::cerr << "epmpulse migrate: give either --from-json DIR [--to URL] or "
                 "--to-json DIR [--from URL]\n";
    return exit_config_error;
  }
  pg_target target;
  target.application_name = "epmpulse migrate";
  target.url = importing ? m.to_url : m.from_url;
  if (target.url.empty())
    target.url = env_or("EPMPULSE_DATABASE_URL", "");
  if (target.url.empty()) {
    std::cerr << "epmpulse migrate: no database: pass " << (importing ? "--to" : "--from")
              << " or set EPMPULSE_DATABASE_URL\n";
    return exit_config_error;
  }
  std::string summary;
  auto failure = importing ? import_json_dir(m.from_json, target, summary)
                           : export_to_json_dir(target, m.to_json, summary);
  if (!failure.empty()) {
    std::cerr << "epmpulse migrate: " << failure << "\n";
    return exit_runtime_error;
  }
  std::cout << summary << "\n";
  return 0;
}

int main(int argc, char** argv) {
  auto signals = block_handled_signals();
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
  migrate_options migrate;
  auto* migrate_cmd = app.add_subcommand(
    "migrate", "copy the state from a JSON data dir into PostgreSQL (once), or back");
  migrate_cmd->add_option("--from-json", migrate.from_json, "JSON data dir to import");
  migrate_cmd->add_option("--to", migrate.to_url, "PostgreSQL URL to import into (env EPMPULSE_DATABASE_URL)");
  migrate_cmd->add_option("--to-json", migrate.to_json, "empty data dir to export into");
  migrate_cmd->add_option("--from", migrate.from_url, "PostgreSQL URL to export from (env EPMPULSE_DATABASE_URL)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_config_error;
  }
  if (migrate_cmd->parsed())
    return run_migrate(migrate);
  return run(opt, signals);
}
