#pragma once

// Cron schedules in a time zone: the five-field expressions of crontab(5)
// ("0 2 * * 1-5" = 02:00 Monday to Friday) read once at start-up, and the
// scheduled starts before and after an instant in an IANA time zone from the
// tz database (/usr/share/zoneinfo, through Howard Hinnant's date/tz.h).
//
// Daylight saving time follows what people expect of a wall-clock schedule:
// a local time that does not exist (the hour skipped in spring) runs at the
// moment the clocks jump, once; a local time that happens twice (the hour
// repeated in autumn) runs the first time only. So a daily job runs once a
// day on both change days.

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "common/time_format.hpp"

namespace epmpulse {

/// A parsed cron expression: the values each field allows.
struct cron_expression {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month; ///< 1..31
  std::bitset<13> months;        ///< 1..12
  std::bitset<7> days_of_week;   ///< 0 = Sunday .. 6 = Saturday (7 is read as 0)
  /// crontab(5): when both day fields are restricted, a day matching either
  /// runs; when one is "*", only the other decides.
  bool any_day_of_month = true;
  bool any_day_of_week = true;
  std::string text; ///< as written
};

/// Reads "minute hour day-of-month month day-of-week": each field "*", a
/// number, a range "a-b", a step "*/n" or "a-b/n", or a comma list of those;
/// month and weekday names (JAN, MON) are accepted. nullopt with `error`
/// naming the field and what is wrong.
std::optional<cron_expression> parse_cron(std::string_view text, std::string& error);

/// True when `name` is "UTC" or a zone the tz database knows.
bool is_known_time_zone(const std::string& name);

/// The first scheduled start strictly after `after`, in `time_zone` ("UTC"
/// or an IANA name); nullopt when none comes within five years (e.g. 30 Feb)
/// or the zone is unknown.
std::optional<time_point> next_cron_start(const cron_expression& cron,
                                          const std::string& time_zone, time_point after);

/// The last scheduled start at or before `at`; nullopt when none in the five
/// years before.
std::optional<time_point> previous_cron_start(const cron_expression& cron,
                                              const std::string& time_zone, time_point at);

/// A local time of day in a time zone (a daily maintenance start).
struct time_of_day {
  int minute = 0;                ///< minutes after local midnight, 0..1439
  std::string time_zone = "UTC"; ///< "UTC" or an IANA name
};

/// "HH:MM" on a 24-hour clock (00:00..23:59) as minutes after midnight.
std::optional<int> parse_hh_mm(std::string_view text);

/// "HH:MM" of minutes after midnight.
std::string format_hh_mm(int minute);

/// The instant of the local wall-clock time `minutes_of_day` (0..1439) on the
/// local day that holds `at`, in `time_zone`; a skipped local time maps to the
/// jump, a repeated one to its first occurrence. For daily windows.
std::optional<time_point> local_time_on_day(const std::string& time_zone, time_point at,
                                            int minutes_of_day);

} // namespace epmpulse
