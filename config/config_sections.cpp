#include "config/config_sections.hpp"

// One parser per section of the file. Each states its fields, their limits
// (from config_limits.hpp) and the rules local to the section; the reader
// turns every broken rule into a message with file, field and fix.

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "common/time_format.hpp"

namespace epmpulse::config {

namespace {

constexpr const char* api_key_generation_hint = "generate one with: openssl rand -hex 24";

/// "1 to 64": the length of names, as messages state it.
std::string name_length_words() {
  return "1 to " + std::to_string(limits::max_name_length);
}

// -- settings ----------------------------------------------------------------

std::string read_log_level(const config_reader& reader, const config_json& object,
                           const std::string& path, std::string fallback) {
  std::string level = reader.read_string(object, "log_level", path, fallback);
  if (!is_log_level(level))
    reader.fail(child_path(path, "log_level"),
                "must be one of \"debug\", \"info\", \"warn\", \"error\", got " + in_quotes(level),
                "use one of the listed values");
  return level;
}

server_settings parse_server_settings(const config_reader& reader, const config_json& object,
                                      const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"io_threads", "actor_threads", "max_body_bytes",
                              "request_timeout_sec", "read_timeout_sec", "max_connections"});
  server_settings s;
  s.io_threads = reader.read_whole_number(object, "io_threads", path, limits::server::io_threads);
  s.actor_threads =
    reader.read_whole_number(object, "actor_threads", path, limits::server::actor_threads);
  s.max_body_bytes = static_cast<std::size_t>(
    reader.read_whole_number(object, "max_body_bytes", path, limits::server::max_body_bytes));
  s.request_timeout_sec =
    reader.read_number(object, "request_timeout_sec", path, limits::server::request_timeout_sec);
  s.read_timeout_sec =
    reader.read_number(object, "read_timeout_sec", path, limits::server::read_timeout_sec);
  s.max_connections =
    reader.read_whole_number(object, "max_connections", path, limits::server::max_connections);
  return s;
}

history_settings parse_history(const config_reader& reader, const config_json& object,
                               const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"retention_days", "max_bytes", "stream_buffer_bytes"});
  history_settings h;
  h.retention_days =
    reader.read_whole_number(object, "retention_days", path, limits::history::retention_days);
  h.max_bytes = static_cast<std::uint64_t>(
    reader.read_number(object, "max_bytes", path, limits::history::max_bytes));
  h.stream_buffer_bytes = reader.read_whole_number(object, "stream_buffer_bytes", path,
                                                   limits::history::stream_buffer_bytes);
  return h;
}

rate_limit_settings parse_rate_limits(const config_reader& reader, const config_json& object,
                                      const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"enabled", "status_per_minute", "batch_per_minute",
                              "read_per_minute"});
  rate_limit_settings r;
  r.enabled = reader.read_bool(object, "enabled", path, r.enabled);
  r.status_per_minute = reader.read_whole_number(object, "status_per_minute", path,
                                                 limits::rate_limits::status_per_minute);
  r.batch_per_minute = reader.read_whole_number(object, "batch_per_minute", path,
                                                limits::rate_limits::batch_per_minute);
  r.read_per_minute = reader.read_whole_number(object, "read_per_minute", path,
                                               limits::rate_limits::read_per_minute);
  return r;
}

/// An empty token disables the canvas side, so an unset ${VAR} is not
/// fatal here; SLACK_BOT_TOKEN may still fill it in apply_env_shortcuts.
std::string read_bot_token(config_reader& reader, const config_json& object,
                           const std::string& path) {
  auto token = reader.read_text_field(object, "bot_token", path);
  if (!token)
    return {};
  std::string field = child_path(path, "bot_token");
  if (!token->unresolved.empty()) {
    reader.defer_unset_variable(field, token->unresolved);
    return {};
  }
  if (has_space_or_control(token->value))
    reader.fail(field, "contains whitespace or control characters (value not shown)",
                "remove the stray characters from the token");
  return std::move(token->value);
}

std::string read_slack_api_url(const config_reader& reader, const config_json& object,
                               const std::string& parent, std::string fallback) {
  const config_json* value = config_reader::member(object, "api_url");
  if (!value)
    return fallback;
  std::string path = child_path(parent, "api_url");
  std::string url = reader.read_string(*value, path);
  if (!is_http_url(url))
    reader.fail(path, "must be an http:// or https:// URL, got " + in_quotes(url),
                "write the full URL, e.g. \"https://slack.com/api\"");
  return without_trailing_slashes(std::move(url));
}

