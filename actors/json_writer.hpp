#pragma once

// Appends compact JSON text to a string as it goes, for the two texts written
// on every push: the change-log record and the 200 body. nlohmann::json
// builds a document first (a std::map node and a string copy per field) and
// then serialises it; in callgrind that was about 44,000 instructions for a
// one-update log record and as much again for its answer (bench/RESULTS.md).
// Reading JSON stays with nlohmann::json, and so does every other text.
//
// Strings are escaped as JSON requires; bytes that are not valid UTF-8 become
// U+FFFD, as nlohmann's dump(error_handler_t::replace) does, so everything
// written here parses back.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epmpulse {

class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();

  /// The next member's name; a value or a begin_* must follow.
  json_writer& key(std::string_view name);

  json_writer& value(std::string_view text);
  json_writer& value(const char* text) { return value(std::string_view{text}); }
  json_writer& value(const std::string& text) { return value(std::string_view{text}); }
  json_writer& value(const std::optional<std::string>& text); ///< null when empty
  json_writer& value(bool flag);
  json_writer& value(std::int64_t number);
  json_writer& value(std::uint64_t number);
  json_writer& value(int number) { return value(static_cast<std::int64_t>(number)); }
  json_writer& null();

private:
  void before_value();

  std::string& out_;
  bool needs_comma_ = false; // a value ended: the next key or value needs a ','
};

} // namespace epmpulse
