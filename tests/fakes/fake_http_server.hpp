#pragma once

// A real HTTP server on 127.0.0.1:<ephemeral> for tests: answers with a
// scripted handler and records every request it got. Fake Slack and fake EPM
// are built on it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace epmpulse::test {

struct recorded_request {
  std::string method;
  std::string target;                         ///< path plus query
  std::string path;                           ///< without query
  std::map<std::string, std::string> headers; ///< names lower-cased
  std::string body;
  std::chrono::steady_clock::time_point received;
};

struct scripted_response {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body = "{}";
  std::string content_type = "application/json";
};

class fake_http_server {
public:
  using handler = std::function<scripted_response(const recorded_request&)>;

  /// Starts listening at once on 127.0.0.1 with an ephemeral port.
  explicit fake_http_server(handler h);
  ~fake_http_server();

  fake_http_server(const fake_http_server&) = delete;
  fake_http_server& operator=(const fake_http_server&) = delete;

  std::uint16_t port() const;
  std::string base_url() const; ///< "http://127.0.0.1:<port>"

  void set_handler(handler h);

  /// Every request so far, in arrival order.
  std::vector<recorded_request> requests() const;

  /// Requests whose path equals `path`.
  std::vector<recorded_request> requests_to(const std::string& path) const;

  void clear();

  /// Waits (deadline, no bare sleep) until `pred(requests())` holds.
  bool wait_until(const std::function<bool(const std::vector<recorded_request>&)>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace epmpulse::test
