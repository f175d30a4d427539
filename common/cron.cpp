#include "common/cron.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

namespace epmpulse {

namespace {

using std::chrono::minutes;
using local_minutes = date::local_time<minutes>;

struct field_spec {
  const char* name;
  int min;
  int max;
  std::array<const char*, 13> names; ///< index = value; nullptr where none
};

constexpr field_spec minute_field{"minute", 0, 59, {}};
constexpr field_spec hour_field{"hour", 0, 23, {}};
constexpr field_spec day_field{"day of month", 1, 31, {}};
constexpr field_spec month_field{"month",
                                 1,
                                 12,
                                 {nullptr, "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG",
                                  "SEP", "OCT", "NOV", "DEC"}};
// 7 is Sunday as well, as in crontab(5).
constexpr field_spec weekday_field{
  "day of week", 0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", nullptr}};

std::optional<int> read_value(std::string_view text, const field_spec& spec) {
  if (!text.empty() && std::isalpha(static_cast<unsigned char>(text.front()))) {
    if (text.size() != 3)
      return std::nullopt;
    for (std::size_t i = 0; i < spec.names.size(); ++i) {
      const char* n = spec.names[i];
      if (n == nullptr)
        continue;
      bool same = true;
      for (std::size_t k = 0; k < 3; ++k)
        same = same && std::toupper(static_cast<unsigned char>(text[k])) == n[k];
      if (same)
        return static_cast<int>(i);
    }
    return std::nullopt;
  }
  int value = 0;
  auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (err != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto at = text.find(sep, start);
    out.push_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos)
      return out;
    start = at + 1;
  }
}

/// Sets the allowed values of one field into `allowed` (index = value).
/// Returns false with `error` set.
template <std::size_t N>
bool read_field(std::string_view text, const field_spec& spec, std::bitset<N>& allowed,
                bool& any, std::string& error) {
  auto range_words = std::to_string(spec.min) + "-" + std::to_string(spec.max);
  any = text == "*";
  for (auto part : split(text, ',')) {
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
      auto step_text = part.substr(slash + 1);
      auto parsed = read_value(step_text, {spec.name, 1, 1, {}});
      if (!parsed || *parsed < 1 || *parsed > spec.max) {
        error = std::string{spec.name} + " field: step \"" + std::string{step_text}
                + "\" must be a number from 1 to " + std::to_string(spec.max);
        return false;
      }
      step = *parsed;
      part = part.substr(0, slash);
    }
    int first = spec.min;
    int last = spec.max;
    if (part != "*") {
      auto dash = part.find('-');
      auto a = read_value(part.substr(0, dash), spec);
      auto b = dash == std::string_view::npos ? a : read_value(part.substr(dash + 1), spec);
      if (!a || !b || *a < spec.min || *b > spec.max || *a > *b) {
        error = std::string{spec.name} + " field: \"" + std::string{part}
                + "\" is not a value or range within " + range_words;
        return false;
      }
      first = *a;
      // "5" alone with a step means "5 and every step after", as cron reads it.
      last = (dash == std::string_view::npos && step > 1) ? spec.max : *b;
    }
    for (int v = first; v <= last; v += step)
      allowed.set(static_cast<std::size_t>(N == 7 ? v % 7 : v));
  }
  return true;
}

// -- time zones --------------------------------------------------------------------

/// Local wall-clock time <-> instants in one zone; UTC needs no database.
class zone_view {
public:
  explicit zone_view(const date::time_zone* zone) : zone_(zone) {}

  local_minutes to_local(time_point t) const {
    auto floored = date::floor<minutes>(t);
    if (zone_ == nullptr)
      return local_minutes{floored.time_since_epoch()};
    return date::floor<minutes>(zone_->to_local(floored));
  }

  /// Skipped local times map to the jump, repeated ones to the first pass.
  time_point to_instant(local_minutes local) const {
    if (zone_ == nullptr)
      return time_point{local.time_since_epoch()};
    auto info = zone_->get_info(local);
    switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:
      return time_point{local.time_since_epoch() - info.first.offset};
    case date::local_info::nonexistent:
    default:
      return std::chrono::time_point_cast<std::chrono::milliseconds>(info.first.end);
    }
  }

private:
  const date::time_zone* zone_;
};

