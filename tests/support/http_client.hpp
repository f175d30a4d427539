#pragma once

// A small blocking HTTP client for tests (libcurl easy interface). Each call
// uses its own easy handle, so any number of threads may call it at once.
// Loopback only: proxies from the environment are ignored.

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace epmpulse::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// What came back. `status == 0` means no HTTP response (see `error`).
struct http_result {
  long status = 0;
  std::map<std::string, std::string> headers; ///< names lower-cased, last value wins
  std::string body;
  std::string error; ///< curl's message when the transfer failed

  /// Header value by (case-insensitive) name, "" when absent.
  std::string header(const std::string& name) const;

  /// The body parsed as JSON; a discarded value (is_discarded()) when it is not.
  nlohmann::json json() const;

  /// True when the body is a JSON document.
  bool is_json() const;

  /// error.code of an API error body, "" when there is none.
  std::string error_code() const;

  /// "<status> <body>" for assertion messages.
  std::string describe() const;
};

/// Performs one request. Sends exactly `headers`: when no Content-Type is
/// given, none is sent (curl's form default is suppressed); "Expect:" is
/// suppressed too. `body` is sent for any method when non-empty (and always
/// for POST/PUT/PATCH).
http_result request(const std::string& method, const std::string& url,
                    const std::string& body = {}, const header_list& headers = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(15));

/// A client for one server and one API key ("" = no Authorization header).
class api_client {
public:
  api_client(std::string base_url, std::string key = {});

  http_result get(const std::string& path, const header_list& extra = {}) const;

  /// POST with Content-Type application/json.
  http_result post(const std::string& path, const nlohmann::json& body,
                   const header_list& extra = {}) const;

  /// POST of a raw body with the given content type ("" = none).
  http_result post_raw(const std::string& path, const std::string& body,
                       const std::string& content_type = "application/json",
                       const header_list& extra = {}) const;

  const std::string& base_url() const { return base_url_; }
  const std::string& key() const { return key_; }

private:
  header_list with_auth(const header_list& extra) const;

  std::string base_url_;
  std::string key_;
};

} // namespace epmpulse::test
