#include <boost/test/unit_test.hpp>

// The token actor in a real actor system against a fake OAuth token endpoint
// on loopback: caching, single flight, proactive refresh, invalidation after a
// 401, rotated refresh tokens surviving a restart, backoff and health, basic
// auth, and no secret in the logs.

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/pull/epm_status.hpp"
#include "actors/common/log.hpp"
#include "actors/common/durable_file.hpp"
#include "actors/pull/token_cache.hpp"
#include "tests/fakes/fake_epm.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(token_cache_tests)

using namespace epmpulse;
using namespace epmpulse::test;
using namespace std::chrono_literals;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  fake_token_endpoint endpoint;
  http_client_actor http = spawn_http_client(sys, 8);
  temp_dir dir{"epmpulse-token-"};

  std::vector<token_cache_actor> spawned;

  // The actor system's destructor waits for every actor: stop what we started.
  ~fixture() {
    for (const auto& tc : spawned)
      caf::anon_send_exit(tc, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(http, caf::exit_reason::user_shutdown);
  }

  config::epm_auth refresh_auth(std::string refresh_token = "rt-0") {
    config::epm_auth a;
    a.type = config::epm_auth_type::oauth_refresh_token;
    a.token_url = endpoint.url();
    a.client_id = "public-client";
    a.refresh_token = std::move(refresh_token);
    a.scope = "urn:opc:serviceInstanceID=abc urn:opc:resource:consumer::all";
    return a;
  }

  token_cache_options options(config::epm_auth auth) {
    token_cache_options o;
    o.auth = std::move(auth);
    o.data_dir = dir.path().string();
    o.http = http;
    o.backoff_initial = 200ms;
    o.backoff_max = 800ms;
    o.request_timeout_sec = 5;
    return o;
  }

  token_cache_actor spawn(token_cache_options o) {
    auto t = spawn_token_cache(sys, std::move(o));
    // Boost builds a check's message even when it passes, and error() of an
    // expected that holds a value is undefined: describe only a failure.
    if (!t)
      BOOST_FAIL("spawn failed: " << describe_error(t.error()));
    spawned.push_back(*t);
    return *t;
  }

  /// One token request; an error comes back as its description.
  caf::expected<access_token> token(const token_cache_actor& tc) {
    caf::scoped_actor self{sys};
    caf::expected<access_token> out{caf::make_error(ec::internal_error, std::string{"no answer"})};
    self->request(tc, 10s, token_atom_v)
      .receive([&](const access_token& t) { out = t; }, [&](caf::error& e) { out = e; });
    return out;
  }

  access_token invalidate(const token_cache_actor& tc, std::uint64_t generation) {
    caf::scoped_actor self{sys};
    access_token out;
    self->request(tc, 10s, invalid_atom_v, generation)
      .receive([&](const access_token& t) { out = t; },
               [&](caf::error& e) { BOOST_FAIL("invalidate failed: " << describe_error(e)); });
    return out;
  }

  token_health health(const token_cache_actor& tc) {
    caf::scoped_actor self{sys};
    token_health out;
    self->request(tc, 10s, health_atom_v)
      .receive([&](const token_health& h) { out = h; },
               [&](caf::error& e) { BOOST_FAIL("health failed: " << describe_error(e)); });
    return out;
  }

  void stop(const token_cache_actor& tc) {
    caf::scoped_actor self{sys};
    self->monitor(tc);
    caf::anon_send_exit(tc, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {}, caf::after(10s) >> [] { BOOST_FAIL("no down"); });
  }
};

std::string header_of(const caf::expected<access_token>& t) {
  return t ? t->header : "error: " + describe_error(t.error());
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(token_cache_tests, fixture)

// -- caching and single flight ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(cached_token_is_reused_while_more_than_a_minute_remains) {
  auto tc = spawn(options(refresh_auth()));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  BOOST_TEST(endpoint.calls() == 1u);
}

