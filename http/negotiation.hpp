#pragma once

// What a GET asks of the representation it is sent: whether the client takes
// gzip (Accept-Encoding) and whether it already holds the current one
// (If-None-Match), so a dashboard polling the status is answered 304.

#include <string_view>

#include <restinio/all.hpp>

namespace epmpulse::http {

/// True when Accept-Encoding names gzip (or x-gzip, or *) with a weight above
/// zero, and gzip is not refused by name. A header that does not parse counts
/// as absent: the body is then sent uncompressed, which every client reads.
bool accepts_gzip(const restinio::request_t& req);

/// True when If-None-Match is "*" or lists `etag` (weak comparison, as RFC
/// 9110 13.1.2 asks for If-None-Match).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

} // namespace epmpulse::http
