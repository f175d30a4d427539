#include <boost/test/unit_test.hpp>

// The history over HTTP: GET /api/v1/history (filters, paging, bad
// parameters), GET /api/v1/stats, and the live stream GET /api/v1/events
// (resume with Last-Event-ID across a restart; a stuck client is dropped
// and does not slow pushes).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/raw_socket.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(history_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// The change ids of the `id:` lines of a Server-Sent Events text, in order.
std::vector<std::uint64_t> event_ids(const std::string& text) {
  std::vector<std::uint64_t> ids;
  static const std::regex id_line{"(^|\n)id: ([0-9]+)\n"};
  for (auto it = std::sregex_iterator(text.begin(), text.end(), id_line);
       it != std::sregex_iterator(); ++it)
    ids.push_back(std::stoull((*it)[2].str()));
  return ids;
}

/// Opens GET /api/v1/events with the read key (and Last-Event-ID when given).
raw_socket open_events(service& svc, std::optional<std::uint64_t> last_id = {}) {
  raw_socket s{svc.server().port()};
  std::string req = "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                    + std::string(read_key) + "\r\nAccept: text/event-stream\r\n";
  if (last_id)
    req += "Last-Event-ID: " + std::to_string(*last_id) + "\r\n";
  req += "\r\n";
  BOOST_REQUIRE(s.send(req));
  // The headers and the opening comment come at once.
  BOOST_REQUIRE(s.read_until(
    [](const std::string& text) { return text.find(": keep-alive\n\n") != std::string::npos; },
    5s));
  BOOST_TEST(s.pending().find("text/event-stream") != std::string::npos);
  return s;
}

bool saw_id(raw_socket& s, std::uint64_t id, std::chrono::milliseconds timeout = 10s) {
  // Only what arrived since the last look is searched: a resume may bring
  // megabytes.
  const std::string line = "id: " + std::to_string(id) + "\n";
  std::size_t searched = 0;
  return s.read_until(
    [&](const std::string& text) {
      auto from = searched > line.size() ? searched - line.size() : 0;
      searched = text.size();
      auto at = text.find(line, from);
      return at != std::string::npos && (at == 0 || text[at - 1] == '\n');
    },
    timeout);
}

json push(const service& svc, const std::string& domain, const std::string& status,
          const std::string& job) {
  auto r = svc.writer().post("/api/v1/status",
                             update("Planning", domain, status, {{"job_id", job}}));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  return r.json();
}

json history(const service& svc, const std::string& query) {
  auto r = svc.reader().get("/api/v1/history" + query);
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  return r.json();
}

