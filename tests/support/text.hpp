#pragma once

// Small text helpers shared by the test clients and fake servers.

#include <algorithm>
#include <cctype>
#include <string>

namespace epmpulse::test {

/// HTTP header names compare case-insensitively; both sides store them lowered.
inline std::string ascii_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

} // namespace epmpulse::test
