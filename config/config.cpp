#include "config/config.hpp"

// The public face of the loader: the model's small helpers, and loading as
// one story from file to checked configuration. Reading JSON is
// config_reader's, each section's fields config_sections', and what relates
// sections to each other config_checks'.

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "config/config_checks.hpp"
#include "config/config_expectations.hpp"
#include "config/config_reader.hpp"
#include "config/config_sections.hpp"

namespace epmpulse::config {

// -- small public helpers ----------------------------------------------------

const char* to_string(key_role role) {
  switch (role) {
    case key_role::read: return "read";
    case key_role::write: return "write";
    case key_role::admin: return "admin";
  }
  return "read";
}

bool is_log_level(std::string_view word) {
  return word == "debug" || word == "info" || word == "warn" || word == "warning"
         || word == "error";
}

bool role_allows(key_role have, key_role need) {
  // The enum is declared weakest first, so "at least as strong" is ordering.
  return static_cast<int>(have) >= static_cast<int>(need);
}

const char* to_string(epm_server_kind kind) {
  switch (kind) {
    case epm_server_kind::planning: return "planning";
    case epm_server_kind::arcs: return "arcs";
    case epm_server_kind::data_integration: return "data_integration";
    case epm_server_kind::edm: return "edm";
    case epm_server_kind::arcs_tm: return "arcs_tm";
  }
  return "planning";
}

const app_config* service_config::find_app(std::string_view name) const {
  for (const auto& app : apps)
    if (app.name == name)
      return &app;
  return nullptr;
}

const channel_config* service_config::find_channel(std::string_view id) const {
  for (const auto& channel : channels)
    if (channel.id == id)
      return &channel;
  return nullptr;
}

const epm_server* service_config::find_server(std::string_view id) const {
  for (const auto& server : epm.servers)
    if (server.id == id)
      return &server;
  return nullptr;
}

std::string config_error::to_string() const {
  std::string out = file;
  if (!field.empty())
    out += ": " + field;
  out += ": " + problem;
  if (!fix.empty())
    out += " (fix: " + fix + ")";
  return out;
}

env_lookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* value = std::getenv(name.c_str()))
      return std::string{value};
    return std::nullopt;
  };
}

namespace {

service_config read_service_config(config_reader& reader, const config_json& root) {
  service_config cfg;
  cfg.source_path = reader.file();
  reader.require_object(root, "", "the file must contain one JSON object");
  reader.reject_unknown_keys(root, "", {"apps", "channels", "api_keys", "settings", "epm",
                                      "expectations", "maintenance"});

  // Order matters: apps refer to channels and servers, and pull-mode
  // checks need both settings and epm.
  cfg.settings = parse_settings(reader, reader.member_or_empty(root, "settings"), "settings");
  cfg.epm = parse_epm(reader, reader.member_or_empty(root, "epm"), "epm");
  cfg.channels = parse_channels(reader, reader.member_or_empty(root, "channels"), "channels");
  cfg.apps = parse_apps(reader, root);
  cfg.api_keys = parse_api_keys(reader, root);
  cfg.expectations = parse_expectations(reader, root, cfg);
  cfg.maintenance = parse_maintenance(reader, root, cfg);

  check_app_references(reader, cfg);
  warn_about_unused_channels(reader, cfg);
  apply_env_shortcuts(reader, cfg);
  check_pull_mode(reader, cfg);
  cfg.warnings = reader.take_warnings();
  return cfg;
}

config_error whole_file_error(const std::string& path, std::string problem, std::string fix) {
  return config_error{path, "", std::move(problem), std::move(fix)};
}

} // namespace

load_result parse_config(const std::string& text, const std::string& path,
                         const env_lookup& env) {
  try {
    config_json root = parse_json_document(text, path);
    config_reader reader{path, env};
    return {read_service_config(reader, root), std::nullopt};
  } catch (const config_failure& failure) {
    return {std::nullopt, failure.error};
  } catch (const std::exception& e) {
    // Our readers check types before reading, so this is a bug; still turn
    // it into a value rather than let it escape.
    return {std::nullopt, whole_file_error(path, std::string{"could not be read as configuration: "}
                                             + e.what(),
                                     "report this; it is a bug in the config loader")};
  }
}

load_result load_config(const std::string& path, const env_lookup& env) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return {std::nullopt, whole_file_error(path, "is a directory, not a config file",
                                     "pass the path of the JSON file, e.g. config/apps.json")};
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    std::string reason = std::strerror(errno);
    return {std::nullopt, whole_file_error(path, "cannot be opened: " + reason,
                                     "check the path given with --config and the file's "
                                     "permissions")};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return {std::nullopt, whole_file_error(path, "could not be read completely",
                                     "check the file system and the file's permissions")};
  return parse_config(text.str(), path, env);
}

} // namespace epmpulse::config
