#include <boost/test/unit_test.hpp>

// The outbound HTTP client actor against real loopback servers: the fake
// HTTP server for answers, and a raw socket that accepts connections but never
// answers for timeouts and concurrency.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/common/http_client.hpp"
#include "tests/fakes/fake_http_server.hpp"
#include "tests/support/wait.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(http_client_tests)

using namespace epmpulse;
using namespace epmpulse::test;
using namespace std::chrono_literals;

namespace {

/// A loopback server that accepts connections and never answers: requests
/// hang until their timeout or until the test closes the connections. It
/// counts connections, which shows how many transfers run at once without
/// relying on wall-clock timing.
class silent_server {
public:
  silent_server() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 64);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) > 0) {
          int c = ::accept(fd_, nullptr, nullptr);
          if (c >= 0) {
            std::lock_guard<std::mutex> guard(mtx_);
            open_.push_back(c);
            ++accepted_;
          }
        }
      }
    });
  }
  ~silent_server() {
    stop_ = true;
    acceptor_.join();
    close_all();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  int accepted() const {
    std::lock_guard<std::mutex> guard(mtx_);
    return accepted_;
  }
  /// Closes every open connection: their requests fail at once.
  void close_all() {
    std::lock_guard<std::mutex> guard(mtx_);
    for (int c : open_)
      ::close(c);
    open_.clear();
  }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mtx_;
  std::vector<int> open_;
  int accepted_ = 0;
  std::thread acceptor_;
};

