#include <boost/test/unit_test.hpp>

// Event-time ordering, future-skew clamping, idempotency (no write for a
// repeat) and Loading -> OK durations, each on a fresh server.

#include <sys/stat.h>

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/time_util.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(ordering_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct fresh_service {
  service svc;

  http_result push(const json& body) const { return svc.writer().post("/api/v1/status", body); }

  /// Change-log appends so far (from /metrics).
  long commits() const {
    auto value = svc.metric("epmpulse_state_commits_total");
    BOOST_REQUIRE(value.has_value());
    return static_cast<long>(*value);
  }
};

struct file_identity {
  ino_t inode = 0;
  std::int64_t mtime_ns = 0;
  std::string content;

  bool operator==(const file_identity&) const = default;
};

file_identity identity_of(const std::filesystem::path& p) {
  struct stat st {};
  BOOST_REQUIRE_EQUAL(::stat(p.c_str(), &st), 0);
  return {st.st_ino, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec, read_file(p)};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(ordering, fresh_service)

BOOST_AUTO_TEST_CASE(older_event_is_acknowledged_but_not_applied) {
  const auto t = now_seconds() - 1h;
  check_success(push(update("Planning", "Actual", "OK",
                            {{"job_id", "NEW_1"}, {"timestamp", rfc3339(t)}})));
  auto r = push(update("Planning", "Actual", "Loading",
                       {{"job_id", "OLD_1"}, {"timestamp", rfc3339(t - 10min)}}));
  check_success(r);
  BOOST_TEST(r.json()["updated"]["applied"] == false, r.body);
  auto d = svc.domain("Planning", "Actual");
  BOOST_TEST(d["status"] == "OK");
  BOOST_TEST(d["job_id"] == "NEW_1");
  BOOST_TEST((parse_rfc3339(d.value("updated", "")) == t), d.dump());
  auto file = svc.settled_state_json();
  BOOST_TEST(file["apps"]["Planning"]["domains"]["Actual"]["job_id"] == "NEW_1");
}

BOOST_AUTO_TEST_CASE(newer_event_overwrites_an_older_one) {
  const auto t = now_seconds() - 1h;
  check_success(push(update("Planning", "Actual", "Loading", {{"job_id", "J1"}, {"timestamp", rfc3339(t)}})));
  auto r = push(update("Planning", "Actual", "OK", {{"job_id", "J1"}, {"timestamp", rfc3339(t + 1s)}}));
  check_success(r);
  BOOST_TEST(r.json()["updated"]["applied"] == true, r.body);
  BOOST_TEST(svc.domain("Planning", "Actual")["status"] == "OK");
}

BOOST_AUTO_TEST_CASE(event_an_hour_ahead_is_clamped_and_does_not_freeze_the_domain) {
  const auto before = std::chrono::system_clock::now();
  auto r = push(update("Planning", "Budget", "Loading",
                       {{"job_id", "SKEW_1"}, {"timestamp", rfc3339(now_seconds() + 1h)}}));
  check_success(r);
  auto d = svc.domain("Planning", "Budget");
  BOOST_TEST(d["status"] == "Loading");
  auto stored = parse_rfc3339(d.value("updated", ""));
  BOOST_REQUIRE(stored.has_value());
  // Clamped to the receive time, not kept an hour ahead.
  BOOST_TEST((*stored < before + 5min), d.dump());
  BOOST_TEST((*stored >= before - 5s), d.dump());

  // A later update stamped with the (correct) current time still applies.
  auto next = push(update("Planning", "Budget", "OK",
                          {{"job_id", "SKEW_1"}, {"timestamp", rfc3339(std::chrono::system_clock::now() + 1s)}}));
  check_success(next);
  BOOST_TEST(next.json()["updated"]["applied"] == true, next.body);
  BOOST_TEST(svc.domain("Planning", "Budget")["status"] == "OK");
}

BOOST_AUTO_TEST_CASE(event_slightly_ahead_within_the_skew_is_kept) {
  const auto ahead = now_seconds() + 2min;
  check_success(push(update("Planning", "Forecast", "OK", {{"timestamp", rfc3339(ahead)}})));
  auto d = svc.domain("Planning", "Forecast");
  BOOST_TEST((parse_rfc3339(d.value("updated", "")) == ahead), d.dump());
}

BOOST_AUTO_TEST_CASE(identical_update_is_not_applied_and_not_written) {
  auto body = update("Planning", "Actual", "Warning",
                     {{"job_id", "IDEM_1"}, {"message", "Timeout on batch 3"}});
  auto first = push(body);
  check_success(first);
  BOOST_TEST(first.json()["updated"]["applied"] == true);
  svc.settled_state_json(); // the first push's snapshot is written
  const auto before = identity_of(svc.state_file());
  const auto appends = commits();

  auto second = push(body);
  check_success(second);
  BOOST_TEST(second.json()["updated"]["applied"] == false, second.body);
  BOOST_TEST(commits() == appends, "a no-op update was appended to the change log");
  // A snapshot would replace the file (new inode via rename) or touch it.
  BOOST_TEST(svc.settled_state_json().is_object());
  const auto after = identity_of(svc.state_file());
  BOOST_TEST(after.inode == before.inode, "the state file was rewritten");
  BOOST_TEST(after.mtime_ns == before.mtime_ns, "the state file was touched");
  BOOST_TEST(after.content == before.content);
}

BOOST_AUTO_TEST_CASE(identical_batch_is_not_written_either) {
  json b = {{"updates", {update("Planning", "Actual", "OK"), update("FCCS", "Consolidation", "OK")}},
            {"job_id", "IDEM_B"}};
  check_success(svc.writer().post("/api/v1/status/batch", b));
  svc.settled_state_json();
  const auto before = identity_of(svc.state_file());
  const auto appends = commits();
  check_success(svc.writer().post("/api/v1/status/batch", b));
  BOOST_TEST(commits() == appends, "a no-op batch was appended to the change log");
  BOOST_TEST(svc.settled_state_json().is_object());
  BOOST_TEST((identity_of(svc.state_file()) == before), "a no-op batch rewrote the state file");
}

BOOST_AUTO_TEST_CASE(a_different_message_is_a_change) {
  check_success(push(update("Planning", "Actual", "Warning", {{"job_id", "M1"}, {"message", "a"}})));
  auto r = push(update("Planning", "Actual", "Warning", {{"job_id", "M1"}, {"message", "b"}}));
  check_success(r);
  BOOST_TEST(r.json()["updated"]["applied"] == true, r.body);
  BOOST_TEST(svc.domain("Planning", "Actual")["message"] == "b");
}

BOOST_AUTO_TEST_CASE(loading_then_ok_with_the_same_job_sets_duration) {
  const auto start = now_seconds() - 30min;
  check_success(push(update("Planning", "Actual", "Loading",
                            {{"job_id", "DUR_1"}, {"timestamp", rfc3339(start)}})));
  BOOST_TEST(svc.domain("Planning", "Actual")["duration_sec"].is_null());
  auto r = push(update("Planning", "Actual", "OK",
                       {{"job_id", "DUR_1"}, {"timestamp", rfc3339(start + 145s)}}));
  check_success(r);
  auto d = svc.domain("Planning", "Actual");
  BOOST_TEST(d["status"] == "OK");
  BOOST_TEST(d["duration_sec"] == 145, d.dump());
  auto file = svc.settled_state_json();
  BOOST_TEST(file["apps"]["Planning"]["domains"]["Actual"]["duration_sec"] == 145);
}

BOOST_AUTO_TEST_CASE(loading_then_warning_with_the_same_job_sets_duration) {
  const auto start = now_seconds() - 30min;
  check_success(push(update("FCCS", "Consolidation", "Loading",
                            {{"job_id", "DUR_W"}, {"timestamp", rfc3339(start)}})));
  check_success(push(update("FCCS", "Consolidation", "Warning",
                            {{"job_id", "DUR_W"}, {"timestamp", rfc3339(start + 892s)}})));
  BOOST_TEST(svc.domain("FCCS", "Consolidation")["duration_sec"] == 892);
}

BOOST_AUTO_TEST_CASE(ok_under_a_different_job_has_no_duration) {
  const auto start = now_seconds() - 30min;
  check_success(push(update("Planning", "Budget", "Loading",
                            {{"job_id", "DUR_A"}, {"timestamp", rfc3339(start)}})));
  check_success(push(update("Planning", "Budget", "OK",
                            {{"job_id", "DUR_B"}, {"timestamp", rfc3339(start + 60s)}})));
  auto d = svc.domain("Planning", "Budget");
  BOOST_TEST(d["status"] == "OK");
  BOOST_TEST(d["duration_sec"].is_null(), d.dump());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // ordering_tests
