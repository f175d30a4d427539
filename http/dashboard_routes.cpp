#include "http/dashboard_routes.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/common/log.hpp"
#include "actors/common/percent_encoding.hpp"
#include "config/config_reader.hpp"
#include "http/badge_svg.hpp"
#include "http/edge.hpp"
#include "http/negotiation.hpp"
#include "http/web_assets.hpp"

namespace epmpulse::http {

using nlohmann::json;

namespace {

// Headers every dashboard response carries: the browser must not guess
// content types, send this origin's URLs elsewhere, or frame the page.
void add_browser_headers(responder& out) {
  out.add_header("X-Content-Type-Options", "nosniff");
  out.add_header("Referrer-Policy", "no-referrer");
}

void send_asset(responder& out, const web_asset& asset) {
  add_browser_headers(out);
  out.add_header("Content-Security-Policy", page_security_policy);
  out.add_header("X-Frame-Options", "DENY");
  out.add_header("ETag", std::string(asset.etag));
  // Revalidated on every load (a 304 while the binary is the same), so a new
  // version of the service is never paired with an old cached script.
  out.add_header("Cache-Control", "no-cache");
  auto if_none_match = out.request().header().opt_value_of(restinio::http_field::if_none_match);
  if (if_none_match && etag_matches(*if_none_match, asset.etag)) {
    out.send_not_modified(asset.bytes.size());
    return;
  }
  out.set_content_type(std::string(asset.content_type));
  out.send(200, std::string(asset.bytes));
}

std::string session_cookie(std::string_view value, int max_age, bool secure) {
  return fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}", session_cookie_name,
                     value, max_age, secure ? "; Secure" : "");
}

bool signer_missing(request_scope& scope) {
  if (scope.services.signer)
    return false;
  scope.out->send_error({ec::unavailable, "Browser sessions and badges are not available.", {}});
  return true;
}

std::optional<std::string> query_value(const restinio::request_t& req, std::string_view name,
                                       bool& malformed) {
  try {
    auto qp = restinio::parse_query(req.header().query());
    if (qp.has(name))
      return restinio::cast_to<std::string>(qp[name]);
  } catch (const std::exception&) {
    malformed = true;
  }
  return std::nullopt;
}

void send_badge(responder& out, std::string_view label, job_status status) {
  auto svg = render_badge(label, status);
  add_browser_headers(out);
  // An SVG opened as a page must not run anything.
  out.add_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  out.add_header("Cache-Control", "max-age=30");
  out.add_header("ETag", fmt::format("\"{}-{:016x}\"", to_string(status),
                                     std::hash<std::string>{}(svg)));
  out.set_content_type("image/svg+xml");
  out.send(200, std::move(svg));
}

} // namespace

void add_page_routes(std::vector<route>& table) {
  for (const auto& asset : web_assets())
    table.push_back({restinio::http_method_get(), std::string(asset.path), false, std::nullopt,
                     budget::none, false,
                     [&asset](request_scope& scope) { send_asset(*scope.out, asset); }});
}

void handle_create_session(request_scope& scope) {
  if (signer_missing(scope))
    return;
  const auto& dashboard = scope.services.config->settings.dashboard;
  auto expires = std::chrono::system_clock::now() + std::chrono::seconds(dashboard.session_ttl_sec);
  auto token = issue_session_token(*scope.services.signer,
                                   {scope.key->name, std::chrono::floor<std::chrono::seconds>(expires)});
  log::write(log::level::info, "browser session started", scope.out->request_id(),
             {{"key", scope.key->name}, {"ttl_sec", dashboard.session_ttl_sec}});
  scope.out->add_header("Set-Cookie",
                        session_cookie(token, dashboard.session_ttl_sec, dashboard.secure_cookie));
  scope.out->add_header("Cache-Control", "no-store");
  scope.out->send_no_content();
}

void handle_delete_session(request_scope& scope) {
  scope.out->add_header("Set-Cookie",
                        session_cookie("", 0, scope.services.config->settings.dashboard.secure_cookie));
  scope.out->add_header("Cache-Control", "no-store");
  scope.out->send_no_content();
}

