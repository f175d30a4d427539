#pragma once

// RFC 3339 for tests: formatting event timestamps to send and parsing the
// times the server answers, so assertions compare instants, not spellings.

#include <chrono>
#include <optional>
#include <string>

namespace epmpulse::test {

using sys_time = std::chrono::system_clock::time_point;

/// "2026-02-16T14:30:00Z" (".123" appended when the milliseconds are not 0).
std::string rfc3339(sys_time t);

/// Parses "YYYY-MM-DDTHH:MM:SS[.fff...](Z|z|+hh:mm|-hh:mm)"; nullopt otherwise.
std::optional<sys_time> parse_rfc3339(const std::string& text);

/// Whole seconds, so sent and stored times compare exactly.
sys_time now_seconds();

} // namespace epmpulse::test
