#include "http/responder.hpp"

#include <algorithm>

#include "actors/common/log.hpp"

namespace epmpulse::http {

namespace {

std::string reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

} // namespace

responder::responder(restinio::request_handle_t req, std::string request_id,
                     std::shared_ptr<server_counters> counters)
  : req_(std::move(req)),
    request_id_(std::move(request_id)),
    counters_(std::move(counters)),
    started_(std::chrono::steady_clock::now()) {
  counters_->in_flight.fetch_add(1, std::memory_order_relaxed);
  counters_->requests.fetch_add(1, std::memory_order_relaxed);
}

responder::~responder() {
  // A request dropped without an answer must still not leak: answer it.
  if (!sent_.load())
    send_error({ec::internal_error, "The request was not answered.", {}});
}

void responder::add_header(std::string name, std::string value) {
  extra_headers_.emplace_back(std::move(name), std::move(value));
}

void responder::send(int status, std::string body) {
  finish(status, std::move(body));
}

void responder::send(int status, std::shared_ptr<const std::string> body) {
  if (!body) // RESTinio throws on an empty shared_ptr
    return finish(status, std::string{});
  finish(status, std::move(body));
}

template <class Response>
void responder::add_headers(Response& resp, bool with_content_type) {
  // A 304 describes no content of its own (RFC 9110 15.4.5): no Content-Type.
  if (with_content_type)
    resp.append_header(restinio::http_field::content_type, content_type_);
  resp.append_header("X-Request-ID", request_id_);
  for (auto& [name, value] : extra_headers_)
    resp.append_header(name, value);
}

void responder::finish(int status, restinio::writable_item_t body) {
  if (sent_.exchange(true))
    return;
  auto resp = req_->create_response(restinio::http_status_line_t{
    restinio::http_status_code_t{static_cast<std::uint16_t>(status)}, reason_phrase(status)});
  add_headers(resp, true);
  resp.set_body(std::move(body));
  resp.done();
  account(status);
}

void responder::send_not_modified(std::size_t representation_length) {
  if (sent_.exchange(true))
    return;
  auto resp = req_->create_response<restinio::user_controlled_output_t>(
    restinio::http_status_line_t{restinio::status_not_modified()});
  add_headers(resp, false);
  resp.set_content_length(representation_length);
  resp.done();
  account(304);
}

void route_counters::record(int status, std::uint64_t elapsed_us) {
  std::size_t bucket = 0;
  while (bucket < latency_bucket_bounds_us.size() && elapsed_us > latency_bucket_bounds_us[bucket])
    ++bucket;
  latency[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_sum_us.fetch_add(elapsed_us, std::memory_order_relaxed);
  std::size_t cls = status >= 500 ? 3 : status >= 400 ? 2 : status >= 300 ? 1 : 0;
  responses[cls].fetch_add(1, std::memory_order_relaxed);
}

void responder::send_no_content() {
  if (sent_.exchange(true))
    return;
  auto resp = req_->create_response<restinio::user_controlled_output_t>(
    restinio::http_status_line_t{restinio::status_no_content()});
  add_headers(resp, false);
  resp.done();
  account(204);
}

restinio::request_handle_t responder::take_over(int status) {
  if (sent_.exchange(true))
    return nullptr;
  account(status);
  return req_;
}

void responder::account(int status) {
  auto elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started_)
                      .count();
  auto elapsed = static_cast<double>(elapsed_us) / 1000.0;
  counters_->by_route[std::min(route_, max_routes)].record(
    status, static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed_us, 0)));
  if (status >= 500)
    counters_->responses_5xx.fetch_add(1, std::memory_order_relaxed);
  else if (status >= 400)
    counters_->responses_4xx.fetch_add(1, std::memory_order_relaxed);
  else if (status >= 300)
    counters_->responses_3xx.fetch_add(1, std::memory_order_relaxed);
  else
    counters_->responses_2xx.fetch_add(1, std::memory_order_relaxed);
  auto lvl = status >= 500 ? log::level::error : status >= 400 ? log::level::info : log::level::debug;
  if (log::enabled(lvl)) {
    log::write(lvl, "request", request_id_,
               {{"method", std::string{req_->header().method().c_str()}},
                {"path", std::string{req_->header().path()}},
                {"status", status},
                {"ms", elapsed}});
  }
  counters_->in_flight.fetch_sub(1, std::memory_order_release);
}

void responder::send_error(const api_error& err) {
  if (err.code == ec::rate_limited) {
    auto it = err.details.find("retry_after_sec");
    bool given = it != err.details.end() && it->is_number_integer();
    add_header("Retry-After", given ? std::to_string(it->get<long>()) : std::string{"1"});
  } else if (err.code == ec::database_unavailable) {
    // The writer reconnects with a backoff of at most a few seconds.
    add_header("Retry-After", "2");
  }
  send(http_status(err.code), error_body(err));
}

std::string error_body(const api_error& err) {
  nlohmann::json body = {{"success", false},
                         {"error",
                          {{"code", api_code(err.code)},
                           {"message", err.message},
                           {"details", err.details.is_null() ? nlohmann::json::object()
                                                             : err.details}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace epmpulse::http
