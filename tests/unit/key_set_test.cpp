#include <boost/test/unit_test.hpp>

// API keys in force: the constant-time compare, authentication with expiry,
// what a reload changes, publishing a new set while requests read the old
// one, and the reload itself from a real file.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <date/date.h>

#include "http/auth.hpp"
#include "http/key_reloader.hpp"
#include "http/rate_limiter.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/config_parsing.hpp"
#include "tests/support/test_config.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(key_set_tests)

using namespace epmpulse;
using namespace epmpulse::http;
using namespace std::chrono_literals;
using config::api_key;
using config::key_role;

namespace {

const auto t0 = std::chrono::system_clock::time_point{} + std::chrono::hours{24 * 365 * 50};

config::rate_limit_settings limits(int status_per_minute) {
  config::rate_limit_settings l;
  l.status_per_minute = status_per_minute;
  return l;
}

api_key key(std::string name, std::string value, key_role role = key_role::write,
            std::optional<std::chrono::system_clock::time_point> expires = std::nullopt) {
  return {std::move(name), std::move(value), role, expires};
}

std::string bearer(const std::string& k) {
  return "Bearer " + k;
}

// The fastest of `rounds` runs of `f`, in nanoseconds: the minimum is what
// the code costs; everything above it is the machine's noise.
template <class F>
double fastest_ns(int rounds, F f) {
  double best = 1e18;
  for (int i = 0; i < rounds; ++i) {
    auto start = std::chrono::steady_clock::now();
    f();
    std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count());
  }
  return best;
}

} // namespace

// -- constant-time compare ----------------------------------------------------

BOOST_AUTO_TEST_CASE(constant_time_equal_is_plain_equality) {
  BOOST_TEST(constant_time_equal("abc", "abc"));
  BOOST_TEST(constant_time_equal("", ""));
  BOOST_TEST(!constant_time_equal("abc", "abd"));
  BOOST_TEST(!constant_time_equal("abc", "ab"));
  BOOST_TEST(!constant_time_equal("ab", "abc"));
  BOOST_TEST(!constant_time_equal("", "a"));
  // A shorter input padded with NULs is still not equal.
  BOOST_TEST(!constant_time_equal(std::string_view{"ab\0", 3}, "ab"));
}

BOOST_AUTO_TEST_CASE(the_compare_takes_as_long_whether_the_first_or_the_last_byte_differs) {
  // An early-exit compare (memcmp, ==) is about 10,000 times faster when the
  // first byte differs; a factor of 4 leaves room for any machine's noise
  // without letting such a compare pass.
  const std::string secret(64 * 1024, 'k');
  std::string first_differs = secret;
  first_differs.front() = 'x';
  std::string last_differs = secret;
  last_differs.back() = 'x';
  volatile bool sink = false;
  double early = 0, late = 0;
  for (int pass = 0; pass < 3; ++pass) { // interleaved, so a slow phase hits both
    early = fastest_ns(30, [&] { sink = constant_time_equal(first_differs, secret); });
    late = fastest_ns(30, [&] { sink = constant_time_equal(last_differs, secret); });
  }
  BOOST_TEST_MESSAGE("first byte differs: " << early << " ns, last byte differs: " << late << " ns");
  BOOST_TEST(early * 4 > late);
  BOOST_TEST(late * 4 > early);
  BOOST_TEST(!sink);
}

// -- authenticate -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_configured_key_is_found_by_its_value) {
  key_set keys({key("groovy", "groovy-key-0123456789"), key("reader", "reader-key-0123456789",
                                                            key_role::read)},
               limits(60));
  api_error err;
  const auto* k = keys.authenticate(bearer("reader-key-0123456789"), err, t0);
  BOOST_REQUIRE(k != nullptr);
  BOOST_TEST(k->name == "reader");
  BOOST_TEST(keys.authenticate("bearer  groovy-key-0123456789 ", err, t0)->name == "groovy");
}

