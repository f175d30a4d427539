#include "actors/canvas/slack_api.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "actors/common/percent_encoding.hpp"

namespace epmpulse::slack {

namespace {

http_request post_to(const api_settings& api, const std::string& method,
                     const char* content_type) {
  http_request req;
  req.method = "POST";
  auto base = api.api_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  req.url = base + "/" + method;
  req.headers = {{"Authorization", "Bearer " + api.token}, {"Content-Type", content_type}};
  req.timeout_sec = api.timeout_sec;
  req.connect_timeout_sec = api.connect_timeout_sec;
  return req;
}

http_request post_json(const api_settings& api, const std::string& method,
                       const nlohmann::json& body) {
  auto req = post_to(api, method, "application/json; charset=utf-8");
  // Rendered text is valid UTF-8 (escape_text repairs it); `replace` keeps a
  // stray byte elsewhere from throwing.
  req.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return req;
}

std::string string_field(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                 : std::string{};
}

bool one_of(const std::string& code, std::initializer_list<std::string_view> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

nlohmann::json markdown_content(const std::string& markdown) {
  return {{"type", "markdown"}, {"markdown", markdown}};
}

} // namespace

http_request chat_post_message(const api_settings& api, const std::string& channel_id,
                               const std::string& text, const std::string& thread_ts) {
  nlohmann::json body = {{"channel", channel_id}, {"text", text}, {"unfurl_links", false}};
  if (!thread_ts.empty())
    body["thread_ts"] = thread_ts;
  return post_json(api, "chat.postMessage", body);
}

http_request edit_replace(const api_settings& api, const std::string& canvas_id,
                          const std::string& markdown) {
  nlohmann::json change = {{"operation", "replace"},
                           {"document_content", markdown_content(markdown)}};
  return post_json(api, "canvases.edit",
                   {{"canvas_id", canvas_id}, {"changes", nlohmann::json::array({change})}});
}

http_request create_channel_canvas(const api_settings& api, const std::string& channel_id,
                                   const std::string& markdown) {
  return post_json(api, "conversations.canvases.create",
                   {{"channel_id", channel_id}, {"document_content", markdown_content(markdown)}});
}

http_request auth_test(const api_settings& api) {
  return post_json(api, "auth.test", nlohmann::json::object());
}

http_request conversation_info(const api_settings& api, const std::string& channel_id) {
  auto req = post_to(api, "conversations.info", "application/x-www-form-urlencoded");
  req.body = "channel=" + percent_encode(channel_id);
  return req;
}

bool is_transient_error(const std::string& code) {
  // Slack's common errors: internal_error "likely due to a transient issue",
  // fatal_error (the same, worse), service_unavailable "temporarily
  // unavailable", request_timeout (POST data missing or truncated on the
  // way), team_added_to_org ("intermittently unavailable" during a
  // migration), ratelimited without a Retry-After to wait for.
  return one_of(code, {"internal_error", "fatal_error", "service_unavailable", "request_timeout",
                       "ratelimited", "team_added_to_org"});
}

bool is_auth_error(const std::string& code) {
  return one_of(code, {"not_authed", "invalid_auth", "account_inactive", "token_revoked",
                       "token_expired", "not_allowed_token_type", "missing_scope",
                       "team_access_not_granted"});
}

std::vector<std::string> split_scopes(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = std::min(text.find(',', pos), text.size());
    auto item = text.substr(pos, comma - pos);
    auto first = item.find_first_not_of(" \t");
    if (first != std::string::npos)
      out.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
    pos = comma + 1;
  }
  return out;
}

token_identity read_identity(const nlohmann::json& body) {
  return {string_field(body, "team"),    string_field(body, "team_id"),
          string_field(body, "url"),     string_field(body, "user"),
          string_field(body, "user_id"), string_field(body, "bot_id"),
          string_field(body, "enterprise_id")};
}

std::string channel_canvas_id(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("channel"))
    return {};
  const auto& channel = body["channel"];
  if (!channel.is_object() || !channel.contains("properties"))
    return {};
  const auto& properties = channel["properties"];
  if (!properties.is_object() || !properties.contains("canvas"))
    return {};
  return string_field(properties["canvas"], "file_id");
}

double parse_retry_after(const http_response& res, double fallback) {
  auto it = res.headers.find("retry-after");
  if (it == res.headers.end())
    return fallback;
  const char* text = it->second.c_str();
  char* end = nullptr;
  double v = std::strtod(text, &end);
  if (end == text || !std::isfinite(v) || v < 0)
    return fallback;
  return std::min(v, 3600.0);
}

api_result classify(const http_response& res) {
  api_result out;
  if (auto it = res.headers.find("x-oauth-scopes"); it != res.headers.end()) {
    out.scopes = split_scopes(it->second);
    out.scopes_known = true;
  }
  if (res.status == 0) {
    out.outcome = api_result::kind::unreachable;
    out.error = "unreachable";
    return out;
  }
  if (res.status == 429) {
    out.outcome = api_result::kind::rate_limited;
    out.error = "ratelimited";
    out.retry_after_sec = parse_retry_after(res);
    return out;
  }
  auto body = nlohmann::json::parse(res.body, nullptr, false);
  if (!body.is_discarded() && body.is_object())
    out.body = std::move(body);
  if (res.status >= 500 || res.status < 200 || (res.status >= 300 && res.status < 400)) {
    out.outcome = api_result::kind::server_error;
    out.error = "http_" + std::to_string(res.status);
    return out;
  }
  if (res.status >= 400) {
    out.outcome = api_result::kind::refused;
    out.error = out.body.is_object() && out.body.contains("error") && out.body["error"].is_string()
                  ? out.body["error"].get<std::string>()
                  : "http_" + std::to_string(res.status);
    return out;
  }
  if (!out.body.is_object() || !out.body.contains("ok") || !out.body["ok"].is_boolean()) {
    out.outcome = api_result::kind::refused;
    out.error = "bad_response";
    return out;
  }
  if (!out.body["ok"].get<bool>()) {
    out.error = string_field(out.body, "error");
    if (out.error.empty())
      out.error = "unknown_error";
    out.needed = string_field(out.body, "needed");
    out.provided = string_field(out.body, "provided");
    out.detail = string_field(out.body, "detail");
    if (out.error == "ratelimited" && res.headers.count("retry-after") != 0) {
      out.outcome = api_result::kind::rate_limited;
      out.retry_after_sec = parse_retry_after(res);
    } else if (is_transient_error(out.error)) {
      out.outcome = api_result::kind::server_error;
    } else if (is_auth_error(out.error)) {
      out.outcome = api_result::kind::unauthorized;
    } else {
      out.outcome = api_result::kind::refused;
    }
    return out;
  }
  out.outcome = api_result::kind::ok;
  return out;
}

std::string created_canvas_id(const nlohmann::json& body) {
  return string_field(body, "canvas_id");
}

} // namespace epmpulse::slack
