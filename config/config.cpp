#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>


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

using json = nlohmann::ordered_json;

// Validation stops at the first problem. Throwing it from deep inside the
// readers keeps every check a single line; parse_config is the only place
// that catches it, so nothing escapes the public functions.
struct config_failure {
  config_error error;
};

constexpr std::size_t max_name_length = 64;
constexpr std::size_t min_api_key_length = 16;
constexpr const char* key_generation_hint =
  "generate one with: openssl rand -hex 24";

// -- JSON paths --------------------------------------------------------------

bool is_plain_path_key(std::string_view key) {
  if (key.empty())
    return false;
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
      return false;
  return true;
}

/// "settings" + "slack" -> "settings.slack"; keys with dots or spaces are
/// bracketed (apps["my app"]) so the path stays unambiguous.
std::string child_path(const std::string& parent, std::string_view key) {
  if (!is_plain_path_key(key))
    return parent + "[\"" + std::string{key} + "\"]";
  if (parent.empty())
    return std::string{key};
  return parent + "." + std::string{key};
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string in_quotes(std::string_view text) {
  return "\"" + std::string{text} + "\"";
}

std::string_view json_type_name(const json& value) {
  // "number" hides whether a whole number was written; say which.
  if (value.is_number_float())
    return "a fractional number";
  if (value.is_number())
    return "a number";
  if (value.is_string())
    return "a string";
  if (value.is_boolean())
    return "true/false";
  if (value.is_array())
    return "an array";
  if (value.is_object())
    return "an object";
  return "null";
}

std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// -- names -------------------------------------------------------------------

bool is_valid_name(std::string_view name, bool allow_space) {
  if (name.empty() || name.size() > max_name_length)
    return false;
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'
              || c == '-' || (allow_space && c == ' ');
    if (!ok)
      return false;
  }
  return true;
}

bool has_space_or_control(std::string_view text) {
  for (char c : text)
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      return true;
  return false;
}

bool is_http_url(std::string_view url) {
  auto rest_after = [&](std::string_view scheme) {
    return url.substr(0, scheme.size()) == scheme && url.size() > scheme.size();
  };
  return (rest_after("http://") || rest_after("https://")) && !has_space_or_control(url);
}

std::string without_trailing_slashes(std::string url) {
  while (url.size() > 1 && url.back() == '/')
    url.pop_back();
  return url;
}

/// Edit distance, to suggest the field a typo meant.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// -- ${VAR} / ${VAR:-default} substitution -----------------------------------

struct substitution {
  std::string value;
  std::string unresolved; ///< first variable that was unset with no default
  std::string malformed;  ///< what is wrong with a ${...} reference, if anything
};

bool is_valid_variable_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return true;
}

/// Shell semantics: ${VAR:-d} takes d when VAR is unset *or empty*; ${VAR}
/// is unresolved only when VAR is unset. "$${" writes a literal "${".
substitution substitute(const std::string& text, const env_lookup& env) {
  substitution out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text.compare(pos, 3, "$${") == 0) {
      out.value += "${";
      pos += 3;
      continue;
    }
    if (text.compare(pos, 2, "${") != 0) {
      out.value += text[pos++];
      continue;
    }
    std::size_t close = text.find('}', pos + 2);
    if (close == std::string::npos) {
      out.malformed = "has a \"${\" without its closing \"}\"";
      return out;
    }
    std::string inner = text.substr(pos + 2, close - pos - 2);
    std::size_t default_at = inner.find(":-");
    std::string name = inner.substr(0, default_at);
    if (!is_valid_variable_name(name)) {
      out.malformed = "has a ${...} reference whose variable name is not valid "
                      "(use letters, digits and _, not starting with a digit)";
      return out;
    }
    std::optional<std::string> found = env(name);
    if (default_at == std::string::npos) {
      if (found)
        out.value += *found;
      else if (out.unresolved.empty())
        out.unresolved = name;
    } else {
      out.value += (found && !found->empty()) ? *found : inner.substr(default_at + 2);
    }
    pos = close + 1;
  }
  return out;
}

std::string unresolved_fix(const std::string& variable) {
  return "set " + variable + " in the environment or give a default with ${" + variable
         + ":-value}";
}

// -- duplicate keys ----------------------------------------------------------

/// nlohmann keeps the last of two equal keys without a word; two apps with
/// the same name are a copy-paste slip we must report. This parser callback
/// remembers the keys of every open object and the path that leads there.
class duplicate_key_finder {
public:
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    using ev = json::parse_event_t;
    if ((event == ev::object_start || event == ev::array_start || event == ev::value)
        && !frames_.empty() && frames_.back().is_array)
      ++frames_.back().index;
    switch (event) {
      case ev::object_start: frames_.push_back({false, {}, {}, 0}); break;
      case ev::array_start: frames_.push_back({true, {}, {}, 0}); break;
      case ev::object_end:
      case ev::array_end:
        if (!frames_.empty())
          frames_.pop_back();
        break;
      case ev::key: on_key(parsed.get<std::string>()); break;
      case ev::value: break;
    }
    return true;
  }

  /// Path of the first repeated key, if any.
  const std::optional<std::string>& duplicate() const { return duplicate_; }

