#pragma once

// Completes one HTTP request exactly once, from any thread: sets the JSON
// content type and X-Request-ID, writes the access log line, and releases the
// server's in-flight count. Handlers hand a shared_ptr<responder> to the
// edge (http/edge), whose continuations answer with it.

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <restinio/all.hpp>

#include "http/api_error.hpp"

namespace epmpulse::http {

struct server_counters;

class responder {
public:
  responder(restinio::request_handle_t req, std::string request_id,
            std::shared_ptr<server_counters> counters);
  ~responder();

  const std::string& request_id() const { return request_id_; }
  const restinio::request_t& request() const { return *req_; }

  /// Sends `body` (already JSON) with `status`. Later calls are ignored.
  void send(int status, std::string body);

  /// The same for a body shared with other responses (the cached GET body):
  /// sent from the shared buffer, never copied.
  void send(int status, std::shared_ptr<const std::string> body);

  /// Answers 304 Not Modified: no body, no Content-Type; Content-Length is the
  /// length the 200 would have had, as RFC 9110 8.6 allows (RESTinio always
  /// writes the field, and 0 would misstate it).
  void send_not_modified(std::size_t representation_length);

  /// Answers 204 No Content: no body, no Content-Type, no Content-Length.
  void send_no_content();

  /// Sends the error body {"success": false, "error": {...}}.
  void send_error(const api_error& err);

  /// Adds a header to the response still to be sent (e.g. Retry-After).
  void add_header(std::string name, std::string value);

  /// Hands the request to a response that outlives this responder (a live
  /// stream, which writes its own headers): accounted as answered with
  /// `status` now, so a stream never holds up a graceful stop. Later calls
  /// to send are ignored.
  restinio::request_handle_t take_over(int status);

  /// Replaces the default "application/json" (e.g. for Prometheus text).
  void set_content_type(std::string value) { content_type_ = std::move(value); }

  /// The route table index this request matched, for the per-route metrics
  /// (set by dispatch; requests that match no route count as "other").
  void set_route(std::size_t index) { route_ = index; }

private:
  void finish(int status, restinio::writable_item_t body);
  template <class Response>
  void add_headers(Response& resp, bool with_content_type);
  void account(int status);

  restinio::request_handle_t req_;
  std::string request_id_;
  std::shared_ptr<server_counters> counters_;
  std::chrono::steady_clock::time_point started_;
  std::atomic<bool> sent_{false};
  std::vector<std::pair<std::string, std::string>> extra_headers_;
  std::string content_type_ = "application/json";
  std::size_t route_ = std::size_t(-1);
};

using responder_ptr = std::shared_ptr<responder>;

/// Upper bounds (microseconds) of the request latency histogram's buckets;
/// a last, unbounded bucket (+Inf) follows them.
inline constexpr std::array<std::uint64_t, 14> latency_bucket_bounds_us = {
  250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000,
  1'000'000, 2'500'000, 10'000'000};

/// The response classes counted per route: 2xx, 3xx, 4xx, 5xx.
inline constexpr std::size_t response_classes = 4;

/// One route's latency histogram and responses. Fixed-size and lock-free:
/// a response adds to three relaxed atomics and allocates nothing.
struct route_counters {
  std::array<std::atomic<std::uint64_t>, latency_bucket_bounds_us.size() + 1> latency{}; ///< not cumulative
  std::atomic<std::uint64_t> latency_sum_us{0};
  std::array<std::atomic<std::uint64_t>, response_classes> responses{};

  /// Counts one response of `status` that took `elapsed_us`.
  void record(int status, std::uint64_t elapsed_us);
};

/// The most routes the table may hold (checked when the server starts);
/// slot max_routes counts requests that matched none.
inline constexpr std::size_t max_routes = 32;

/// Requests accepted but not yet answered, and totals for /metrics.
struct server_counters {
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> responses_2xx{0};
  std::atomic<std::uint64_t> responses_3xx{0}; ///< 304 Not Modified
  std::atomic<std::uint64_t> responses_4xx{0};
  std::atomic<std::uint64_t> responses_5xx{0};
  std::atomic<bool> draining{false};
  /// Connections open now (RESTinio's connection state listener).
  std::atomic<std::int64_t> open_connections{0};
  /// Per route of the table, in its order, then "other".
  std::array<route_counters, max_routes + 1> by_route{};
  /// "METHOD template" of each route, set before the server serves and
  /// read-only afterwards.
  std::vector<std::pair<std::string, std::string>> route_labels;
};

/// The error body for `err`.
std::string error_body(const api_error& err);

} // namespace epmpulse::http