BOOST_AUTO_TEST_CASE(an_unknown_or_missing_key_is_refused_with_its_code) {
  key_set keys({key("groovy", "groovy-key-0123456789")}, limits(60));
  api_error err;
  BOOST_TEST(keys.authenticate(bearer("groovy-key-012345678"), err, t0) == nullptr);
  BOOST_TEST(api_code(err.code) == std::string{"INVALID_KEY"});
  BOOST_TEST(keys.authenticate("", err, t0) == nullptr);
  BOOST_TEST(api_code(err.code) == std::string{"MISSING_AUTH"});
}

BOOST_AUTO_TEST_CASE(an_expired_key_is_refused_by_name_never_by_value) {
  key_set keys({key("odi", "odi-key-0123456789abc", key_role::write, t0),
                key("later", "later-key-0123456789ab", key_role::write, t0 + 1h)},
               limits(60));
  api_error err;
  BOOST_TEST(keys.authenticate(bearer("odi-key-0123456789abc"), err, t0 - 1s) != nullptr);
  BOOST_TEST(keys.authenticate(bearer("odi-key-0123456789abc"), err, t0) == nullptr);
  BOOST_TEST(api_code(err.code) == std::string{"KEY_EXPIRED"});
  BOOST_TEST(http_status(err.code) == 401);
  BOOST_TEST(err.message.find("'odi' expired at ") != std::string::npos, err.message);
  BOOST_TEST(err.message.find("odi-key-0123456789abc") == std::string::npos);
  BOOST_TEST(err.details.dump().find("odi-key-0123456789abc") == std::string::npos);
  BOOST_TEST(err.details["key"] == "odi");
  // Another key of the same set still works.
  BOOST_TEST(keys.authenticate(bearer("later-key-0123456789ab"), err, t0)->name == "later");
}

// -- what a reload changes ----------------------------------------------------

BOOST_AUTO_TEST_CASE(changes_name_the_keys_added_removed_and_changed) {
  key_set before({key("a", "aaaaaaaaaaaaaaaa1"), key("b", "bbbbbbbbbbbbbbbb1"),
                  key("c", "cccccccccccccccc1")},
                 limits(60));
  key_set after({key("a", "aaaaaaaaaaaaaaaa1"), key("b", "bbbbbbbbbbbbbbbb2"),
                 key("d", "dddddddddddddddd1")},
                limits(60));
  auto changes = compare(before, after);
  BOOST_TEST(changes.added == std::vector<std::string>{"d"});
  BOOST_TEST(changes.removed == std::vector<std::string>{"c"});
  BOOST_TEST(changes.changed == std::vector<std::string>{"b"});
  BOOST_TEST(!changes.rate_limits_changed);
  BOOST_TEST(compare(before, key_set{before.keys(), limits(61)}).rate_limits_changed);
  auto expiring = before.keys();
  expiring[0].expires = t0;
  BOOST_TEST(compare(before, key_set{expiring, limits(60)}).changed == std::vector<std::string>{"a"});
  BOOST_TEST(!compare(before, before).any());
}

BOOST_AUTO_TEST_CASE(a_request_keeps_the_set_it_read_while_a_new_one_is_published) {
  key_holder holder{key_set{{key("old", "old-key-0123456789ab")}, limits(60)}};
  const key_set& seen = holder.current();
  auto changes = holder.replace(key_set{{key("new", "new-key-0123456789ab")}, limits(5)});
  BOOST_TEST(changes.added == std::vector<std::string>{"new"});
  api_error err;
  // The reference a request took before the reload still reads the old set.
  BOOST_TEST(seen.authenticate(bearer("old-key-0123456789ab"), err, t0) != nullptr);
  BOOST_TEST(holder.current().authenticate(bearer("old-key-0123456789ab"), err, t0) == nullptr);
  BOOST_TEST(holder.current().authenticate(bearer("new-key-0123456789ab"), err, t0) != nullptr);
  BOOST_TEST(holder.current().rate_limits().status_per_minute == 5);
  BOOST_TEST(holder.reloads_applied() == 1u);
}