std::string read_dashboard_title(const config_reader& reader, const config_json& object,
                                 const std::string& path, std::string fallback) {
  std::string title = reader.read_string(object, "dashboard_title", path, fallback);
  if (title.empty() || title.size() > limits::max_dashboard_title_length
      || title.find('\n') != std::string::npos)
    reader.fail(child_path(path, "dashboard_title"),
                "must be one line of 1 to " + std::to_string(limits::max_dashboard_title_length)
                  + " characters",
                "shorten the title or remove the line break");
  return title;
}

std::string read_display_timezone(config_reader& reader, const config_json& object,
                                  const std::string& path, std::string fallback) {
  std::string zone = reader.read_string(object, "display_timezone", path, fallback);
  std::string field = child_path(path, "display_timezone");
  if (zone == "UTC")
    return zone;
  bool well_formed = !zone.empty() && zone.size() <= limits::max_time_zone_name_length
                     && zone.front() != '/' && zone.find("..") == std::string::npos;
  for (char c : zone)
    well_formed = well_formed && (std::isalnum(static_cast<unsigned char>(c)) || c == '/'
                                  || c == '_' || c == '-' || c == '+');
  if (!well_formed)
    reader.fail(field, "must be \"UTC\" or an IANA time zone name like \"Europe/London\", got "
                         + in_quotes(zone),
                "use a name from the tz database");
  // A typo like "Europe/Londn" would otherwise show UTC times silently.
  std::error_code ec;
  const std::filesystem::path zoneinfo{"/usr/share/zoneinfo"};
  if (!std::filesystem::is_directory(zoneinfo, ec))
    reader.warn(field + ": cannot check " + in_quotes(zone)
                + " because /usr/share/zoneinfo is missing (install tzdata)");
  else if (!std::filesystem::is_regular_file(zoneinfo / zone, ec))
    reader.fail(field, "unknown time zone " + in_quotes(zone),
                "use a name from the tz database, e.g. \"Europe/London\" or \"America/New_York\"");
  return zone;
}

/// Canvases are replaced whole: "full" is the one mode. "sections" edited a
/// canvas heading by heading, but in Slack a heading's section is the heading
/// alone and canvases.sections.lookup finds headings only, so replacing one
/// left the old table or list under it on the canvas.
void read_update_mode(const config_reader& reader, const config_json& object,
                      const std::string& path) {
  if (reader.read_string(object, "update_mode", path, "full") == "sections")
    reader.fail(child_path(path, "update_mode"),
                "\"sections\" is no longer supported: Slack's section edits cannot remove the "
                "list or table under a heading, so the canvas would fill with stale copies",
                "use \"full\" (the default; one canvases.edit per update) or leave update_mode out");
  reader.read_choice(object, "update_mode", path, 0, {"full"});
}

slack_settings parse_slack(config_reader& reader, const config_json& object,
                           const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"bot_token", "api_url", "min_update_interval_sec", "update_mode",
                              "layout", "max_retries", "create_missing_canvases", "dashboard_title",
                              "display_timezone", "request_timeout_sec"});
  slack_settings s;
  s.bot_token = read_bot_token(reader, object, path);
  s.api_url = read_slack_api_url(reader, object, path, s.api_url);
  s.min_update_interval_sec = reader.read_number(object, "min_update_interval_sec", path,
                                                 limits::slack::min_update_interval_sec);
  read_update_mode(reader, object, path);
  s.layout = static_cast<canvas_layout>(
    reader.read_choice(object, "layout", path, 0, {"list", "table"}));
  s.max_retries =
    reader.read_whole_number(object, "max_retries", path, limits::slack::max_retries);
  s.create_missing_canvases =
    reader.read_bool(object, "create_missing_canvases", path, s.create_missing_canvases);
  s.dashboard_title = read_dashboard_title(reader, object, path, s.dashboard_title);
  s.display_timezone = read_display_timezone(reader, object, path, s.display_timezone);
  s.request_timeout_sec =
    reader.read_number(object, "request_timeout_sec", path, limits::slack::request_timeout_sec);
  return s;
}

