#pragma once

// Canvas endpoints: GET /api/v1/canvas/preview (read key) and
// POST /api/v1/canvas/sync (admin key). Both ask the canvas actor through
// the edge and return at once; the edge answers exactly once.

#include "http/routes.hpp"

namespace epmpulse::http {

/// GET /api/v1/canvas/preview[?channel=C…]: per canvas {channel, canvas_id,
/// markdown} exactly as it would be sent.
void handle_canvas_preview(request_scope& scope);

/// POST /api/v1/canvas/sync: renders and sends every canvas now. 200 with
/// per-canvas results; 503 SLACK_DISABLED without a token; 502 SLACK_ERROR
/// with Slack's codes in details when any canvas was refused.
void handle_canvas_sync(request_scope& scope);

} // namespace epmpulse::http