BOOST_AUTO_TEST_CASE(readers_on_other_threads_always_see_one_whole_set) {
  // Each published set holds a key and a limit that belong together; a
  // reader that saw one without the other would have read a torn set.
  auto set_number = [](int n) {
    return key_set{{key("k", "key-number-" + std::to_string(1000000 + n))}, limits(n + 1)};
  };
  key_holder holder{set_number(0)};
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r)
    readers.emplace_back([&] {
      while (!done.load()) {
        const key_set& s = holder.current();
        int n = s.rate_limits().status_per_minute - 1;
        api_error err;
        if (s.authenticate(bearer("key-number-" + std::to_string(1000000 + n)), err, t0) == nullptr)
          ++torn;
        ++reads;
      }
    });
  int published = 0;
  while (published < 2000)
    holder.replace(set_number(++published));
  BOOST_TEST(test::eventually([&] { return reads.load() > 1000; }));
  done = true;
  for (auto& t : readers)
    t.join();
  BOOST_TEST(torn.load() == 0);
  BOOST_TEST(holder.current().rate_limits().status_per_minute == published + 1);
}

// -- the rate buckets across a reload -------------------------------------------

BOOST_AUTO_TEST_CASE(forgetting_a_removed_keys_bucket_keeps_the_others) {
  rate_limiter limiter;
  auto now = rate_limiter::clock::now();
  for (int i = 0; i < 3; ++i) {
    limiter.admit(status_bucket("gone"), 3, now);
    limiter.admit(status_bucket("kept"), 3, now);
  }
  BOOST_TEST(!limiter.admit(status_bucket("kept"), 3, now).allowed);
  limiter.forget(status_bucket("gone"));
  BOOST_TEST(limiter.tracked() == 1u);
  // The remaining key's bucket is still empty: a reload is no reset.
  BOOST_TEST(!limiter.admit(status_bucket("kept"), 3, now).allowed);
  BOOST_TEST(limiter.admit(status_bucket("gone"), 3, now).allowed);
}

// -- reloading from a file ----------------------------------------------------------

namespace {

struct reload_fixture {
  test::temp_dir dir{"epmpulse-reload-"};
  nlohmann::json cfg = test::default_test_config();
  key_holder holder{key_set{{key("test_write", test::write_key)}, limits(60)}};
  rate_limiter limiter;

  reload_source source() {
    return {test::write_config(dir.path(), cfg).string(), dir.path().string(),
            [](const std::string&) { return std::optional<std::string>{}; }};
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_valid_file_publishes_its_keys_and_limits, reload_fixture) {
  cfg["api_keys"].push_back({{"name", "rotated"}, {"key", "rotated-key-0123456789ab"}});
  cfg["settings"]["rate_limits"] = {{"enabled", true}, {"status_per_minute", 7}};
  auto now = rate_limiter::clock::now();
  limiter.admit(status_bucket("test_write"), 60, now);
  auto outcome = reload_keys(source(), "test", holder, limiter);
  BOOST_TEST(!outcome.refused);
  BOOST_TEST(outcome.keys == 4u);
  BOOST_TEST(outcome.changes.rate_limits_changed);
  BOOST_TEST((outcome.changes.added
              == std::vector<std::string>{"test_read", "test_admin", "rotated"}));
  BOOST_TEST(holder.current().rate_limits().status_per_minute == 7);
  BOOST_TEST(limiter.tracked() == 1u, "the bucket of a key that stays is kept");
  auto body = outcome.to_json().dump();
  BOOST_TEST(body.find("rotated-key-0123456789ab") == std::string::npos, body);
}

BOOST_FIXTURE_TEST_CASE(removing_a_key_drops_its_buckets, reload_fixture) {
  auto now = rate_limiter::clock::now();
  limiter.admit(status_bucket("test_write"), 60, now);
  limiter.admit(batch_bucket("test_write"), 60, now);
  cfg["api_keys"] = nlohmann::json::array({{{"name", "other"}, {"key", "other-key-0123456789ab"}}});
  auto outcome = reload_keys(source(), "test", holder, limiter);
  BOOST_TEST(outcome.changes.removed == std::vector<std::string>{"test_write"});
  BOOST_TEST(limiter.tracked() == 0u);
}

BOOST_FIXTURE_TEST_CASE(an_invalid_file_changes_nothing_and_says_why, reload_fixture) {
  cfg["api_keys"] = nlohmann::json::array(
    {{{"name", "short"}, {"key", "too-short"}}, {{"name", "ok"}, {"key", "fine-key-0123456789ab"}}});
  const key_set* before = &holder.current();
  auto outcome = reload_keys(source(), "test", holder, limiter);
  BOOST_REQUIRE(outcome.refused);
  BOOST_TEST(outcome.refused->field == "api_keys[0].key");
  BOOST_TEST(outcome.refused->to_string().find("too-short") == std::string::npos);
  BOOST_TEST(&holder.current() == before);
  BOOST_TEST(holder.reloads_refused() == 1u);
  BOOST_TEST(holder.reloads_applied() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_bad_expiry_is_refused_with_the_field, reload_fixture) {
  cfg["api_keys"][0]["expires"] = "next tuesday";
  auto outcome = reload_keys(source(), "test", holder, limiter);
  BOOST_REQUIRE(outcome.refused);
  BOOST_TEST(outcome.refused->field == "api_keys[0].expires");
  BOOST_TEST(outcome.refused->problem.find("RFC 3339") != std::string::npos);
}

// -- expires in the configuration ---------------------------------------------------

namespace {

std::string with_expiry(const std::string& expires) {
  return R"({"apps": {"Planning": {}}, "api_keys": [{"name": "groovy", "key": "groovy-key-0123456789", "expires": ")"
         + expires + R"("}]})";
}

} // namespace

