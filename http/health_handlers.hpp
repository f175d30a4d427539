#pragma once

// Operational endpoints: GET /api/v1/health (public) and GET /metrics
// (Prometheus text format, read key).

#include "http/routes.hpp"

namespace epmpulse::http {

/// GET /api/v1/health: the checks of the state, the canvas side and pull
/// mode; 503 only while the change log cannot be written.
void handle_health(request_scope& scope);

/// GET /metrics
void handle_metrics(request_scope& scope);

} // namespace epmpulse::http
