#pragma once

// Admin endpoints: POST /api/v1/admin/reload (admin key) re-reads the API
// keys and rate limits from the configuration file, as SIGHUP does.

#include "http/routes.hpp"

namespace epmpulse::http {

/// POST /api/v1/admin/reload: 200 with the key names added, removed and
/// changed; 422 INVALID_CONFIG with the loader's message in
/// details.errors when the file is invalid (then nothing changed).
void handle_reload(request_scope& scope);

} // namespace epmpulse::http
