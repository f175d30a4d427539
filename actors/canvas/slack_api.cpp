#include "actors/canvas/slack_api.hpp"

#include <cmath>
#include <cstdlib>

namespace epmpulse::slack {

namespace {

http_request post_json(const api_settings& api, const std::string& method,
                       const nlohmann::json& body) {
  http_request req;
  req.method = "POST";
  auto base = api.api_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  req.url = base + "/" + method;
  req.headers = {{"Authorization", "Bearer " + api.token},
                 {"Content-Type", "application/json; charset=utf-8"}};
  // Rendered text is valid UTF-8 (escape_text repairs it); `replace` keeps a
  // stray byte elsewhere from throwing.
  req.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  req.timeout_sec = api.timeout_sec;
  req.connect_timeout_sec = api.connect_timeout_sec;
  return req;
}

nlohmann::json markdown_content(const std::string& markdown) {
  return {{"type", "markdown"}, {"markdown", markdown}};
}

} // namespace

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
    out.outcome = api_result::kind::refused;
    out.error = out.body.contains("error") && out.body["error"].is_string()
                  ? out.body["error"].get<std::string>()
                  : "unknown_error";
    return out;
  }
  out.outcome = api_result::kind::ok;
  return out;
}

std::string created_canvas_id(const nlohmann::json& body) {
  if (body.is_object() && body.contains("canvas_id") && body["canvas_id"].is_string())
    return body["canvas_id"].get<std::string>();
  return {};
}

} // namespace epmpulse::slack
