#pragma once

// Appends compact JSON text to a string as it goes, for the two texts written
// on every push: the change-log record and the 200 body. nlohmann::json
// builds a document first (a std::map node and a string copy per field) and
// then serialises it; in callgrind that was about 44,000 instructions for a
// one-update log record and as much again for its answer (bench/RESULTS.md).
// Reading JSON stays with nlohmann::json, and so does every other text.
//
// Strings are escaped as JSON requires, exactly as nlohmann's dump writes
// them; each byte that is not part of a well-formed UTF-8 sequence becomes
// U+FFFD (nlohmann's dump(error_handler_t::replace) writes one U+FFFD per
// broken sequence instead), so everything written here parses back.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epmpulse {

class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }

  /// A member name written in the source: checked at compile time to need no
  /// escaping, so it is copied as it is.
  class name {
  public:
    template <std::size_t N>
    consteval name(const char (&text)[N]) : text_(text, N - 1) {
      for (char c : text_)
        if (c < 0x20 || c > 0x7E || c == '"' || c == '\\')
          throw "a json_writer::name must be printable ASCII without '\"' or '\\'";
    }
    std::string_view text() const { return text_; }

  private:
    std::string_view text_;
  };

  /// The next member's name; a value or a begin_* must follow.
  json_writer& key(name member);

  /// The same for a name that comes from data (an app or domain name): escaped.
  json_writer& escaped_key(std::string_view member);

  json_writer& value(std::string_view text);
  json_writer& value(const char* text) { return value(std::string_view{text}); }
  json_writer& value(const std::string& text) { return value(std::string_view{text}); }
  json_writer& value(bool flag);
  json_writer& value(std::int64_t number);
  json_writer& value(std::uint64_t number);
  json_writer& value(int number) { return value(static_cast<std::int64_t>(number)); }
  json_writer& null();

  /// A whole member, `"name":value`, already written (by another json_writer):
  /// copied as it is, e.g. from a cache of serialised parts.
  json_writer& raw_member(std::string_view member);

  /// The value, or null when there is none.
  template <class T>
  json_writer& value(const std::optional<T>& maybe) {
    return maybe ? value(*maybe) : null();
  }

private:
  void before_value();
  json_writer& open(char bracket);
  json_writer& close(char bracket);

  std::string& out_;
  bool needs_comma_ = false; // a value ended: the next key or value needs a ','
};

} // namespace epmpulse
