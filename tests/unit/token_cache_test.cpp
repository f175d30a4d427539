#include <boost/test/unit_test.hpp>

// The token actor on simulated time: caching, single flight, proactive
// refresh, invalidation after a 401, rotated refresh tokens surviving a
// restart, backoff and health, basic auth, and no secret in the logs. The
// token endpoint is the scripted fake answered in process (the fake HTTP
// client), the detached secret writer a fake that records each save and
// writes it the way the real one does.

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"
#include "actors/pull/epm_status.hpp"
#include "actors/pull/token_cache.hpp"
#include "tests/fakes/fake_epm.hpp"
#include "tests/fakes/fake_http_client.hpp"
#include "tests/support/simulated_system.hpp"
#include "tests/support/temp_dir.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(token_cache_tests)

using namespace epmpulse;
using namespace epmpulse::test;
using namespace std::chrono_literals;

namespace {

/// What the fake secret writer was asked to save.
struct secret_saves {
  std::vector<std::pair<std::string, std::string>> files; ///< (path, content)
  std::string fail_with; ///< answered instead of saving when not empty
};

/// The secret writer's protocol, on the test coordinator. It saves through
/// the same atomic write as the real one (a small local file: no thread
/// needs to wait for it in a test).
secret_writer_actor::behavior_type fake_secret_writer(std::shared_ptr<secret_saves> saves) {
  return {
    [saves](write_atom, const std::string& path, const std::string& content) -> std::string {
      saves->files.emplace_back(path, content);
      if (!saves->fail_with.empty())
        return saves->fail_with;
      return write_file_atomically(path, content).value_or("");
    },
  };
}

/// A reply that may still be on its way: filled once the actor answers.
template <class T>
using pending_reply = std::shared_ptr<std::optional<caf::expected<T>>>;

struct fixture {
  simulated_system sim; // first: the actors below die before it
  std::shared_ptr<scripted_token_endpoint> endpoint = std::make_shared<scripted_token_endpoint>();
  std::shared_ptr<fake_http_log> http_log = std::make_shared<fake_http_log>();
  http_client_actor http =
    spawn_fake_http_client(sim.system(), answering_like(endpoint), http_log);
  std::shared_ptr<secret_saves> saves = std::make_shared<secret_saves>();
  temp_dir dir{"epmpulse-token-"};

  config::epm_auth refresh_auth(std::string refresh_token = "rt-0") {
    config::epm_auth a;
    a.type = config::epm_auth_type::oauth_refresh_token;
    a.token_url = "https://idcs.example.com/oauth2/v1/token";
    a.client_id = "public-client";
    a.refresh_token = std::move(refresh_token);
    a.scope = "urn:opc:serviceInstanceID=abcurn:opc:resource:consumer::all offline_access";
    return a;
  }

  /// Production's timings; a fresh fake writer (linked to the actor, it
  /// stops with it).
  token_cache_options options(config::epm_auth auth) {
    token_cache_options o;
    o.auth = std::move(auth);
    o.data_dir = dir.path().string();
    o.http = http;
    o.writer = sim.system().spawn(fake_secret_writer, saves);
    return o;
  }

  token_cache_actor spawn(token_cache_options o) {
    auto t = spawn_token_cache(sim.system(), std::move(o));
    // Boost builds a check's message even when it passes, and error() of an
    // expected that holds a value is undefined: describe only a failure.
    if (!t)
      BOOST_FAIL("spawn failed: " << describe_error(t.error()));
    sim.run();
    return *t;
  }

  /// One token request, answered without moving the clock.
  caf::expected<access_token> token(const token_cache_actor& tc) {
    auto answer = sim.ask<access_token>(tc, token_atom_v);
    if (!answer)
      return caf::make_error(ec::internal_error, std::string{"no answer"});
    return std::move(*answer);
  }

  /// Sends a token request and returns at once; the reply lands in the result.
  pending_reply<access_token> request_token(const token_cache_actor& tc) {
    auto reply = std::make_shared<std::optional<caf::expected<access_token>>>();
    sim.system().spawn([reply, tc](caf::event_based_actor* self) {
      self->request(tc, std::chrono::seconds{600}, token_atom_v)
        .then([reply](const access_token& t) { *reply = t; },
              [reply](const caf::error& e) { *reply = e; });
    });
    return reply;
  }