std::vector<std::uint64_t> ids_of(const json& body) {
  std::vector<std::uint64_t> ids;
  for (const auto& e : body["entries"])
    ids.push_back(std::stoull(e["id"].get<std::string>()));
  return ids;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_applied_change_is_kept_with_the_key_name_never_the_key) {
  service svc;
  push(svc, "Actual", "Loading", "J-1");
  push(svc, "Actual", "Loading", "J-1"); // unchanged: no change, no entry
  push(svc, "Actual", "OK", "J-1");
  auto batch = svc.writer().post(
    "/api/v1/status/batch",
    {{"job_id", "J-2"},
     {"updates", json::array({update("Planning", "Budget", "Loading"),
                              update("FCCS", "Consolidation", "Warning")})}});
  BOOST_REQUIRE_MESSAGE(batch.status == 200, batch.describe());

  auto body = history(svc, "");
  BOOST_TEST(ids_of(body) == (std::vector<std::uint64_t>{4, 3, 2, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(body["next_cursor"].is_null());
  const auto& ok = body["entries"][2];
  BOOST_TEST(ok["app"] == "Planning");
  BOOST_TEST(ok["domain"] == "Actual");
  BOOST_TEST(ok["old_status"] == "Loading");
  BOOST_TEST(ok["status"] == "OK");
  BOOST_TEST(ok["job_id"] == "J-1");
  BOOST_TEST(ok["message"].is_null());
  BOOST_TEST(ok["duration_sec"].is_number_integer());
  BOOST_TEST(ok["source"] == "push");
  BOOST_TEST(ok["key_name"] == "test_write");
  BOOST_TEST(ok["event_time"].is_string());
  BOOST_TEST(ok["received_time"].is_string());
  BOOST_TEST(body.dump().find(write_key) == std::string::npos);

  // Filters.
  BOOST_TEST(ids_of(history(svc, "?app=Planning&domain=Actual")) == (std::vector<std::uint64_t>{2, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(history(svc, "?job_id=J-2")) == (std::vector<std::uint64_t>{4, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(history(svc, "?status=Warning")) == (std::vector<std::uint64_t>{4}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(history(svc, "?since=2999-01-01T00:00:00Z")).empty());
  BOOST_TEST(ids_of(history(svc, "?until=2000-01-01T00:00:00Z")).empty());
  BOOST_TEST(ids_of(history(svc, "?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z")).size()
             == 4u);
}

BOOST_AUTO_TEST_CASE(paging_with_the_cursor_reads_every_change_once) {
  service svc;
  for (int i = 0; i < 25; ++i)
    push(svc, "Actual", i % 2 ? "OK" : "Loading", "J-" + std::to_string(i));
  std::vector<std::uint64_t> seen;
  std::string query = "?limit=10";
  for (int pages = 0; pages < 10; ++pages) {
    auto body = history(svc, query);
    auto ids = ids_of(body);
    seen.insert(seen.end(), ids.begin(), ids.end());
    if (body["next_cursor"].is_null())
      break;
    query = "?limit=10&cursor=" + body["next_cursor"].get<std::string>();
  }
  BOOST_REQUIRE_EQUAL(seen.size(), 25u);
  for (std::size_t i = 0; i < seen.size(); ++i)
    BOOST_TEST(seen[i] == 25 - i);
}

BOOST_AUTO_TEST_CASE(bad_parameters_answer_400_naming_the_parameter) {
  service svc;
  const std::pair<const char*, const char*> cases[] = {
    {"/api/v1/history?cursor=not-ours", "cursor"},
    {"/api/v1/history?cursor=h0", "cursor"},
    {"/api/v1/history?limit=0", "limit"},
    {"/api/v1/history?limit=1001", "limit"},
    {"/api/v1/history?limit=ten", "limit"},
    {"/api/v1/history?status=Done", "status"},
    {"/api/v1/history?since=yesterday", "since"},
    {"/api/v1/history?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", "until"},
    {"/api/v1/history?colour=blue", "colour"},
    {"/api/v1/stats?days=0", "days"},
    {"/api/v1/stats?days=366", "days"},
  };
  for (const auto& [path, parameter] : cases) {
    auto r = svc.reader().get(path);
    BOOST_TEST(r.status == 400, path << ": " << r.describe());
    BOOST_TEST(r.error_code() == "VALIDATION_ERROR", path);
    BOOST_TEST(r.json().value(json::json_pointer("/error/details/parameter"), "") == parameter,
               path);
  }
  auto r = svc.reader().get("/api/v1/events", {{"Last-Event-ID", "12abc"}});
  BOOST_TEST(r.status == 400, r.describe());
  BOOST_TEST(svc.anonymous().get("/api/v1/history").status == 401);
}

BOOST_AUTO_TEST_CASE(stats_count_runs_per_domain) {
  service svc;
  push(svc, "Actual", "Loading", "J-1");
  push(svc, "Actual", "OK", "J-1");
  push(svc, "Actual", "Loading", "J-2");
  push(svc, "Actual", "Warning", "J-2");
  push(svc, "Budget", "Loading", "J-3");
  auto r = svc.reader().get("/api/v1/stats?app=Planning&days=7");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto body = r.json();
  BOOST_TEST(body["days"] == 7);
  BOOST_REQUIRE_EQUAL(body["domains"].size(), 1u); // Budget has no finished run
  const auto& d = body["domains"][0];
  BOOST_TEST(d["domain"] == "Actual");
  BOOST_TEST(d["runs"] == 2);
  BOOST_TEST(d["successes"] == 1);
  BOOST_TEST(d["warnings"] == 1);
  BOOST_TEST(d["median_duration_sec"].is_number());
  BOOST_TEST(d["p95_duration_sec"].is_number());
  BOOST_TEST(d["last_run"].is_string());
  BOOST_REQUIRE_EQUAL(d["trend"].size(), 1u);
  BOOST_TEST(d["trend"][0]["runs"] == 2);
}

BOOST_AUTO_TEST_CASE(a_stream_resumes_after_a_restart_without_losing_a_change) {
  service svc;
  auto live = open_events(svc);
  for (int i = 1; i <= 5; ++i)
    push(svc, "Actual", i % 2 ? "Loading" : "OK", "J-" + std::to_string(i));
  BOOST_REQUIRE(saw_id(live, 5));
  BOOST_TEST(event_ids(live.pending()) == (std::vector<std::uint64_t>{1, 2, 3, 4, 5}),
             boost::test_tools::per_element());
  BOOST_TEST(live.pending().find("\"key_name\":\"test_write\"") != std::string::npos);

  // A crash, then changes while the client is away (its laptop slept).
  svc.server().kill();
  BOOST_TEST(live.wait_closed(5s));
  svc.server().restart();
  for (int i = 6; i <= 9; ++i)
    push(svc, "Budget", i % 2 ? "OK" : "Loading", "J-" + std::to_string(i));

  auto resumed = open_events(svc, 5);
  BOOST_REQUIRE(saw_id(resumed, 9));
  push(svc, "Forecast", "Loading", "J-10");
  BOOST_REQUIRE(saw_id(resumed, 10));
  BOOST_TEST(event_ids(resumed.pending()) == (std::vector<std::uint64_t>{6, 7, 8, 9, 10}),
             boost::test_tools::per_element());

  // From the start: everything, in order, once.
  auto from_start = open_events(svc, 0);
  BOOST_REQUIRE(saw_id(from_start, 10));
  auto all = event_ids(from_start.pending());
  BOOST_TEST(all.size() == 10u);
  BOOST_TEST(std::is_sorted(all.begin(), all.end()));
}

BOOST_AUTO_TEST_CASE(a_stuck_client_is_dropped_and_pushes_keep_being_acknowledged) {
  service_options opts;
  opts.config["settings"]["history"] = {{"stream_buffer_bytes", 256 * 1024}};
  service svc{opts};
  // A client that sends its request and never reads again.
  auto stuck = open_events(svc);
  // Batches of 100 changes: each fans out about 33 KB to every stream, so the
  // stuck stream's buffer overflows within the first few dozen. Every push is
  // still acknowledged: none waits on the client (no timing asserted, the
  // machine is shared).
  int next_job = 0;
  int acknowledged = 0;
  for (int b = 0; b < 400; ++b) {
    json items = json::array();
    for (int i = 0; i < 100; ++i)
      items.push_back(update("Planning", "d" + std::to_string(i),
                             (next_job + i) % 2 ? "OK" : "Loading",
                             {{"job_id", "J-" + std::to_string(next_job)}}));
    ++next_job;
    auto r = svc.writer().post("/api/v1/status/batch", {{"updates", items}});
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    ++acknowledged;
  }
  BOOST_TEST(acknowledged == 400);
  const auto newest = static_cast<std::uint64_t>(next_job) * 100;

  // The server cut the stuck client off: reading now finds the end of the
  // stream long before the newest change.
  BOOST_REQUIRE(stuck.wait_closed(20s));
  auto got = event_ids(stuck.pending());
  BOOST_TEST(got.size() < newest);
  // A client that reconnects resumes from the history where it was cut off.
  auto resumed = open_events(svc, got.empty() ? 0 : got.back());
  BOOST_TEST(saw_id(resumed, newest, 30s));
}

BOOST_AUTO_TEST_SUITE_END() // history_tests
