#pragma once

// GET /api/v1/history, GET /api/v1/stats and the live stream
// GET /api/v1/events, and the alert events GET /api/v1/alerts/history
// (read role). Query parameters are checked before
// anything is asked: a bad one answers 400 VALIDATION_ERROR naming it.

#include "http/routes.hpp"

namespace epmpulse::http {

void handle_get_history(request_scope& scope);
void handle_get_stats(request_scope& scope);
void handle_get_events(request_scope& scope);
/// GET /api/v1/alerts/history: alert events and delivery outcomes, newest first.
void handle_get_alert_history(request_scope& scope);

} // namespace epmpulse::http
