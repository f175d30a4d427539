// baseline_server: the ceiling the benchmark measures EPMPulse against.
//
// A bare RESTinio server with the same traits (default_traits_t: a strand per
// connection) and the same io-thread setting as the service, answering every
// request with a fixed 200 JSON body. It reads the request like the service
// does (RESTinio parses headers and body) but does no work: whatever the real
// server achieves below this rate is the cost of EPMPulse itself.
//
//   baseline_server [--host 127.0.0.1] [--port 0] [--io-threads 1] [--actor-hop]
//                   [--body-bytes N]
//
// --actor-hop: the handler sends the request to a CAF actor (one scheduler
// thread, as the service's default) and the actor answers it: the first step
// of the service's path without its parsing, state or disk, i.e. the cost of
// the architecture itself on this machine.
//
// --body-bytes N: the answer is a JSON body of N bytes, sent from one shared
// buffer as the service sends its cached GET body: the ceiling for reading a
// large state (what moving N bytes a request costs here, before any work).
//
// The bound port is printed on stdout (one line: the number) once the
// acceptor is bound; SIGINT/SIGTERM stop it.

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <restinio/all.hpp>

// The baseline hands the request itself to its actor (in-process, never
// serialised): the cheapest actor hop a server can make.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(restinio::request_handle_t)

namespace {

constexpr const char* fixed_body =
  R"({"success":true,"updated":{"app":"Planning","domain":"Actual","status":"OK",)"
  R"("job_id":"BASELINE","message":null,"updated_at":"2026-02-16T14:30:00Z",)"
  R"("duration_sec":null,"applied":true},"canvas_updated":false})";

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t io_threads = 1;
  bool actor_hop = false;
  std::size_t body_bytes = 0; ///< 0: the small fixed body
};

// The large body of --body-bytes, built once before the server starts.
std::shared_ptr<const std::string> large_body;

[[noreturn]] void usage(const char* why) {
  std::cerr << "baseline_server: " << why
            << "\nusage: baseline_server [--host 127.0.0.1] [--port 0] [--io-threads 1]"
               " [--actor-hop] [--body-bytes N]\n";
  std::exit(2);
}

options parse_options(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(("missing value for " + arg).c_str());
      return argv[++i];
    };
    if (arg == "--host")
      opt.host = value();
    else if (arg == "--port")
      opt.port = static_cast<std::uint16_t>(std::stoi(value()));
    else if (arg == "--io-threads")
      opt.io_threads = static_cast<std::size_t>(std::max(1, std::stoi(value())));
    else if (arg == "--actor-hop")
      opt.actor_hop = true;
    else if (arg == "--body-bytes")
      opt.body_bytes = static_cast<std::size_t>(std::stoul(value()));
    else
      usage(("unknown option " + arg).c_str());
  }
  // A load-generating tool listens on loopback only.
  if (opt.host != "127.0.0.1" && opt.host != "localhost")
    usage("only 127.0.0.1 is allowed");
  return opt;
}

restinio::request_handling_status_t answer(const restinio::request_handle_t& req) {
  auto response = req->create_response();
  response.append_header(restinio::http_field::content_type, "application/json");
  if (large_body)
    response.set_body(large_body);
  else
    response.set_body(fixed_body);
  return response.done();
}

caf::behavior answering_actor(caf::event_based_actor*) {
  return {[](const restinio::request_handle_t& req) { answer(req); }};
}

} // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto opt = parse_options(argc, argv);
  if (opt.body_bytes > 0) {
    const std::string open = R"({"pad":")", close = R"("})";
    auto pad = opt.body_bytes > open.size() + close.size() ? opt.body_bytes - open.size() - close.size() : 0;
    large_body = std::make_shared<const std::string>(open + std::string(pad, 'x') + close);
  }
  // Only the hop mode has an actor system: the bare baseline runs no other threads.
  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", std::size_t{1});
  sys_cfg.set("logger.console", caf::atom("none"));
  sys_cfg.set("work-stealing.moderate-poll-attempts", std::size_t{0}); // as the service (main.cpp)
  std::optional<caf::actor_system> sys;
  caf::actor responder;
  if (opt.actor_hop)
    responder = sys.emplace(sys_cfg).spawn(answering_actor);

  restinio::server_settings_t<restinio::default_traits_t> settings;
  settings.address(opt.host)
      .port(opt.port)
      .acceptor_post_bind_hook([](asio::ip::tcp::acceptor& acceptor) {
        std::cout << acceptor.local_endpoint().port() << std::endl;
      })
      .request_handler([responder](restinio::request_handle_t req) {
        if (!responder)
          return answer(req);
        caf::anon_send(responder, std::move(req));
        return restinio::request_accepted();
      });
  try {
    auto server = restinio::run_async(restinio::own_io_context(), std::move(settings),
                                      opt.io_threads);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server->stop();
    server->wait();
    if (responder)
      caf::anon_send_exit(responder, caf::exit_reason::user_shutdown);
  } catch (const std::exception& e) {
    std::cerr << "baseline_server: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
