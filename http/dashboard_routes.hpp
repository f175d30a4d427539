#pragma once

// The dashboard: the page's files at GET / (http/web_assets), the browser's
// session (POST/DELETE /api/v1/session: a read key in, an HttpOnly signed
// cookie out), and the status badges with their tokens.

#include <vector>

#include "http/routes.hpp"

namespace epmpulse::http {

/// Adds GET / and a route per file of web/ to `table`.
void add_page_routes(std::vector<route>& table);

/// POST /api/v1/session (Bearer key of any role): 204 with the session cookie.
void handle_create_session(request_scope& scope);

/// DELETE /api/v1/session: 204 with the cookie cleared.
void handle_delete_session(request_scope& scope);

/// POST /api/v1/badges/token (admin) {"app", "domain"?}: a badge token for
/// that scope and the badge's path with it.
void handle_issue_badge_token(request_scope& scope);

/// GET /badge/{app}.svg and /badge/{app}/{domain}.svg: public with
/// settings.dashboard.public, otherwise ?token=<badge token> covering it.
void handle_badge(request_scope& scope);

/// The Content-Security-Policy of the page: its own files only, no inline
/// script or style, no framing.
inline constexpr const char* page_security_policy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
  "frame-ancestors 'none'";

} // namespace epmpulse::http
