#pragma once

// Handlers of the status API: push one, push a batch, read all, read one app.

#include "http/routes.hpp"

namespace epmpulse::http {

/// POST /api/v1/status
void handle_post_status(request_scope& scope);

/// POST /api/v1/status/batch
void handle_post_batch(request_scope& scope);

/// GET /api/v1/status
void handle_get_status(request_scope& scope);

/// GET /api/v1/status/{app}
void handle_get_app_status(request_scope& scope);

} // namespace epmpulse::http
