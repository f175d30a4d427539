#pragma once

// GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API
// (http/openapi.json, compiled in). Public, like health.

#include "http/routes.hpp"

namespace epmpulse::http {

/// Answers the document with a strong ETag; 304 when If-None-Match has it.
void handle_openapi(request_scope& scope);

} // namespace epmpulse::http
