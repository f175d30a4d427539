#pragma once

// The dashboard page's files (web/), compiled into the binary so the page
// needs nothing beyond this service: no CDN, no web font, no file on disk.
// The build generates their definitions (cmake/embed_web.cmake) with each
// file's SHA-256 as its entity tag.

#include <string_view>
#include <vector>

namespace epmpulse::http {

struct web_asset {
  std::string_view path;         ///< "/" for index.html, else "/<file name>"
  std::string_view content_type; ///< from the file's extension
  std::string_view bytes;
  std::string_view etag;         ///< quoted: the first 32 hex digits of the SHA-256
};

/// Every file of web/.
const std::vector<web_asset>& web_assets();

} // namespace epmpulse::http
