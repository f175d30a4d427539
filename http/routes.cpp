#include "http/routes.hpp"

#include <algorithm>

#include "actors/common/log.hpp"
#include "http/admin_routes.hpp"
#include "http/alert_routes.hpp"
#include "http/canvas_routes.hpp"
#include "http/dashboard_routes.hpp"
#include "http/health_handlers.hpp"
#include "http/openapi_handler.hpp"
#include "http/history_handlers.hpp"
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
                        std::string_view path, std::vector<std::string>& segments,
                        bool& path_matched) {
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
    std::vector<std::string_view> parts;
    auto star = r.path.find('*');
    if (star != std::string::npos) {
      // A route with one `*` segment inside it (`/alerts/*/ack`).
      auto head = std::string_view{r.path}.substr(0, star);
      auto suffix = std::string_view{r.path}.substr(star + 1);
      if (!path.starts_with(head) || !path.ends_with(suffix)
          || path.size() < head.size() + suffix.size())
        continue;
      auto tail = path.substr(head.size(), path.size() - head.size() - suffix.size());
      if (tail.empty() || tail.find('/') != std::string_view::npos)
        continue;
      parts.push_back(tail);
    } else {
      if (!path.starts_with(r.path))
        continue;
      auto tail = path.substr(r.path.size());
      for (std::size_t start = 0;;) {
        auto slash = tail.find('/', start);
        parts.push_back(tail.substr(start, slash == std::string_view::npos ? slash : slash - start));
        if (slash == std::string_view::npos)
          break;
        start = slash + 1;
      }
      if (parts.size() > r.max_segments
          || std::any_of(parts.begin(), parts.end(), [](auto p) { return p.empty(); }))
        continue;
    }
    path_matched = true;
    if (r.method == method) {
      // Split before unescaping: an escaped slash stays inside its segment.
      for (auto part : parts)
        segments.push_back(restinio::utils::unescape_percent_encoding(part));
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
  std::vector<route> table{
    {get, "/api/v1/health", false, std::nullopt, budget::none, false, handle_health},
    {get, "/metrics", false, key_role::read, budget::read, false, handle_metrics},
    // Public like health: it describes the API and holds no data.
    {get, "/api/v1/openapi.json", false, std::nullopt, budget::read, false, handle_openapi},
    {post, "/api/v1/status", false, key_role::write, budget::status, true, handle_post_status},
    {post, "/api/v1/status/batch", false, key_role::write, budget::batch, true, handle_post_batch},
    {get, "/api/v1/status", false, key_role::read, budget::read, false, handle_get_status, true},
    {get, "/api/v1/status/", true, key_role::read, budget::read, false, handle_get_app_status,
     true},
    // -- history --
    {get, "/api/v1/history", false, key_role::read, budget::read, false, handle_get_history,
     true},
    {get, "/api/v1/stats", false, key_role::read, budget::read, false, handle_get_stats, true},
    {get, "/api/v1/events", false, key_role::read, budget::read, false, handle_get_events, true},
    // -- canvas --
    {get, "/api/v1/canvas/preview", false, key_role::read, budget::read, false,
     handle_canvas_preview},
    {post, "/api/v1/canvas/sync", false, key_role::admin, budget::batch, false,
     handle_canvas_sync},
    // -- expectations and alerts --
    {get, "/api/v1/alerts", false, key_role::read, budget::read, false, handle_get_alerts},
    {get, "/api/v1/alerts/history", false, key_role::read, budget::read, false,
     handle_get_alert_history},
    {post, "/api/v1/alerts/*/ack", true, key_role::write, budget::batch, false,
     handle_ack_alert},
    {post, "/api/v1/maintenance", false, key_role::admin, budget::batch, true,
     handle_post_maintenance},
    // -- admin --
    {post, "/api/v1/admin/reload", false, key_role::admin, budget::batch, false, handle_reload},
    // -- the dashboard page, browser sessions, badges --
    {post, "/api/v1/session", false, key_role::read, budget::read, false, handle_create_session},
    {restinio::http_method_delete(), "/api/v1/session", false, std::nullopt, budget::read, false,
     handle_delete_session},
    {post, "/api/v1/badges/token", false, key_role::admin, budget::batch, true,
     handle_issue_badge_token},
    // Badge tokens are checked by the handler: their scope names the badge.
    {get, "/badge/", true, std::nullopt, budget::read, false, handle_badge, true, 2},
  };
  add_page_routes(table);
  return table;
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
  std::vector<std::string> segments;
  bool path_matched = false;
  const auto* r = find_route(routes, header.method(), header.path(), segments, path_matched);
  if (r == nullptr) {
    if (path_matched)
      out->send_error({ec::method_not_allowed, "This method is not allowed on this path.", {}});
    else
      out->send_error({ec::not_found, "No such endpoint. See the README for the API.", {}});
    return;
  }
  out->set_route(static_cast<std::size_t>(r - routes.data()));
  std::string first_segment = segments.empty() ? std::string{} : segments.front();
  request_scope scope{out, nullptr, std::move(first_segment), std::move(segments), services};
  // The one atomic load per request: this request keeps these keys and
  // budgets to its end, whatever a reload publishes meanwhile.
  const key_set& access = services.keys->current();
  const auto& dashboard = services.config->settings.dashboard;
  auto auth = header.opt_value_of(restinio::http_field::authorization);
  if (r->role && !(dashboard.is_public && r->dashboard_read && !auth)) {
    api_error err;
    // A cookie is sent by the browser on its own, so it may only read: GET
    // routes of the read role, never a write, whatever its key's role (and
    // SameSite=Strict keeps other sites' requests from carrying it).
    auto cookies = header.opt_value_of(restinio::http_field::cookie);
    auto session = cookies ? cookie_value(*cookies, session_cookie_name) : std::string_view{};
    bool by_cookie = !auth && !session.empty() && services.signer
                     && *r->role == config::key_role::read
                     && header.method() == restinio::http_method_get();
    scope.key = by_cookie ? access.authenticate_session(session, *services.signer, err)
                          : access.authenticate(auth ? *auth : std::string_view{}, err);
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
