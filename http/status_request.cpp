#include "http/status_request.hpp"

#include <algorithm>

#include "http/status_body_reader.hpp"

namespace epmpulse::http {

namespace {

constexpr std::size_t max_message_chars = 200;
constexpr std::size_t max_job_id_chars = 100;

std::size_t code_point_count(std::string_view s) {
  return static_cast<std::size_t>(
    std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool has_control_chars(std::string_view s, bool allow_whitespace) {
  return std::any_of(s.begin(), s.end(), [&](char ch) {
    auto c = static_cast<unsigned char>(ch);
    if (allow_whitespace && (c == '\n' || c == '\t' || c == '\r'))
      return false;
    return c < 0x20 || c == 0x7F;
  });
}

api_error bad_request(std::string field, std::string message) {
  return {ec::invalid_request, std::move(message), {{"field", std::move(field)}}};
}

std::string allowed_apps(const config::service_config& cfg) {
  std::string out;
  for (const auto& app : cfg.apps)
    out += (out.empty() ? "" : ", ") + app.name;
  return out;
}

/// Optional string field: absent/null → nullopt; other non-strings → error.
std::optional<api_error> read_optional_string(raw_field& found, const char* field,
                                              std::optional<std::string>& out) {
  switch (found.found) {
    case raw_field::kind::absent:
    case raw_field::kind::null:
      return std::nullopt;
    case raw_field::kind::string:
      out = std::move(found.text);
      return std::nullopt;
    case raw_field::kind::other:
      break;
  }
  return bad_request(field, std::string("'") + field + "' must be a string.");
}

/// Inherited values a batch gives its items.
struct batch_defaults {
  std::optional<std::string> job_id;
  std::optional<time_point> timestamp;
};

std::optional<api_error> check_job_id(const std::optional<std::string>& job_id) {
  if (!job_id)
    return std::nullopt;
  if (job_id->empty() || code_point_count(*job_id) > max_job_id_chars)
    return bad_request("job_id", "'job_id' must be 1 to 100 characters.");
  if (has_control_chars(*job_id, false))
    return bad_request("job_id", "'job_id' must not contain control characters.");
  return std::nullopt;
}

std::optional<api_error> read_timestamp(raw_field& found, std::optional<time_point>& out) {
  std::optional<std::string> text;
  if (auto err = read_optional_string(found, "timestamp", text))
    return err;
  if (!text)
    return std::nullopt;
  out = parse_time(*text);
  if (!out)
    return bad_request("timestamp",
                       "'timestamp' must be an RFC 3339 time, e.g. 2026-02-16T14:30:00Z.");
  return std::nullopt;
}

std::variant<status_update, api_error> decode_item(raw_item& item, const config::service_config& cfg,
                                                   const batch_defaults& defaults) {
  if (!item.is_object)
    return bad_request("", "An update must be a JSON object.");
  if (item.unknown_key)
    return bad_request(*item.unknown_key,
                       "Unknown field '" + *item.unknown_key
                         + "'. Allowed: app, domain, status, job_id, message, timestamp.");
  status_update u;
  // app
  auto& app_field = item[item_field::app];
  if (app_field.found != raw_field::kind::string)
    return bad_request("app", "'app' is required and must be a string.");
  u.app = std::move(app_field.text);
  const auto* app = cfg.find_app(u.app);
  if (app == nullptr)
    return api_error{ec::invalid_app, "Unknown app '" + u.app + "'. Configured apps: "
                                        + allowed_apps(cfg) + ".",
                     {{"field", "app"}}};
  // status
  const auto& status_field = item[item_field::status];
  if (status_field.found != raw_field::kind::string)
    return bad_request("status", "'status' is required and must be a string.");
  auto status = parse_status(status_field.text);
  if (!status)
    return api_error{ec::invalid_status, "Status must be one of: Blank, Loading, OK, Warning.",
                     {{"field", "status"}}};
  u.status = *status;
  // domain
  std::optional<std::string> domain;
  if (auto err = read_optional_string(item[item_field::domain], "domain", domain))
    return *err;
  u.domain = domain ? std::move(*domain) : std::string("default");
  // An open app takes any well-formed name, so the (linear, up to thousands of
  // names) search of its configured domains is only needed when the name is
  // not well-formed: callgrind put it at 10,000 instructions per update.
  bool configured = (!app->strict_domains && valid_domain_name(u.domain))
                    || std::find(app->domains.begin(), app->domains.end(), u.domain)
                         != app->domains.end();
  if (!configured) {
    if (app->strict_domains)
      return api_error{ec::invalid_domain,
                       "Domain '" + u.domain + "' is not configured for app '" + u.app
                         + "', which accepts only its configured domains.",
                       {{"field", "domain"}}};
    if (!valid_domain_name(u.domain))
      return api_error{ec::invalid_domain,
                       "A domain name must be 1 to "
                         + std::to_string(config::limits::max_name_length)
                         + " characters of letters, digits, space, '_', '.' or '-'.",
                       {{"field", "domain"}}};
  }
  // job_id, message, timestamp
  if (auto err = read_optional_string(item[item_field::job_id], "job_id", u.job_id))
    return *err;
  if (!u.job_id)
    u.job_id = defaults.job_id;
  if (auto err = check_job_id(u.job_id))
    return *err;
  if (auto err = read_optional_string(item[item_field::message], "message", u.message))
    return *err;
  if (u.message) {
    if (code_point_count(*u.message) > max_message_chars)
      return bad_request("message", "'message' must be at most 200 characters.");
    if (has_control_chars(*u.message, true))
      return bad_request("message", "'message' must not contain control characters.");
    if (u.message->empty())
      u.message.reset();
  }
  if (auto err = read_timestamp(item[item_field::timestamp], u.event_time))
    return *err;
  if (!u.event_time)
    u.event_time = defaults.timestamp;
  return u;
}

std::optional<api_error> check_body(const raw_body& body) {
  if (!body.valid_json)
    return bad_request("", "The body is not valid JSON.");
  if (!body.is_object)
    return bad_request("", "The body must be a JSON object.");
  return std::nullopt;
}

} // namespace

bool valid_domain_name(std::string_view name) {
  if (name.empty() || name.size() > config::limits::max_name_length)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '_' || c == '.'
           || c == '-';
  });
}

decoded_updates decode_status_body(std::string_view body, const config::service_config& cfg) {
  auto raw = read_status_body(body, body_shape::single);
  if (auto err = check_body(raw))
    return *err;
  auto item = decode_item(raw.root, cfg, {});
  if (auto* err = std::get_if<api_error>(&item))
    return *err;
  return std::vector<status_update>{std::move(std::get<status_update>(item))};
}

decoded_updates decode_batch_body(std::string_view body, const config::service_config& cfg) {
  auto raw = read_status_body(body, body_shape::batch);
  if (auto err = check_body(raw))
    return *err;
  if (raw.root.unknown_key)
    return bad_request(*raw.root.unknown_key, "Unknown field '" + *raw.root.unknown_key
                                                + "'. Allowed: updates, job_id, timestamp.");
  batch_defaults defaults;
  if (auto err = read_optional_string(raw.root[item_field::job_id], "job_id", defaults.job_id))
    return *err;
  if (auto err = check_job_id(defaults.job_id))
    return *err;
  if (auto err = read_timestamp(raw.root[item_field::timestamp], defaults.timestamp))
    return *err;
  if (!raw.updates_is_array || raw.updates.empty())
    return bad_request("updates", "'updates' is required: an array of 1 to 100 updates.");
  if (raw.updates.size() > max_batch_items)
    return bad_request("updates", "A batch carries at most 100 updates; got "
                                    + std::to_string(raw.updates.size()) + ".");
  std::vector<status_update> out;
  out.reserve(raw.updates.size());
  for (std::size_t i = 0; i < raw.updates.size(); ++i) {
    auto item = decode_item(raw.updates[i], cfg, defaults);
    if (auto* err = std::get_if<api_error>(&item)) {
      api_error located = *err;
      located.details["index"] = i;
      located.message = "updates[" + std::to_string(i) + "]: " + located.message;
      return located;
    }
    out.push_back(std::move(std::get<status_update>(item)));
  }
  return out;
}

} // namespace epmpulse::http
