#include "http/server.hpp"

#include <random>
#include <thread>

#include <fmt/format.h>
#include <restinio/all.hpp>

#include "actors/common/log.hpp"
#include "http/edge.hpp"
#include "http/routes.hpp"

namespace epmpulse::http {

namespace {

using running_server = restinio::running_server_handle_t<restinio::default_traits_t>;

std::string generate_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

// Accept a caller's X-Request-ID when it is sane; otherwise make one.
std::string request_id_of(const restinio::request_t& req) {
  auto given = req.header().opt_value_of("X-Request-ID");
  if (given && !given->empty() && given->size() <= 128) {
    bool printable = std::all_of(given->begin(), given->end(), [](char c) {
      return c > 0x20 && c < 0x7F && c != '"' && c != '\\';
    });
    if (printable)
      return std::string(*given);
  }
  return generate_request_id();
}

} // namespace

struct http_server::impl {
  http_services services;
  std::vector<route> routes = make_routes();
  running_server server;
  std::string host;
  std::uint16_t port = 0;
  bool stopped = false;
};

http_server::http_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

http_server::~http_server() {
  stop();
}

std::unique_ptr<http_server> http_server::start(const std::string& host, std::uint16_t port,
                                                http_services services, std::string& error) {
  auto state = std::make_unique<impl>();
  state->services = std::move(services);
  if (!state->services.counters)
    state->services.counters = std::make_shared<server_counters>();
  if (!state->services.limiter)
    state->services.limiter = std::make_shared<rate_limiter>();
  auto* raw = state.get();
  const auto& server_cfg = raw->services.config->settings.server;
  auto timeout = std::chrono::milliseconds(
    static_cast<std::int64_t>(server_cfg.request_timeout_sec * 1000));
  // Actors answer a little before RESTinio gives up on the request, so an
  // actor that is late still gets the client a 503 rather than a closed
  // connection.
  raw->services.edge.actor = spawn_edge(
    *raw->services.system,
    std::max(timeout - std::chrono::milliseconds{500}, std::chrono::milliseconds{500}));
  restinio::server_settings_t<restinio::default_traits_t> settings;
  settings.address(host)
      .port(port)
      .handle_request_timeout(timeout)
      .read_next_http_message_timelimit(std::chrono::seconds(60))
      .acceptor_post_bind_hook([raw](asio::ip::tcp::acceptor& acceptor) {
        raw->port = acceptor.local_endpoint().port();
        raw->host = acceptor.local_endpoint().address().to_string();
      })
      .request_handler([raw](restinio::request_handle_t req) {
        auto out = std::make_shared<responder>(req, request_id_of(*req), raw->services.counters);
        if (raw->services.counters->draining.load(std::memory_order_relaxed)) {
          out->send_error({ec::unavailable, "The service is shutting down; retry shortly.", {}});
          return restinio::request_accepted();
        }
        try {
          dispatch(raw->routes, raw->services, out);
        } catch (const std::exception& e) {
          // Never a stack trace or exception text to the client; log it.
          log::write(log::level::error, "handler failed", out->request_id(), {{"reason", e.what()}});
          out->send_error({ec::internal_error, "Internal error; the request ID is in the log.", {}});
        }
        return restinio::request_accepted();
      });
  try {
    state->server = restinio::run_async(restinio::own_io_context(), std::move(settings),
                                        static_cast<std::size_t>(std::max(1, server_cfg.io_threads)));
  } catch (const std::exception& e) {
    error = fmt::format("cannot listen on {}:{}: {}", host, port, e.what());
    caf::anon_send_exit(raw->services.edge.actor, caf::exit_reason::user_shutdown);
    return nullptr;
  }
  return std::unique_ptr<http_server>(new http_server(std::move(state)));
}

const std::string& http_server::host() const {
  return impl_->host;
}

std::uint16_t http_server::port() const {
  return impl_->port;
}

void http_server::begin_draining() {
  impl_->services.counters->draining.store(true);
}

bool http_server::wait_idle(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (impl_->services.counters->in_flight.load(std::memory_order_acquire) > 0) {
    if (std::chrono::steady_clock::now() >= until)
      return false;
    // Shutdown path only: polling a counter is simpler than a condition
    // variable every response would have to signal.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void http_server::stop() {
  if (impl_ && !impl_->stopped) {
    impl_->stopped = true;
    impl_->server->stop();
    impl_->server->wait();
    caf::anon_send_exit(impl_->services.edge.actor, caf::exit_reason::user_shutdown);
  }
}

} // namespace epmpulse::http