dashboard_settings parse_dashboard(config_reader& reader, const config_json& object,
                                   const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"public", "secure_cookie", "session_ttl_sec", "signing_key"});
  dashboard_settings d;
  d.is_public = reader.read_bool(object, "public", path, d.is_public);
  d.secure_cookie = reader.read_bool(object, "secure_cookie", path, d.secure_cookie);
  d.session_ttl_sec =
    reader.read_whole_number(object, "session_ttl_sec", path, limits::dashboard::session_ttl_sec);
  auto key = reader.read_text_field(object, "signing_key", path);
  if (!key)
    return d;
  std::string field = child_path(path, "signing_key");
  if (!key->unresolved.empty()) {
    reader.defer_unset_variable(field, key->unresolved);
    return d;
  }
  if (key->value.size() < limits::dashboard::min_signing_key_length
      || has_space_or_control(key->value))
    reader.fail(field,
                "must be at least " + std::to_string(limits::dashboard::min_signing_key_length)
                  + " characters without whitespace (value not shown)",
                "generate one with: openssl rand -hex 32, or leave it out to use the key "
                "generated in the data dir");
  d.signing_key = std::move(key->value);
  return d;
}

pull_mode_settings parse_pull_mode(const config_reader& reader, const config_json& object,
                                   const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"enabled", "poll_interval_seconds", "max_poll_duration_minutes",
                              "max_concurrent_polls_per_server"});
  pull_mode_settings p;
  p.enabled = reader.read_bool(object, "enabled", path, p.enabled);
  p.poll_interval_seconds = reader.read_number(object, "poll_interval_seconds", path,
                                               limits::pull_mode::poll_interval_seconds);
  p.max_poll_duration_minutes = reader.read_number(object, "max_poll_duration_minutes", path,
                                                   limits::pull_mode::max_poll_duration_minutes);
  p.max_concurrent_polls_per_server =
    reader.read_whole_number(object, "max_concurrent_polls_per_server", path,
                             limits::pull_mode::max_concurrent_polls_per_server);
  return p;
}

storage_settings parse_storage(const config_reader& reader, const config_json& object,
                               const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"kind", "url", "pool", "connect_timeout_sec", "sslmode",
                              "sslrootcert", "sslcert", "sslkey"});
  storage_settings s;
  s.kind = static_cast<storage_kind>(
    reader.read_choice(object, "kind", path, 0, {"json", "postgres"}));
  if (s.kind == storage_kind::postgres) {
    const auto* url = config_reader::member(object, "url");
    if (url == nullptr)
      reader.fail(child_path(path, "url"), "is missing for kind \"postgres\"",
                  "set it to a libpq URI, e.g. \"${EPMPULSE_DATABASE_URL}\" with "
                  "EPMPULSE_DATABASE_URL=postgresql://epmpulse@db.example.com/epmpulse");
    s.url = reader.read_string(*url, child_path(path, "url"));
    if (s.url.empty())
      reader.fail(child_path(path, "url"), "is empty",
                  "set it to a libpq URI such as postgresql://user@host:5432/dbname");
  }
  s.pool = reader.read_whole_number(object, "pool", path, limits::storage::pool);
  s.connect_timeout_sec =
    reader.read_number(object, "connect_timeout_sec", path, limits::storage::connect_timeout_sec);
  s.sslmode = reader.read_string(object, "sslmode", path, "");
  if (!s.sslmode.empty()) {
    static const std::vector<std::string> modes{"disable", "allow", "prefer",
                                                "require", "verify-ca", "verify-full"};
    if (std::find(modes.begin(), modes.end(), s.sslmode) == modes.end())
      reader.fail(child_path(path, "sslmode"), "is not a libpq sslmode",
                  "use one of disable, allow, prefer, require, verify-ca, verify-full");
  }
  s.sslrootcert = reader.read_string(object, "sslrootcert", path, "");
  s.sslcert = reader.read_string(object, "sslcert", path, "");
  s.sslkey = reader.read_string(object, "sslkey", path, "");
  return s;
}

// -- epm ---------------------------------------------------------------------

