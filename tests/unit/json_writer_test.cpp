#include <boost/test/unit_test.hpp>

// json_writer must write what nlohmann::json would: the change log and the
// answers are read back by JSON parsers, and GET bodies were nlohmann's dumps.

#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/common/json_writer.hpp"

BOOST_AUTO_TEST_SUITE(json_writer_tests)

using epmpulse::json_writer;
using nlohmann::json;

namespace {

// nlohmann's compact text of a string of well-formed UTF-8.
std::string reference(const std::string& text) {
  return json(text).dump();
}

std::string written(const std::string& text) {
  std::string out;
  json_writer{out}.value(text);
  return out;
}

// The text with each byte outside a well-formed UTF-8 sequence replaced by
// U+FFFD, as json_writer promises, found the slow way: by asking nlohmann
// whether each candidate sequence is well-formed on its own.
std::string replaced(const std::string& text) {
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    auto c = static_cast<unsigned char>(text[at]);
    std::size_t length = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    bool ok = at + length <= text.size();
    if (ok && length > 1) {
      try {
        (void) json(text.substr(at, length)).dump();
      } catch (const json::exception&) {
        ok = false;
      }
    }
    if (ok) {
      out.append(text, at, length);
      at += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++at;
    }
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(strings_are_escaped_as_nlohmann_escapes_them) {
  for (std::string text : {std::string{}, std::string{"plain"}, std::string{"a \"quoted\" word"},
                           std::string{"back\\slash"}, std::string{"tab\there\nnew line"},
                           std::string{"\x01\x1f\x7f"}, std::string{"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"},
                           std::string{"exactly8"}, std::string{"sixteen bytes!!!"},
                           std::string(1000, 'x') + "\"" + std::string(7, 'y')})
    BOOST_TEST(written(text) == reference(text), text);
}

BOOST_AUTO_TEST_CASE(each_byte_outside_well_formed_utf8_becomes_one_replacement_character) {
  const std::string fffd = "\xEF\xBF\xBD";
  BOOST_TEST(json::parse(written("a\xE2\x82]")).get<std::string>() == "a" + fffd + fffd + "]");
  BOOST_TEST(json::parse(written("\xC0\xAF \xED\xA0\x80 \xF4\x90\x80\x80"))
               .get<std::string>()
             == fffd + fffd + " " + fffd + fffd + fffd + " " + fffd + fffd + fffd + fffd);
  BOOST_TEST(json::parse(written("tail \xF0\x9F\x98")).get<std::string>() == "tail " + fffd + fffd + fffd);
}

BOOST_AUTO_TEST_CASE(a_byte_needing_care_is_found_at_every_position_of_a_word) {
  // Plain runs are scanned eight bytes at a time: put each kind of byte at
  // each offset of the first three words.
  for (unsigned char special : {'"', '\\', '\n', '\x00', '\x1f', '\x7f', '\x80', '\xC3', '\xFF'}) {
    for (std::size_t at = 0; at < 24; ++at) {
      std::string text(24, 'a');
      text[at] = static_cast<char>(special);
      BOOST_TEST(json::parse(written(text)).get<std::string>() == replaced(text),
                 "byte " << int(special) << " at " << at);
      if (special < 0x80)
        BOOST_TEST(written(text) == reference(text), "byte " << int(special) << " at " << at);
    }
  }
}

BOOST_AUTO_TEST_CASE(random_bytes_parse_back_as_written) {
  std::mt19937 rng{20261201};
  std::uniform_int_distribution<int> length(0, 40);
  // Mostly printable ASCII, as real messages are, with every other byte mixed in.
  std::uniform_int_distribution<int> pick(0, 9);
  std::uniform_int_distribution<int> any_byte(0, 255);
  std::uniform_int_distribution<int> printable(0x20, 0x7E);
  for (int i = 0; i < 5000; ++i) {
    std::string text(static_cast<std::size_t>(length(rng)), ' ');
    for (auto& c : text)
      c = static_cast<char>(pick(rng) == 0 ? any_byte(rng) : printable(rng));
    auto out = written(text);
    auto parsed = json::parse(out, nullptr, false);
    BOOST_TEST_REQUIRE(!parsed.is_discarded(), "case " << i << " does not parse: " << out);
    auto expected = replaced(text);
    BOOST_TEST_REQUIRE(parsed.get<std::string>() == expected, "case " << i);
    // Well-formed text is written byte for byte as nlohmann writes it.
    if (expected == text)
      BOOST_TEST_REQUIRE(out == reference(text), "case " << i);
  }
}

BOOST_AUTO_TEST_CASE(objects_with_source_names_and_data_names) {
  std::string out;
  json_writer w{out};
  w.begin_object()
    .key("app").value("Planning")
    .escaped_key("odd \"name\"").begin_array().value(std::int64_t{-3}).value(true).null().end_array()
    .key("n").value(std::uint64_t{18446744073709551615ULL})
    .end_object();
  auto parsed = json::parse(out);
  BOOST_TEST(parsed["app"] == "Planning");
  BOOST_TEST(parsed["odd \"name\""].dump() == "[-3,true,null]");
  BOOST_TEST(parsed["n"].get<std::uint64_t>() == 18446744073709551615ULL);
  BOOST_TEST(out == R"({"app":"Planning","odd \"name\"":[-3,true,null],"n":18446744073709551615})");
}

BOOST_AUTO_TEST_SUITE_END()
