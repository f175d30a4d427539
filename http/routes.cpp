#include "http/routes.hpp"

#include "actors/common/log.hpp"
#include "http/admin_routes.hpp"
#include "http/alert_routes.hpp"
#include "http/canvas_routes.hpp"
#include "http/health_handlers.hpp"
#include "http/openapi_handler.hpp"
#include "http/status_handlers.hpp"

namespace epmpulse::http {

namespace {

bool is_json_content_type(std::string_view value) {
  // "application/json", optionally with parameters such as charset.
  auto semi = value.find(';');
  auto type = value.substr(0, semi);
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  std::string lower(type);
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" || (lower.size() > 5 && lower.ends_with("+json"));
}

// Finds the route for `path`; sets `path_matched` when some route has this
// path with another method (405 rather than 404).
const route* find_route(const std::vector<route>& routes, restinio::http_method_id_t method,
                        std::string_view path, std::string& param, bool& path_matched) {
  for (const auto& r : routes) {
    if (r.prefix || r.path != path)
      continue;
    path_matched = true;
    if (r.method == method)
      return &r;
  }
  if (path_matched)
    return nullptr;
  for (const auto& r : routes) {
    if (!r.prefix)
      continue;
    auto star = r.path.find('*');
    auto head = std::string_view{r.path}.substr(0, star);
    auto suffix = star == std::string::npos ? std::string_view{}
                                            : std::string_view{r.path}.substr(star + 1);
    if (!path.starts_with(head) || !path.ends_with(suffix)
        || path.size() < head.size() + suffix.size())
      continue;
    auto tail = path.substr(head.size(), path.size() - head.size() - suffix.size());
    if (tail.empty() || tail.find('/') != std::string_view::npos)
      continue;
    path_matched = true;
    if (r.method == method) {
      param = restinio::utils::unescape_percent_encoding(tail);
      return &r;
    }
  }
  return nullptr;
}

// The bucket this request draws from and its size; nullopt when unlimited.
std::optional<std::pair<std::string, int>> budget_for(const route& r, const request_scope& scope,
                                                      const config::rate_limit_settings& limits) {
  if (!limits.enabled)
    return std::nullopt;
  switch (r.limit) {
    case budget::none:
      return std::nullopt;
    case budget::status:
      return std::pair{status_bucket(scope.key->name), limits.status_per_minute};
    case budget::batch:
      return std::pair{batch_bucket(scope.key->name), limits.batch_per_minute};
    case budget::read:
      return std::pair{"read:" + scope.out->request().remote_endpoint().address().to_string(),
                       limits.read_per_minute};
  }
  return std::nullopt;
}

} // namespace

std::vector<route> make_routes() {
  using config::key_role;
  auto get = restinio::http_method_get();
  auto post = restinio::http_method_post();
  return {
    {get, "/api/v1/health", false, std::nullopt, budget::none, false, handle_health},
    {get, "/metrics", false, key_role::read, budget::read, false, handle_metrics},
    // Public like health: it describes the API and holds no data.
    {get, "/api/v1/openapi.json", false, std::nullopt, budget::read, false, handle_openapi},
    {post, "/api/v1/status", false, key_role::write, budget::status, true, handle_post_status},
    {post, "/api/v1/status/batch", false, key_role::write, budget::batch, true, handle_post_batch},
    {get, "/api/v1/status", false, key_role::read, budget::read, false, handle_get_status},
    {get, "/api/v1/status/", true, key_role::read, budget::read, false, handle_get_app_status},
    // -- canvas --
    {get, "/api/v1/canvas/preview", false, key_role::read, budget::read, false,
     handle_canvas_preview},
    {post, "/api/v1/canvas/sync", false, key_role::admin, budget::batch, false,
     handle_canvas_sync},
    // -- expectations and alerts --
    {get, "/api/v1/alerts", false, key_role::read, budget::read, false, handle_get_alerts},
    {post, "/api/v1/alerts/*/ack", true, key_role::write, budget::batch, false,
     handle_ack_alert},
    {post, "/api/v1/maintenance", false, key_role::admin, budget::batch, true,
     handle_post_maintenance},
    // -- admin --
    {post, "/api/v1/admin/reload", false, key_role::admin, budget::batch, false, handle_reload},
  };
}

std::string route_template(const route& r) {
  if (!r.prefix)
    return r.path;
  if (auto star = r.path.find('*'); star != std::string::npos)
    return r.path.substr(0, star) + "{id}" + r.path.substr(star + 1);
  return r.path + "{app}";
}

void dispatch(const std::vector<route>& routes, const http_services& services, responder_ptr out) {
  const auto& req = out->request();
  const auto& header = req.header();
  std::string param;
  bool path_matched = false;
  const auto* r = find_route(routes, header.method(), header.path(), param, path_matched);
  if (r == nullptr) {
    if (path_matched)
      out->send_error({ec::method_not_allowed, "This method is not allowed on this path.", {}});
    else
      out->send_error({ec::not_found, "No such endpoint. See the README for the API.", {}});
    return;
  }
  out->set_route(static_cast<std::size_t>(r - routes.data()));
  request_scope scope{out, nullptr, std::move(param), services};
  // The one atomic load per request: this request keeps these keys and
  // budgets to its end, whatever a reload publishes meanwhile.
  const key_set& access = services.keys->current();
  if (r->role) {
    api_error err;
    auto auth = header.opt_value_of(restinio::http_field::authorization);
    scope.key = access.authenticate(auth ? *auth : std::string_view{}, err);
    if (scope.key == nullptr) {
      out->send_error(err);
      return;
    }
    if (!config::role_allows(scope.key->role, *r->role)) {
      out->send_error({ec::forbidden,
                       std::string("This endpoint needs a key with the '") + to_string(*r->role)
                         + "' role or higher.",
                       {{"key", scope.key->name}}});
      return;
    }
  }
  if (auto bucket = budget_for(*r, scope, access.rate_limits()); bucket && services.limiter) {
    auto verdict = services.limiter->admit(bucket->first, bucket->second);
    if (!verdict.allowed) {
      log::write(log::level::warn, "rate limited", out->request_id(),
                 {{"budget", bucket->first.substr(0, bucket->first.find(':'))},
                  {"limit_per_minute", bucket->second}});
      out->send_error({ec::rate_limited,
                       "Too many requests: at most " + std::to_string(bucket->second)
                         + " a minute here. Retry after the Retry-After seconds.",
                       {{"retry_after_sec", verdict.retry_after_sec},
                        {"limit_per_minute", bucket->second}}});
      return;
    }
  }
  if (r->json_body) {
    if (req.body().size() > services.config->settings.server.max_body_bytes) {
      out->send_error({ec::payload_too_large,
                       "The body exceeds "
                         + std::to_string(services.config->settings.server.max_body_bytes)
                         + " bytes.",
                       {}});
      return;
    }
    auto type = header.opt_value_of(restinio::http_field::content_type);
    if (type && !is_json_content_type(*type)) {
      out->send_error({ec::unsupported_media_type,
                       "Send the body as JSON with 'Content-Type: application/json'.",
                       {{"content_type", std::string(*type)}}});
      return;
    }
  }
  r->handler(scope);
}

} // namespace epmpulse::http
