#pragma once

// RFC 3339 times as the service writes and reads them: pushed timestamps,
// the state file, logs, answers and the API keys' expiry. Below actors/,
// config/ and http/, so every layer reads and writes times the same way.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace epmpulse {

using clock_type = std::chrono::system_clock;
using time_point = std::chrono::time_point<clock_type, std::chrono::milliseconds>;

/// Current wall-clock time at millisecond precision.
time_point now_ms();

/// RFC 3339 in UTC: "2026-02-16T14:30:00Z" (".123" added when ms != 0).
std::string format_time(time_point t);

/// The same for a time that may be absent (then nothing: JSON null).
std::optional<std::string> format_time(const std::optional<time_point>& t);

/// Parses RFC 3339 ("Z" or "+hh:mm" offsets, optional fraction); nullopt if malformed.
std::optional<time_point> parse_time(std::string_view text);

} // namespace epmpulse
