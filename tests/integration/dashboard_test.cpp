#include <boost/test/unit_test.hpp>

// The dashboard against the real server: the page's files and their
// headers, the browser session cookie (flags, expiry, tampering, read only),
// public mode, and the badges with their tokens. The browser itself is
// tested by browser.dashboard (tests/browser/).

#include <chrono>
#include <memory>

#include "http/signed_tokens.hpp"
#include "tests/support/api_checks.hpp"
#include "tests/support/log_secrets.hpp"
#include "tests/support/service_fixture.hpp"

namespace dashboard_shared {

// A signing key the tests know, so they can forge what the server would
// sign (an expired session) and check the server tells them apart.
inline constexpr const char* test_signing_key = "test-dashboard-signing-key-0123456789abcdef";
inline constexpr int test_session_ttl_sec = 3600;

struct shared_service {
  shared_service() {
    epmpulse::test::service_options opts;
    opts.config["settings"]["dashboard"] = {{"signing_key", test_signing_key},
                                            {"session_ttl_sec", test_session_ttl_sec}};
    instance = std::make_unique<epmpulse::test::service>(opts);
  }
  ~shared_service() { instance.reset(); }
  static inline std::unique_ptr<epmpulse::test::service> instance;
};

} // namespace dashboard_shared

BOOST_AUTO_TEST_SUITE(dashboard_tests, *boost::unit_test::fixture<dashboard_shared::shared_service>())

using namespace epmpulse::test;
using epmpulse::http::token_signer;

namespace {

service& svc() {
  return *dashboard_shared::shared_service::instance;
}

const token_signer& signer() {
  static const token_signer s{dashboard_shared::test_signing_key};
  return s;
}

// The session cookie's value from a Set-Cookie header ("" if none).
std::string cookie_of(const http_result& r) {
  auto header = r.header("set-cookie");
  auto value = std::string(epmpulse::http::cookie_value(header, "epmpulse_session"));
  register_secret(value); // a credential: no log may show it
  return value;
}

std::string sign_in(const std::string& key) {
  auto r = svc().client(key).post_raw("/api/v1/session", "", "");
  BOOST_TEST_REQUIRE(r.status == 204, r.describe());
  auto cookie = cookie_of(r);
  BOOST_TEST_REQUIRE(!cookie.empty(), r.header("set-cookie"));
  return cookie;
}

header_list with_cookie(const std::string& value) {
  return {{"Cookie", "theme=dark; epmpulse_session=" + value}};
}

std::string badge_token(const nlohmann::json& scope) {
  auto r = svc().admin().post("/api/v1/badges/token", scope);
  BOOST_TEST_REQUIRE(r.status == 200, r.describe());
  auto token = r.json()["token"].get<std::string>();
  register_secret(token);
  return token;
}

} // namespace

BOOST_AUTO_TEST_SUITE(page)

