// The configuration loader (config::parse_config, which load_config feeds
// with the file's text), on any text.
//
// Invariants, besides "no crash, no sanitizer report":
// - the result is a configuration or an error, never both or neither;
// - an error names the file and says what is wrong, and no exception escaped
//   the readers (the loader's catch-all "bug" message);
// - a configuration keeps every number within config_limits.hpp, every name
//   within its length, every app's channels and server defined, every API key
//   at least the minimum length;
// - the secrets the environment shortcuts bring (EPMPULSE_API_KEY,
//   EPMPULSE_ADMIN_KEY, SLACK_BOT_TOKEN) appear in no error and no warning;
// - loading is deterministic: the same text gives the same outcome.

#include <string>

#include "config/config_limits.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace epmpulse;
namespace limits = config::limits;

constexpr const char* config_path = "fuzz/apps.json";
constexpr std::string_view write_key_secret = "fuzz-write-key-secret-0001";
constexpr std::string_view admin_key_secret = "fuzz-admin-key-secret-0002";
constexpr std::string_view bot_token_secret = "xoxb-fuzz-bot-token-secret-0003";

std::optional<std::string> fuzz_env(const std::string& name) {
  if (name == "EPMPULSE_API_KEY")
    return std::string(write_key_secret);
  if (name == "EPMPULSE_ADMIN_KEY")
    return std::string(admin_key_secret);
  if (name == "SLACK_BOT_TOKEN")
    return std::string(bot_token_secret);
  if (name == "EPMPULSE_CANVAS_MAIN")
    return "F0123456789";
  if (name == "EPMPULSE_LOG_LEVEL")
    return "debug";
  return std::nullopt;
}

bool within(double value, const limits::number_limit& limit) {
  return (limit.min_exclusive ? value > limit.min : value >= limit.min) && value <= limit.max;
}

bool within(long long value, const limits::whole_number_limit& limit) {
  return value >= limit.min && value <= limit.max;
}

bool good_name(const std::string& name) {
  return !name.empty() && name.size() <= limits::max_name_length;
}