epm_auth parse_epm_auth(config_reader& reader, const config_json& object,
                        const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"type", "token_url", "client_id", "client_secret", "refresh_token",
                              "scope", "username", "password"});
  epm_auth a;
  a.type = static_cast<epm_auth_type>(
    reader.read_choice(object, "type", path, 0,
                       {"none", "oauth_refresh_token", "oauth_client_credentials", "basic"}));
  a.token_url = reader.read_deferred(object, "token_url", path);
  a.client_id = reader.read_deferred(object, "client_id", path);
  a.client_secret = reader.read_deferred(object, "client_secret", path);
  a.refresh_token = reader.read_deferred(object, "refresh_token", path);
  a.scope = reader.read_deferred(object, "scope", path);
  a.username = reader.read_deferred(object, "username", path);
  a.password = reader.read_deferred(object, "password", path);
  if (!a.token_url.empty() && !is_http_url(a.token_url))
    reader.fail(child_path(path, "token_url"),
                "must be an http:// or https:// URL, got " + in_quotes(a.token_url),
                "write the full URL of the OAuth token endpoint");
  return a;
}

epm_server parse_epm_server(config_reader& reader, const std::string& id,
                            const config_json& object, const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path, {"name", "base_url", "kind", "application"});
  epm_server s;
  s.id = id;
  s.name = reader.read_string(object, "name", path, id);
  if (s.name.empty())
    s.name = id;
  s.base_url = without_trailing_slashes(reader.read_deferred(object, "base_url", path));
  if (!s.base_url.empty() && !is_http_url(s.base_url))
    reader.fail(child_path(path, "base_url"),
                "must be an http:// or https:// URL, got " + in_quotes(s.base_url),
                "write the server's full URL, e.g. \"https://example-epm.oraclecloud.com\"");
  s.kind = static_cast<epm_server_kind>(
    reader.read_choice(object, "kind", path, 0, {"planning", "arcs", "data_integration", "edm", "arcs_tm"}));
  s.application = reader.read_deferred(object, "application", path);
  return s;
}

std::vector<epm_server> parse_epm_servers(config_reader& reader, const config_json& object,
                                          const std::string& path) {
  reader.require_object(object, path);
  std::vector<epm_server> servers;
  for (const auto& [id, body] : object.items()) {
    std::string server_path = child_path(path, id);
    if (!is_valid_name(id, false))
      reader.fail(server_path,
                  "server id must be " + name_length_words() + " letters, digits, '_', '.' or '-'",
                  "rename the server (and the apps' \"server\" fields that use it)");
    servers.push_back(parse_epm_server(reader, id, body, server_path));
  }
  return servers;
}

// -- channels ----------------------------------------------------------------

channel_config parse_channel(const config_reader& reader, const std::string& id,
                             const config_json& object, const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path, {"name", "canvas_id"});
  channel_config c;
  c.id = id;
  c.name = reader.read_string(object, "name", path, id);
  if (c.name.empty())
    c.name = id;
  c.canvas_id = reader.read_string(object, "canvas_id", path, "");
  if (has_space_or_control(c.canvas_id))
    reader.fail(child_path(path, "canvas_id"),
                "must not contain spaces, got " + in_quotes(c.canvas_id),
                "use the canvas file id, e.g. \"F12345678\", or leave it out");
  return c;
}

// -- apps --------------------------------------------------------------------

void check_no_repeats(const config_reader& reader, const std::vector<std::string>& items,
                      const std::string& path, const std::string& what) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (!seen.insert(items[i]).second)
      reader.fail(index_path(path, i), what + " " + in_quotes(items[i]) + " is listed twice",
                  "remove the repeat");
}

void check_domain_names(const config_reader& reader, const std::vector<std::string>& domains,
                        const std::string& path) {
  for (std::size_t i = 0; i < domains.size(); ++i) {
    const auto& domain = domains[i];
    if (!is_valid_name(domain, true))
      reader.fail(index_path(path, i),
                  "domain name must be " + name_length_words()
                    + " letters, digits, spaces, '_', '.' or '-', got " + in_quotes(domain),
                  "rename the domain");
    if (domain.front() == ' ' || domain.back() == ' ')
      reader.fail(index_path(path, i),
                  "domain name must not start or end with a space, got " + in_quotes(domain),
                  "remove the outer spaces");
  }
  check_no_repeats(reader, domains, path, "domain");
}