private:
  struct frame {
    bool is_array;
    std::set<std::string> keys;
    std::string current_key;
    std::size_t index; ///< 1-based count of elements seen (arrays)
  };

  void on_key(const std::string& key) {
    if (frames_.empty())
      return;
    auto& top = frames_.back();
    if (!top.keys.insert(key).second && !duplicate_)
      duplicate_ = child_path(path_of_open_object(), key);
    top.current_key = key;
  }

  std::string path_of_open_object() const {
    std::string path;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i)
      path = frames_[i].is_array ? index_path(path, frames_[i].index - 1)
                                 : child_path(path, frames_[i].current_key);
    return path;
  }

  std::vector<frame> frames_;
  std::optional<std::string> duplicate_;
};

/// nlohmann's message quotes the token it last read, which may be a secret
/// written in the file; keep the position and the reason, drop the token.
std::string describe_parse_error(const json::parse_error& e) {
  std::string message = e.what();
  if (auto tag_end = message.find("] "); message.rfind("[json.exception", 0) == 0
                                         && tag_end != std::string::npos)
    message.erase(0, tag_end + 2);
  if (auto last_read = message.find("; last read: '"); last_read != std::string::npos) {
    auto expected = message.find("'; expected ", last_read);
    message.erase(last_read, expected == std::string::npos ? std::string::npos
                                                           : expected + 1 - last_read);
  }
  return "is not valid JSON: " + message;
}

// -- the parser --------------------------------------------------------------

/// A numeric interval; `min_exclusive` spells "greater than" instead of
/// "at least" in messages.
struct range {
  double min;
  double max;
  bool min_exclusive = false;

  bool contains(double v) const {
    return (min_exclusive ? v > min : v >= min) && v <= max;
  }

  std::string describe() const {
    return std::string{min_exclusive ? "greater than " : "at least "} + format_number(min)
           + " and at most " + format_number(max);
  }
};

constexpr range positive(double max) {
  return range{0, max, true};
}

/// One string field after substitution.
struct text_field {
  std::string value;
  std::string unresolved; ///< variable that was unset with no default
};

class config_parser {
public:
  config_parser(std::string file, const env_lookup& env) : file_(std::move(file)), env_(env) {}

  service_config parse(const json& root) {
    service_config cfg;
    cfg.source_path = file_;
    require_object(root, "", "the file must contain one JSON object");
    reject_unknown_keys(root, "", {"apps", "channels", "api_keys", "settings", "epm"});

    // Order matters: apps refer to channels and servers, and pull-mode
    // checks need both settings and epm.
    cfg.settings = parse_settings(member_or_empty(root, "settings"), "settings");
    cfg.epm = parse_epm(member_or_empty(root, "epm"), "epm");
    cfg.channels = parse_channels(member_or_empty(root, "channels"), "channels");
    cfg.apps = parse_apps(root);
    cfg.api_keys = parse_api_keys(root);

    check_app_references(cfg);
    warn_about_unused_channels(cfg);
    apply_env_shortcuts(cfg);
    check_pull_mode(cfg);
    cfg.warnings = std::move(warnings_);
    return cfg;
  }

private:
  // -- failing and warning --

  [[noreturn]] void fail(std::string field, std::string problem, std::string fix) const {
    throw config_failure{config_error{file_, std::move(field), std::move(problem), std::move(fix)}};
  }

  void warn(std::string text) { warnings_.push_back(file_ + ": " + std::move(text)); }

  // -- structure --

  static const json& empty_object() {
    static const json empty = json::object();
    return empty;
  }

  static const json* member(const json& object, std::string_view key) {
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }

  /// Optional sections: absent means "all defaults".
  const json& member_or_empty(const json& object, std::string_view key) const {
    const json* found = member(object, key);
    return found ? *found : empty_object();
  }

  void require_object(const json& value, const std::string& path,
                      const std::string& problem_if_not = {}) const {
    if (!value.is_object())
      fail(path,
           problem_if_not.empty() ? "expected an object, got " + std::string{json_type_name(value)}
                                  : problem_if_not + ", got " + std::string{json_type_name(value)},
           "write it as { ... }");
  }

