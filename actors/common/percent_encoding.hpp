#pragma once

// RFC 3986 percent-encoding of everything but the unreserved characters
// (letters, digits, "-", ".", "_", "~"): safe both as a URL path segment and
// as an application/x-www-form-urlencoded value.

#include <cctype>
#include <string>
#include <string_view>

namespace epmpulse {

inline std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    }
  }
  return out;
}

} // namespace epmpulse
