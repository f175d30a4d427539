#include "http/server.hpp"

#include <algorithm>
#include <optional>
#include <random>
#include <thread>

#include <sys/resource.h>

#include <fmt/format.h>
#include <restinio/all.hpp>

#include "actors/common/log.hpp"
#include "http/edge.hpp"
#include "http/routes.hpp"

namespace epmpulse::http {

// Counts the connections open, for /metrics (RESTinio's limiter keeps its
// count to itself). Called on accept and close, not per request.
class open_connections_listener {
public:
  explicit open_connections_listener(std::shared_ptr<server_counters> counters)
    : counters_(std::move(counters)) {}

  void state_changed(const restinio::connection_state::notice_t& notice) noexcept {
    const auto& cause = notice.cause();
    if (restinio::get_if<restinio::connection_state::accepted_t>(&cause))
      counters_->open_connections.fetch_add(1, std::memory_order_relaxed);
    else if (restinio::get_if<restinio::connection_state::closed_t>(&cause))
      counters_->open_connections.fetch_sub(1, std::memory_order_relaxed);
  }

private:
  std::shared_ptr<server_counters> counters_;
};

// A connection over the cap is not accepted until one closes: it waits in
// the kernel's listen backlog while the connections held are served.
struct server_traits : restinio::default_traits_t {
  static constexpr bool use_connection_count_limiter = true;
  using connection_state_listener_t = open_connections_listener;
};

using running_server = restinio::running_server_handle_t<server_traits>;

namespace {

// RESTinio answers only whole requests, and a body over its limit fails the
// parse, which closes the connection without a word. So a body up to this
// many times the limit is still read, to answer it 413 naming the limit
// (what a client that built too large a batch needs to hear); a bigger one
// is dropped as soon as the headers declare it (or, chunked, once it grows
// past it).
constexpr std::uint64_t oversize_body_read_factor = 4;

// Far more than any client of this API sends; the parser's 80 KiB limit on
// the header block stays the bound on their size.
constexpr std::size_t max_header_fields = 100;

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

std::string describe_limit(rlim_t value) {
  return value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value);
}

// Applies fit_connections to this process; nullopt with `error` set when too
// few connections fit to be worth starting.
std::optional<std::size_t> apply_connection_cap(int configured, std::string& error) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    error = "cannot read the open-file limit (RLIMIT_NOFILE)";
    return std::nullopt;
  }
  auto cap = fit_connections(configured, limit);
  if (cap.soft_limit != limit.rlim_cur) {
    rlimit raised{cap.soft_limit, limit.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      log::info("raised the open-file limit", {{"from", describe_limit(limit.rlim_cur)},
                                               {"to", describe_limit(cap.soft_limit)}});
    } else {
      // Not allowed to raise it after all: fit into the soft limit.
      cap = fit_connections(configured, rlimit{limit.rlim_cur, limit.rlim_cur});
    }
  }
  if (cap.connections == 0) {
    error = cap.problem;
    return std::nullopt;
  }
  if (!cap.problem.empty())
    log::warn("connection cap lowered", {{"field", "settings.server.max_connections"},
                                         {"configured", configured},
                                         {"serving", cap.connections},
                                         {"problem", cap.problem}});
  return cap.connections;
}

} // namespace

connection_cap fit_connections(int configured, const rlimit& limit) {
  const auto wanted = static_cast<rlim_t>(std::max(configured, 1));
  const rlim_t needed = wanted + files_besides_connections;
  connection_cap cap;
  cap.soft_limit = limit.rlim_cur;
  if (limit.rlim_cur != RLIM_INFINITY && needed > limit.rlim_cur)
    cap.soft_limit = limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
  if (cap.soft_limit == RLIM_INFINITY || needed <= cap.soft_limit) {
    cap.connections = static_cast<std::size_t>(wanted);
    return cap;
  }
  const rlim_t fits =
    cap.soft_limit > files_besides_connections ? cap.soft_limit - files_besides_connections : 0;
  cap.problem = fmt::format(
    "settings.server.max_connections is {} but the open-file limit ({}) leaves room for {} "
    "connections besides the {} files the service keeps open; lower "
    "settings.server.max_connections to {} or raise the limit (LimitNOFILE= in the systemd "
    "unit, ulimit -n in a shell)",
    configured, cap.soft_limit, fits, files_besides_connections, fits);
  if (fits >= min_connections_to_start)
    cap.connections = static_cast<std::size_t>(fits);
  return cap;
}

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
  if (raw->routes.size() > max_routes) {
    error = fmt::format("the route table has {} routes, more than max_routes ({})",
                        raw->routes.size(), max_routes);
    return nullptr;
  }
  if (raw->services.counters->route_labels.empty())
    for (const auto& r : raw->routes)
      raw->services.counters->route_labels.emplace_back(r.method.c_str(), route_template(r));
  const auto& server_cfg = raw->services.config->settings.server;
  auto max_connections = apply_connection_cap(server_cfg.max_connections, error);
  if (!max_connections)
    return nullptr;
  auto timeout = std::chrono::milliseconds(
    static_cast<std::int64_t>(server_cfg.request_timeout_sec * 1000));
  // Actors answer a little before RESTinio gives up on the request, so an
  // actor that is late still gets the client a 503 rather than a closed
  // connection.
  raw->services.edge.actor = spawn_edge(
    *raw->services.system,
    std::max(timeout - std::chrono::milliseconds{500}, std::chrono::milliseconds{500}));
  const auto read_timeout = std::chrono::milliseconds(
    static_cast<std::int64_t>(server_cfg.read_timeout_sec * 1000));
  restinio::server_settings_t<server_traits> settings;
  settings.address(host)
      .port(port)
      .handle_request_timeout(timeout)
      .read_next_http_message_timelimit(read_timeout)
      .max_parallel_connections(*max_connections)
      .connection_state_listener(
        std::make_shared<open_connections_listener>(raw->services.counters))
      .incoming_http_msg_limits(
        restinio::incoming_http_msg_limits_t{}
          .max_body_size(static_cast<std::uint64_t>(server_cfg.max_body_bytes)
                         * oversize_body_read_factor)
          .max_field_count(max_header_fields))
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
