#pragma once

// Data the build puts into the binary (CMake writes the definitions from
// http/embedded_data.cpp.in at configure time).

#include <string_view>

namespace epmpulse::http {

/// http/openapi.json as it was when the build was configured.
std::string_view openapi_document();

/// A strong ETag for it: its SHA-256, quoted.
std::string_view openapi_etag();

/// `git rev-parse --short HEAD` of the source tree at configure time;
/// "unknown" outside a git checkout.
std::string_view git_commit();

} // namespace epmpulse::http
