#include <boost/test/unit_test.hpp>

// Session and badge tokens: what one key signs, only that key accepts, for
// the purpose it was signed for, until it expires.

#include <chrono>

#include <nlohmann/json.hpp>

#include "http/signed_tokens.hpp"

BOOST_AUTO_TEST_SUITE(signed_tokens_tests)

using namespace epmpulse::http;
using namespace std::chrono_literals;

namespace {

const token_signer signer{"unit-test-signing-key-0123456789abcdef"};
const auto now = std::chrono::system_clock::time_point{std::chrono::seconds{1'800'000'000}};

} // namespace

BOOST_AUTO_TEST_CASE(session_token_names_the_key_and_expires) {
  auto token = issue_session_token(signer, {"dash_read", now + 1h});
  BOOST_TEST(token.find("dash_read") == std::string::npos, "claims are encoded, not plain");
  auto claims = read_session_token(signer, token, now);
  BOOST_TEST_REQUIRE(claims.has_value());
  BOOST_TEST(claims->key_name == "dash_read");
  BOOST_TEST(read_session_token(signer, token, now + 1h - 1s).has_value());
  BOOST_TEST(!read_session_token(signer, token, now + 1h).has_value());
}

BOOST_AUTO_TEST_CASE(any_changed_character_breaks_the_token) {
  auto token = issue_session_token(signer, {"dash_read", now + 1h});
  for (std::size_t i = 0; i < token.size(); ++i) {
    auto altered = token;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    BOOST_TEST_CONTEXT("position " << i) {
      BOOST_TEST(!read_session_token(signer, altered, now).has_value());
    }
  }
  BOOST_TEST(!read_session_token(signer, token + "A", now).has_value());
  BOOST_TEST(!read_session_token(signer, "", now).has_value());
  BOOST_TEST(!read_session_token(token_signer{"another-key-0123456789abcdefghijkl"}, token, now)
                .has_value());
}

BOOST_AUTO_TEST_CASE(a_token_serves_its_own_purpose_only) {
  auto badge = issue_badge_token(signer, {"Planning", std::nullopt});
  auto session = issue_session_token(signer, {"Planning", now + 1h});
  BOOST_TEST(!read_session_token(signer, badge, now).has_value());
  BOOST_TEST(!read_badge_token(signer, session).has_value());
  BOOST_TEST(read_badge_token(signer, badge).has_value());
}

BOOST_AUTO_TEST_CASE(badge_scope_of_an_app_covers_its_domains_and_a_domain_only_itself) {
  auto app = read_badge_token(signer, issue_badge_token(signer, {"Planning", std::nullopt}));
  BOOST_TEST_REQUIRE(app.has_value());
  BOOST_TEST(app->covers("Planning", std::nullopt));
  BOOST_TEST(app->covers("Planning", std::string("Actual")));
  BOOST_TEST(!app->covers("FCCS", std::nullopt));
  auto domain = read_badge_token(signer, issue_badge_token(signer, {"Planning", "Actual"}));
  BOOST_TEST_REQUIRE(domain.has_value());
  BOOST_TEST(domain->covers("Planning", std::string("Actual")));
  BOOST_TEST(!domain->covers("Planning", std::string("Budget")));
  BOOST_TEST(!domain->covers("Planning", std::nullopt));
}

BOOST_AUTO_TEST_CASE(cookie_value_finds_the_named_cookie_only) {
  BOOST_TEST(cookie_value("a=1; epmpulse_session=abc.def; b=2", "epmpulse_session") == "abc.def");
  BOOST_TEST(cookie_value("epmpulse_session=x", "epmpulse_session") == "x");
  BOOST_TEST(cookie_value("xepmpulse_session=x", "epmpulse_session") == "");
  BOOST_TEST(cookie_value("", "epmpulse_session") == "");
}

BOOST_AUTO_TEST_SUITE_END()
