#include "config/config_checks.hpp"

// The checks that need more than one section, or a section and the
// environment. Fields that only pull mode needs were read deferred by the
// sections; here they are required, naming the unset variable when there is
// one.

#include <cstddef>
#include <string>
#include <utility>

#include "config/config_sections.hpp"

namespace epmpulse::config {

namespace {

void add_env_api_key(config_reader& reader, service_config& cfg, const std::string& variable,
                     const std::string& name, key_role role) {
  auto value = reader.env_value(variable);
  if (!value)
    return;
  std::string field = variable + " (environment)";
  for (const auto& key : cfg.api_keys)
    if (key.name == name)
      reader.fail(field, "adds a key named " + in_quotes(name) + ", but api_keys already has one",
                  "rename that api_keys entry or unset " + variable);
  api_key key{name, *value, role, std::nullopt};
  check_api_key_value(reader, key, field, cfg.api_keys);
  cfg.api_keys.push_back(std::move(key));
}

void require_for_pull_mode(const config_reader& reader, const std::string& value,
                           const std::string& field, const std::string& what) {
  if (!value.empty())
    return;
  std::string problem = "is empty but pull mode needs " + what;
  if (auto variable = reader.deferred_variable(field))
    reader.fail(field,
                problem + "; it refers to ${" + *variable
                  + "}, which is not set in the environment",
                unresolved_fix(*variable));
  reader.fail(field, problem, "set " + field + " (with ${VAR} for secrets) or disable pull mode");
}

void check_epm_auth_complete(const config_reader& reader, const epm_auth& auth) {
  const std::string path = "epm.auth";
  switch (auth.type) {
    case epm_auth_type::none:
      reader.fail(child_path(path, "type"), "is \"none\" but settings.pull_mode.enabled is true",
                  "set epm.auth.type to \"oauth_refresh_token\", \"oauth_client_credentials\" or "
                  "\"basic\", or disable pull mode");
    case epm_auth_type::oauth_refresh_token:
      require_for_pull_mode(reader, auth.token_url, child_path(path, "token_url"),
                            "the OAuth token URL");
      require_for_pull_mode(reader, auth.client_id, child_path(path, "client_id"),
                            "the OAuth client id");
      require_for_pull_mode(reader, auth.refresh_token, child_path(path, "refresh_token"),
                            "the OAuth refresh token");
      break;
    case epm_auth_type::oauth_client_credentials:
      require_for_pull_mode(reader, auth.token_url, child_path(path, "token_url"),
                            "the OAuth token URL (oauth_client_credentials is experimental)");
      require_for_pull_mode(reader, auth.client_id, child_path(path, "client_id"),
                            "the OAuth client id (oauth_client_credentials is experimental)");
      require_for_pull_mode(reader, auth.client_secret, child_path(path, "client_secret"),
                            "the OAuth client secret (oauth_client_credentials is experimental)");
      break;
    case epm_auth_type::basic:
      require_for_pull_mode(reader, auth.username, child_path(path, "username"),
                            "the EPM user name");
      require_for_pull_mode(reader, auth.password, child_path(path, "password"),
                            "the EPM password");
      break;
  }
}

} // namespace

void check_app_references(const config_reader& reader, const service_config& cfg) {
  for (const auto& app : cfg.apps) {
    std::string path = child_path("apps", app.name);
    for (std::size_t i = 0; i < app.channels.size(); ++i)
      if (!cfg.find_channel(app.channels[i]))
        reader.fail(index_path(child_path(path, "channels"), i),
                    "channel " + in_quotes(app.channels[i]) + " is not defined in \"channels\"",
                    "add it under \"channels\" or correct the id");
    if (!app.server.empty() && !cfg.find_server(app.server))
      reader.fail(child_path(path, "server"),
                  "server " + in_quotes(app.server) + " is not defined in \"epm.servers\"",
                  "add it under \"epm.servers\" or correct the id");
  }
}

void warn_about_unused_channels(config_reader& reader, const service_config& cfg) {
  for (const auto& channel : cfg.channels) {
    bool used = false;
    for (const auto& app : cfg.apps)
      for (const auto& id : app.channels)
        used = used || id == channel.id;
    if (!used)
      reader.warn(child_path("channels", channel.id) + ": no app shows in this channel");
  }
}

void apply_env_shortcuts(config_reader& reader, service_config& cfg) {
  add_env_api_key(reader, cfg, "EPMPULSE_API_KEY", "env_write", key_role::write);
  add_env_api_key(reader, cfg, "EPMPULSE_ADMIN_KEY", "env_admin", key_role::admin);

  auto& slack = cfg.settings.slack;
  if (slack.bot_token.empty()) {
    const std::string token_field = "settings.slack.bot_token";
    if (auto token = reader.env_value("SLACK_BOT_TOKEN")) {
      if (has_space_or_control(*token))
        reader.fail("SLACK_BOT_TOKEN (environment)",
                    "contains whitespace or control characters (value not shown)",
                    "remove the stray characters from the variable");
      slack.bot_token = *token;
    } else if (auto variable = reader.deferred_variable(token_field)) {
      reader.warn(token_field + ": ${" + *variable + "} is not set; Slack canvases are disabled");
    }
  }
  if (auto url = reader.env_value("SLACK_API_URL")) {
    if (!is_http_url(*url))
      reader.fail("SLACK_API_URL (environment)",
                  "must be an http:// or https:// URL, got " + in_quotes(*url),
                  "set it to e.g. http://127.0.0.1:8081/api, or unset it");
    slack.api_url = without_trailing_slashes(*url);
  }
}

void check_pull_mode(config_reader& reader, const service_config& cfg) {
  if (!cfg.settings.pull_mode.enabled)
    return;
  check_epm_auth_complete(reader, cfg.epm.auth);
  if (cfg.epm.auth.type == epm_auth_type::oauth_client_credentials)
    reader.warn("epm.auth.type: oauth_client_credentials is experimental: Oracle documents EPM "
                "Cloud's REST APIs with a user's refresh token, and an access token without a "
                "user has no EPM role; use \"oauth_refresh_token\" (docs/pull-mode.md)");
  for (const auto& server : cfg.epm.servers) {
    std::string path = child_path("epm.servers", server.id);
    require_for_pull_mode(reader, server.base_url, child_path(path, "base_url"),
                          "the server's URL");
    if (server.kind == epm_server_kind::planning)
      require_for_pull_mode(reader, server.application, child_path(path, "application"),
                            "the Planning application name");
  }
  bool any_app_polled = false;
  for (const auto& app : cfg.apps)
    any_app_polled = any_app_polled || !app.server.empty();
  if (!any_app_polled)
    reader.warn(
      "settings.pull_mode.enabled is true but no app names a \"server\"; nothing is polled");
}

} // namespace epmpulse::config