  void reject_unknown_keys(const json& object, const std::string& path,
                           std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : object.items()) {
      bool is_known = false;
      for (auto k : known)
        is_known = is_known || k == key;
      if (!is_known)
        fail(child_path(path, key), "unknown field", unknown_key_fix(key, known));
    }
  }

  static std::string unknown_key_fix(const std::string& key,
                                     std::initializer_list<std::string_view> known) {
    std::string_view closest;
    std::size_t best = std::numeric_limits<std::size_t>::max();
    std::string list;
    for (auto k : known) {
      std::size_t d = edit_distance(key, k);
      if (d < best) {
        best = d;
        closest = k;
      }
      list += (list.empty() ? "" : ", ") + std::string{k};
    }
    std::string fix;
    if (!closest.empty() && best <= std::max<std::size_t>(2, key.size() / 3))
      fix = "did you mean " + in_quotes(closest) + "? ";
    return fix + "known fields here: " + list;
  }

  // -- scalar fields --

  bool read_bool(const json& object, std::string_view key, const std::string& parent,
                 bool fallback) const {
    const json* value = member(object, key);
    if (!value)
      return fallback;
    if (!value->is_boolean())
      fail(child_path(parent, key), "expected true or false, got " + std::string{json_type_name(*value)},
           "write true or false without quotes");
    return value->get<bool>();
  }

  std::int64_t read_int(const json& object, std::string_view key, const std::string& parent,
                        std::int64_t fallback, std::int64_t min, std::int64_t max) const {
    const json* value = member(object, key);
    if (!value)
      return fallback;
    std::string path = child_path(parent, key);
    range allowed{static_cast<double>(min), static_cast<double>(max)};
    if (!value->is_number_integer())
      fail(path, "expected a whole number, got " + std::string{json_type_name(*value)},
           "write a whole number " + allowed.describe() + ", without quotes");
    bool too_big = value->is_number_unsigned()
                   && value->get<std::uint64_t>() > static_cast<std::uint64_t>(max);
    std::int64_t number = too_big ? max : value->get<std::int64_t>();
    if (too_big || number < min || number > max)
      fail(path, "must be " + allowed.describe() + ", got " + value->dump(),
           "use a value in that range");
    return number;
  }

  double read_number(const json& object, std::string_view key, const std::string& parent,
                     double fallback, range allowed) const {
    const json* value = member(object, key);
    if (!value)
      return fallback;
    std::string path = child_path(parent, key);
    if (!value->is_number())
      fail(path, "expected a number, got " + std::string{json_type_name(*value)},
           "write a number " + allowed.describe() + ", without quotes");
    double number = value->get<double>();
    if (!std::isfinite(number) || !allowed.contains(number))
      fail(path, "must be " + allowed.describe() + ", got " + value->dump(),
           "use a value in that range");
    return number;
  }

  /// A string after substitution; an unset ${VAR} is reported to the caller
  /// (some fields may stay empty, others may not).
  text_field read_text(const json& value, const std::string& path) const {
    if (!value.is_string())
      fail(path, "expected a string, got " + std::string{json_type_name(value)},
           "write it in double quotes");
    substitution result = substitute(value.get<std::string>(), env_);
    if (!result.malformed.empty())
      fail(path, result.malformed, "write ${NAME} or ${NAME:-default}; write $${ for a literal ${");
    return {std::move(result.value), std::move(result.unresolved)};
  }

  std::optional<text_field> read_text_field(const json& object, std::string_view key,
                                            const std::string& parent) const {
    const json* value = member(object, key);
    if (!value)
      return std::nullopt;
    return read_text(*value, child_path(parent, key));
  }

  /// A string the running service needs: an unset ${VAR} stops start-up.
  std::string read_string(const json& value, const std::string& path) const {
    text_field text = read_text(value, path);
    if (!text.unresolved.empty())
      fail(path, "refers to ${" + text.unresolved + "}, which is not set in the environment",
           unresolved_fix(text.unresolved));
    return std::move(text.value);
  }

  std::string read_string(const json& object, std::string_view key, const std::string& parent,
                          std::string fallback) const {
    const json* value = member(object, key);
    if (!value)
      return fallback;
    return read_string(*value, child_path(parent, key));
  }

  /// One of a fixed set of words; returns its index in `choices`.
  std::size_t read_choice(const json& object, std::string_view key, const std::string& parent,
                          std::size_t fallback,
                          std::initializer_list<std::string_view> choices) const {
    const json* value = member(object, key);
    if (!value)
      return fallback;
    std::string path = child_path(parent, key);
    std::string word = read_string(*value, path);
    std::size_t index = 0;
    for (auto choice : choices) {
      if (choice == word)
        return index;
      ++index;
    }
    fail(path, "must be " + describe_choices(choices) + ", got " + in_quotes(word),
         "use one of the listed values");
  }

  static std::string describe_choices(std::initializer_list<std::string_view> choices) {
    std::vector<std::string> words;
    for (auto c : choices)
      words.push_back(in_quotes(c));
    if (words.size() == 2)
      return words[0] + " or " + words[1];
    std::string out = "one of ";
    for (std::size_t i = 0; i < words.size(); ++i)
      out += (i ? ", " : "") + words[i];
    return out;
  }

  std::vector<std::string> read_string_array(const json& object, std::string_view key,
                                             const std::string& parent) const {
    const json* value = member(object, key);
    if (!value)
      return {};
    std::string path = child_path(parent, key);
    if (!value->is_array())
      fail(path, "expected an array of strings, got " + std::string{json_type_name(*value)},
           "write it as [\"...\", \"...\"]");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < value->size(); ++i)
      out.push_back(read_string((*value)[i], index_path(path, i)));
    return out;
  }

  // -- settings --

  config::settings parse_settings(const json& object, const std::string& path) {
    require_object(object, path);
    reject_unknown_keys(object, path,
                        {"stale_loading_timeout_hours", "stale_check_interval_minutes",
                         "backup_interval_hours", "max_backups", "recent_jobs_limit",
                         "max_future_skew_sec", "log_level", "server", "rate_limits", "slack",
                         "pull_mode"});
    config::settings s;
    s.stale_loading_timeout_hours =
      read_number(object, "stale_loading_timeout_hours", path, s.stale_loading_timeout_hours,
                  positive(24 * 30));
    s.stale_check_interval_minutes =
      read_number(object, "stale_check_interval_minutes", path, s.stale_check_interval_minutes,
                  positive(24 * 60));
    s.backup_interval_hours = read_number(object, "backup_interval_hours", path,
                                          s.backup_interval_hours, positive(24 * 30));
    s.max_backups = static_cast<int>(read_int(object, "max_backups", path, s.max_backups, 0, 10000));
    s.recent_jobs_limit =
      static_cast<int>(read_int(object, "recent_jobs_limit", path, s.recent_jobs_limit, 0, 10000));
    s.max_future_skew_sec = read_number(object, "max_future_skew_sec", path,
                                        s.max_future_skew_sec, range{0, 24 * 3600});
    s.log_level = read_log_level(object, path, s.log_level);
    s.server = parse_server(member_or_empty(object, "server"), child_path(path, "server"));
    s.rate_limits =
      parse_rate_limits(member_or_empty(object, "rate_limits"), child_path(path, "rate_limits"));
    s.slack = parse_slack(member_or_empty(object, "slack"), child_path(path, "slack"));
    s.pull_mode =
      parse_pull_mode(member_or_empty(object, "pull_mode"), child_path(path, "pull_mode"));
    return s;
  }

  std::string read_log_level(const json& object, const std::string& path,
                             std::string fallback) const {
    std::string level = read_string(object, "log_level", path, fallback);
    if (!is_log_level(level))
      fail(child_path(path, "log_level"),
           "must be one of \"debug\", \"info\", \"warn\", \"error\", got " + in_quotes(level),
           "use one of the listed values");
    return level;
  }

  server_settings parse_server(const json& object, const std::string& path) const {
    require_object(object, path);
    reject_unknown_keys(object, path,
                        {"io_threads", "actor_threads", "max_body_bytes", "request_timeout_sec"});
    server_settings s;
    s.io_threads = static_cast<int>(read_int(object, "io_threads", path, s.io_threads, 1, 64));
    s.actor_threads =
      static_cast<int>(read_int(object, "actor_threads", path, s.actor_threads, 1, 64));
    s.max_body_bytes = static_cast<std::size_t>(
      read_int(object, "max_body_bytes", path, static_cast<std::int64_t>(s.max_body_bytes), 1024,
               16 * 1024 * 1024));
    s.request_timeout_sec =
      read_number(object, "request_timeout_sec", path, s.request_timeout_sec, positive(300));
    return s;
  }

  rate_limit_settings parse_rate_limits(const json& object, const std::string& path) const {
    require_object(object, path);
    reject_unknown_keys(object, path,
                        {"enabled", "status_per_minute", "batch_per_minute", "read_per_minute"});
    constexpr std::int64_t max_per_minute = 1'000'000;
    rate_limit_settings r;
    r.enabled = read_bool(object, "enabled", path, r.enabled);
    r.status_per_minute = static_cast<int>(
      read_int(object, "status_per_minute", path, r.status_per_minute, 1, max_per_minute));
    r.batch_per_minute = static_cast<int>(
      read_int(object, "batch_per_minute", path, r.batch_per_minute, 1, max_per_minute));
    r.read_per_minute = static_cast<int>(
      read_int(object, "read_per_minute", path, r.read_per_minute, 1, max_per_minute));
    return r;
  }

  slack_settings parse_slack(const json& object, const std::string& path) {
    require_object(object, path);
    reject_unknown_keys(object, path,
                        {"bot_token", "api_url", "min_update_interval_sec", "update_mode",
                         "max_retries", "create_missing_canvases", "dashboard_title",
                         "display_timezone", "request_timeout_sec"});
    slack_settings s;
    s.bot_token = read_bot_token(object, path);
    s.api_url = read_url(object, "api_url", path, s.api_url);
    s.min_update_interval_sec = read_number(object, "min_update_interval_sec", path,
                                            s.min_update_interval_sec, positive(3600));
    s.update_mode = static_cast<canvas_update_mode>(
      read_choice(object, "update_mode", path, 0, {"full", "sections"}));
    s.max_retries = static_cast<int>(read_int(object, "max_retries", path, s.max_retries, 0, 10));
    s.create_missing_canvases =
      read_bool(object, "create_missing_canvases", path, s.create_missing_canvases);
    s.dashboard_title = read_dashboard_title(object, path, s.dashboard_title);
    s.display_timezone = read_timezone(object, path, s.display_timezone);
    s.request_timeout_sec =
      read_number(object, "request_timeout_sec", path, s.request_timeout_sec, positive(300));
    return s;
  }

  /// An empty token disables the canvas side, so an unset ${VAR} is not
  /// fatal here; SLACK_BOT_TOKEN may still fill it in apply_env_shortcuts.
  std::string read_bot_token(const json& object, const std::string& path) {
    auto token = read_text_field(object, "bot_token", path);
    if (!token)
      return {};
    std::string field = child_path(path, "bot_token");
    if (!token->unresolved.empty()) {
      unresolved_bot_token_variable_ = token->unresolved;
      return {};
    }
    if (has_space_or_control(token->value))
      fail(field, "contains whitespace or control characters (value not shown)",
           "remove the stray characters from the token");
    return std::move(token->value);
  }

  std::string read_url(const json& object, std::string_view key, const std::string& parent,
                       std::string fallback) const {
    const json* value = member(object, key);
    if (!value)
      return fallback;
    std::string path = child_path(parent, key);
    std::string url = read_string(*value, path);
    if (!is_http_url(url))
      fail(path, "must be an http:// or https:// URL, got " + in_quotes(url),
           "write the full URL, e.g. \"https://slack.com/api\"");
    // Callers append "/method"; a trailing slash would double it.
    return without_trailing_slashes(std::move(url));
  }

  std::string read_dashboard_title(const json& object, const std::string& path,
                                   std::string fallback) const {
    std::string title = read_string(object, "dashboard_title", path, fallback);
    if (title.empty() || title.size() > 200 || title.find('\n') != std::string::npos)
      fail(child_path(path, "dashboard_title"), "must be one line of 1 to 200 characters",
           "shorten the title or remove the line break");
    return title;
  }

  std::string read_timezone(const json& object, const std::string& path, std::string fallback) {
    std::string zone = read_string(object, "display_timezone", path, fallback);
    std::string field = child_path(path, "display_timezone");
    if (zone == "UTC")
      return zone;
    bool well_formed = !zone.empty() && zone.size() <= 64 && zone.front() != '/'
                       && zone.find("..") == std::string::npos;
    for (char c : zone)
      well_formed = well_formed && (std::isalnum(static_cast<unsigned char>(c)) || c == '/'
                                    || c == '_' || c == '-' || c == '+');
    if (!well_formed)
      fail(field, "must be \"UTC\" or an IANA time zone name like \"Europe/London\", got "
                    + in_quotes(zone),
           "use a name from the tz database");
    // A typo like "Europe/Londn" would otherwise show UTC times silently.
    std::error_code ec;
    const std::filesystem::path zoneinfo{"/usr/share/zoneinfo"};
    if (!std::filesystem::is_directory(zoneinfo, ec))
      warn(field + ": cannot check " + in_quotes(zone)
           + " because /usr/share/zoneinfo is missing (install tzdata)");
    else if (!std::filesystem::is_regular_file(zoneinfo / zone, ec))
      fail(field, "unknown time zone " + in_quotes(zone),
           "use a name from the tz database, e.g. \"Europe/London\" or \"America/New_York\"");
    return zone;
  }

  pull_mode_settings parse_pull_mode(const json& object, const std::string& path) const {
    require_object(object, path);
    reject_unknown_keys(object, path,
                        {"enabled", "poll_interval_seconds", "max_poll_duration_minutes",
                         "max_concurrent_polls_per_server"});
    pull_mode_settings p;
    p.enabled = read_bool(object, "enabled", path, p.enabled);
    // Below a second we would hammer EPM's REST API for no gain.
    p.poll_interval_seconds =
      read_number(object, "poll_interval_seconds", path, p.poll_interval_seconds, range{1, 3600});
    p.max_poll_duration_minutes = read_number(object, "max_poll_duration_minutes", path,
                                              p.max_poll_duration_minutes, positive(7 * 24 * 60));
    p.max_concurrent_polls_per_server = static_cast<int>(read_int(
      object, "max_concurrent_polls_per_server", path, p.max_concurrent_polls_per_server, 1, 64));
    return p;
  }

  // -- epm --

  epm_settings parse_epm(const json& object, const std::string& path) {
    require_object(object, path);
    reject_unknown_keys(object, path, {"auth", "servers"});
    epm_settings e;
    e.auth = parse_auth(member_or_empty(object, "auth"), child_path(path, "auth"));
    e.servers = parse_servers(member_or_empty(object, "servers"), child_path(path, "servers"));
    return e;
  }

  /// EPM fields are needed only in pull mode, so an unset ${VAR} leaves them
  /// empty here; check_pull_mode names the variable if they turn out needed.
  std::string read_deferred(const json& object, std::string_view key, const std::string& parent) {
    auto text = read_text_field(object, key, parent);
    if (!text)
      return {};
    if (!text->unresolved.empty())
      deferred_unresolved_[child_path(parent, key)] = text->unresolved;
    return std::move(text->value);
  }

  epm_auth parse_auth(const json& object, const std::string& path) {
    require_object(object, path);
    reject_unknown_keys(object, path,
                        {"type", "token_url", "client_id", "client_secret", "refresh_token",
                         "scope", "username", "password"});
    epm_auth a;
    a.type = static_cast<epm_auth_type>(
      read_choice(object, "type", path, 0,
                  {"none", "oauth_refresh_token", "oauth_client_credentials", "basic"}));
    a.token_url = read_deferred(object, "token_url", path);
    a.client_id = read_deferred(object, "client_id", path);
    a.client_secret = read_deferred(object, "client_secret", path);
    a.refresh_token = read_deferred(object, "refresh_token", path);
    a.scope = read_deferred(object, "scope", path);
    a.username = read_deferred(object, "username", path);
    a.password = read_deferred(object, "password", path);
    if (!a.token_url.empty() && !is_http_url(a.token_url))
      fail(child_path(path, "token_url"), "must be an http:// or https:// URL, got "
                                             + in_quotes(a.token_url),
           "write the full URL of the OAuth token endpoint");
    return a;
  }

  std::vector<epm_server> parse_servers(const json& object, const std::string& path) {
    require_object(object, path);
    std::vector<epm_server> servers;
    for (const auto& [id, body] : object.items()) {
      std::string server_path = child_path(path, id);
      if (!is_valid_name(id, false))
        fail(server_path, "server id must be 1 to 64 letters, digits, '_', '.' or '-'",
             "rename the server (and the apps' \"server\" fields that use it)");
      servers.push_back(parse_server_entry(id, body, server_path));
    }
    return servers;
  }

  epm_server parse_server_entry(const std::string& id, const json& object,
                                const std::string& path) {
    require_object(object, path);
    reject_unknown_keys(object, path, {"name", "base_url", "kind", "application"});
    epm_server s;
    s.id = id;
    s.name = read_string(object, "name", path, id);
    if (s.name.empty())
      s.name = id;
    s.base_url = without_trailing_slashes(read_deferred(object, "base_url", path));
    if (!s.base_url.empty() && !is_http_url(s.base_url))
      fail(child_path(path, "base_url"), "must be an http:// or https:// URL, got "
                                           + in_quotes(s.base_url),
           "write the server's full URL, e.g. \"https://example-epm.oraclecloud.com\"");
    s.kind = static_cast<epm_server_kind>(
      read_choice(object, "kind", path, 0, {"planning", "arcs", "data_integration", "edm"}));
    s.application = read_deferred(object, "application", path);
    return s;
  }

  // -- channels --

  std::vector<channel_config> parse_channels(const json& object, const std::string& path) const {
    require_object(object, path);
    std::vector<channel_config> channels;
    std::map<std::string, std::string> canvas_owner; // canvas id -> channel id
    for (const auto& [id, body] : object.items()) {
      std::string channel_path = child_path(path, id);
      if (id.empty() || id.size() > max_name_length || has_space_or_control(id))
        fail(channel_path, "channel id must be 1 to 64 characters without spaces",
             "use the Slack channel id, e.g. \"C12345678\"");
      channel_config channel = parse_channel(id, body, channel_path);
      if (!channel.canvas_id.empty()) {
        auto [it, fresh] = canvas_owner.emplace(channel.canvas_id, id);
        if (!fresh)
          fail(child_path(channel_path, "canvas_id"),
               "canvas " + in_quotes(channel.canvas_id) + " is already used by channel "
                 + in_quotes(it->second),
               "give each channel its own canvas; both would overwrite each other");
      }
      channels.push_back(std::move(channel));
    }
    return channels;
  }

  channel_config parse_channel(const std::string& id, const json& object,
                               const std::string& path) const {
    require_object(object, path);
    reject_unknown_keys(object, path, {"name", "canvas_id"});
    channel_config c;
    c.id = id;
    c.name = read_string(object, "name", path, id);
    if (c.name.empty())
      c.name = id;
    c.canvas_id = read_string(object, "canvas_id", path, "");
    if (has_space_or_control(c.canvas_id))
      fail(child_path(path, "canvas_id"), "must not contain spaces, got " + in_quotes(c.canvas_id),
           "use the canvas file id, e.g. \"F12345678\", or leave it out");
    return c;
  }

  // -- apps --

  std::vector<app_config> parse_apps(const json& root) const {
    const json* apps = member(root, "apps");
    if (!apps)
      fail("apps", "is missing", "add an \"apps\" object naming at least one EPM application");
    require_object(*apps, "apps");
    if (apps->empty())
      fail("apps", "has no apps", "add at least one app, e.g. \"Planning\": {\"domains\": [\"Actual\"]}");
    std::vector<app_config> out;
    for (const auto& [name, body] : apps->items()) {
      std::string path = child_path("apps", name);
      if (!is_valid_name(name, false))
        fail(path, "app name must be 1 to 64 letters, digits, '_', '.' or '-'",
             "rename the app; display_name may hold any text shown on the canvas");
      out.push_back(parse_app(name, body, path));
    }
    return out;
  }

  app_config parse_app(const std::string& name, const json& object, const std::string& path) const {
    require_object(object, path);
    reject_unknown_keys(object, path,
                        {"display_name", "domains", "channels", "strict_domains", "server"});
    app_config app;
    app.name = name;
    app.display_name = read_string(object, "display_name", path, name);
    if (app.display_name.empty())
      app.display_name = name;
    app.domains = read_string_array(object, "domains", path);
    check_domain_names(app.domains, child_path(path, "domains"));
    app.channels = read_string_array(object, "channels", path);
    check_no_repeats(app.channels, child_path(path, "channels"), "channel");
    app.strict_domains = read_bool(object, "strict_domains", path, app.strict_domains);
    if (app.strict_domains && app.domains.empty())
      fail(child_path(path, "strict_domains"),
           "is true but the app lists no domains, so every update would be rejected",
           "list the app's domains or set strict_domains to false");
    app.server = read_string(object, "server", path, "");
    return app;
  }

  void check_domain_names(const std::vector<std::string>& domains, const std::string& path) const {
    for (std::size_t i = 0; i < domains.size(); ++i) {
      const auto& domain = domains[i];
      if (!is_valid_name(domain, true))
        fail(index_path(path, i),
             "domain name must be 1 to 64 letters, digits, spaces, '_', '.' or '-', got "
               + in_quotes(domain),
             "rename the domain");
      if (domain.front() == ' ' || domain.back() == ' ')
        fail(index_path(path, i), "domain name must not start or end with a space, got "
                                    + in_quotes(domain),
             "remove the outer spaces");
    }
    check_no_repeats(domains, path, "domain");
  }

  void check_no_repeats(const std::vector<std::string>& items, const std::string& path,
                        const std::string& what) const {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < items.size(); ++i)
      if (!seen.insert(items[i]).second)
        fail(index_path(path, i), what + " " + in_quotes(items[i]) + " is listed twice",
             "remove the repeat");
  }

  // -- api keys --

  std::vector<api_key> parse_api_keys(const json& root) {
    const json* list = member(root, "api_keys");
    if (!list)
      return {};
    if (!list->is_array())
      fail("api_keys", "expected an array, got " + std::string{json_type_name(*list)},
           "write it as [ {\"name\": ..., \"key\": ..., \"role\": ...}, ... ]");
    std::vector<api_key> keys;
    std::set<std::string> names;
    for (std::size_t i = 0; i < list->size(); ++i) {
      std::string path = index_path("api_keys", i);
      auto key = parse_api_key((*list)[i], path);
      if (!names.insert(key.name).second)
        fail(child_path(path, "name"), "name " + in_quotes(key.name) + " is used twice",
             "give each API key entry its own name (logs and rate limits use it)");
      if (key.key.empty())
        continue; // skipped, warning already given
      check_key_value(key, child_path(path, "key"), keys);
      keys.push_back(std::move(key));
    }
    return keys;
  }

  /// Returns the entry with an empty `key` when it is to be skipped.
  api_key parse_api_key(const json& object, const std::string& path) {
    require_object(object, path);
    reject_unknown_keys(object, path, {"name", "key", "role"});
    api_key key;
    if (!member(object, "name"))
      fail(child_path(path, "name"), "is missing", "name the client that uses this key");
    key.name = read_string(object, "name", path, "");
    if (!is_valid_name(key.name, false))
      fail(child_path(path, "name"),
           "must be 1 to 64 letters, digits, '_', '.' or '-', got " + in_quotes(key.name),
           "rename the entry");
    key.role = static_cast<key_role>(read_choice(object, "role", path,
                                                 static_cast<std::size_t>(key_role::write),
                                                 {"read", "write", "admin"}));
    auto value = read_text_field(object, "key", path);
    if (!value)
      fail(child_path(path, "key"), "is missing",
           "add \"key\": \"${SOME_VARIABLE}\" and set that variable");
    // A key whose variable is not set is skipped rather than fatal, so one
    // sample file serves every deployment; the server makes keys if none.
    if (!value->unresolved.empty())
      warn("API key " + in_quotes(key.name) + " skipped: ${" + value->unresolved
           + "} is not set in the environment");
    else if (value->value.empty())
      warn("API key " + in_quotes(key.name) + " skipped: its key is empty");
    else
      key.key = std::move(value->value);
    return key;
  }

  /// Messages here name the entry, never the key itself.
  void check_key_value(const api_key& key, const std::string& field,
                       const std::vector<api_key>& earlier) const {
    if (key.key.size() < min_api_key_length)
      fail(field,
           "key of " + in_quotes(key.name) + " is shorter than "
             + std::to_string(min_api_key_length) + " characters, which is guessable",
           std::string{"use a long random key; "} + key_generation_hint);
    if (has_space_or_control(key.key))
      fail(field,
           "key of " + in_quotes(key.name)
             + " contains whitespace or control characters, which clients cannot send in a "
               "Bearer header",
           "remove the stray characters (often a trailing newline)");
    for (const auto& other : earlier)
      if (other.key == key.key)
        fail(field, "key of " + in_quotes(key.name) + " is the same as the key of " + in_quotes(other.name),
             std::string{"give each client its own key; "} + key_generation_hint);
  }

  // -- cross checks --

  void check_app_references(const service_config& cfg) const {
    for (const auto& app : cfg.apps) {
      std::string path = child_path("apps", app.name);
      for (std::size_t i = 0; i < app.channels.size(); ++i)
        if (!cfg.find_channel(app.channels[i]))
          fail(index_path(child_path(path, "channels"), i),
               "channel " + in_quotes(app.channels[i]) + " is not defined in \"channels\"",
               "add it under \"channels\" or correct the id");
      if (!app.server.empty() && !cfg.find_server(app.server))
        fail(child_path(path, "server"),
             "server " + in_quotes(app.server) + " is not defined in \"epm.servers\"",
             "add it under \"epm.servers\" or correct the id");
    }
  }

  void warn_about_unused_channels(const service_config& cfg) {
    for (const auto& channel : cfg.channels) {
      bool used = false;
      for (const auto& app : cfg.apps)
        for (const auto& id : app.channels)
          used = used || id == channel.id;
      if (!used)
        warn(child_path("channels", channel.id) + ": no app shows in this channel");
    }
  }

  std::optional<std::string> env_value(const std::string& name) const {
    auto value = env_(name);
    if (!value || value->empty())
      return std::nullopt; // `docker run -e VAR=` means "not set" to people
    return value;
  }

  void apply_env_shortcuts(service_config& cfg) {
    add_env_key(cfg, "EPMPULSE_API_KEY", "env_write", key_role::write);
    add_env_key(cfg, "EPMPULSE_ADMIN_KEY", "env_admin", key_role::admin);

    auto& slack = cfg.settings.slack;
    if (slack.bot_token.empty()) {
      if (auto token = env_value("SLACK_BOT_TOKEN")) {
        if (has_space_or_control(*token))
          fail("SLACK_BOT_TOKEN (environment)",
               "contains whitespace or control characters (value not shown)",
               "remove the stray characters from the variable");
        slack.bot_token = *token;
      } else if (!unresolved_bot_token_variable_.empty()) {
        warn("settings.slack.bot_token: ${" + unresolved_bot_token_variable_
             + "} is not set; Slack canvases are disabled");
      }
    }
    if (auto url = env_value("SLACK_API_URL")) {
      if (!is_http_url(*url))
        fail("SLACK_API_URL (environment)", "must be an http:// or https:// URL, got " + in_quotes(*url),
             "set it to e.g. http://127.0.0.1:8081/api, or unset it");
      slack.api_url = without_trailing_slashes(*url);
    }
  }

  void add_env_key(service_config& cfg, const std::string& variable, const std::string& name,
                   key_role role) {
    auto value = env_value(variable);
    if (!value)
      return;
    std::string field = variable + " (environment)";
    for (const auto& key : cfg.api_keys)
      if (key.name == name)
        fail(field, "adds a key named " + in_quotes(name) + ", but api_keys already has one",
             "rename that api_keys entry or unset " + variable);
    api_key key{name, *value, role};
    check_key_value(key, field, cfg.api_keys);
    cfg.api_keys.push_back(std::move(key));
  }

  /// Pull mode talks to EPM, so only then must auth and servers be complete.
  void check_pull_mode(service_config& cfg) {
    if (!cfg.settings.pull_mode.enabled)
      return;
    check_auth_complete(cfg.epm.auth);
    for (const auto& server : cfg.epm.servers) {
      std::string path = child_path("epm.servers", server.id);
      require_deferred(server.base_url, child_path(path, "base_url"), "the server's URL");
      if (server.kind == epm_server_kind::planning)
        require_deferred(server.application, child_path(path, "application"),
                         "the Planning application name");
    }
    bool any_app_polled = false;
    for (const auto& app : cfg.apps)
      any_app_polled = any_app_polled || !app.server.empty();
    if (!any_app_polled)
      warn("settings.pull_mode.enabled is true but no app names a \"server\"; nothing is polled");
  }

  void check_auth_complete(const epm_auth& auth) {
    const std::string path = "epm.auth";
    switch (auth.type) {
      case epm_auth_type::none:
        fail(child_path(path, "type"), "is \"none\" but settings.pull_mode.enabled is true",
             "set epm.auth.type to \"oauth_refresh_token\", \"oauth_client_credentials\" or "
             "\"basic\", or disable pull mode");
      case epm_auth_type::oauth_refresh_token:
        require_deferred(auth.token_url, child_path(path, "token_url"), "the OAuth token URL");
        require_deferred(auth.client_id, child_path(path, "client_id"), "the OAuth client id");
        require_deferred(auth.refresh_token, child_path(path, "refresh_token"),
                         "the OAuth refresh token");
        break;
      case epm_auth_type::oauth_client_credentials:
        require_deferred(auth.token_url, child_path(path, "token_url"), "the OAuth token URL");
        require_deferred(auth.client_id, child_path(path, "client_id"), "the OAuth client id");
        require_deferred(auth.client_secret, child_path(path, "client_secret"),
                         "the OAuth client secret");
        break;
      case epm_auth_type::basic:
        require_deferred(auth.username, child_path(path, "username"), "the EPM user name");
        require_deferred(auth.password, child_path(path, "password"), "the EPM password");
        break;
    }
  }

  void require_deferred(const std::string& value, const std::string& field,
                        const std::string& what) const {
    if (!value.empty())
      return;
    std::string problem = "is empty but pull mode needs " + what;
    if (auto it = deferred_unresolved_.find(field); it != deferred_unresolved_.end())
      fail(field, problem + "; it refers to ${" + it->second + "}, which is not set in the environment",
           unresolved_fix(it->second));
    fail(field, problem, "set " + field + " (with ${VAR} for secrets) or disable pull mode");
  }

  std::string file_;
  const env_lookup& env_;
  std::vector<std::string> warnings_;
  std::string unresolved_bot_token_variable_;
  std::map<std::string, std::string> deferred_unresolved_; ///< field -> unset variable
};