void handle_issue_badge_token(request_scope& scope) {
  if (signer_missing(scope))
    return;
  auto body = json::parse(scope.out->request().body(), nullptr, false);
  auto invalid = [&](std::string field, std::string message) {
    scope.out->send_error({ec::invalid_request, std::move(message), {{"field", std::move(field)}}});
  };
  if (body.is_discarded() || !body.is_object())
    return invalid("", "Send {\"app\": \"<app>\"} or {\"app\": \"<app>\", \"domain\": \"<domain>\"}.");
  for (const auto& [name, value] : body.items())
    if (name != "app" && name != "domain")
      return invalid(name, "Unknown field '" + name + "': only app and domain are taken.");
  if (!body.contains("app") || !body["app"].is_string())
    return invalid("app", "'app' must be the name of a configured app.");
  const auto* app = scope.services.config->find_app(body["app"].get<std::string>());
  if (app == nullptr) {
    scope.out->send_error({ec::invalid_app, "'app' is not a configured app.",
                           {{"field", "app"}}});
    return;
  }
  badge_scope badge{app->name, std::nullopt};
  if (body.contains("domain")) {
    if (!body["domain"].is_string() || !config::is_valid_name(body["domain"].get<std::string>(), true))
      return invalid("domain", "'domain' must be a domain name ([A-Za-z0-9 _.-], 1 to 64).");
    badge.domain = body["domain"].get<std::string>();
  }
  auto token = issue_badge_token(*scope.services.signer, badge);
  auto label = badge.app + (badge.domain ? "/" + *badge.domain : "");
  auto path = "/badge/" + percent_encode(badge.app)
              + (badge.domain ? "/" + percent_encode(*badge.domain) : "") + ".svg?token=" + token;
  log::write(log::level::info, "badge token issued", scope.out->request_id(),
             {{"scope", label}, {"key", scope.key->name}});
  scope.out->add_header("Cache-Control", "no-store");
  scope.out->send(200, json{{"token", token}, {"scope", label}, {"path", path}}.dump());
}

void handle_badge(request_scope& scope) {
  auto segments = scope.path_segments;
  auto& last = segments.back();
  if (!last.ends_with(".svg") || last.size() == 4) {
    scope.out->send_error({ec::not_found, "A badge is /badge/<app>.svg or /badge/<app>/<domain>.svg.", {}});
    return;
  }
  last.resize(last.size() - 4);
  std::string app = segments.front();
  std::optional<std::string> domain;
  if (segments.size() == 2)
    domain = segments[1];
  if (!scope.services.config->settings.dashboard.is_public) {
    bool malformed = false;
    auto token = query_value(scope.out->request(), "token", malformed);
    if (malformed || !token || token->empty()) {
      scope.out->send_error({ec::missing_auth,
                             "This badge needs ?token=<badge token> (POST /api/v1/badges/token "
                             "with an admin key issues one).",
                             {}});
      return;
    }
    if (signer_missing(scope))
      return;
    auto granted = read_badge_token(*scope.services.signer, *token);
    if (!granted) {
      scope.out->send_error({ec::invalid_key,
                             "The badge token is not valid: altered, or revoked by a new "
                             "signing key. Issue a new one.",
                             {}});
      return;
    }
    if (!granted->covers(app, domain)) {
      scope.out->send_error({ec::forbidden, "The badge token does not cover this badge.",
                             {{"scope", granted->app + (granted->domain ? "/" + *granted->domain : "")}}});
      return;
    }
  }
  scope.services.edge.ask<snapshot_ptr>(
    scope.out, scope.services.state,
    [out = scope.out, app, domain](snapshot_ptr& snap) {
      auto found = snap->apps.find(app);
      if (found == snap->apps.end()) {
        out->send_error({ec::app_not_found, "No such app.", {{"app", app}}});
        return;
      }
      if (!domain) {
        send_badge(*out, app, overall_status(found->second.domains));
        return;
      }
      auto d = found->second.domains.find(*domain);
      if (d == found->second.domains.end()) {
        out->send_error({ec::not_found, "No such domain.", {{"app", app}, {"domain", *domain}}});
        return;
      }
      send_badge(*out, app + "/" + *domain, d->second.status);
    },
    snapshot_atom_v);
}

} // namespace epmpulse::http