BOOST_AUTO_TEST_CASE(token_with_less_than_a_minute_left_is_not_handed_out) {
  endpoint.set_expires_in(59); // below min_remaining (60 s) from the start
  auto tc = spawn(options(refresh_auth()));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  BOOST_TEST(header_of(token(tc)) == "Bearer access-2");
  BOOST_TEST(endpoint.calls() == 2u);
}

BOOST_AUTO_TEST_CASE(hundred_concurrent_token_requests_cause_one_fetch) {
  endpoint.set_delay(300ms); // all requests arrive while the fetch is in flight
  auto tc = spawn(options(refresh_auth()));
  caf::scoped_actor self{sys};
  std::vector<std::string> headers;
  std::vector<decltype(self->request(tc, 10s, token_atom_v))> pending;
  for (int i = 0; i < 100; ++i)
    pending.push_back(self->request(tc, 10s, token_atom_v));
  for (auto& p : pending)
    p.receive([&](const access_token& t) { headers.push_back(t.header); },
              [&](caf::error& e) { headers.push_back("error: " + describe_error(e)); });
  BOOST_TEST(headers.size() == 100u);
  for (const auto& h : headers)
    BOOST_TEST(h == "Bearer access-1");
  BOOST_TEST(endpoint.calls() == 1u);
  auto h = health(tc);
  BOOST_TEST(h.fetches == 1u);
  BOOST_TEST(h.served == 100u);
}

// -- refresh --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(token_in_use_is_refreshed_proactively_before_expiry) {
  // Margins of 1.5 s and more on both sides: this must hold on a loaded machine.
  endpoint.set_expires_in(4);
  auto o = options(refresh_auth());
  o.min_remaining = 200ms;
  o.refresh_before = 2500ms; // refresh at 4 s - 2.5 s = 1.5 s after the fetch
  auto tc = spawn(std::move(o));
  auto first = token(tc);
  BOOST_TEST(header_of(first) == "Bearer access-1");
  auto fetched_at = std::chrono::steady_clock::now();
  // No request in between: the actor refreshes on its own timer.
  BOOST_TEST_REQUIRE(endpoint.wait_calls(2, 5s));
  auto refreshed_after = std::chrono::steady_clock::now() - fetched_at;
  BOOST_TEST(refreshed_after < 4s); // before the old token expired
  BOOST_TEST(refreshed_after >= 1s);
  // Until the new token's answer is processed the old one is still served.
  BOOST_TEST(eventually([&] { return header_of(token(tc)) == "Bearer access-2"; }, 5s));
  BOOST_TEST(endpoint.calls() == 2u); // the request was served from the refreshed cache
}

BOOST_AUTO_TEST_CASE(invalidate_fetches_one_new_token_and_stale_invalidations_reuse_it) {
  auto tc = spawn(options(refresh_auth()));
  auto first = token(tc);
  BOOST_TEST_REQUIRE(static_cast<bool>(first));
  auto second = invalidate(tc, first->generation);
  BOOST_TEST(second.header == "Bearer access-2");
  BOOST_TEST(second.generation > first->generation);
  // Another poller reporting the same old token: no second fetch.
  auto third = invalidate(tc, first->generation);
  BOOST_TEST(third.header == "Bearer access-2");
  BOOST_TEST(endpoint.calls() == 2u);
  BOOST_TEST(health(tc).invalidations == 2u);
}

// -- grants -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(refresh_grant_of_a_public_client_names_the_client_in_the_form) {
  auto tc = spawn(options(refresh_auth("rt-0")));
  BOOST_TEST_REQUIRE(static_cast<bool>(token(tc)));
  auto reqs = endpoint.requests();
  BOOST_TEST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].method == "POST");
  BOOST_TEST(reqs[0].headers["content-type"] == "application/x-www-form-urlencoded");
  BOOST_TEST(reqs[0].headers.count("authorization") == 0u);
  auto form = fake_token_endpoint::form(reqs[0].body);
  BOOST_TEST(form["grant_type"] == "refresh_token");
  BOOST_TEST(form["refresh_token"] == "rt-0");
  BOOST_TEST(form["client_id"] == "public-client");
  BOOST_TEST(form["scope"] == "urn:opc:serviceInstanceID=abc urn:opc:resource:consumer::all");
}

