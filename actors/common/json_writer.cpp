#include "actors/common/json_writer.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace epmpulse {

namespace {

// The length of the well-formed UTF-8 sequence at text[at], 0 when it is not
// one (the table of well-formed sequences in Unicode 15, section 3.9).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  std::size_t length = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : low;   // no overlong forms
    high = lead == 0xED ? 0x9F : high; // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : low;
    high = lead == 0xF4 ? 0x8F : high; // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (at + length > text.size() || byte(at + 1) < low || byte(at + 1) > high)
    return 0;
  for (std::size_t i = 2; i < length; ++i)
    if ((byte(at + i) & 0xC0) != 0x80)
      return 0;
  return length;
}

// Bytes that go out as they are: printable ASCII but the quote and the
// backslash. A table, as every byte of every string written passes here.
constexpr auto plain_bytes = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c)
    plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

bool needs_care(unsigned char c) {
  return !plain_bytes[c];
}

// Whether any of the eight bytes in `word` may need care: below 0x20, a quote,
// a backslash, or 0x80 and above (the "haszero"/"hasless" tests of Sean
// Anderson's Bit Twiddling Hacks; a false alarm only sends the word to the
// byte-wise check). Most strings written are plain ASCII, and this passes
// them eight bytes at a time: the byte-wise scan was 17% of a batch's
// instructions (bench/RESULTS.md).
bool word_may_need_care(std::uint64_t word) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  auto has_zero_byte = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  auto below_space = (word - ones * 0x20) & ~word & highs;
  return (below_space | has_zero_byte(word ^ (ones * '"')) | has_zero_byte(word ^ (ones * '\\'))
          | (word & highs))
         != 0;
}

// The end of the run of plain bytes starting at `at`.
std::size_t plain_run_end(std::string_view text, std::size_t at) {
  while (at + sizeof(std::uint64_t) <= text.size()) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + at, sizeof word);
    if (word_may_need_care(word))
      break;
    at += sizeof word;
  }
  while (at < text.size() && !needs_care(static_cast<unsigned char>(text[at])))
    ++at;
  return at;
}

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t at = 0;
  while (at < text.size()) {
    auto plain_end = plain_run_end(text, at);
    out.append(text, at, plain_end - at);
    at = plain_end;
    if (at == text.size())
      break;
    auto c = static_cast<unsigned char>(text[at]);
    if (c >= 0x80) {
      auto length = utf8_sequence_length(text, at);
      if (length == 0) {
        out += "\xEF\xBF\xBD"; // U+FFFD REPLACEMENT CHARACTER
        ++at;
      } else {
        out.append(text, at, length);
        at += length;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
    ++at;
  }
  out += '"';
}

template <class Integer>
void append_integer(std::string& out, Integer number) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, number);
  (void) ec; // 24 characters hold every 64-bit integer
  out.append(digits, end);
}

} // namespace

void json_writer::before_value() {
  if (needs_comma_)
    out_ += ',';
  needs_comma_ = true;
}

json_writer& json_writer::open(char bracket) {
  before_value();
  out_ += bracket;
  needs_comma_ = false;
  return *this;
}

json_writer& json_writer::close(char bracket) {
  out_ += bracket;
  needs_comma_ = true;
  return *this;
}

json_writer& json_writer::key(name member) {
  before_value();
  out_ += '"';
  out_ += member.text();
  out_ += "\":";
  needs_comma_ = false;
  return *this;
}

json_writer& json_writer::escaped_key(std::string_view member) {
  before_value();
  append_escaped(out_, member);
  out_ += ':';
  needs_comma_ = false;
  return *this;
}

json_writer& json_writer::value(std::string_view text) {
  before_value();
  append_escaped(out_, text);
  return *this;
}

json_writer& json_writer::value(bool flag) {
  before_value();
  out_ += flag ? "true" : "false";
  return *this;
}

json_writer& json_writer::value(std::int64_t number) {
  before_value();
  append_integer(out_, number);
  return *this;
}

json_writer& json_writer::value(std::uint64_t number) {
  before_value();
  append_integer(out_, number);
  return *this;
}

json_writer& json_writer::raw_member(std::string_view member) {
  before_value();
  out_ += member;
  return *this;
}

json_writer& json_writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

} // namespace epmpulse
