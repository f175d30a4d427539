#include "common/time_format.hpp"

#include <charconv>

#include <date/date.h>
#include <fmt/format.h>

namespace epmpulse {

using std::chrono::milliseconds;

time_point now_ms() {
  return std::chrono::time_point_cast<milliseconds>(clock_type::now());
}

namespace {

// `value`'s last `width` decimal digits, zero-padded, at `out`.
char* put_digits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

} // namespace

std::optional<std::string> format_time(const std::optional<time_point>& t) {
  if (!t)
    return std::nullopt;
  return format_time(*t);
}

std::string format_time(time_point t) {
  // Calendar arithmetic and digits written in place: date::format sets up an
  // ostream and its locale per call (28% of a state commit in callgrind), a
  // run-time fmt format string is parsed on every call (~22,000
  // instructions), and even a compiled fmt format's padded fields cost ~1,700
  // instructions, two or three times per update (bench/RESULTS.md).
  auto day = std::chrono::floor<date::days>(t);
  date::year_month_day ymd{day};
  date::hh_mm_ss<milliseconds> clock{t - day};
  auto year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) { // not representable in RFC 3339's four digits
    auto text = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", year,
                            static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                            clock.hours().count(), clock.minutes().count(),
                            clock.seconds().count());
    if (auto ms = clock.subseconds().count(); ms != 0)
      text += fmt::format(".{:03d}", ms);
    return text + 'Z';
  }
  char text[24]; // "YYYY-MM-DDTHH:MM:SS.mmmZ"
  char* p = put_digits(text, static_cast<unsigned>(year), 4);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(ymd.month()), 2);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(ymd.day()), 2);
  *p++ = 'T';
  p = put_digits(p, static_cast<unsigned>(clock.hours().count()), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<unsigned>(clock.minutes().count()), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<unsigned>(clock.seconds().count()), 2);
  if (auto ms = clock.subseconds().count(); ms != 0) {
    *p++ = '.';
    p = put_digits(p, static_cast<unsigned>(ms), 3);
  }
  *p++ = 'Z';
  return std::string(text, p);
}

namespace {

// Exactly `width` decimal digits at text[at], or nothing.
std::optional<unsigned> fixed_digits(std::string_view text, std::size_t at, std::size_t width) {
  if (at + width > text.size())
    return std::nullopt;
  unsigned value = 0;
  const char* first = text.data() + at;
  const char* last = first + width;
  auto [end, ec] = std::from_chars(first, last, value); // unsigned: no sign accepted
  if (ec != std::errc{} || end != last)
    return std::nullopt;
  return value;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

} // namespace

std::optional<time_point> parse_time(std::string_view text) {
  // RFC 3339: "YYYY-MM-DDTHH:MM:SS", an optional fraction of any length
  // (Python's isoformat() writes six digits; milliseconds are kept), then "Z"
  // or "+HH:MM"/"-HH:MM". Fixed positions read with from_chars, the calendar
  // checked by the date library: date::parse reads through an istringstream,
  // about 10,000 instructions per timestamp in callgrind (bench/RESULTS.md).
  if (text.size() < 20 || text.size() > 40)
    return std::nullopt;
  auto year = fixed_digits(text, 0, 4);
  auto month = fixed_digits(text, 5, 2);
  auto mday = fixed_digits(text, 8, 2);
  auto hour = fixed_digits(text, 11, 2);
  auto minute = fixed_digits(text, 14, 2);
  auto second = fixed_digits(text, 17, 2);
  char separator = text[10];
  if (!year || !month || !mday || !hour || !minute || !second || text[4] != '-'
      || text[7] != '-' || (separator != 'T' && separator != 't' && separator != ' ')
      || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  date::year_month_day ymd{date::year{static_cast<int>(*year)}, date::month{*month},
                           date::day{*mday}};
  if (!ymd.ok() || *hour > 23 || *minute > 59 || *second > 59)
    return std::nullopt;

  std::size_t at = 19;
  unsigned fraction_ms = 0;
  if (text[at] == '.') {
    std::size_t first_digit = ++at;
    for (; at < text.size() && is_digit(text[at]); ++at)
      if (at - first_digit < 3)
        fraction_ms = fraction_ms * 10 + static_cast<unsigned>(text[at] - '0');
    auto digits = at - first_digit;
    if (digits == 0)
      return std::nullopt;
    for (; digits < 3; ++digits)
      fraction_ms *= 10;
  }
  if (at >= text.size())
    return std::nullopt;

  std::chrono::minutes offset{0};
  char zone = text[at];
  if (zone == 'Z' || zone == 'z') {
    if (at + 1 != text.size())
      return std::nullopt;
  } else if (zone == '+' || zone == '-') {
    auto offset_hours = fixed_digits(text, at + 1, 2);
    auto offset_minutes = fixed_digits(text, at + 4, 2);
    if (at + 6 != text.size() || text[at + 3] != ':' || !offset_hours || !offset_minutes
        || *offset_hours > 23 || *offset_minutes > 59)
      return std::nullopt;
    offset = std::chrono::hours{*offset_hours} + std::chrono::minutes{*offset_minutes};
    if (zone == '-')
      offset = -offset;
  } else {
    return std::nullopt;
  }
  // The text is local time at `offset` east of UTC.
  auto local = date::sys_days{ymd} + std::chrono::hours{*hour} + std::chrono::minutes{*minute}
               + std::chrono::seconds{*second} + milliseconds{fraction_ms};
  time_point utc{local - offset};
  // Only times format_time writes back in four digits: an offset moves
  // 0000-01-01T00:30:00+01:00 into year -1, and a time that does not read back
  // would leave its change-log record, and the state file, unreadable.
  auto utc_year = static_cast<int>(date::year_month_day{std::chrono::floor<date::days>(utc)}.year());
  if (utc_year < 0 || utc_year > 9999)
    return std::nullopt;
  return utc;
}

} // namespace epmpulse