BOOST_AUTO_TEST_CASE(client_credentials_grant_authenticates_the_client_with_basic) {
  config::epm_auth a;
  a.type = config::epm_auth_type::oauth_client_credentials;
  a.token_url = endpoint.url();
  a.client_id = "client-1";
  a.client_secret = "secret-1";
  a.scope = "urn:opc:resource:consumer::all";
  auto tc = spawn(options(a));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  auto reqs = endpoint.requests();
  BOOST_TEST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].headers["authorization"] == "Basic Y2xpZW50LTE6c2VjcmV0LTE=");
  auto form = fake_token_endpoint::form(reqs[0].body);
  BOOST_TEST(form["grant_type"] == "client_credentials");
  BOOST_TEST(form["scope"] == "urn:opc:resource:consumer::all");
  BOOST_TEST(form.count("client_secret") == 0u);
  BOOST_TEST(reqs[0].body.find("secret-1") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(basic_auth_hands_out_the_basic_header_without_any_fetch) {
  config::epm_auth a;
  a.type = config::epm_auth_type::basic;
  a.username = "identitydomain.user";
  a.password = "p@ss w0rd";
  auto tc = spawn(options(a));
  BOOST_TEST(header_of(token(tc)) == "Basic aWRlbnRpdHlkb21haW4udXNlcjpwQHNzIHcwcmQ=");
  BOOST_TEST(invalidate(tc, 1).header == "Basic aWRlbnRpdHlkb21haW4udXNlcjpwQHNzIHcwcmQ=");
  BOOST_TEST(endpoint.calls() == 0u);
  BOOST_TEST(health(tc).status == "ok");
}

BOOST_AUTO_TEST_CASE(incomplete_auth_configuration_is_refused_at_spawn) {
  config::epm_auth a;
  a.type = config::epm_auth_type::basic;
  a.username = "user";
  auto t = spawn_token_cache(sys, options(a));
  BOOST_TEST(!t);
  a.type = config::epm_auth_type::oauth_client_credentials;
  a.token_url = endpoint.url();
  a.client_id = "c";
  BOOST_TEST(!spawn_token_cache(sys, options(a)));
}

// -- rotation ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rotated_refresh_token_is_persisted_0600_and_used_after_restart) {
  endpoint.accept_refresh_tokens({"rt-0"});
  endpoint.set_rotation(true);
  auto file = dir.file(refresh_token_file_name);
  {
    auto tc = spawn(options(refresh_auth("rt-0")));
    BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
    BOOST_TEST_REQUIRE(eventually([&] {
      return std::filesystem::exists(file)
             && read_file(file).find("rotated-1") != std::string::npos;
    }));
    struct stat st{};
    BOOST_TEST_REQUIRE(::stat(file.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_TEST(health(tc).rotations == 1u);
    stop(tc);
  }
  // rt-0 no longer works at the endpoint; the restarted actor must use rotated-1.
  auto tc = spawn(options(refresh_auth("rt-0")));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-2");
  auto reqs = endpoint.requests();
  BOOST_TEST_REQUIRE(reqs.size() == 2u);
  BOOST_TEST(fake_token_endpoint::form(reqs[1].body)["refresh_token"] == "rotated-1");
  // ...and the next rotation replaced the file again.
  BOOST_TEST(eventually([&] { return read_file(file).find("rotated-2") != std::string::npos; }));
  // No temp file left behind.
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  BOOST_TEST(entries == 1u);
}

BOOST_AUTO_TEST_CASE(stored_token_is_ignored_once_the_configured_one_changes) {
  auto auth = refresh_auth("rt-old");
  write_file(dir.file(refresh_token_file_name), stored_refresh_token_document(auth, "rotated-9"));
  std::string note;
  auto same = load_stored_refresh_token(dir.path().string(), auth, note);
  BOOST_TEST(same.value_or("") == "rotated-9");
  auto changed = refresh_auth("rt-new"); // an operator put a fresh token into the config
  BOOST_TEST(!load_stored_refresh_token(dir.path().string(), changed, note).has_value());
  BOOST_TEST(note.find("changed") != std::string::npos);
  auto other_client = refresh_auth("rt-old");
  other_client.client_id = "another";
  BOOST_TEST(!load_stored_refresh_token(dir.path().string(), other_client, note).has_value());
}

// -- failures -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(token_endpoint_down_backs_off_degrades_health_then_recovers) {
  endpoint.set_failing(true, 503);
  auto tc = spawn(options(refresh_auth()));
  auto first = token(tc);
  BOOST_TEST_REQUIRE(!first);
  BOOST_TEST(describe_error(first.error()).find("503") != std::string::npos);
  auto h = health(tc);
  BOOST_TEST(h.status == "error: token endpoint answered 503 (temporarily_unavailable)");
  BOOST_TEST(h.fetch_failures == 1u);
  // During the backoff, requests fail at once without calling the endpoint.
  BOOST_TEST(!token(tc));
  BOOST_TEST(endpoint.calls() == 1u);
  // Keep asking: calls happen only after 200 ms, then 400 ms, then 800 ms.
  BOOST_TEST_REQUIRE(eventually(
    [&] {
      (void)token(tc);
      return endpoint.calls() >= 4;
    },
    10s, 20ms));
  auto reqs = endpoint.requests();
  auto gap = [&](std::size_t i) { return reqs[i].received - reqs[i - 1].received; };
  BOOST_TEST((gap(1) >= 190ms));
  BOOST_TEST((gap(2) >= 390ms));
  BOOST_TEST((gap(3) >= 790ms));
  // Recovery: the next try after the backoff succeeds and health is ok again.
  endpoint.set_failing(false);
  BOOST_TEST_REQUIRE(eventually([&] { return static_cast<bool>(token(tc)); }, 10s, 20ms));
  BOOST_TEST(health(tc).status == "ok");
}

BOOST_AUTO_TEST_CASE(rejected_refresh_token_reports_invalid_grant_without_secrets) {
  endpoint.accept_refresh_tokens({"something-else"});
  auto tc = spawn(options(refresh_auth("rt-0")));
  auto t = token(tc);
  BOOST_TEST(!t);
  auto status = health(tc).status;
  BOOST_TEST(status == "error: token endpoint answered 400 (invalid_grant)");
  BOOST_TEST(status.find("rt-0") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(unreachable_token_endpoint_is_a_failure_with_a_reason) {
  auto auth = refresh_auth();
  auth.token_url = "http://127.0.0.1:1/oauth2/v1/token";
  auto tc = spawn(options(auth));
  BOOST_TEST(!token(tc));
  BOOST_TEST(health(tc).status.rfind("error: token endpoint unreachable", 0) == 0);
}

// -- logs ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(secrets_never_appear_in_logs) {
  // Capture this process's stderr (the JSON log) into a file.
  auto log_file = dir.file("stderr.log");
  std::fflush(stderr);
  int saved = ::dup(2);
  FILE* capture = std::fopen(log_file.c_str(), "w");
  BOOST_TEST_REQUIRE(capture != nullptr);
  ::dup2(::fileno(capture), 2);
  log::set_level(log::level::debug);
  {
    endpoint.accept_refresh_tokens({"rt-secret-0"});
    endpoint.set_rotation(true);
    auto tc = spawn(options(refresh_auth("rt-secret-0")));
    auto first = token(tc);                       // fetch + rotation + save
    (void)invalidate(tc, first ? first->generation : 0); // 401 path, rotation again
    endpoint.set_failing(true, 401);
    {                                              // failure path: an error is expected
      caf::scoped_actor self{sys};
      self->request(tc, 10s, invalid_atom_v, std::uint64_t{2})
        .receive([](const access_token&) {}, [](caf::error&) {});
    }
    config::epm_auth cc;
    cc.type = config::epm_auth_type::oauth_client_credentials;
    cc.token_url = endpoint.url();
    cc.client_id = "client-x";
    cc.client_secret = "client-secret-x";
    endpoint.set_failing(false);
    auto tc2 = spawn(options(cc));
    (void)token(tc2);
    config::epm_auth basic;
    basic.type = config::epm_auth_type::basic;
    basic.username = "user";
    basic.password = "basic-password-x";
    auto tc3 = spawn(options(basic));
    (void)token(tc3);
    BOOST_TEST(eventually([&] {
      return std::filesystem::exists(dir.file(refresh_token_file_name))
             && read_file(dir.file(refresh_token_file_name)).find("rotated-2") != std::string::npos;
    }));
    stop(tc);
    stop(tc2);
    stop(tc3);
  }
  log::set_level(log::level::info);
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(capture);
  auto text = read_file(log_file);
  BOOST_TEST(text.find("epm token fetched") != std::string::npos); // the log did capture
  for (const char* secret : {"rt-secret-0", "rotated-1", "rotated-2", "access-1", "access-2",
                             "access-3", "client-secret-x", "basic-password-x",
                             "dXNlcjpiYXNpYy1wYXNzd29yZC14", "Y2xpZW50LXg6Y2xpZW50LXNlY3JldC14",
                             "Bearer ", "Basic "})
    BOOST_TEST(text.find(secret) == std::string::npos, "secret in log: " << secret);
}

// -- pure helpers ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(token_responses_are_parsed_and_checked) {
  std::string error;
  auto ok = parse_token_response(
    200, R"({"access_token":"a","token_type":"Bearer","expires_in":"3600","refresh_token":"r"})",
    error);
  BOOST_TEST_REQUIRE(ok.has_value());
  BOOST_TEST(ok->expires_in.count() == 3600);
  BOOST_TEST(ok->refresh_token == "r");
  BOOST_TEST(!parse_token_response(200, R"({"token_type":"Bearer"})", error));
  BOOST_TEST(error == "token endpoint answer has no access_token");
  BOOST_TEST(!parse_token_response(200, R"({"access_token":"a","token_type":"mac"})", error));
  BOOST_TEST(!parse_token_response(200, R"({"access_token":"a","expires_in":0})", error));
  BOOST_TEST(!parse_token_response(401, R"({"error":"invalid_client","error_description":"x"})",
                                   error));
  BOOST_TEST(error == "token endpoint answered 401 (invalid_client)");
  BOOST_TEST(!parse_token_response(502, "<html>", error));
  BOOST_TEST(error == "token endpoint answered 502");
}

BOOST_AUTO_TEST_CASE(base64_and_form_encoding_follow_their_rfcs) {
  BOOST_TEST(base64_encode("") == "");
  BOOST_TEST(base64_encode("f") == "Zg==");
  BOOST_TEST(base64_encode("fo") == "Zm8=");
  BOOST_TEST(base64_encode("foo") == "Zm9v");
  BOOST_TEST(base64_encode("foobar") == "Zm9vYmFy");
  BOOST_TEST(form_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
  BOOST_TEST(fingerprint("x") == fingerprint("x"));
  BOOST_TEST(fingerprint("x") != fingerprint("y"));
}

BOOST_AUTO_TEST_CASE(atomic_write_replaces_the_file_with_mode_0600) {
  auto file = dir.file("secret.json");
  write_file(file, "old");
  ::chmod(file.c_str(), 0644);
  BOOST_TEST(!write_file_atomically(file.string(), "new").has_value());
  BOOST_TEST(read_file(file) == "new");
  struct stat st{};
  BOOST_TEST_REQUIRE(::stat(file.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_TEST(write_file_atomically((dir.path() / "missing" / "x").string(), "y").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // token_cache_tests
