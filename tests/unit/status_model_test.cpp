#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "actors/state/status_model.hpp"
#include "config/config.hpp"
#include "tests/support/printing.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(status_model_tests)

using namespace epmpulse;
using namespace std::chrono_literals;

namespace {

time_point at(const char* text) {
  auto t = parse_time(text);
  BOOST_REQUIRE(t);
  return *t;
}

status_update update(std::string domain, job_status s, std::optional<std::string> job = {},
                     std::optional<time_point> when = {}, std::optional<std::string> msg = {}) {
  status_update u;
  u.app = "Planning";
  u.domain = std::move(domain);
  u.status = s;
  u.job_id = std::move(job);
  u.event_time = when;
  u.message = std::move(msg);
  return u;
}

merge_outcome merge(status_snapshot& snap, const status_update& u,
                    time_point now = parse_time("2026-02-16T15:00:00Z").value()) {
  return merge_update(snap, u, now, std::chrono::minutes(5), 50);
}

config::service_config two_app_config() {
  config::service_config cfg;
  config::app_config planning;
  planning.name = "Planning";
  planning.display_name = "Planning";
  planning.domains = {"Actual", "Budget"};
  cfg.apps.push_back(planning);
  config::app_config fccs;
  fccs.name = "FCCS";
  fccs.domains = {"Consolidation"};
  cfg.apps.push_back(fccs);
  return cfg;
}

} // namespace

BOOST_AUTO_TEST_CASE(rfc3339_times_parse_with_zulu_offsets_and_fractions) {
  BOOST_TEST(format_time(at("2026-02-16T14:30:00Z")) == "2026-02-16T14:30:00Z");
  BOOST_TEST(format_time(at("2026-02-16T16:30:00+02:00")) == "2026-02-16T14:30:00Z");
  BOOST_TEST(format_time(at("2026-02-16T14:30:00.250Z")) == "2026-02-16T14:30:00.250Z");
  // Calendar edges and zero padding of the hand-assembled format.
  BOOST_TEST(format_time(at("2028-02-29T23:59:59.005Z")) == "2028-02-29T23:59:59.005Z");
  BOOST_TEST(format_time(at("2026-12-31T23:59:59+00:00")) == "2026-12-31T23:59:59Z");
  BOOST_TEST(format_time(at("2027-01-01T00:00:00-01:00")) == "2027-01-01T01:00:00Z");
  BOOST_TEST(format_time(at("1970-01-01T00:00:00Z")) == "1970-01-01T00:00:00Z");
  BOOST_TEST(format_time(at("1969-12-31T23:59:59.999Z")) == "1969-12-31T23:59:59.999Z");
  BOOST_TEST(!parse_time("2026-02-16 14:30"));
  BOOST_TEST(!parse_time("yesterday"));
  BOOST_TEST(!parse_time("2026-02-30T14:30:00Z"));
  BOOST_TEST(!parse_time("2026-02-16T14:30:00Zjunk"));
}

BOOST_AUTO_TEST_CASE(times_from_python_java_and_groovy_clients_parse) {
  // Python's isoformat() writes microseconds; fractions are cut to milliseconds.
  BOOST_TEST(format_time(at("2026-02-16T14:30:00.123456+00:00")) == "2026-02-16T14:30:00.123Z");
  BOOST_TEST(format_time(at("2026-02-16T14:30:00.999999999Z")) == "2026-02-16T14:30:00.999Z");
  BOOST_TEST(format_time(at("2026-02-16T14:30:00.5Z")) == "2026-02-16T14:30:00.500Z");
  BOOST_TEST(format_time(at("2026-02-16t14:30:00z")) == "2026-02-16T14:30:00Z");
  BOOST_TEST(format_time(at("2026-02-16 14:30:00Z")) == "2026-02-16T14:30:00Z");
  BOOST_TEST(format_time(at("2026-02-16T20:00:00+05:30")) == "2026-02-16T14:30:00Z");
  BOOST_TEST(format_time(at("2026-02-16T23:30:00-09:00")) == "2026-02-17T08:30:00Z");
  BOOST_TEST(format_time(at("2024-02-29T00:00:00.001Z")) == "2024-02-29T00:00:00.001Z");
}

