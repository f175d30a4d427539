#pragma once

// Expectation and alert endpoints: GET /api/v1/alerts (read key),
// POST /api/v1/alerts/{id}/ack (write key), POST /api/v1/maintenance (admin
// key). Each asks its actor through the edge and returns at once.

#include "http/routes.hpp"

namespace epmpulse::http {

/// GET /api/v1/alerts: {"alerts": [...]}, the open and acknowledged alerts
/// with their events; an empty list when alerts are disabled.
void handle_get_alerts(request_scope& scope);

/// POST /api/v1/alerts/{id}/ack: silences the alert's reminders until it
/// recovers; 404 NOT_FOUND for an unknown or closed id; 503 when alerts are
/// disabled.
void handle_ack_alert(request_scope& scope);

/// POST /api/v1/maintenance {"apps"?, "start"?, "end" | "duration_minutes",
/// "reason"?}: an ad-hoc window without late or missed alerts; 201 with the
/// window.
void handle_post_maintenance(request_scope& scope);

} // namespace epmpulse::http
