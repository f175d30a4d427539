#include "tests/support/time_util.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace epmpulse::test {

using namespace std::chrono;

std::string rfc3339(sys_time t) {
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  auto frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac != 0) {
    char f[8];
    std::snprintf(f, sizeof f, ".%03d", frac);
    out += f;
  }
  return out + "Z";
}

std::optional<sys_time> parse_rfc3339(const std::string& s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || std::sscanf(s.c_str(), "%4d-%2d-%2d", &y, &mo, &d) != 3 || s[4] != '-'
      || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (std::sscanf(s.c_str() + 11, "%2d:%2d:%2d", &h, &mi, &sec) != 3)
    return std::nullopt;
  std::size_t pos = 19;
  long long frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 3)
        frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0)
      return std::nullopt;
    for (int i = digits; i < 3; ++i)
      frac_ms *= 10;
  }
  if (pos >= s.size())
    return std::nullopt;
  long offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (s.size() - pos != 6 || s[pos + 3] != ':'
        || std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2)
      return std::nullopt;
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  // Days from civil (Howard Hinnant's algorithm).
  y -= mo <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long days = era * 146097 + static_cast<long>(doe) - 719468;
  long long total = ((days * 24LL + h) * 60 + mi) * 60 + sec - offset_min * 60;
  return sys_time(duration_cast<system_clock::duration>(seconds(total) + milliseconds(frac_ms)));
}

sys_time now_seconds() {
  return sys_time(duration_cast<system_clock::duration>(
    duration_cast<seconds>(system_clock::now().time_since_epoch())));
}

} // namespace epmpulse::test