BOOST_AUTO_TEST_CASE(malformed_times_are_refused_whole) {
  for (const char* text : {"2026-02-16T24:00:00Z", "2026-02-16T14:60:00Z", "2026-02-16T14:30:60Z",
                           "2026-13-01T14:30:00Z", "2026-00-10T14:30:00Z", "2025-02-29T14:30:00Z",
                           "2026-02-16T14:30:00.Z", "2026-02-16T14:30:00+0200",
                           "2026-02-16T14:30:00+24:00", "2026-02-16T14:30:00+02:00junk",
                           "2026-02-16T14:30:00", "2026-02-16X14:30:00Z", "2026/02/16T14:30:00Z",
                           "-026-02-16T14:30:00Z", "2026-02-16T+4:30:00Z", "2026-02-16T14:30:00 Z",
                           "2026-02-16T14:30:00.12a4Z"})
    BOOST_TEST(!parse_time(text).has_value(), text);
}

BOOST_AUTO_TEST_CASE(times_whose_utc_leaves_years_0000_to_9999_are_refused) {
  // format_time writes only four-digit years back as RFC 3339: a time an offset
  // moves out of them would be acknowledged, then be unreadable in the change
  // log on replay.
  BOOST_TEST(!parse_time("0000-01-01T00:30:00+01:00").has_value());
  BOOST_TEST(!parse_time("9999-12-31T23:30:00-01:00").has_value());
  BOOST_TEST(format_time(at("0000-01-01T00:30:00+00:30")) == "0000-01-01T00:00:00Z");
  BOOST_TEST(format_time(at("9999-12-31T23:59:59.999Z")) == "9999-12-31T23:59:59.999Z");
  BOOST_TEST(format_time(at("9999-12-31T22:59:59-01:00")) == "9999-12-31T23:59:59Z");
  for (const char* text : {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"})
    BOOST_TEST(format_time(at(text)) == text);
}

BOOST_AUTO_TEST_CASE(status_names_are_exact) {
  BOOST_TEST(parse_status("OK").has_value());
  BOOST_TEST(!parse_status("ok").has_value());
  BOOST_TEST(!parse_status("Done").has_value());
  BOOST_TEST(std::string(to_string(job_status::warning)) == "Warning");
}

BOOST_AUTO_TEST_CASE(seed_has_configured_domains_as_blank) {
  auto snap = seed_snapshot(two_app_config(), at("2026-02-16T14:00:00Z"));
  BOOST_TEST(snap.apps.size() == 2u);
  BOOST_TEST(snap.apps["Planning"].domains.size() == 2u);
  BOOST_TEST(snap.apps["Planning"].domains["Actual"].status == job_status::blank);
  BOOST_TEST(snap.apps["FCCS"].display_name == "FCCS");
}

BOOST_AUTO_TEST_CASE(newer_update_applies_and_older_one_is_stale) {
  auto snap = seed_snapshot(two_app_config(), at("2026-02-16T14:00:00Z"));
  auto first = merge(snap, update("Actual", job_status::loading, "J1", at("2026-02-16T14:30:00Z")));
  BOOST_TEST((first.result == merge_outcome::kind::applied));
  auto older = merge(snap, update("Actual", job_status::ok, "J0", at("2026-02-16T14:29:00Z")));
  BOOST_TEST((older.result == merge_outcome::kind::stale));
  BOOST_TEST((snap.apps["Planning"].domains["Actual"].status == job_status::loading));
}

BOOST_AUTO_TEST_CASE(identical_update_is_unchanged) {
  auto snap = seed_snapshot(two_app_config(), at("2026-02-16T14:00:00Z"));
  merge(snap, update("Actual", job_status::ok, "J1", at("2026-02-16T14:30:00Z"), "fine"));
  auto again = merge(snap, update("Actual", job_status::ok, "J1", at("2026-02-16T14:31:00Z"), "fine"));
  BOOST_TEST((again.result == merge_outcome::kind::unchanged));
  BOOST_TEST(format_time(*snap.apps["Planning"].domains["Actual"].updated) == "2026-02-16T14:30:00Z");
}

BOOST_AUTO_TEST_CASE(future_event_time_is_clamped_to_receive_time) {
  auto snap = seed_snapshot(two_app_config(), at("2026-02-16T14:00:00Z"));
  auto now = at("2026-02-16T15:00:00Z");
  auto skewed = merge(snap, update("Actual", job_status::loading, "J1", at("2026-02-16T18:00:00Z")), now);
  BOOST_TEST(skewed.clamped);
  BOOST_TEST(format_time(skewed.effective_time) == "2026-02-16T15:00:00Z");
  // A later, correctly timed update is not frozen out.
  auto next = merge(snap, update("Actual", job_status::ok, "J1", at("2026-02-16T15:01:00Z")),
                    at("2026-02-16T15:01:00Z"));
  BOOST_TEST((next.result == merge_outcome::kind::applied));
}

BOOST_AUTO_TEST_CASE(small_future_skew_is_kept) {
  auto snap = seed_snapshot(two_app_config(), at("2026-02-16T14:00:00Z"));
  auto now = at("2026-02-16T15:00:00Z");
  auto out = merge(snap, update("Actual", job_status::loading, "J1", at("2026-02-16T15:04:00Z")), now);
  BOOST_TEST(!out.clamped);
}

BOOST_AUTO_TEST_CASE(duration_is_set_from_loading_to_ok_with_same_job) {
  auto snap = seed_snapshot(two_app_config(), at("2026-02-16T14:00:00Z"));
  merge(snap, update("Actual", job_status::loading, "J1", at("2026-02-16T14:27:35Z")));
  merge(snap, update("Actual", job_status::loading, "J1", at("2026-02-16T14:28:00Z"), "50%"));
  auto done = merge(snap, update("Actual", job_status::ok, "J1", at("2026-02-16T14:30:00Z")));
  BOOST_REQUIRE(done.after.duration_sec);
  BOOST_TEST(*done.after.duration_sec == 145);
}

BOOST_AUTO_TEST_CASE(no_duration_when_job_differs) {
  auto snap = seed_snapshot(two_app_config(), at("2026-02-16T14:00:00Z"));
  merge(snap, update("Actual", job_status::loading, "J1", at("2026-02-16T14:27:35Z")));
  auto done = merge(snap, update("Actual", job_status::ok, "J2", at("2026-02-16T14:30:00Z")));
  BOOST_TEST(!done.after.duration_sec);
}

BOOST_AUTO_TEST_CASE(recent_jobs_track_apps_and_stay_bounded) {
  auto snap = seed_snapshot(two_app_config(), at("2026-02-16T14:00:00Z"));
  merge(snap, update("Actual", job_status::loading, "FULL", at("2026-02-16T14:27:35Z")));
  auto fccs = update("Consolidation", job_status::ok, "FULL", at("2026-02-16T14:30:00Z"));
  fccs.app = "FCCS";
  merge(snap, fccs);
  BOOST_REQUIRE(!snap.recent_jobs.empty());
  BOOST_TEST(snap.recent_jobs.front().apps.size() == 2u);
  BOOST_TEST((snap.recent_jobs.front().status == job_status::ok));
  for (int i = 0; i < 80; ++i)
    merge(snap, update("Budget", job_status::ok, "J" + std::to_string(i),
                       at("2026-02-16T14:40:00Z") + std::chrono::seconds(i)));
  BOOST_TEST(snap.recent_jobs.size() == 50u);
  BOOST_TEST(snap.recent_jobs.front().job_id == "J79");
}

BOOST_AUTO_TEST_CASE(stale_loading_becomes_warning_updates) {
  auto snap = seed_snapshot(two_app_config(), at("2026-02-16T10:00:00Z"));
  merge(snap, update("Actual", job_status::loading, "J1", at("2026-02-16T11:00:00Z")));
  merge(snap, update("Budget", job_status::loading, "J2", at("2026-02-16T14:00:00Z")));
  auto stale = stale_loading_updates(snap, at("2026-02-16T14:30:00Z"), std::chrono::hours(2));
  BOOST_REQUIRE(stale.size() == 1u);
  BOOST_TEST(stale[0].domain == "Actual");
  BOOST_TEST((stale[0].status == job_status::warning));
  BOOST_TEST(stale[0].message->find("Stale: no update since 2026-02-16T11:00:00Z") == 0u);
}

BOOST_AUTO_TEST_CASE(snapshot_round_trips_through_json) {
  auto snap = seed_snapshot(two_app_config(), at("2026-02-16T14:00:00Z"));
  merge(snap, update("Actual", job_status::warning, "J1", at("2026-02-16T14:30:00Z"), "Timeout"));
  std::string error;
  auto back = snapshot_from_json(to_json(snap), error);
  BOOST_REQUIRE_MESSAGE(back, error);
  BOOST_TEST(back->apps["Planning"].domains["Actual"] == snap.apps["Planning"].domains["Actual"]);
  BOOST_TEST(back->recent_jobs.size() == 1u);
}

BOOST_AUTO_TEST_CASE(invalid_state_documents_are_rejected_with_a_reason) {
  std::string error;
  BOOST_TEST(!snapshot_from_json(nlohmann::json::array(), error));
  BOOST_TEST(!snapshot_from_json({{"version", "1.0"}}, error));
  BOOST_TEST(error.find("apps") != std::string::npos);
  nlohmann::json bad = {{"version", "1.0"},
                        {"apps", {{"P", {{"domains", {{"A", {{"status", "Done"}}}}}}}}}};
  BOOST_TEST(!snapshot_from_json(bad, error));
  BOOST_TEST(error.find("status") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END() // status_model_tests