void check_within_limits(const config::service_config& cfg) {
  const auto& s = cfg.settings;
  FUZZ_CHECK(within(s.stale_loading_timeout_hours, limits::stale_loading_timeout_hours),
             "stale_loading_timeout_hours within its limits");
  FUZZ_CHECK(within(s.stale_check_interval_minutes, limits::stale_check_interval_minutes),
             "stale_check_interval_minutes within its limits");
  FUZZ_CHECK(within(s.backup_interval_hours, limits::backup_interval_hours),
             "backup_interval_hours within its limits");
  FUZZ_CHECK(within(s.max_backups, limits::max_backups), "max_backups within its limits");
  FUZZ_CHECK(within(s.recent_jobs_limit, limits::recent_jobs_limit),
             "recent_jobs_limit within its limits");
  FUZZ_CHECK(within(s.max_future_skew_sec, limits::max_future_skew_sec),
             "max_future_skew_sec within its limits");
  FUZZ_CHECK(config::is_log_level(s.log_level), "log_level is a level");
  FUZZ_CHECK(within(s.server.io_threads, limits::server::io_threads), "io_threads within limits");
  FUZZ_CHECK(within(s.server.actor_threads, limits::server::actor_threads),
             "actor_threads within limits");
  FUZZ_CHECK(within(static_cast<long long>(s.server.max_body_bytes), limits::server::max_body_bytes),
             "max_body_bytes within limits");
  FUZZ_CHECK(within(s.server.request_timeout_sec, limits::server::request_timeout_sec),
             "server.request_timeout_sec within limits");
  FUZZ_CHECK(within(s.rate_limits.status_per_minute, limits::rate_limits::status_per_minute),
             "status_per_minute within limits");
  FUZZ_CHECK(within(s.rate_limits.batch_per_minute, limits::rate_limits::batch_per_minute),
             "batch_per_minute within limits");
  FUZZ_CHECK(within(s.rate_limits.read_per_minute, limits::rate_limits::read_per_minute),
             "read_per_minute within limits");
  FUZZ_CHECK(within(s.slack.min_update_interval_sec, limits::slack::min_update_interval_sec),
             "min_update_interval_sec within limits");
  FUZZ_CHECK(within(s.slack.max_retries, limits::slack::max_retries), "max_retries within limits");
  FUZZ_CHECK(within(s.slack.request_timeout_sec, limits::slack::request_timeout_sec),
             "slack.request_timeout_sec within limits");
  FUZZ_CHECK(s.slack.dashboard_title.size() <= limits::max_dashboard_title_length,
             "dashboard_title within its length");
  FUZZ_CHECK(s.slack.display_timezone.size() <= limits::max_time_zone_name_length,
             "display_timezone within its length");
  FUZZ_CHECK(within(s.pull_mode.poll_interval_seconds, limits::pull_mode::poll_interval_seconds),
             "poll_interval_seconds within limits");
  FUZZ_CHECK(within(s.pull_mode.max_poll_duration_minutes,
                    limits::pull_mode::max_poll_duration_minutes),
             "max_poll_duration_minutes within limits");
  FUZZ_CHECK(within(s.pull_mode.max_concurrent_polls_per_server,
                    limits::pull_mode::max_concurrent_polls_per_server),
             "max_concurrent_polls_per_server within limits");

  for (const auto& app : cfg.apps) {
    FUZZ_CHECK(good_name(app.name), "an app name is 1-64 characters");
    FUZZ_CHECK(cfg.find_app(app.name) == &app, "app names are unique");
    for (const auto& domain : app.domains)
      FUZZ_CHECK(good_name(domain), "a domain name is 1-64 characters");
    for (const auto& channel : app.channels)
      FUZZ_CHECK(cfg.find_channel(channel) != nullptr, "an app's channel is defined");
    if (!app.server.empty())
      FUZZ_CHECK(cfg.find_server(app.server) != nullptr, "an app's EPM server is defined");
  }
  for (const auto& channel : cfg.channels) {
    FUZZ_CHECK(good_name(channel.id), "a channel id is 1-64 characters");
    FUZZ_CHECK(cfg.find_channel(channel.id) == &channel, "channel ids are unique");
  }
  for (const auto& server : cfg.epm.servers)
    FUZZ_CHECK(cfg.find_server(server.id) == &server, "EPM server ids are unique");
  for (const auto& key : cfg.api_keys) {
    FUZZ_CHECK(good_name(key.name), "an API key's name is 1-64 characters");
    FUZZ_CHECK(key.key.size() >= limits::min_api_key_length, "an API key is long enough");
  }
}

bool mentions_a_secret(std::string_view text) {
  return text.find(write_key_secret) != std::string_view::npos
         || text.find(admin_key_secret) != std::string_view::npos
         || text.find(bot_token_secret) != std::string_view::npos;
}

std::string outcome(const config::load_result& r) {
  if (r.error)
    return "error " + r.error->to_string();
  std::string out = "config";
  for (const auto& app : r.config->apps)
    out += " " + app.name;
  for (const auto& w : r.config->warnings)
    out += " | " + w;
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  auto result = config::parse_config(text, config_path, fuzz_env);
  FUZZ_CHECK(result.config.has_value() != result.error.has_value(),
             "a load gives a configuration or an error");
  if (result.error) {
    const auto& err = *result.error;
    FUZZ_CHECK(err.file == config_path, "an error names the file");
    FUZZ_CHECK(!err.problem.empty(), "an error says what is wrong");
    FUZZ_CHECK(err.fix.find("bug in the config loader") == std::string::npos,
               "no exception escapes the readers");
  } else {
    check_within_limits(*result.config);
  }
  // Only the environment can have brought a secret in when the text names
  // none and substitutes nothing.
  if (!mentions_a_secret(text) && text.find("${") == std::string::npos) {
    if (result.error)
      FUZZ_CHECK(!mentions_a_secret(result.error->to_string()), "an error shows no secret");
    else
      for (const auto& warning : result.config->warnings)
        FUZZ_CHECK(!mentions_a_secret(warning), "a warning shows no secret");
  }
  auto again = config::parse_config(text, config_path, fuzz_env);
  FUZZ_CHECK(outcome(again) == outcome(result), "the same text loads the same way");
  return 0;
}