app_config parse_app(const config_reader& reader, const std::string& name,
                     const config_json& object, const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"display_name", "domains", "channels", "strict_domains", "server",
                              "alert_channel"});
  app_config app;
  app.name = name;
  app.display_name = reader.read_string(object, "display_name", path, name);
  if (app.display_name.empty())
    app.display_name = name;
  app.domains = reader.read_string_array(object, "domains", path);
  check_domain_names(reader, app.domains, child_path(path, "domains"));
  app.channels = reader.read_string_array(object, "channels", path);
  check_no_repeats(reader, app.channels, child_path(path, "channels"), "channel");
  app.strict_domains = reader.read_bool(object, "strict_domains", path, app.strict_domains);
  if (app.strict_domains && app.domains.empty())
    reader.fail(child_path(path, "strict_domains"),
                "is true but the app lists no domains, so every update would be rejected",
                "list the app's domains or set strict_domains to false");
  app.server = reader.read_string(object, "server", path, "");
  app.alert_channel = reader.read_string(object, "alert_channel", path, "");
  return app;
}

// -- alerts ------------------------------------------------------------------

webhook_settings parse_webhook(config_reader& reader, const config_json& object,
                               const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path, {"url", "secret", "max_retries", "timeout_sec"});
  webhook_settings w;
  w.url = reader.read_string(object, "url", path, "");
  if (!w.url.empty() && !is_http_url(w.url))
    reader.fail(child_path(path, "url"), "must be an http:// or https:// URL",
                "write the full address of the webhook receiver, e.g. "
                "\"https://hooks.example.com/epmpulse\"");
  if (auto secret = reader.read_text_field(object, "secret", path)) {
    if (!secret->unresolved.empty())
      reader.fail(child_path(path, "secret"),
                  "refers to ${" + secret->unresolved + "}, which is not set in the environment",
                  unresolved_fix(secret->unresolved));
    w.secret = std::move(secret->value);
  }
  if (!w.url.empty() && w.secret.size() < limits::min_api_key_length)
    reader.fail(child_path(path, "secret"),
                "must be at least " + std::to_string(limits::min_api_key_length)
                  + " characters: receivers check the signature with it",
                std::string{"set it from the environment, e.g. \"${EPMPULSE_WEBHOOK_SECRET}\"; "}
                  + api_key_generation_hint);
  w.max_retries =
    reader.read_whole_number(object, "max_retries", path, limits::alerts::webhook_max_retries);
  w.timeout_sec =
    reader.read_number(object, "timeout_sec", path, limits::alerts::webhook_timeout_sec);
  return w;
}

alert_settings parse_alerts(config_reader& reader, const config_json& object,
                            const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"enabled", "alert_after_failures", "reminder_hours",
                              "evaluate_interval_sec", "webhook"});
  alert_settings a;
  a.enabled = reader.read_bool(object, "enabled", path, a.enabled);
  a.alert_after_failures = reader.read_whole_number(object, "alert_after_failures", path,
                                                    limits::alerts::alert_after_failures);
  a.reminder_hours =
    reader.read_number(object, "reminder_hours", path, limits::alerts::reminder_hours);
  a.evaluate_interval_sec = reader.read_number(object, "evaluate_interval_sec", path,
                                               limits::alerts::evaluate_interval_sec);
  a.webhook = parse_webhook(reader, reader.member_or_empty(object, "webhook"),
                            child_path(path, "webhook"));
  return a;
}

// -- api keys ----------------------------------------------------------------

// A key that has already expired is a warning, not a failure: a deployment
// must not stop at the next restart because a date passed; the key itself is
// refused (401 KEY_EXPIRED), which is what its expiry asked for.
void read_key_expiry(config_reader& reader, const config_json& object, const std::string& path,
                     api_key& key) {
  if (!config_reader::member(object, "expires"))
    return;
  auto text = reader.read_string(object, "expires", path, "");
  // The same RFC 3339 reading as pushed timestamps.
  if (auto at = parse_time(text))
    key.expires = *at;
  if (!key.expires)
    reader.fail(child_path(path, "expires"),
                "must be an RFC 3339 time, got " + in_quotes(text),
                "write the date, the time and the offset, e.g. \"2027-03-31T00:00:00Z\" or "
                "\"2027-03-31T02:00:00+02:00\"");
  auto left = *key.expires - std::chrono::system_clock::now();
  if (left <= std::chrono::system_clock::duration::zero())
    reader.warn("API key " + in_quotes(key.name) + " expired at " + text
                + ": requests with it get 401 KEY_EXPIRED (remove it or give it a new key and "
                  "expiry)");
  else if (left < std::chrono::hours{24 * limits::api_key_expiry_notice_days})
    reader.warn("API key " + in_quotes(key.name) + " expires at " + text + ", in less than "
                + std::to_string(limits::api_key_expiry_notice_days)
                + " days: rotate it before then");
}