config_error file_error(const std::string& path, std::string problem, std::string fix) {
  return config_error{path, "", std::move(problem), std::move(fix)};
}

} // namespace

load_result parse_config(const std::string& text, const std::string& path,
                         const env_lookup& env) {
  try {
    duplicate_key_finder duplicates;
    json root = json::parse(text, std::ref(duplicates));
    if (duplicates.duplicate())
      return {std::nullopt,
              config_error{path, *duplicates.duplicate(), "appears twice in the same object",
                           "keep one of them; JSON would silently drop the first"}};
    return {config_parser{path, env}.parse(root), std::nullopt};
  } catch (const config_failure& failure) {
    return {std::nullopt, failure.error};
  } catch (const json::parse_error& e) {
    return {std::nullopt, file_error(path, describe_parse_error(e),
                                     "correct the JSON syntax at that position")};
  } catch (const std::exception& e) {
    // Our readers check types before reading, so this is a bug; still turn
    // it into a value rather than let it escape.
    return {std::nullopt, file_error(path, std::string{"could not be read as configuration: "}
                                             + e.what(),
                                     "report this; it is a bug in the config loader")};
  }
}

load_result load_config(const std::string& path, const env_lookup& env) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return {std::nullopt, file_error(path, "is a directory, not a config file",
                                     "pass the path of the JSON file, e.g. config/apps.json")};
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    std::string reason = std::strerror(errno);
    return {std::nullopt, file_error(path, "cannot be opened: " + reason,
                                     "check the path given with --config and the file's "
                                     "permissions")};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return {std::nullopt, file_error(path, "could not be read completely",
                                     "check the file system and the file's permissions")};
  return parse_config(text.str(), path, env);
}

} // namespace epmpulse::config
