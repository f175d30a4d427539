#include <boost/test/unit_test.hpp>

// Many clients at once: 50 threads x 20 updates, none lost, each answered
// only once durable (the state file read right after the last 200 holds it).

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(concurrency_tests)

using namespace epmpulse::test;
using nlohmann::json;

namespace {

constexpr int threads_n = 50;
constexpr int per_thread = 20;

struct fresh_service {
  service svc;
};

const char* status_for(int i) {
  static const char* const names[] = {"Loading", "OK", "Warning", "Blank"};
  return names[i % 4];
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(concurrency, fresh_service)

BOOST_AUTO_TEST_CASE(fifty_threads_times_twenty_updates_to_distinct_domains_lose_nothing) {
  std::atomic<int> acknowledged{0};
  std::mutex failures_mtx;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  const auto client = svc.writer();
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      const std::string app = t % 2 == 0 ? "Planning" : "FCCS";
      for (int i = 0; i < per_thread; ++i) {
        auto r = client.post("/api/v1/status",
                             update(app, "T" + std::to_string(t) + "-U" + std::to_string(i),
                                    status_for(i), {{"job_id", "J" + std::to_string(t * 100 + i)}}));
        if (r.status == 200 && r.json()["updated"]["applied"] == true) {
          ++acknowledged;
        } else {
          std::lock_guard<std::mutex> g(failures_mtx);
          failures.push_back(r.describe());
        }
      }
    });
  }
  for (auto& th : threads)
    th.join();
  BOOST_TEST(failures.empty(), failures.size() << " failed, first: "
                                                << (failures.empty() ? "" : failures.front()));
  BOOST_TEST(acknowledged.load() == threads_n * per_thread);

  // A 200 means in the change log on disk: crash at once (no flush, no
  // snapshot) and every acknowledged update must come back from the log.
  svc.server().kill();
  svc.server().restart();
  auto s = svc.status();
  auto file = svc.settled_state_json();
  BOOST_REQUIRE(file.is_object());
  int in_file = 0, in_get = 0;
  for (int t = 0; t < threads_n; ++t) {
    const std::string app = t % 2 == 0 ? "Planning" : "FCCS";
    for (int i = 0; i < per_thread; ++i) {
      const std::string dom = "T" + std::to_string(t) + "-U" + std::to_string(i);
      const std::string job = "J" + std::to_string(t * 100 + i);
      auto g = s["apps"][app][dom];
      if (g.is_object() && g["status"] == status_for(i) && g["job_id"] == job)
        ++in_get;
      auto f = file["apps"][app]["domains"][dom];
      if (f.is_object() && f["status"] == status_for(i) && f["job_id"] == job)
        ++in_file;
    }
  }
  BOOST_TEST(in_get == threads_n * per_thread);
  BOOST_TEST(in_file == threads_n * per_thread);
}

BOOST_AUTO_TEST_CASE(each_domain_keeps_its_last_acknowledged_update) {
  // Every thread pushes 20 successive updates to its own domain; the last
  // acknowledged one must be what GET and the file show.
  std::vector<std::string> last_ack(threads_n);
  std::vector<std::thread> threads;
  const auto client = svc.writer();
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::string job = "OWN-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = client.post("/api/v1/status", update("Planning", "Own" + std::to_string(t),
                                                      status_for(i), {{"job_id", job}}));
        if (r.status == 200 && r.json()["updated"]["applied"] == true)
          last_ack[t] = job;
      }
    });
  }
  for (auto& th : threads)
    th.join();
  auto file = svc.settled_state_json();
  auto s = svc.status();
  for (int t = 0; t < threads_n; ++t) {
    BOOST_TEST_CONTEXT("thread " << t) {
      const std::string dom = "Own" + std::to_string(t);
      BOOST_TEST(last_ack[t] == "OWN-" + std::to_string(t) + "-19");
      BOOST_TEST(s["apps"]["Planning"][dom]["job_id"] == last_ack[t]);
      BOOST_TEST(file["apps"]["Planning"]["domains"][dom]["job_id"] == last_ack[t]);
    }
  }
}

BOOST_AUTO_TEST_CASE(concurrent_batches_and_reads_stay_consistent) {
  std::atomic<int> ok{0}, reads_ok{0};
  std::vector<std::thread> threads;
  const auto writer = svc.writer();
  const auto reader = svc.reader();
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        json items = json::array();
        for (int k = 0; k < 10; ++k)
          items.push_back(update("FCCS", "B" + std::to_string(t) + "-" + std::to_string(i * 10 + k), "OK"));
        if (writer.post("/api/v1/status/batch", {{"updates", items}, {"job_id", "CB"}}).status == 200)
          ++ok;
      }
    });
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto r = reader.get("/api/v1/status");
        if (r.status == 200 && r.json()["apps"].is_object())
          ++reads_ok;
      }
    });
  }
  for (auto& th : threads)
    th.join();
  BOOST_TEST(ok.load() == 100);
  BOOST_TEST(reads_ok.load() == 100);
  auto fccs = svc.reader().get("/api/v1/status/FCCS").json();
  // 1000 batch domains plus the configured Consolidation.
  BOOST_TEST(fccs["domains"].size() == 1001u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // concurrency_tests
