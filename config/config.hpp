#pragma once

// The service configuration: the model, and the one function that loads,
// substitutes (${VAR}, ${VAR:-default}) and validates it. Every problem is
// reported with the file, the field and the fix, so start-up can stop with a
// message a person can act on. The numbers a field accepts and its default
// live in config_limits.hpp, so the checks and the defaults below agree.

#include <cstdint>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/cron.hpp"
#include "config/config_limits.hpp"

namespace epmpulse::config {

/// What an API key may do.
enum class key_role { read, write, admin };

/// "read" | "write" | "admin".
const char* to_string(key_role role);

/// True when a key of role `have` may perform an action needing `need`.
bool role_allows(key_role have, key_role need);

/// The words `settings.log_level` takes: "debug", "info", "warn" (or
/// "warning"), "error"; the logger's parse_level reads the same words.
bool is_log_level(std::string_view word);

/// One API key. `key` is a secret: never log it.
struct api_key {
  std::string name;
  std::string key;
  key_role role = key_role::write;
  /// From this instant on the key is refused (401 KEY_EXPIRED); none = never.
  std::optional<std::chrono::system_clock::time_point> expires;
};

/// One monitored EPM application (Planning, FCCS, ARCS, ...).
struct app_config {
  std::string name;
  std::string display_name;
  std::vector<std::string> domains;  ///< exist from the start as Blank
  std::vector<std::string> channels; ///< Slack channel ids showing this app
  bool strict_domains = false;       ///< reject domains not listed above
  std::string server;                ///< EPM server id for pull mode ("" = none)
  std::string alert_channel;         ///< Slack channel for its alerts ("" = its channels)
};

/// One Slack channel and its canvas.
struct channel_config {
  std::string id;
  std::string name;
  std::string canvas_id; ///< "" = create on start-up when allowed
};

/// How a canvas shows an app's domains: a bulleted list (elements every
/// version of Slack's canvas documentation lists) or a markdown table (listed
/// by some versions only).
enum class canvas_layout { list, table };

struct slack_settings {
  std::string bot_token;   ///< secret; "" = canvas side disabled
  std::string api_url = "https://slack.com/api";
  double min_update_interval_sec = limits::slack::min_update_interval_sec.default_value;
  canvas_layout layout = canvas_layout::list;
  int max_retries = limits::slack::max_retries.default_value;
  bool create_missing_canvases = false;
  std::string dashboard_title = "EPM Status Dashboard";
  std::string display_timezone = "UTC"; ///< IANA name or "UTC"
  double request_timeout_sec = limits::slack::request_timeout_sec.default_value;
};

/// The web page at GET /, its browser sessions and the status badges.
struct dashboard_settings {
  /// The page and the read routes it uses (status, history, stats, events,
  /// badges) answer without any credential: a read-only public wall board.
  bool is_public = false;
  /// Session cookies carry Secure (set it behind the TLS proxy).
  bool secure_cookie = false;
  int session_ttl_sec = limits::dashboard::session_ttl_sec.default_value;
  /// Secret: signs session cookies and badge tokens. "" = the key generated
  /// in the data dir (dashboard_signing.key, mode 0600). Replacing it
  /// revokes every session and badge token.
  std::string signing_key;
};

struct pull_mode_settings {
  bool enabled = false;
  double poll_interval_seconds = limits::pull_mode::poll_interval_seconds.default_value;
  double max_poll_duration_minutes = limits::pull_mode::max_poll_duration_minutes.default_value;
  int max_concurrent_polls_per_server =
    limits::pull_mode::max_concurrent_polls_per_server.default_value;
};

struct rate_limit_settings {
  bool enabled = true;
  /// POST /status per API key
  int status_per_minute = limits::rate_limits::status_per_minute.default_value;
  /// POST /status/batch per API key
  int batch_per_minute = limits::rate_limits::batch_per_minute.default_value;
  /// GET endpoints per client address
  int read_per_minute = limits::rate_limits::read_per_minute.default_value;
};

struct server_settings {
  /// RESTinio io threads (1 beats 2 on 2 cores)
  int io_threads = limits::server::io_threads.default_value;
  /// CAF scheduler workers
  int actor_threads = limits::server::actor_threads.default_value;
  std::size_t max_body_bytes = limits::server::max_body_bytes.default_value;
  double request_timeout_sec = limits::server::request_timeout_sec.default_value;
  double read_timeout_sec = limits::server::read_timeout_sec.default_value;
  /// connections served at once; more wait in the listen backlog
  int max_connections = limits::server::max_connections.default_value;
};

/// The generic alert webhook: JSON POSTs signed with HMAC-SHA256.
struct webhook_settings {
  std::string url;    ///< "" = no webhook
  std::string secret; ///< signing key (secret)
  int max_retries = limits::alerts::webhook_max_retries.default_value;
  double timeout_sec = limits::alerts::webhook_timeout_sec.default_value;
};

/// Slack messages and webhook calls when a domain turns bad and recovers.
struct alert_settings {
  bool enabled = false;
  /// Consecutive Warnings before a Warning alerts.
  int alert_after_failures = limits::alerts::alert_after_failures.default_value;
  /// A reminder in the alert's thread every this many hours while it stays bad (0 = none).
  double reminder_hours = limits::alerts::reminder_hours.default_value;
  /// How often the expectations are evaluated (their late/missed edges are
  /// found within this; the evaluator also runs at each change).
  double evaluate_interval_sec = limits::alerts::evaluate_interval_sec.default_value;
  webhook_settings webhook;
};

/// Where the state lives: the JSON file with its change log in the data
/// directory (the default), or a PostgreSQL database shared by instances.
enum class storage_kind { json, postgres };

struct storage_settings {
  storage_kind kind = storage_kind::json;
  /// libpq connection URI or key=value string; secret (may carry a password)
  std::string url;
  /// connections the writer keeps open (one commit at a time; the others
  /// take over at once when one breaks)
  int pool = limits::storage::pool.default_value;
  double connect_timeout_sec = limits::storage::connect_timeout_sec.default_value;
  /// TLS, handed to libpq as sslmode, sslrootcert, sslcert, sslkey ("" = libpq's default)
  std::string sslmode;
  std::string sslrootcert;
  std::string sslcert;
  std::string sslkey;
};

struct history_settings {
  int retention_days = limits::history::retention_days.default_value;
  std::uint64_t max_bytes = static_cast<std::uint64_t>(limits::history::max_bytes.default_value);
  int stream_buffer_bytes = limits::history::stream_buffer_bytes.default_value;
};

struct settings {
  double stale_loading_timeout_hours = limits::stale_loading_timeout_hours.default_value;
  double stale_check_interval_minutes = limits::stale_check_interval_minutes.default_value;
  double backup_interval_hours = limits::backup_interval_hours.default_value;
  int max_backups = limits::max_backups.default_value;
  int recent_jobs_limit = limits::recent_jobs_limit.default_value;
  /// event times further ahead are clamped
  double max_future_skew_sec = limits::max_future_skew_sec.default_value;
  std::string log_level = "info";
  server_settings server;
  rate_limit_settings rate_limits;
  slack_settings slack;
  pull_mode_settings pull_mode;
  alert_settings alerts;
  dashboard_settings dashboard;
  storage_settings storage;
  history_settings history;
};

enum class epm_auth_type { none, oauth_refresh_token, oauth_client_credentials, basic };

/// Credentials for EPM's REST API. All string fields but the type, token_url,
/// client_id, scope and username are secrets.
struct epm_auth {
  epm_auth_type type = epm_auth_type::none;
  std::string token_url;
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;
  std::string scope;
  std::string username;
  std::string password;
};

/// Which REST API answers a job's status: Planning (also FCCS, Tax Reporting,
/// EPCM), ARCS Reconciliation Compliance, ARCS Transaction Matching, Data
/// Integration, EDM.
enum class epm_server_kind { planning, arcs, data_integration, edm, arcs_tm };

const char* to_string(epm_server_kind kind);

struct epm_server {
  std::string id;
  std::string name;
  std::string base_url;
  epm_server_kind kind = epm_server_kind::planning;
  std::string application; ///< Planning REST: the application name in the path
};

struct epm_settings {
  epm_auth auth;
  std::vector<epm_server> servers;
};

/// When a domain's runs start: a cron expression in a time zone, or an
/// interval after its last update.
struct run_schedule {
  std::optional<cron_expression> cron; ///< none = interval
  std::string time_zone = "UTC";
  std::chrono::seconds every{0};       ///< the interval when no cron
};

/// What is expected of one domain (or every domain of an app).
struct expectation_config {
  std::string field; ///< "expectations[2]", for messages
  std::string app;
  std::string domain; ///< "" = every domain of the app
  std::optional<run_schedule> schedule;
  std::chrono::seconds grace{0};
  std::optional<std::chrono::seconds> max_duration;
  std::optional<std::chrono::seconds> min_duration;
  /// Upstream domains, "App/Domain" or "App" (all its domains).
  std::vector<std::string> after;
  std::optional<int> alert_after_failures; ///< none = settings.alerts'
  std::optional<double> reminder_hours;    ///< none = settings.alerts'
};

/// A daily maintenance window of an EPM pod, for the apps it serves.
struct maintenance_config {
  std::string name;
  std::vector<std::string> apps; ///< empty = every app
  /// Minutes after local midnight; none = known only once read from `server`.
  std::optional<int> start_minute;
  std::string time_zone = "UTC";
  std::chrono::minutes duration{60};
  /// The EPM server whose daily maintenance start is read through its REST
  /// API and replaces `start_minute` ("" = the configured start only).
  std::string server;
};

/// The whole configuration after substitution and validation.
struct service_config {
  std::string source_path;              ///< file it was read from
  std::vector<app_config> apps;         ///< in file order
  std::vector<channel_config> channels; ///< in file order
  std::vector<api_key> api_keys;
  config::settings settings; // qualified: GCC rejects a member that reuses its unqualified type name
  epm_settings epm;
  std::vector<expectation_config> expectations; ///< in file order
  std::vector<maintenance_config> maintenance;  ///< daily windows
  std::vector<std::string> warnings;    ///< non-fatal findings to log at start

