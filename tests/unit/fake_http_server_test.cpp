#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/fakes/fake_http_server.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/wait.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(fake_http_server_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(listens_on_an_ephemeral_loopback_port) {
  fake_http_server fake([](const recorded_request&) { return scripted_response{}; });
  BOOST_TEST(fake.port() != 0);
  BOOST_TEST(fake.base_url() == "http://127.0.0.1:" + std::to_string(fake.port()));
}

BOOST_AUTO_TEST_CASE(answers_with_the_scripted_response) {
  fake_http_server fake([](const recorded_request& r) {
    scripted_response resp;
    resp.status = 429;
    resp.headers["Retry-After"] = "3";
    resp.body = R"({"ok":false,"error":"ratelimited","path":")" + r.path + "\"}";
    return resp;
  });
  auto res = request("GET", fake.base_url() + "/api/thing?x=1");
  BOOST_TEST(res.status == 429);
  BOOST_TEST(res.header("retry-after") == "3");
  BOOST_TEST(res.header("content-type") == "application/json");
  BOOST_TEST(res.json()["path"] == "/api/thing");
}

BOOST_AUTO_TEST_CASE(records_method_target_path_headers_and_body) {
  fake_http_server fake([](const recorded_request&) { return scripted_response{}; });
  auto res = request("POST", fake.base_url() + "/canvases.edit?a=b", R"({"k":1})",
                     {{"Authorization", "Bearer xoxb-test"}, {"Content-Type", "application/json"}});
  BOOST_TEST(res.status == 200);
  auto reqs = fake.requests();
  BOOST_REQUIRE_EQUAL(reqs.size(), 1u);
  BOOST_TEST(reqs[0].method == "POST");
  BOOST_TEST(reqs[0].target == "/canvases.edit?a=b");
  BOOST_TEST(reqs[0].path == "/canvases.edit");
  BOOST_TEST(reqs[0].headers.at("authorization") == "Bearer xoxb-test");
  BOOST_TEST(reqs[0].headers.at("content-type") == "application/json");
  BOOST_TEST(reqs[0].body == R"({"k":1})");
  BOOST_TEST(fake.requests_to("/canvases.edit").size() == 1u);
  BOOST_TEST(fake.requests_to("/other").empty());
}

BOOST_AUTO_TEST_CASE(set_handler_changes_later_answers_and_clear_forgets_requests) {
  fake_http_server fake([](const recorded_request&) { return scripted_response{}; });
  BOOST_TEST(request("GET", fake.base_url() + "/a").status == 200);
  fake.set_handler([](const recorded_request&) {
    return scripted_response{503, {}, R"({"down":true})", "application/json"};
  });
  BOOST_TEST(request("GET", fake.base_url() + "/a").status == 503);
  BOOST_TEST(fake.requests().size() == 2u);
  fake.clear();
  BOOST_TEST(fake.requests().empty());
}

BOOST_AUTO_TEST_CASE(a_throwing_handler_answers_500) {
  fake_http_server fake([](const recorded_request&) -> scripted_response {
    throw std::runtime_error("boom");
  });
  BOOST_TEST(request("GET", fake.base_url() + "/x").status == 500);
}

BOOST_AUTO_TEST_CASE(records_requests_from_many_threads) {
  fake_http_server fake([](const recorded_request&) { return scripted_response{}; });
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i)
        if (request("POST", fake.base_url() + "/t" + std::to_string(t), "x").status == 200)
          ++ok;
    });
  for (auto& th : threads)
    th.join();
  BOOST_TEST(ok.load() == 80);
  BOOST_TEST(fake.requests().size() == 80u);
  BOOST_TEST(fake.requests_to("/t3").size() == 10u);
}

BOOST_AUTO_TEST_CASE(wait_until_sees_a_request_made_from_another_thread) {
  fake_http_server fake([](const recorded_request&) { return scripted_response{}; });
  std::thread client([&] { request("GET", fake.base_url() + "/late"); });
  BOOST_TEST(fake.wait_until([](const auto& reqs) { return reqs.size() == 1; }, 5s));
  client.join();
  BOOST_TEST(!fake.wait_until([](const auto& reqs) { return reqs.size() == 2; }, 50ms));
}

BOOST_AUTO_TEST_CASE(eventually_returns_false_at_the_deadline) {
  int calls = 0;
  BOOST_TEST(!eventually([&] { ++calls; return false; }, 30ms));
  BOOST_TEST(calls >= 2);
  BOOST_TEST(eventually([&] { return ++calls > 5; }, 1s));
}

BOOST_AUTO_TEST_SUITE_END() // fake_http_server_tests
