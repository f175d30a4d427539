#include "http/status_request.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace epmpulse::http {

using nlohmann::json;

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

// Fields an update item may carry; inherited ones may also come from the batch.
const std::vector<std::string_view> item_fields = {"app", "domain", "status", "job_id", "message",
                                                   "timestamp"};

/// Optional string field: absent/null → nullopt; other non-strings → error.
std::optional<api_error> read_optional_string(const json& obj, const char* field,
                                              std::optional<std::string>& out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null())
    return std::nullopt;
  if (!it->is_string())
    return bad_request(field, std::string("'") + field + "' must be a string.");
  out = it->get<std::string>();
  return std::nullopt;
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

std::optional<api_error> read_timestamp(const json& obj, std::optional<time_point>& out) {
  std::optional<std::string> text;
  if (auto err = read_optional_string(obj, "timestamp", text))
    return err;
  if (!text)
    return std::nullopt;
  out = parse_time(*text);
  if (!out)
    return bad_request("timestamp",
                       "'timestamp' must be an RFC 3339 time, e.g. 2026-02-16T14:30:00Z.");
  return std::nullopt;
}

std::variant<status_update, api_error> decode_item(const json& obj, const config::service_config& cfg,
                                                   const batch_defaults& defaults) {
  if (!obj.is_object())
    return bad_request("", "An update must be a JSON object.");
  for (const auto& [key, value] : obj.items())
    if (std::find(item_fields.begin(), item_fields.end(), key) == item_fields.end())
      return bad_request(key, "Unknown field '" + key
                                + "'. Allowed: app, domain, status, job_id, message, timestamp.");
  status_update u;
  // app
  auto app_it = obj.find("app");
  if (app_it == obj.end() || !app_it->is_string())
    return bad_request("app", "'app' is required and must be a string.");
  u.app = app_it->get<std::string>();
  const auto* app = cfg.find_app(u.app);
  if (app == nullptr)
    return api_error{ec::invalid_app, "Unknown app '" + u.app + "'. Configured apps: "
                                        + allowed_apps(cfg) + ".",
                     {{"field", "app"}}};
  // status
  auto status_it = obj.find("status");
  if (status_it == obj.end() || !status_it->is_string())
    return bad_request("status", "'status' is required and must be a string.");
  auto status = parse_status(status_it->get<std::string>());
  if (!status)
    return api_error{ec::invalid_status, "Status must be one of: Blank, Loading, OK, Warning.",
                     {{"field", "status"}}};
  u.status = *status;
  // domain
  std::optional<std::string> domain;
  if (auto err = read_optional_string(obj, "domain", domain))
    return *err;
  u.domain = domain.value_or("default");
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
                       "A domain name must be 1 to 64 characters of letters, digits, space, "
                       "'_', '.' or '-'.",
                       {{"field", "domain"}}};
  }
  // job_id, message, timestamp
  if (auto err = read_optional_string(obj, "job_id", u.job_id))
    return *err;
  if (!u.job_id)
    u.job_id = defaults.job_id;
  if (auto err = check_job_id(u.job_id))
    return *err;
  if (auto err = read_optional_string(obj, "message", u.message))
    return *err;
  if (u.message) {
    if (code_point_count(*u.message) > max_message_chars)
      return bad_request("message", "'message' must be at most 200 characters.");
    if (has_control_chars(*u.message, true))
      return bad_request("message", "'message' must not contain control characters.");
    if (u.message->empty())
      u.message.reset();
  }
  if (auto err = read_timestamp(obj, u.event_time))
    return *err;
  if (!u.event_time)
    u.event_time = defaults.timestamp;
  return u;
}

std::variant<json, api_error> parse_object(std::string_view body) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded())
    return bad_request("", "The body is not valid JSON.");
  if (!doc.is_object())
    return bad_request("", "The body must be a JSON object.");
  return doc;
}

} // namespace

bool valid_domain_name(std::string_view name) {
  if (name.empty() || name.size() > 64)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '_' || c == '.'
           || c == '-';
  });
}

decoded_updates decode_status_body(std::string_view body, const config::service_config& cfg) {
  auto parsed = parse_object(body);
  if (auto* err = std::get_if<api_error>(&parsed))
    return *err;
  auto item = decode_item(std::get<json>(parsed), cfg, {});
  if (auto* err = std::get_if<api_error>(&item))
    return *err;
  return std::vector<status_update>{std::move(std::get<status_update>(item))};
}

decoded_updates decode_batch_body(std::string_view body, const config::service_config& cfg) {
  auto parsed = parse_object(body);
  if (auto* err = std::get_if<api_error>(&parsed))
    return *err;
  const auto& doc = std::get<json>(parsed);
  for (const auto& [key, value] : doc.items())
    if (key != "updates" && key != "job_id" && key != "timestamp")
      return bad_request(key, "Unknown field '" + key + "'. Allowed: updates, job_id, timestamp.");
  batch_defaults defaults;
  if (auto err = read_optional_string(doc, "job_id", defaults.job_id))
    return *err;
  if (auto err = check_job_id(defaults.job_id))
    return *err;
  if (auto err = read_timestamp(doc, defaults.timestamp))
    return *err;
  auto updates = doc.find("updates");
  if (updates == doc.end() || !updates->is_array() || updates->empty())
    return bad_request("updates", "'updates' is required: an array of 1 to 100 updates.");
  if (updates->size() > max_batch_items)
    return bad_request("updates", "A batch carries at most 100 updates; got "
                                    + std::to_string(updates->size()) + ".");
  std::vector<status_update> out;
  out.reserve(updates->size());
  for (std::size_t i = 0; i < updates->size(); ++i) {
    auto item = decode_item((*updates)[i], cfg, defaults);
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