  const app_config* find_app(std::string_view name) const;
  const channel_config* find_channel(std::string_view id) const;
  const epm_server* find_server(std::string_view id) const;
};

/// A problem that stops start-up (exit code 2).
struct config_error {
  std::string file;
  std::string field;   ///< JSON path, e.g. "settings.slack.min_update_interval_sec"
  std::string problem; ///< what is wrong (never contains a secret value)
  std::string fix;     ///< what to do about it

  /// "file: field: problem (fix: ...)".
  std::string to_string() const;
};

/// Looks up an environment variable; empty optional when unset.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment.
env_lookup process_env();

/// The result of loading: the config, or the first problem found.
struct load_result {
  std::optional<service_config> config;
  std::optional<config_error> error;
};

/// Reads `path`, substitutes ${VAR} / ${VAR:-default} from `env`, applies the
/// shortcuts EPMPULSE_API_KEY (write) / EPMPULSE_ADMIN_KEY (admin) /
/// SLACK_BOT_TOKEN / SLACK_API_URL, fills defaults and validates.
load_result load_config(const std::string& path, const env_lookup& env = process_env());

/// Same, from JSON text (tests); `path` is only used in messages.
load_result parse_config(const std::string& text, const std::string& path,
                         const env_lookup& env = process_env());

} // namespace epmpulse::config