/// Returns the entry with an empty `key` when it is to be skipped.
api_key parse_api_key(config_reader& reader, const config_json& object, const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path, {"name", "key", "role", "expires"});
  api_key key;
  if (!config_reader::member(object, "name"))
    reader.fail(child_path(path, "name"), "is missing", "name the client that uses this key");
  key.name = reader.read_string(object, "name", path, "");
  if (!is_valid_name(key.name, false))
    reader.fail(child_path(path, "name"),
                "must be " + name_length_words() + " letters, digits, '_', '.' or '-', got "
                  + in_quotes(key.name),
                "rename the entry");
  key.role = static_cast<key_role>(reader.read_choice(object, "role", path,
                                                      static_cast<std::size_t>(key_role::write),
                                                      {"read", "write", "admin"}));
  read_key_expiry(reader, object, path, key);
  auto value = reader.read_text_field(object, "key", path);
  if (!value)
    reader.fail(child_path(path, "key"), "is missing",
                "add \"key\": \"${SOME_VARIABLE}\" and set that variable");
  // A key whose variable is not set is skipped rather than fatal, so one
  // sample file serves every deployment; the server makes keys if none.
  if (!value->unresolved.empty())
    reader.warn("API key " + in_quotes(key.name) + " skipped: ${" + value->unresolved
                + "} is not set in the environment");
  else if (value->value.empty())
    reader.warn("API key " + in_quotes(key.name) + " skipped: its key is empty");
  else
    key.key = std::move(value->value);
  return key;
}

} // namespace

config::settings parse_settings(config_reader& reader, const config_json& object,
                                const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"stale_loading_timeout_hours", "stale_check_interval_minutes",
                              "backup_interval_hours", "max_backups", "recent_jobs_limit",
                              "max_future_skew_sec", "log_level", "server", "rate_limits",
                              "slack", "pull_mode", "alerts",
                              "dashboard", "storage", "history"});
  config::settings s;
  s.stale_loading_timeout_hours = reader.read_number(object, "stale_loading_timeout_hours", path,
                                                     limits::stale_loading_timeout_hours);
  s.stale_check_interval_minutes = reader.read_number(object, "stale_check_interval_minutes",
                                                      path, limits::stale_check_interval_minutes);
  s.backup_interval_hours =
    reader.read_number(object, "backup_interval_hours", path, limits::backup_interval_hours);
  s.max_backups = reader.read_whole_number(object, "max_backups", path, limits::max_backups);
  s.recent_jobs_limit =
    reader.read_whole_number(object, "recent_jobs_limit", path, limits::recent_jobs_limit);
  s.max_future_skew_sec =
    reader.read_number(object, "max_future_skew_sec", path, limits::max_future_skew_sec);
  s.log_level = read_log_level(reader, object, path, s.log_level);
  s.server = parse_server_settings(reader, reader.member_or_empty(object, "server"),
                                   child_path(path, "server"));
  s.rate_limits = parse_rate_limits(reader, reader.member_or_empty(object, "rate_limits"),
                                    child_path(path, "rate_limits"));
  s.slack =
    parse_slack(reader, reader.member_or_empty(object, "slack"), child_path(path, "slack"));
  s.pull_mode = parse_pull_mode(reader, reader.member_or_empty(object, "pull_mode"),
                                child_path(path, "pull_mode"));
  s.alerts =
    parse_alerts(reader, reader.member_or_empty(object, "alerts"), child_path(path, "alerts"));
  s.dashboard = parse_dashboard(reader, reader.member_or_empty(object, "dashboard"),
                                child_path(path, "dashboard"));
  s.storage =
    parse_storage(reader, reader.member_or_empty(object, "storage"), child_path(path, "storage"));
  s.history = parse_history(reader, reader.member_or_empty(object, "history"),
                            child_path(path, "history"));
  return s;
}