std::optional<zone_view> find_zone(const std::string& name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC")
    return zone_view{nullptr};
  try {
    return zone_view{date::locate_zone(name)};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool day_matches(const cron_expression& cron, date::year_month_day ymd) {
  if (!cron.months.test(static_cast<unsigned>(ymd.month())))
    return false;
  bool dom = cron.days_of_month.test(static_cast<unsigned>(ymd.day()));
  bool dow = cron.days_of_week.test(date::weekday{date::sys_days{ymd}}.c_encoding());
  if (cron.any_day_of_month && cron.any_day_of_week)
    return true;
  if (cron.any_day_of_month)
    return dow;
  if (cron.any_day_of_week)
    return dom;
  return dom || dow;
}

constexpr int search_days = 5 * 366;

} // namespace

std::optional<cron_expression> parse_cron(std::string_view text, std::string& error) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    auto start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i > start)
      fields.push_back(text.substr(start, i - start));
  }
  if (fields.size() != 5) {
    error = "has " + std::to_string(fields.size())
            + " fields; a cron expression has five: minute hour day-of-month month day-of-week";
    return std::nullopt;
  }
  cron_expression cron;
  cron.text = std::string{text};
  bool unused = false;
  if (!read_field(fields[0], minute_field, cron.minutes, unused, error)
      || !read_field(fields[1], hour_field, cron.hours, unused, error)
      || !read_field(fields[2], day_field, cron.days_of_month, cron.any_day_of_month, error)
      || !read_field(fields[3], month_field, cron.months, unused, error)
      || !read_field(fields[4], weekday_field, cron.days_of_week, cron.any_day_of_week, error))
    return std::nullopt;
  return cron;
}

bool is_known_time_zone(const std::string& name) {
  return find_zone(name).has_value();
}

std::optional<time_point> next_cron_start(const cron_expression& cron,
                                          const std::string& time_zone, time_point after) {
  auto zone = find_zone(time_zone);
  if (!zone)
    return std::nullopt;
  // Local to instant is monotone (skipped times share the jump, repeated ones
  // take the first pass), so the first local candidate whose instant lies
  // after `after` is the next start.
  auto from = zone->to_local(after);
  auto day = date::floor<date::days>(from);
  for (int d = 0; d < search_days; ++d, day += date::days{1}) {
    date::year_month_day ymd{date::sys_days{day.time_since_epoch()}};
    if (!day_matches(cron, ymd))
      continue;
    for (int h = 0; h < 24; ++h) {
      if (!cron.hours.test(h))
        continue;
      for (int m = 0; m < 60; ++m) {
        if (!cron.minutes.test(m))
          continue;
        auto local = day + std::chrono::hours{h} + minutes{m};
        if (local < from)
          continue;
        auto at = zone->to_instant(local);
        if (at > after)
          return at;
      }
    }
  }
  return std::nullopt;
}

std::optional<time_point> previous_cron_start(const cron_expression& cron,
                                              const std::string& time_zone, time_point at) {
  auto zone = find_zone(time_zone);
  if (!zone)
    return std::nullopt;
  // An hour of slack covers a local time repeated in autumn.
  auto from = zone->to_local(at) + std::chrono::hours{1};
  auto day = date::floor<date::days>(from);
  for (int d = 0; d < search_days; ++d, day -= date::days{1}) {
    date::year_month_day ymd{date::sys_days{day.time_since_epoch()}};
    if (!day_matches(cron, ymd))
      continue;
    for (int h = 23; h >= 0; --h) {
      if (!cron.hours.test(h))
        continue;
      for (int m = 59; m >= 0; --m) {
        if (!cron.minutes.test(m))
          continue;
        auto local = day + std::chrono::hours{h} + minutes{m};
        if (local > from)
          continue;
        auto start = zone->to_instant(local);
        if (start <= at)
          return start;
      }
    }
  }
  return std::nullopt;
}

std::optional<time_point> local_time_on_day(const std::string& time_zone, time_point at,
                                            int minutes_of_day) {
  auto zone = find_zone(time_zone);
  if (!zone)
    return std::nullopt;
  auto day = date::floor<date::days>(zone->to_local(at));
  return zone->to_instant(day + minutes{minutes_of_day});
}

std::optional<int> parse_hh_mm(std::string_view text) {
  auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4))
    return std::nullopt;
  int hour = (text[0] - '0') * 10 + (text[1] - '0');
  int minute = (text[3] - '0') * 10 + (text[4] - '0');
  if (hour > 23 || minute > 59)
    return std::nullopt;
  return hour * 60 + minute;
}

std::string format_hh_mm(int minute) {
  return fmt::format("{:02}:{:02}", minute / 60, minute % 60);
}

} // namespace epmpulse