/// A loopback port with nothing listening (bound, then closed).
std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};

  http_response fetch(const http_client_actor& client, http_request req) {
    caf::scoped_actor self{sys};
    http_response out;
    bool answered = false;
    self->request(client, 30s, fetch_atom_v, std::move(req))
      .receive([&](http_response& res) { out = std::move(res); answered = true; },
               [&](caf::error& err) { out.transport_error = sys.render(err); });
    BOOST_REQUIRE(answered);
    return out;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(http_client_suite, fixture)

BOOST_AUTO_TEST_CASE(get_returns_status_body_and_lower_cased_headers) {
  fake_http_server fake([](const recorded_request&) {
    scripted_response r;
    r.status = 429;
    r.headers["Retry-After"] = "7";
    r.headers["X-Slack-Req-Id"] = "abc";
    r.body = R"({"ok":false,"error":"ratelimited"})";
    return r;
  });
  auto client = spawn_http_client(sys, 2);
  http_request req;
  req.url = fake.base_url() + "/canvases.edit?x=1";
  auto res = fetch(client, req);
  BOOST_TEST(res.status == 429);
  BOOST_TEST(!res.ok());
  BOOST_TEST(res.headers["retry-after"] == "7");
  BOOST_TEST(res.headers["x-slack-req-id"] == "abc");
  BOOST_TEST(res.headers["content-type"] == "application/json");
  BOOST_TEST(res.body == R"({"ok":false,"error":"ratelimited"})");
  BOOST_TEST(res.transport_error.empty());
  BOOST_TEST(res.elapsed_sec >= 0.0);
  auto reqs = fake.requests();
  BOOST_REQUIRE_EQUAL(reqs.size(), 1u);
  BOOST_TEST(reqs[0].method == "GET");
  BOOST_TEST(reqs[0].target == "/canvases.edit?x=1");
}

BOOST_AUTO_TEST_CASE(post_sends_method_headers_and_body) {
  fake_http_server fake([](const recorded_request& r) {
    scripted_response s;
    s.body = R"({"ok":true,"echo":)" + std::to_string(r.body.size()) + "}";
    return s;
  });
  auto client = spawn_http_client(sys, 2);
  http_request req;
  req.method = "POST";
  req.url = fake.base_url() + "/canvases.edit";
  req.headers = {{"Authorization", "Bearer xoxb-secret"},
                 {"Content-Type", "application/json; charset=utf-8"}};
  req.body = R"({"canvas_id":"F1","changes":[]})";
  auto res = fetch(client, req);
  BOOST_TEST(res.ok());
  BOOST_TEST(res.body == R"({"ok":true,"echo":)" + std::to_string(req.body.size()) + "}");
  auto reqs = fake.requests_to("/canvases.edit");
  BOOST_REQUIRE_EQUAL(reqs.size(), 1u);
  BOOST_TEST(reqs[0].method == "POST");
  BOOST_TEST(reqs[0].headers["authorization"] == "Bearer xoxb-secret");
  BOOST_TEST(reqs[0].headers["content-type"] == "application/json; charset=utf-8");
  BOOST_TEST(reqs[0].headers.count("expect") == 0u);
  BOOST_TEST(reqs[0].body == req.body);

  // PUT and DELETE go out with their own verbs.
  req.method = "PUT";
  BOOST_TEST(fetch(client, req).ok());
  req.method = "DELETE";
  req.body.clear();
  BOOST_TEST(fetch(client, req).ok());
  reqs = fake.requests_to("/canvases.edit");
  BOOST_REQUIRE_EQUAL(reqs.size(), 3u);
  BOOST_TEST(reqs[1].method == "PUT");
  BOOST_TEST(reqs[1].body == R"({"canvas_id":"F1","changes":[]})");
  BOOST_TEST(reqs[2].method == "DELETE");
}

BOOST_AUTO_TEST_CASE(refused_connection_is_a_response_with_status_zero) {
  auto client = spawn_http_client(sys, 1);
  http_request req;
  req.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x";
  req.connect_timeout_sec = 2;
  auto res = fetch(client, req);
  BOOST_TEST(res.status == 0);
  BOOST_TEST(!res.ok());
  BOOST_TEST(!res.transport_error.empty());
}

BOOST_AUTO_TEST_CASE(total_timeout_is_honoured) {
  silent_server silent;
  auto client = spawn_http_client(sys, 1);
  http_request req;
  req.url = silent.url();
  req.timeout_sec = 0.3;
  auto started = std::chrono::steady_clock::now();
  auto res = fetch(client, req);
  auto elapsed = std::chrono::steady_clock::now() - started;
  BOOST_TEST(res.status == 0);
  BOOST_TEST(!res.transport_error.empty());
  BOOST_TEST(res.elapsed_sec >= 0.25);
  BOOST_TEST(elapsed < 5s);
}

BOOST_AUTO_TEST_CASE(requests_run_concurrently_up_to_the_limit_and_queue_beyond) {
  http_request req;
  req.timeout_sec = 20; // the test ends the transfers by closing, not by timing out

  // Four workers: four connections are open at the same time.
  {
    silent_server silent;
    req.url = silent.url();
    auto wide = spawn_http_client(sys, 4);
    caf::scoped_actor self{sys};
    for (int i = 0; i < 4; ++i)
      self->send(wide, fetch_atom_v, req);
    BOOST_TEST(eventually([&] { return silent.accepted() == 4; }, 10s));
    silent.close_all();
    for (int i = 0; i < 4; ++i)
      self->receive([&](http_response& res) { BOOST_TEST(res.status == 0); },
                    caf::after(20s) >> [&] { BOOST_FAIL("no answer from the http client"); });
  }

  // Two workers, four requests: two connections, and the other two only
  // after those ended.
  {
    silent_server silent;
    req.url = silent.url();
    auto narrow = spawn_http_client(sys, 2);
    caf::scoped_actor self{sys};
    for (int i = 0; i < 4; ++i)
      self->send(narrow, fetch_atom_v, req);
    BOOST_TEST(eventually([&] { return silent.accepted() == 2; }, 10s));
    // Negative check, bounded: no third connection while both workers hang.
    BOOST_TEST(!eventually([&] { return silent.accepted() > 2; }, 300ms));
    silent.close_all();
    BOOST_TEST(eventually([&] { return silent.accepted() == 4; }, 10s));
    silent.close_all();
    for (int i = 0; i < 4; ++i)
      self->receive([&](http_response& res) { BOOST_TEST(res.status == 0); },
                    caf::after(20s) >> [&] { BOOST_FAIL("no answer from the http client"); });
  }
}

BOOST_AUTO_TEST_CASE(a_worker_is_reused_after_a_failure) {
  fake_http_server fake([](const recorded_request&) { return scripted_response{}; });
  auto client = spawn_http_client(sys, 1);
  http_request bad;
  bad.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x";
  BOOST_TEST(fetch(client, bad).status == 0);
  http_request good;
  good.url = fake.base_url() + "/ok";
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(fetch(client, good).status == 200);
  BOOST_TEST(fake.requests_to("/ok").size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // http_client_tests