  access_token invalidate(const token_cache_actor& tc, std::uint64_t generation) {
    auto answer = sim.ask<access_token>(tc, invalid_atom_v, generation);
    if (!answer || !*answer)
      BOOST_FAIL("invalidate failed");
    return **answer;
  }

  token_health health(const token_cache_actor& tc) {
    auto answer = sim.ask<token_health>(tc, health_atom_v);
    if (!answer || !*answer)
      BOOST_FAIL("health failed");
    return **answer;
  }

  void stop(const token_cache_actor& tc) {
    caf::anon_send_exit(tc, caf::exit_reason::user_shutdown);
    sim.run();
  }

  std::size_t calls() const { return http_log->requests.size(); }
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
  sim.advance(54min); // 6 min of its hour left, the refresh not due yet
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  BOOST_TEST(calls() == 1u);
}

BOOST_AUTO_TEST_CASE(token_with_less_than_a_minute_left_is_not_handed_out) {
  endpoint->set_expires_in(59); // below min_remaining (60 s) from the start
  auto tc = spawn(options(refresh_auth()));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  BOOST_TEST(header_of(token(tc)) == "Bearer access-2");
  BOOST_TEST(calls() == 2u);
}

BOOST_AUTO_TEST_CASE(hundred_concurrent_token_requests_cause_one_fetch) {
  endpoint->set_delay(300ms); // all requests arrive while the fetch is in flight
  auto tc = spawn(options(refresh_auth()));
  std::vector<pending_reply<access_token>> replies;
  for (int i = 0; i < 100; ++i)
    replies.push_back(request_token(tc));
  sim.run();
  BOOST_TEST(calls() == 1u);
  for (const auto& r : replies)
    BOOST_TEST(!r->has_value()); // parked behind the fetch
  sim.advance(300ms);
  for (const auto& r : replies) {
    BOOST_TEST_REQUIRE(r->has_value());
    BOOST_TEST(header_of(**r) == "Bearer access-1");
  }
  BOOST_TEST(calls() == 1u);
  auto h = health(tc);
  BOOST_TEST(h.fetches == 1u);
  BOOST_TEST(h.served == 100u);
}

// -- refresh --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(token_in_use_is_refreshed_proactively_before_expiry) {
  auto tc = spawn(options(refresh_auth()));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  // An hour's token is refreshed when 5 minutes remain, on the actor's own timer.
  sim.advance(55min - 1ms);
  BOOST_TEST(calls() == 1u);
  sim.advance(1ms);
  BOOST_TEST(calls() == 2u);
  BOOST_TEST(header_of(token(tc)) == "Bearer access-2");
  BOOST_TEST(calls() == 2u); // served from the refreshed cache
}

BOOST_AUTO_TEST_CASE(short_lived_token_is_not_refreshed_in_the_first_half_of_its_life) {
  endpoint->set_expires_in(400); // 400 s - 5 min would be 100 s: too early
  auto tc = spawn(options(refresh_auth()));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  sim.advance(200s - 1ms);
  BOOST_TEST(calls() == 1u);
  sim.advance(1ms);
  BOOST_TEST(calls() == 2u);
}

BOOST_AUTO_TEST_CASE(token_nobody_used_since_the_refresh_is_left_to_lapse) {
  auto o = options(refresh_auth());
  o.refresh_keepalive = 0ms; // the keep-alive has a test of its own
  auto tc = spawn(std::move(o));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  sim.advance(55min); // refreshed: access-2, which nobody asks for
  BOOST_TEST(calls() == 2u);
  sim.advance(3h);
  BOOST_TEST(calls() == 2u);
  BOOST_TEST(!sim.has_pending_timer());
  // The next request fetches again.
  BOOST_TEST(header_of(token(tc)) == "Bearer access-3");
}

BOOST_AUTO_TEST_CASE(failed_proactive_refresh_is_retried_before_the_old_token_runs_out) {
  auto tc = spawn(options(refresh_auth()));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  endpoint->set_failing(true, 503);
  sim.advance(55min);
  BOOST_TEST(calls() == 2u);
  // The old token still has 5 minutes: it is still handed out.
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  endpoint->set_failing(false);
  sim.advance(1s); // the first backoff
  BOOST_TEST(calls() == 3u);
  BOOST_TEST(header_of(token(tc)) == "Bearer access-2");
  BOOST_TEST(health(tc).status == "ok");
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
  BOOST_TEST(calls() == 2u);
  BOOST_TEST(health(tc).invalidations == 2u);
}

