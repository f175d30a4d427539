#include "tests/fakes/fake_http_server.hpp"
#include "tests/support/text.hpp"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <exception>
#include <mutex>

#include <restinio/all.hpp>

namespace epmpulse::test {

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

using traits = restinio::default_traits_t;

} // namespace

struct fake_http_server::impl {
  mutable std::mutex mtx;
  mutable std::condition_variable cv;
  handler h;
  std::vector<recorded_request> reqs;
  std::uint16_t port = 0;
  restinio::running_server_handle_t<traits> server;

  restinio::request_handling_status_t on_request(const restinio::request_handle_t& req) {
    recorded_request rec;
    const auto& hdr = req->header();
    rec.method = hdr.method().c_str();
    rec.target = hdr.request_target();
    rec.path = std::string(hdr.path());
    hdr.for_each_field([&](const restinio::http_header_field_t& f) {
      auto name = ascii_lower(f.name());
      auto it = rec.headers.find(name);
      if (it == rec.headers.end())
        rec.headers.emplace(std::move(name), f.value());
      else
        it->second += ", " + f.value();
    });
    rec.body = req->body();
    rec.received = std::chrono::steady_clock::now();

    handler current;
    {
      std::lock_guard<std::mutex> guard(mtx);
      reqs.push_back(rec);
      current = h;
    }
    cv.notify_all();

    scripted_response resp;
    try {
      if (current)
        resp = current(rec);
    } catch (...) {
      resp = scripted_response{500, {}, std::string("{\"fake_error\":\"") + "handler threw" + "\"}",
                               "application/json"};
    }

    auto r = req->create_response(restinio::http_status_line_t{
      restinio::http_status_code_t{static_cast<std::uint16_t>(resp.status)},
      reason_phrase(resp.status)});
    if (!resp.content_type.empty())
      r.append_header(restinio::http_field::content_type, resp.content_type);
    for (const auto& [name, value] : resp.headers)
      r.append_header(name, value);
    r.set_body(resp.body);
    return r.done();
  }
};

fake_http_server::fake_http_server(handler h) : impl_(std::make_unique<impl>()) {
  impl_->h = std::move(h);
  auto* self = impl_.get();
  auto settings = restinio::server_settings_t<traits>{}
                    .address("127.0.0.1")
                    .port(0)
                    .request_handler([self](const restinio::request_handle_t& req) {
                      return self->on_request(req);
                    });
  settings.acceptor_post_bind_hook([self](asio::ip::tcp::acceptor& a) {
    self->port = a.local_endpoint().port();
  });
  impl_->server = restinio::run_async<traits>(restinio::own_io_context(), std::move(settings), 1);
}

fake_http_server::~fake_http_server() {
  if (impl_ && impl_->server) {
    impl_->server->stop();
    impl_->server->wait();
  }
}

std::uint16_t fake_http_server::port() const {
  return impl_->port;
}

std::string fake_http_server::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port());
}

void fake_http_server::set_handler(handler h) {
  std::lock_guard<std::mutex> guard(impl_->mtx);
  impl_->h = std::move(h);
}

std::vector<recorded_request> fake_http_server::requests() const {
  std::lock_guard<std::mutex> guard(impl_->mtx);
  return impl_->reqs;
}

std::vector<recorded_request> fake_http_server::requests_to(const std::string& path) const {
  std::lock_guard<std::mutex> guard(impl_->mtx);
  std::vector<recorded_request> out;
  for (const auto& r : impl_->reqs)
    if (r.path == path)
      out.push_back(r);
  return out;
}

void fake_http_server::clear() {
  std::lock_guard<std::mutex> guard(impl_->mtx);
  impl_->reqs.clear();
}

bool fake_http_server::wait_until(
  const std::function<bool(const std::vector<recorded_request>&)>& pred,
  std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(impl_->mtx);
  // Bounded waits: the predicate may also depend on things outside this
  // server (a test's own state), so re-check at least every 50 ms.
  while (!pred(impl_->reqs)) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return false;
    impl_->cv.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(50)));
  }
  return true;
}

} // namespace epmpulse::test
