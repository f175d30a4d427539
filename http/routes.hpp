#pragma once

// The route table: method, path, the role a key needs, the request budget it
// draws from, whether a JSON body is expected, and the handler. Dispatch does,
// in order: route lookup (404/405), authentication (401/403) before anything
// reads the body (a Bearer key; on GET routes of the read role also the
// browser's session cookie; nothing on the dashboard's read routes when the
// dashboard is public), role (403), rate limit (429), body size (413) and content
// type (415); then the handler validates and answers.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <restinio/all.hpp>

#include "config/config.hpp"
#include "http/responder.hpp"
#include "http/services.hpp"

namespace epmpulse::http {

/// Everything a handler needs for one request.
struct request_scope {
  responder_ptr out;
  const config::api_key* key = nullptr; ///< null on public routes
  std::string path_param;               ///< the {app} part of prefix routes (first segment)
  std::vector<std::string> path_segments; ///< every segment after a prefix, unescaped
  const http_services& services;
};

using route_handler = std::function<void(request_scope&)>;

/// Which budget of settings.rate_limits a route draws from.
enum class budget {
  none,   ///< never limited (health: monitors must always get an answer)
  status, ///< per API key: status_per_minute
  batch,  ///< per API key: batch_per_minute (also admin operations)
  read,   ///< per client address: read_per_minute
};

struct route {
  restinio::http_method_id_t method;
  std::string path;                     ///< exact path, or prefix when `prefix`
  /// path + one segment, e.g. /status/{app}; a '*' in the path stands for
  /// that segment when more follows (/alerts/*/ack)
  bool prefix = false;
  std::optional<config::key_role> role; ///< none = public
  budget limit = budget::none;
  bool json_body = false;
  route_handler handler;
  /// A read route of the dashboard page: with settings.dashboard.public it
  /// answers without any credential.
  bool dashboard_read = false;
  /// Prefix routes: how many segments may follow the prefix.
  std::size_t max_segments = 1;
};

/// All routes of the service. The one list of them: the server serves it,
/// the per-route metrics are labelled from it, and the tests compare it
/// with the OpenAPI document.
std::vector<route> make_routes();

/// The path as documented and labelled in metrics: a prefix route ends in
/// its parameter, "{app}" (the app's status), or has "{id}" where its path
/// has '*' (/api/v1/alerts/{id}/ack).
std::string route_template(const route& r);

/// Dispatches one request through `routes`.
void dispatch(const std::vector<route>& routes, const http_services& services,
              responder_ptr out);

} // namespace epmpulse::http