BOOST_AUTO_TEST_CASE(expires_takes_rfc_3339_with_z_or_an_offset) {
  namespace cp = test::config_parsing;
  auto utc = cp::parse_ok(with_expiry("2090-03-31T00:00:00Z"));
  auto offset = cp::parse_ok(with_expiry("2090-03-31T02:00:00+02:00"));
  auto fraction = cp::parse_ok(with_expiry("2090-03-31T00:00:00.250Z"));
  BOOST_REQUIRE(utc.api_keys[0].expires);
  BOOST_TEST((utc.api_keys[0].expires == offset.api_keys[0].expires));
  BOOST_TEST((*fraction.api_keys[0].expires - *utc.api_keys[0].expires == 250ms));
  // Read as pushed timestamps are: RFC 3339 allows a lowercase "t" and "z",
  // and a space between the date and the time.
  for (const char* spelling : {"2090-03-31t00:00:00z", "2090-03-31 00:00:00Z"})
    BOOST_TEST((cp::parse_ok(with_expiry(spelling)).api_keys[0].expires
                == utc.api_keys[0].expires),
               spelling);
  BOOST_TEST(utc.warnings.empty());
  BOOST_TEST(!cp::parse_ok(cp::minimal).api_keys.size());
}

BOOST_AUTO_TEST_CASE(an_expiry_that_is_not_a_time_names_the_field_and_the_fix) {
  namespace cp = test::config_parsing;
  for (const char* bad : {"2090-03-31", "2090-02-30T00:00:00Z", "2090-03-31T00:00:00", "soon"}) {
    BOOST_TEST_CONTEXT(bad) {
      auto error = cp::parse_error(with_expiry(bad));
      BOOST_TEST(error.field == "api_keys[0].expires");
      BOOST_TEST(cp::contains(error.to_string(), "e.g. \"2027-03-31T00:00:00Z\""), error.to_string());
      BOOST_TEST(!cp::contains(error.to_string(), "groovy-key-0123456789"));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_key_already_expired_or_expiring_soon_is_a_warning) {
  namespace cp = test::config_parsing;
  auto expired = cp::parse_ok(with_expiry("2001-01-01T00:00:00Z"));
  BOOST_TEST(expired.api_keys.size() == 1u, "the key stays, and is refused with KEY_EXPIRED");
  BOOST_REQUIRE(expired.warnings.size() == 1u);
  BOOST_TEST(cp::contains(expired.warnings[0], "\"groovy\" expired at"), expired.warnings[0]);
  auto soon = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now() + 48h);
  auto soon_text = date::format("%FT%TZ", soon);
  auto expiring = cp::parse_ok(with_expiry(soon_text));
  BOOST_REQUIRE(expiring.warnings.size() == 1u);
  BOOST_TEST(cp::contains(expiring.warnings[0], "rotate it"), expiring.warnings[0]);
  BOOST_TEST(!cp::contains(expiring.warnings[0], "groovy-key-0123456789"));
}

BOOST_AUTO_TEST_SUITE_END()