epm_settings parse_epm(config_reader& reader, const config_json& object, const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path, {"auth", "servers"});
  epm_settings e;
  e.auth =
    parse_epm_auth(reader, reader.member_or_empty(object, "auth"), child_path(path, "auth"));
  e.servers = parse_epm_servers(reader, reader.member_or_empty(object, "servers"),
                                child_path(path, "servers"));
  return e;
}

std::vector<channel_config> parse_channels(const config_reader& reader, const config_json& object,
                                           const std::string& path) {
  reader.require_object(object, path);
  std::vector<channel_config> channels;
  std::map<std::string, std::string> canvas_owner; // canvas id -> channel id
  for (const auto& [id, body] : object.items()) {
    std::string channel_path = child_path(path, id);
    if (id.empty() || id.size() > limits::max_name_length || has_space_or_control(id))
      reader.fail(channel_path,
                  "channel id must be " + name_length_words() + " characters without spaces",
                  "use the Slack channel id, e.g. \"C12345678\"");
    channel_config channel = parse_channel(reader, id, body, channel_path);
    if (!channel.canvas_id.empty()) {
      auto [it, fresh] = canvas_owner.emplace(channel.canvas_id, id);
      if (!fresh)
        reader.fail(child_path(channel_path, "canvas_id"),
                    "canvas " + in_quotes(channel.canvas_id) + " is already used by channel "
                      + in_quotes(it->second),
                    "give each channel its own canvas; both would overwrite each other");
    }
    channels.push_back(std::move(channel));
  }
  return channels;
}

std::vector<app_config> parse_apps(const config_reader& reader, const config_json& root) {
  const config_json* apps = config_reader::member(root, "apps");
  if (!apps)
    reader.fail("apps", "is missing", "add an \"apps\" object naming at least one EPM application");
  reader.require_object(*apps, "apps");
  if (apps->empty())
    reader.fail("apps", "has no apps",
                "add at least one app, e.g. \"Planning\": {\"domains\": [\"Actual\"]}");
  std::vector<app_config> out;
  for (const auto& [name, body] : apps->items()) {
    std::string path = child_path("apps", name);
    if (!is_valid_name(name, false))
      reader.fail(path,
                  "app name must be " + name_length_words() + " letters, digits, '_', '.' or '-'",
                  "rename the app; display_name may hold any text shown on the canvas");
    out.push_back(parse_app(reader, name, body, path));
  }
  return out;
}

std::vector<api_key> parse_api_keys(config_reader& reader, const config_json& root) {
  const config_json* list = config_reader::member(root, "api_keys");
  if (!list)
    return {};
  if (!list->is_array())
    reader.fail("api_keys", "expected an array, got " + std::string{json_type_name(*list)},
                "write it as [ {\"name\": ..., \"key\": ..., \"role\": ...}, ... ]");
  std::vector<api_key> keys;
  std::set<std::string> names;
  for (std::size_t i = 0; i < list->size(); ++i) {
    std::string path = index_path("api_keys", i);
    auto key = parse_api_key(reader, (*list)[i], path);
    if (!names.insert(key.name).second)
      reader.fail(child_path(path, "name"), "name " + in_quotes(key.name) + " is used twice",
                  "give each API key entry its own name (logs and rate limits use it)");
    if (key.key.empty())
      continue; // skipped, warning already given
    check_api_key_value(reader, key, child_path(path, "key"), keys);
    keys.push_back(std::move(key));
  }
  return keys;
}

void check_api_key_value(const config_reader& reader, const api_key& key,
                         const std::string& field, const std::vector<api_key>& earlier) {
  if (key.key.size() < limits::min_api_key_length)
    reader.fail(field,
                "key of " + in_quotes(key.name) + " is shorter than "
                  + std::to_string(limits::min_api_key_length) + " characters, which is guessable",
                std::string{"use a long random key; "} + api_key_generation_hint);
  if (has_space_or_control(key.key))
    reader.fail(field,
                "key of " + in_quotes(key.name)
                  + " contains whitespace or control characters, which clients cannot send in a "
                    "Bearer header",
                "remove the stray characters (often a trailing newline)");
  for (const auto& other : earlier)
    if (other.key == key.key)
      reader.fail(field,
                  "key of " + in_quotes(key.name) + " is the same as the key of "
                    + in_quotes(other.name),
                  std::string{"give each client its own key; "} + api_key_generation_hint);
}

} // namespace epmpulse::config