BOOST_AUTO_TEST_CASE(invalidations_during_a_fetch_wait_for_it) {
  endpoint->set_delay(300ms);
  auto tc = spawn(options(refresh_auth()));
  auto first = request_token(tc);
  sim.advance(300ms);
  BOOST_TEST_REQUIRE(first->has_value());
  auto generation = (**first)->generation;
  // Two pollers got 401 with that token at the same moment.
  std::vector<pending_reply<access_token>> renewed;
  for (int i = 0; i < 2; ++i) {
    auto reply = std::make_shared<std::optional<caf::expected<access_token>>>();
    sim.system().spawn([reply, tc, generation](caf::event_based_actor* self) {
      self->request(tc, std::chrono::seconds{600}, invalid_atom_v, generation)
        .then([reply](const access_token& t) { *reply = t; },
              [reply](const caf::error& e) { *reply = e; });
    });
    renewed.push_back(reply);
  }
  sim.run();
  BOOST_TEST(calls() == 2u);
  sim.advance(300ms);
  for (const auto& r : renewed) {
    BOOST_TEST_REQUIRE(r->has_value());
    BOOST_TEST(header_of(**r) == "Bearer access-2");
  }
  BOOST_TEST(calls() == 2u);
}

// -- grants -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(refresh_grant_of_a_public_client_names_the_client_in_the_form) {
  auto tc = spawn(options(refresh_auth("rt-0")));
  BOOST_TEST_REQUIRE(static_cast<bool>(token(tc)));
  const auto& reqs = http_log->requests;
  BOOST_TEST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].method == "POST");
  BOOST_TEST(reqs[0].path == "/oauth2/v1/token");
  BOOST_TEST(reqs[0].headers.at("content-type") == "application/x-www-form-urlencoded");
  BOOST_TEST(reqs[0].headers.count("authorization") == 0u);
  auto form = scripted_token_endpoint::form(reqs[0].body);
  BOOST_TEST(form["grant_type"] == "refresh_token");
  BOOST_TEST(form["refresh_token"] == "rt-0");
  BOOST_TEST(form["client_id"] == "public-client");
  BOOST_TEST(form["scope"] == "urn:opc:serviceInstanceID=abcurn:opc:resource:consumer::all offline_access");
}

BOOST_AUTO_TEST_CASE(client_credentials_grant_authenticates_the_client_with_basic) {
  config::epm_auth a;
  a.type = config::epm_auth_type::oauth_client_credentials;
  a.token_url = "https://idcs.example.com/oauth2/v1/token";
  a.client_id = "client-1";
  a.client_secret = "secret-1";
  a.scope = "urn:opc:resource:consumer::all";
  auto tc = spawn(options(a));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  const auto& reqs = http_log->requests;
  BOOST_TEST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].headers.at("authorization") == "Basic Y2xpZW50LTE6c2VjcmV0LTE=");
  auto form = scripted_token_endpoint::form(reqs[0].body);
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
  BOOST_TEST(calls() == 0u);
  BOOST_TEST(health(tc).status == "ok");
}

BOOST_AUTO_TEST_CASE(incomplete_auth_configuration_is_refused_at_spawn) {
  config::epm_auth a;
  a.type = config::epm_auth_type::basic;
  a.username = "user";
  auto t = spawn_token_cache(sim.system(), options(a));
  BOOST_TEST(!t);
  a.type = config::epm_auth_type::oauth_client_credentials;
  a.token_url = "https://idcs.example.com/oauth2/v1/token";
  a.client_id = "c";
  BOOST_TEST(!spawn_token_cache(sim.system(), options(a)));
}

