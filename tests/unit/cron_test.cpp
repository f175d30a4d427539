#include <boost/test/unit_test.hpp>

// Cron expressions in time zones: the fields crontab(5) allows, and the
// starts before and after an instant, across both daylight saving changes.

#include <string>

#include "common/cron.hpp"
#include "tests/support/printing.hpp"

BOOST_AUTO_TEST_SUITE(cron_tests)

using namespace epmpulse;

namespace {

cron_expression cron(const std::string& text) {
  std::string error;
  auto c = parse_cron(text, error);
  BOOST_REQUIRE_MESSAGE(c, text + ": " + error);
  return *c;
}

time_point at(const char* text) {
  auto t = parse_time(text);
  BOOST_REQUIRE_MESSAGE(t, text);
  return *t;
}

std::string next(const std::string& expr, const std::string& zone, const char* after) {
  auto t = next_cron_start(cron(expr), zone, at(after));
  return t ? format_time(*t) : "none";
}

std::string previous(const std::string& expr, const std::string& zone, const char* before) {
  auto t = previous_cron_start(cron(expr), zone, at(before));
  return t ? format_time(*t) : "none";
}

} // namespace

BOOST_AUTO_TEST_CASE(weekday_schedule_skips_the_weekend) {
  // 2026-12-04 is a Friday.
  BOOST_TEST(next("0 2 * * 1-5", "UTC", "2026-12-04T02:00:00Z") == "2026-12-07T02:00:00Z");
  BOOST_TEST(next("0 2 * * MON-FRI", "UTC", "2026-12-03T12:00:00Z") == "2026-12-04T02:00:00Z");
  BOOST_TEST(previous("0 2 * * 1-5", "UTC", "2026-12-06T12:00:00Z") == "2026-12-04T02:00:00Z");
  BOOST_TEST(previous("0 2 * * 1-5", "UTC", "2026-12-07T02:00:00Z") == "2026-12-07T02:00:00Z");
}

BOOST_AUTO_TEST_CASE(time_zone_moves_the_start) {
  // Berlin is UTC+1 in winter, UTC+2 in summer.
  BOOST_TEST(next("0 2 * * *", "Europe/Berlin", "2026-12-02T12:00:00Z") == "2026-12-03T01:00:00Z");
  BOOST_TEST(next("0 2 * * *", "Europe/Berlin", "2026-07-02T12:00:00Z") == "2026-07-03T00:00:00Z");
  BOOST_TEST(next("30 6 * * *", "America/New_York", "2026-12-02T00:00:00Z")
             == "2026-12-02T11:30:00Z");
}

BOOST_AUTO_TEST_CASE(skipped_hour_in_spring_runs_once_at_the_jump) {
  // Europe/Berlin 2026-03-29: 02:00 local jumps to 03:00 (01:00Z).
  BOOST_TEST(next("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z") == "2026-03-29T01:00:00Z");
  // The day after is normal again, in summer time.
  BOOST_TEST(next("30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z") == "2026-03-30T00:30:00Z");
  BOOST_TEST(previous("30 2 * * *", "Europe/Berlin", "2026-03-29T05:00:00Z")
             == "2026-03-29T01:00:00Z");
}

BOOST_AUTO_TEST_CASE(repeated_hour_in_autumn_runs_the_first_time_only) {
  // Europe/Berlin 2026-10-25: 03:00 local goes back to 02:00 (01:00Z); 02:30
  // happens at 00:30Z (summer time) and again at 01:30Z.
  BOOST_TEST(next("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z") == "2026-10-25T00:30:00Z");
  BOOST_TEST(next("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z") == "2026-10-26T01:30:00Z");
  BOOST_TEST(previous("30 2 * * *", "Europe/Berlin", "2026-10-25T01:45:00Z")
             == "2026-10-25T00:30:00Z");
  // An hourly job too: 02:00 local ran at 00:00Z, the second 02:00 (01:00Z)
  // is not a new start, 03:00 local is.
  BOOST_TEST(next("0 * * * *", "Europe/Berlin", "2026-10-25T00:00:00Z") == "2026-10-25T02:00:00Z");
}

BOOST_AUTO_TEST_CASE(steps_lists_and_both_day_fields) {
  BOOST_TEST(next("*/15 * * * *", "UTC", "2026-12-02T10:07:00Z") == "2026-12-02T10:15:00Z");
  BOOST_TEST(next("0 8,20 * * *", "UTC", "2026-12-02T08:00:00Z") == "2026-12-02T20:00:00Z");
  // Day of month 1 OR a Monday, as crontab(5) reads two restricted day fields.
  BOOST_TEST(next("0 0 1 * 1", "UTC", "2026-12-02T00:00:00Z") == "2026-12-07T00:00:00Z");
  BOOST_TEST(next("0 0 1 * *", "UTC", "2026-12-02T00:00:00Z") == "2027-01-01T00:00:00Z");
  BOOST_TEST(next("0 0 * * 7", "UTC", "2026-12-02T00:00:00Z") == "2026-12-06T00:00:00Z");
  BOOST_TEST(next("0 0 30 2 *", "UTC", "2026-12-02T00:00:00Z") == "none");
}

BOOST_AUTO_TEST_CASE(bad_expressions_name_the_field) {
  std::string error;
  BOOST_TEST(!parse_cron("0 2 * *", error));
  BOOST_TEST(error.find("five") != std::string::npos);
  BOOST_TEST(!parse_cron("0 25 * * *", error));
  BOOST_TEST(error.find("hour") != std::string::npos);
  BOOST_TEST(!parse_cron("0 2 * * FUN", error));
  BOOST_TEST(error.find("day of week") != std::string::npos);
  BOOST_TEST(!parse_cron("*/0 * * * *", error));
  BOOST_TEST(error.find("minute") != std::string::npos);
  BOOST_TEST(!parse_cron("5-1 * * * *", error));
}

BOOST_AUTO_TEST_CASE(time_zones_are_checked_against_the_database) {
  BOOST_TEST(is_known_time_zone("UTC"));
  BOOST_TEST(is_known_time_zone("Europe/Berlin"));
  BOOST_TEST(!is_known_time_zone("Europe/Berlinn"));
  BOOST_TEST(!is_known_time_zone("../etc/passwd"));
}

BOOST_AUTO_TEST_CASE(local_time_of_day_for_windows) {
  auto t = local_time_on_day("Europe/Berlin", at("2026-12-02T12:00:00Z"), 3 * 60);
  BOOST_REQUIRE(t);
  BOOST_TEST(format_time(*t) == "2026-12-02T02:00:00Z");
}

BOOST_AUTO_TEST_SUITE_END()