BOOST_AUTO_TEST_CASE(page_files_carry_type_security_policy_and_entity_tag) {
  struct expected_file {
    const char* path;
    const char* type;
  };
  for (auto [path, type] : {expected_file{"/", "text/html"}, {"/dashboard.js", "text/javascript"},
                            {"/dashboard.css", "text/css"}, {"/favicon.svg", "image/svg+xml"}}) {
    BOOST_TEST_CONTEXT(path) {
      auto r = svc().anonymous().get(path);
      BOOST_TEST(r.status == 200, r.describe());
      BOOST_TEST(r.header("content-type").rfind(type, 0) == 0, r.header("content-type"));
      auto csp = r.header("content-security-policy");
      BOOST_TEST(csp.find("default-src 'self'") != std::string::npos, csp);
      BOOST_TEST(csp.find("script-src 'self';") != std::string::npos, csp);
      BOOST_TEST(csp.find("unsafe-inline") == std::string::npos, csp);
      BOOST_TEST(r.header("x-content-type-options") == "nosniff");
      BOOST_TEST(r.header("cache-control") == "no-cache");
      auto etag = r.header("etag");
      BOOST_TEST(etag.size() > 2);
      auto again = svc().anonymous().get(path, {{"If-None-Match", etag}});
      BOOST_TEST(again.status == 304, again.describe());
      BOOST_TEST(again.body.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(page_loads_nothing_from_elsewhere_and_has_no_inline_script_or_style) {
  auto html = svc().anonymous().get("/").body;
  auto css = svc().anonymous().get("/dashboard.css").body;
  auto js = svc().anonymous().get("/dashboard.js").body;
  BOOST_TEST(html.find("<script src=\"/dashboard.js\"") != std::string::npos);
  BOOST_TEST(html.find("<script>") == std::string::npos);
  BOOST_TEST(html.find(" style=") == std::string::npos);
  BOOST_TEST(html.find("<style") == std::string::npos);
  for (const auto* text : {&html, &css, &js}) {
    BOOST_TEST(text->find("https://") == std::string::npos);
    BOOST_TEST(text->find("@import") == std::string::npos);
    BOOST_TEST(text->find("@font-face") == std::string::npos);
  }
  // The only absolute URL is the SVG namespace name, which nothing fetches.
  auto http = js.find("http://");
  BOOST_TEST(js.substr(http, 26) == "http://www.w3.org/2000/svg");
  BOOST_TEST(js.find("http://", http + 1) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(session)

BOOST_AUTO_TEST_CASE(session_cookie_is_http_only_strict_and_lasts_the_configured_time) {
  auto r = svc().reader().post_raw("/api/v1/session", "", "");
  BOOST_TEST_REQUIRE(r.status == 204, r.describe());
  BOOST_TEST(r.body.empty());
  auto header = r.header("set-cookie");
  BOOST_TEST(header.rfind("epmpulse_session=", 0) == 0, header);
  BOOST_TEST(header.find("; HttpOnly") != std::string::npos, header);
  BOOST_TEST(header.find("; SameSite=Strict") != std::string::npos, header);
  BOOST_TEST(header.find("; Path=/") != std::string::npos, header);
  BOOST_TEST(header.find("; Max-Age=" + std::to_string(dashboard_shared::test_session_ttl_sec))
               != std::string::npos,
             header);
  BOOST_TEST(header.find("Secure") == std::string::npos, "secure_cookie is off: " << header);
  BOOST_TEST(header.find(read_key) == std::string::npos);
  BOOST_TEST(r.header("cache-control") == "no-store");
  // It names the key, never holds it, and expires with the cookie.
  auto claims = epmpulse::http::read_session_token(signer(), cookie_of(r),
                                                   std::chrono::system_clock::now());
  BOOST_TEST_REQUIRE(claims.has_value());
  BOOST_TEST(claims->key_name == "test_read");
  auto left = claims->expires - std::chrono::system_clock::now();
  BOOST_TEST(left <= std::chrono::seconds(dashboard_shared::test_session_ttl_sec));
  BOOST_TEST(left > std::chrono::seconds(dashboard_shared::test_session_ttl_sec - 60));
}

BOOST_AUTO_TEST_CASE(cookie_reads_what_a_read_key_reads) {
  auto cookie = sign_in(read_key);
  auto all = svc().anonymous().get("/api/v1/status", with_cookie(cookie));
  BOOST_TEST(all.status == 200, all.describe());
  BOOST_TEST(all.json()["apps"].contains("Planning"));
  BOOST_TEST(svc().anonymous().get("/api/v1/status/FCCS", with_cookie(cookie)).status == 200);
  // Without the cookie the same request is refused.
  check_error(svc().anonymous().get("/api/v1/status"), 401, "MISSING_AUTH");
}

BOOST_AUTO_TEST_CASE(cookie_of_a_write_or_admin_key_still_cannot_write) {
  for (const char* key : {write_key, admin_key}) {
    BOOST_TEST_CONTEXT(key) {
      auto cookie = sign_in(key);
      check_error(svc().anonymous().post("/api/v1/status",
                                         update("Planning", "CookieWrite", "OK"), with_cookie(cookie)),
                  401, "MISSING_AUTH");
      check_error(svc().anonymous().post("/api/v1/status/batch",
                                         {{"updates", {update("Planning", "CookieWrite", "OK")}}},
                                         with_cookie(cookie)),
                  401, "MISSING_AUTH");
      check_error(svc().anonymous().post_raw("/api/v1/admin/reload", "", "", with_cookie(cookie)),
                  401, "MISSING_AUTH");
      check_error(svc().anonymous().post("/api/v1/badges/token", {{"app", "Planning"}},
                                         with_cookie(cookie)),
                  401, "MISSING_AUTH");
      // A cookie does not start another session either.
      check_error(svc().anonymous().post_raw("/api/v1/session", "", "", with_cookie(cookie)), 401,
                  "MISSING_AUTH");
    }
  }
  BOOST_TEST(svc().domain("Planning", "CookieWrite").is_null(), "nothing was written");
}

BOOST_AUTO_TEST_CASE(tampered_cookie_is_refused_with_401) {
  auto cookie = sign_in(read_key);
  auto dot = cookie.find('.');
  BOOST_TEST_REQUIRE(dot != std::string::npos);
  std::string flipped_mac = cookie;
  flipped_mac.back() = flipped_mac.back() == 'A' ? 'B' : 'A';
  // Claims of another key name with the original signature.
  auto other_claims = signer().sign("x", {{"key", "test_admin"}, {"role", "read"}, {"exp", 4102444800}});
  std::string swapped_claims = other_claims.substr(0, other_claims.find('.')) + cookie.substr(dot);
  // Signed with another key.
  auto foreign = epmpulse::http::issue_session_token(
    token_signer{"another-signing-key-0123456789abcdef"},
    {"test_read", std::chrono::system_clock::now() + std::chrono::hours(1)});
  for (const auto& bad : {flipped_mac, swapped_claims, foreign, cookie.substr(0, dot),
                          std::string("garbage"), std::string(".")}) {
    BOOST_TEST_CONTEXT(bad) {
      check_error(svc().anonymous().get("/api/v1/status", with_cookie(bad)), 401, "MISSING_AUTH");
    }
  }
}

BOOST_AUTO_TEST_CASE(expired_cookie_is_refused_and_a_live_one_accepted) {
  auto now = std::chrono::system_clock::now();
  auto expired = epmpulse::http::issue_session_token(signer(), {"test_read", now - std::chrono::seconds(1)});
  check_error(svc().anonymous().get("/api/v1/status", with_cookie(expired)), 401, "MISSING_AUTH");
  // The same forging with a future expiry works: what failed was the expiry.
  auto live = epmpulse::http::issue_session_token(signer(), {"test_read", now + std::chrono::minutes(5)});
  BOOST_TEST(svc().anonymous().get("/api/v1/status", with_cookie(live)).status == 200);
  // A session of a key no longer configured is refused.
  auto orphan = epmpulse::http::issue_session_token(signer(), {"removed_key", now + std::chrono::minutes(5)});
  check_error(svc().anonymous().get("/api/v1/status", with_cookie(orphan)), 401, "MISSING_AUTH");
}

BOOST_AUTO_TEST_CASE(session_needs_a_valid_key) {
  check_error(svc().anonymous().post_raw("/api/v1/session", "", ""), 401, "MISSING_AUTH");
  check_error(svc().client("not-a-key-0123456789abcdef").post_raw("/api/v1/session", "", ""), 403,
              "INVALID_KEY");
}

BOOST_AUTO_TEST_CASE(deleting_the_session_clears_the_cookie) {
  auto r = request("DELETE", svc().base_url() + "/api/v1/session");
  BOOST_TEST(r.status == 204, r.describe());
  auto header = r.header("set-cookie");
  BOOST_TEST(header.rfind("epmpulse_session=;", 0) == 0, header);
  BOOST_TEST(header.find("Max-Age=0") != std::string::npos, header);
  BOOST_TEST(header.find("HttpOnly") != std::string::npos, header);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(badges)

BOOST_AUTO_TEST_CASE(app_badge_shows_the_worst_domain_in_its_colour) {
  auto token = badge_token({{"app", "FCCS"}});
  auto path = "/badge/FCCS.svg?token=" + token;
  auto blank = svc().anonymous().get(path);
  BOOST_TEST_REQUIRE(blank.status == 200, blank.describe());
  BOOST_TEST(blank.header("content-type") == "image/svg+xml");
  BOOST_TEST(blank.header("cache-control") == "max-age=30");
  BOOST_TEST(blank.header("x-content-type-options") == "nosniff");
  BOOST_TEST(blank.body.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  BOOST_TEST(blank.body.find(">FCCS</text>") != std::string::npos);
  BOOST_TEST(blank.body.find(">Blank</text>") != std::string::npos);
  BOOST_TEST_REQUIRE(svc().writer().post("/api/v1/status", update("FCCS", "Consolidation", "OK")).status == 200);
  BOOST_TEST_REQUIRE(svc().writer().post("/api/v1/status", update("FCCS", "Late", "Warning")).status == 200);
  auto warning = svc().anonymous().get(path);
  BOOST_TEST(warning.body.find(">Warning</text>") != std::string::npos, warning.body);
  BOOST_TEST(warning.body.find("#d73a3a") != std::string::npos);
  auto ok = svc().anonymous().get("/badge/FCCS/Consolidation.svg?token=" + token);
  BOOST_TEST(ok.status == 200, ok.describe());
  BOOST_TEST(ok.body.find(">FCCS/Consolidation</text>") != std::string::npos, ok.body);
  BOOST_TEST(ok.body.find(">OK</text>") != std::string::npos);
  BOOST_TEST(ok.body.find("#2e9e44") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(token_issue_answers_a_path_with_escaped_names) {
  auto r = svc().admin().post("/api/v1/badges/token", {{"app", "Planning"}, {"domain", "Actual Data"}});
  BOOST_TEST_REQUIRE(r.status == 200, r.describe());
  auto body = r.json();
  register_secret(body["token"].get<std::string>());
  BOOST_TEST(body["scope"] == "Planning/Actual Data");
  auto path = body["path"].get<std::string>();
  BOOST_TEST(path.rfind("/badge/Planning/Actual%20Data.svg?token=", 0) == 0, path);
  BOOST_TEST_REQUIRE(svc().writer().post("/api/v1/status", update("Planning", "Actual Data", "Loading")).status == 200);
  auto badge = svc().anonymous().get(path);
  BOOST_TEST(badge.status == 200, badge.describe());
  BOOST_TEST(badge.body.find(">Loading</text>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(token_covers_its_scope_only) {
  auto domain_token = badge_token({{"app", "Planning"}, {"domain", "Actual"}});
  BOOST_TEST(svc().anonymous().get("/badge/Planning/Actual.svg?token=" + domain_token).status == 200);
  check_error(svc().anonymous().get("/badge/Planning/Budget.svg?token=" + domain_token), 403, "FORBIDDEN");
  check_error(svc().anonymous().get("/badge/Planning.svg?token=" + domain_token), 403, "FORBIDDEN");
  check_error(svc().anonymous().get("/badge/FCCS.svg?token=" + domain_token), 403, "FORBIDDEN");
  auto app_token = badge_token({{"app", "Planning"}});
  check_error(svc().anonymous().get("/badge/FCCS/Consolidation.svg?token=" + app_token), 403, "FORBIDDEN");
}

BOOST_AUTO_TEST_CASE(bad_tokens_are_refused) {
  check_error(svc().anonymous().get("/badge/Planning.svg"), 401, "MISSING_AUTH");
  check_error(svc().anonymous().get("/badge/Planning.svg?token="), 401, "MISSING_AUTH");
  auto token = badge_token({{"app", "Planning"}});
  std::string altered = token;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  check_error(svc().anonymous().get("/badge/Planning.svg?token=" + altered), 403, "INVALID_KEY");
  auto foreign = epmpulse::http::issue_badge_token(token_signer{"another-signing-key-0123456789abcdef"},
                                                   {"Planning", std::nullopt});
  check_error(svc().anonymous().get("/badge/Planning.svg?token=" + foreign), 403, "INVALID_KEY");
  // A session token is no badge token, though the same key signed it.
  auto session = sign_in(read_key);
  check_error(svc().anonymous().get("/badge/Planning.svg?token=" + session), 403, "INVALID_KEY");
  // Nor does an API key or a session cookie stand in for a badge token.
  check_error(svc().reader().get("/badge/Planning.svg"), 401, "MISSING_AUTH");
}

BOOST_AUTO_TEST_CASE(issuing_needs_admin_and_a_configured_app) {
  check_error(svc().reader().post("/api/v1/badges/token", {{"app", "Planning"}}), 403, "FORBIDDEN");
  check_error(svc().writer().post("/api/v1/badges/token", {{"app", "Planning"}}), 403, "FORBIDDEN");
  check_error(svc().admin().post("/api/v1/badges/token", {{"app", "Nope"}}), 400, "INVALID_APP");
  check_error(svc().admin().post("/api/v1/badges/token", {{"app", "Planning"}, {"domain", "<b>"}}), 400,
              "INVALID_REQUEST");
  check_error(svc().admin().post("/api/v1/badges/token", {{"app", "Planning"}, {"colour", "red"}}), 400,
              "INVALID_REQUEST");
}

BOOST_AUTO_TEST_CASE(unknown_badges_are_404) {
  auto token = badge_token({{"app", "Planning"}});
  check_error(svc().anonymous().get("/badge/Planning/Nowhere.svg?token=" + token), 404, "NOT_FOUND");
  check_error(svc().anonymous().get("/badge/Planning.png?token=" + token), 404, "NOT_FOUND");
  check_error(svc().anonymous().get("/badge/a/b/c.svg"), 404, "NOT_FOUND");
}

BOOST_AUTO_TEST_SUITE_END()

// -- public mode ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(public_dashboard_reads_without_credentials_but_never_writes) {
  service_options opts;
  opts.config["settings"]["dashboard"] = {{"public", true}, {"secure_cookie", true}};
  service open{opts};
  auto status = open.anonymous().get("/api/v1/status");
  BOOST_TEST(status.status == 200, status.describe());
  BOOST_TEST(open.anonymous().get("/api/v1/status/Planning").status == 200);
  auto badge = open.anonymous().get("/badge/Planning.svg");
  BOOST_TEST(badge.status == 200, badge.describe());
  BOOST_TEST(badge.header("content-type") == "image/svg+xml");
  // Writes, admin and the other read routes still need their keys.
  check_error(open.anonymous().post("/api/v1/status", update("Planning", "Public", "OK")), 401, "MISSING_AUTH");
  check_error(open.anonymous().get("/metrics"), 401, "MISSING_AUTH");
  check_error(open.anonymous().post("/api/v1/badges/token", {{"app", "Planning"}}), 401, "MISSING_AUTH");
  // A wrong key is still wrong.
  check_error(open.client("not-a-key-0123456789abcdef").get("/api/v1/status"), 403, "INVALID_KEY");
  // secure_cookie adds Secure; the key file was generated in the data dir.
  auto session = open.reader().post_raw("/api/v1/session", "", "");
  BOOST_TEST(session.status == 204, session.describe());
  BOOST_TEST(session.header("set-cookie").find("; Secure") != std::string::npos, session.header("set-cookie"));
  cookie_of(session);
  BOOST_TEST(std::filesystem::exists(open.data_dir() / "dashboard_signing.key"));
  auto perms = std::filesystem::status(open.data_dir() / "dashboard_signing.key").permissions();
  BOOST_TEST(((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all))
              == std::filesystem::perms::none));
}

BOOST_AUTO_TEST_CASE(generated_signing_key_survives_a_restart) {
  service_options opts;
  service svc2{opts};
  auto session = svc2.reader().post_raw("/api/v1/session", "", "");
  BOOST_TEST_REQUIRE(session.status == 204, session.describe());
  auto cookie = cookie_of(session);
  svc2.server().restart();
  BOOST_TEST(svc2.anonymous().get("/api/v1/status", with_cookie(cookie)).status == 200,
             "a restart keeps the browsers signed in");
}

BOOST_AUTO_TEST_SUITE_END()