// -- rotation ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rotated_refresh_token_is_persisted_0600_and_used_after_restart) {
  endpoint->accept_refresh_tokens({"rt-0"});
  endpoint->set_rotation(true);
  auto file = dir.file(refresh_token_file_name);
  {
    auto tc = spawn(options(refresh_auth("rt-0")));
    BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
    BOOST_TEST_REQUIRE(saves->files.size() == 1u);
    BOOST_TEST(saves->files[0].first == file.string());
    BOOST_TEST(saves->files[0].second.find("rotated-1") != std::string::npos);
    BOOST_TEST(read_file(file).find("rotated-1") != std::string::npos);
    struct stat st{};
    BOOST_TEST_REQUIRE(::stat(file.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_TEST(health(tc).rotations == 1u);
    stop(tc);
  }
  // rt-0 no longer works at the endpoint; the restarted actor must use rotated-1.
  auto tc = spawn(options(refresh_auth("rt-0")));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-2");
  const auto& reqs = http_log->requests;
  BOOST_TEST_REQUIRE(reqs.size() == 2u);
  BOOST_TEST(scripted_token_endpoint::form(reqs[1].body)["refresh_token"] == "rotated-1");
  // ...and the next rotation replaced the file again.
  BOOST_TEST(saves->files.size() == 2u);
  BOOST_TEST(read_file(file).find("rotated-2") != std::string::npos);
  // No temp file left behind.
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  BOOST_TEST(entries == 1u);
}

BOOST_AUTO_TEST_CASE(rotated_token_that_cannot_be_saved_degrades_health_but_is_used) {
  endpoint->accept_refresh_tokens({"rt-0"});
  endpoint->set_rotation(true);
  saves->fail_with = "No space left on device";
  auto tc = spawn(options(refresh_auth("rt-0")));
  auto first = token(tc);
  BOOST_TEST(header_of(first) == "Bearer access-1");
  BOOST_TEST(saves->files.size() == 1u);
  auto degraded = health(tc).status;
  BOOST_TEST(degraded.rfind("error: cannot save the rotated refresh token", 0) == 0, degraded);
  BOOST_TEST(degraded.find("No space left on device") != std::string::npos, degraded);
  // The rotated token is what the endpoint now takes, and what the actor sends.
  BOOST_TEST_REQUIRE(static_cast<bool>(first));
  saves->fail_with.clear();
  BOOST_TEST(invalidate(tc, first->generation).header == "Bearer access-2");
  BOOST_TEST(scripted_token_endpoint::form(http_log->requests[1].body)["refresh_token"]
             == "rotated-1");
  BOOST_TEST(health(tc).status == "ok");
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

BOOST_AUTO_TEST_CASE(token_endpoint_down_backs_off_1_2_4_up_to_60_s_then_recovers) {
  endpoint->set_failing(true, 503);
  auto tc = spawn(options(refresh_auth()));
  auto first = token(tc);
  BOOST_TEST_REQUIRE(!first);
  BOOST_TEST(describe_error(first.error()).find("503") != std::string::npos);
  auto h = health(tc);
  BOOST_TEST(h.status == "error: token endpoint answered 503 (temporarily_unavailable)");
  BOOST_TEST(h.fetch_failures == 1u);
  // Each backoff: a request just before its end fails at once without a
  // call; one at its end calls the endpoint (and fails again).
  for (auto backoff : {1s, 2s, 4s, 8s, 16s, 32s, 60s, 60s}) {
    auto before = calls();
    sim.advance(backoff - 1ms);
    auto early = token(tc);
    BOOST_TEST(!early);
    BOOST_TEST(describe_error(early.error()).find("next try in") != std::string::npos);
    BOOST_TEST(calls() == before, "called early in a backoff of " << backoff.count() << " s");
    sim.advance(1ms);
    BOOST_TEST(!token(tc));
    BOOST_TEST(calls() == before + 1, "no call after a backoff of " << backoff.count() << " s");
  }
  // Recovery: the next try after the backoff succeeds and health is ok again.
  endpoint->set_failing(false);
  sim.advance(60s);
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  BOOST_TEST(health(tc).status == "ok");
  // The count starts over: a new failure backs off 1 s again.
  endpoint->set_failing(true, 503);
  auto renewal = sim.ask<access_token>(tc, invalid_atom_v, std::uint64_t{1});
  BOOST_TEST_REQUIRE(renewal.has_value());
  BOOST_TEST(!*renewal);
  auto before = calls();
  sim.advance(1s - 1ms);
  BOOST_TEST(!token(tc));
  BOOST_TEST(calls() == before);
  sim.advance(1ms);
  BOOST_TEST(!token(tc));
  BOOST_TEST(calls() == before + 1);
}

BOOST_AUTO_TEST_CASE(rejected_refresh_token_reports_invalid_grant_without_secrets) {
  endpoint->accept_refresh_tokens({"something-else"});
  auto tc = spawn(options(refresh_auth("rt-0")));
  auto t = token(tc);
  BOOST_TEST(!t);
  auto status = health(tc).status;
  BOOST_TEST(status.rfind("error: token endpoint answered 400 (invalid_grant): the refresh token "
                          "is expired, revoked or already used", 0) == 0, status);
  BOOST_TEST(status.find("rt-0") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(unreachable_token_endpoint_is_a_failure_with_a_reason) {
  auto o = options(refresh_auth());
  o.http = spawn_fake_http_client(sim.system(), unreachable("Couldn't connect to server"),
                                  std::make_shared<fake_http_log>());
  auto tc = spawn(std::move(o));
  BOOST_TEST(!token(tc));
  BOOST_TEST(health(tc).status
             == "error: token endpoint unreachable: Couldn't connect to server");
}

BOOST_AUTO_TEST_CASE(token_endpoint_slower_than_the_request_timeout_is_a_failure) {
  endpoint->set_delay(20s); // the call's whole-transfer limit is 15 s
  auto tc = spawn(options(refresh_auth()));
  auto reply = request_token(tc);
  sim.advance(15s - 1ms);
  BOOST_TEST(!reply->has_value());
  sim.advance(1ms);
  BOOST_TEST_REQUIRE(reply->has_value());
  BOOST_TEST(!**reply);
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
    endpoint->accept_refresh_tokens({"rt-secret-0"});
    endpoint->set_rotation(true);
    auto tc = spawn(options(refresh_auth("rt-secret-0")));
    auto first = token(tc);                              // fetch + rotation + save
    (void)invalidate(tc, first ? first->generation : 0); // 401 path, rotation again
    endpoint->set_failing(true, 401);
    (void)sim.ask<access_token>(tc, invalid_atom_v, std::uint64_t{2}); // failure path
    config::epm_auth cc;
    cc.type = config::epm_auth_type::oauth_client_credentials;
    cc.token_url = "https://idcs.example.com/oauth2/v1/token";
    cc.client_id = "client-x";
    cc.client_secret = "client-secret-x";
    endpoint->set_failing(false);
    auto tc2 = spawn(options(cc));
    (void)token(tc2);
    config::epm_auth basic;
    basic.type = config::epm_auth_type::basic;
    basic.username = "user";
    basic.password = "basic-password-x";
    auto tc3 = spawn(options(basic));
    (void)token(tc3);
    BOOST_TEST(read_file(dir.file(refresh_token_file_name)).find("rotated-2")
               != std::string::npos);
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
  BOOST_TEST(error
             == "token endpoint answered 401 (invalid_client): the identity domain does not "
                "accept this client id or secret"); // the description ("x") is left out
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

// -- refresh tokens as OCI IAM treats them ----------------------------------------------

BOOST_AUTO_TEST_CASE(refresh_token_is_kept_alive_while_nothing_is_polled) {
  // Single use, lapsing after 7 days: a week without polls must not lose it.
  endpoint->accept_refresh_tokens({"rt-0"}, sim.now());
  endpoint->set_refresh_token_lifetime(std::chrono::hours{24 * 7});
  endpoint->set_rotation(true);
  auto tc = spawn(options(refresh_auth("rt-0")));
  sim.advance(std::chrono::hours{12} - 1ms);
  BOOST_TEST(calls() == 0u);
  sim.advance(1ms);
  BOOST_TEST(calls() == 1u); // the keep-alive, with nobody asking for a token
  sim.advance(std::chrono::hours{24 * 8});
  BOOST_TEST(calls() == 17u); // every 12 h
  BOOST_TEST(endpoint->issued() == 17u); // each with the last rotated token, still alive
  BOOST_TEST(saves->files.size() == 17u); // each rotation saved
  auto t = token(tc); // a job after 8 quiet days still gets a token
  BOOST_TEST(static_cast<bool>(t), header_of(t));
  BOOST_TEST(health(tc).status == "ok");
}

BOOST_AUTO_TEST_CASE(keepalive_due_during_a_failing_fetch_is_tried_again_after_the_backoff) {
  auto tc = spawn(options(refresh_auth()));
  // An ordinary fetch starts 5 s before the keep-alive is due and outlasts
  // the 15 s transfer limit: the keep-alive fires while it is in flight.
  endpoint->set_delay(20s);
  sim.advance(std::chrono::hours{12} - 5s);
  BOOST_TEST(calls() == 0u);
  auto reply = request_token(tc);
  sim.advance(5s);
  BOOST_TEST(calls() == 1u);
  sim.advance(10s); // the fetch fails: 1 s backoff
  BOOST_TEST_REQUIRE(reply->has_value());
  BOOST_TEST(!**reply);
  endpoint->set_delay(0ms);
  sim.advance(1s);
  BOOST_TEST(calls() == 2u, "the keep-alive was not tried again after the failed fetch");
  BOOST_TEST(health(tc).status == "ok");
}

BOOST_AUTO_TEST_CASE(refresh_token_that_lapsed_reports_invalid_grant_with_the_fix) {
  endpoint->accept_refresh_tokens({"rt-0"}, sim.now());
  endpoint->set_refresh_token_lifetime(std::chrono::hours{24 * 7});
  auto o = options(refresh_auth("rt-0"));
  o.refresh_keepalive = 0ms; // as before keep-alives: nothing uses the token for 8 days
  auto tc = spawn(std::move(o));
  sim.advance(std::chrono::hours{24 * 8});
  auto t = token(tc);
  BOOST_TEST(!t);
  auto status = health(tc).status;
  BOOST_TEST(status.find("invalid_grant") != std::string::npos, status);
  BOOST_TEST(status.find("get a new one") != std::string::npos, status);
  BOOST_TEST(status.find("rt-0") == std::string::npos, status);
}

BOOST_AUTO_TEST_CASE(failed_save_of_a_rotated_token_is_retried_until_it_succeeds) {
  endpoint->accept_refresh_tokens({"rt-0"});
  endpoint->set_rotation(true);
  saves->fail_with = "Input/output error";
  auto tc = spawn(options(refresh_auth("rt-0")));
  BOOST_TEST(header_of(token(tc)) == "Bearer access-1");
  BOOST_TEST(saves->files.size() == 1u);
  BOOST_TEST(health(tc).status.find("retrying") != std::string::npos, health(tc).status);
  sim.advance(1s);
  BOOST_TEST(saves->files.size() == 2u); // retried after 1 s
  sim.advance(2s);
  BOOST_TEST(saves->files.size() == 3u); // then 2 s
  saves->fail_with.clear();
  sim.advance(4s);
  BOOST_TEST(saves->files.size() == 4u);
  BOOST_TEST(health(tc).status == "ok");
  std::string note;
  auto stored = load_stored_refresh_token(dir.path().string(), refresh_auth("rt-0"), note);
  BOOST_TEST(stored.value_or("") == "rotated-1"); // a restart now starts from the live token
  sim.advance(30min); // before the access token's proactive refresh rotates again
  BOOST_TEST(saves->files.size() == 4u); // saved: no more retries
}

BOOST_AUTO_TEST_CASE(unusable_stored_token_falls_back_with_a_warning_in_health) {
  write_file(dir.file(refresh_token_file_name), "{ not json");
  endpoint->accept_refresh_tokens({"rt-0"});
  auto tc = spawn(options(refresh_auth("rt-0")));
  auto status = health(tc).status;
  BOOST_TEST(status.find("stored rotated refresh token was not used") != std::string::npos,
             status);
  BOOST_TEST(status.find("may already be consumed") != std::string::npos, status);
}

BOOST_AUTO_TEST_CASE(wrong_client_secret_is_invalid_client) {
  endpoint->require_client_secret("confidential", "right-secret");
  auto auth = refresh_auth("rt-0");
  auth.client_id = "confidential";
  auth.client_secret = "wrong-secret";
  auto tc = spawn(options(auth));
  BOOST_TEST(!token(tc));
  auto status = health(tc).status;
  BOOST_TEST(status.find("401 (invalid_client): the identity domain does not accept this "
                         "client id or secret") != std::string::npos, status);
  BOOST_TEST(status.find("wrong-secret") == std::string::npos, status);
  BOOST_TEST(status.find("Client authentication failed") == std::string::npos, status);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // token_cache_tests
