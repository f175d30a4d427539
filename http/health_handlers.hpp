#pragma once

// Operational endpoints: GET /api/v1/health (public) and GET /metrics
// (Prometheus text format, read key).

#include "http/routes.hpp"

namespace epmpulse::http {

/// GET /api/v1/health: 200 healthy or 503 degraded, with the checks of the
/// state file and of every registered part.
void handle_health(request_scope& scope);

/// GET /metrics
void handle_metrics(request_scope& scope);

} // namespace epmpulse::http
