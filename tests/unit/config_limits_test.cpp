#include <boost/test/unit_test.hpp>

// The config loader's limits: every numeric field's range and default come
// from the one table in config/config_limits.hpp, and every name and text
// has its length limit; one step past either end is an error naming the
// field.

#include <functional>
#include <iomanip>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/config_limits.hpp"
#include "tests/support/config_parsing.hpp"

BOOST_AUTO_TEST_SUITE(config_limits_tests)

using namespace epmpulse::config;
using namespace epmpulse::test::config_parsing;

// Every field with a numeric limit, read through the one table in
// config_limits.hpp: its default, both ends, and one step past each end.
BOOST_AUTO_TEST_CASE(every_numeric_limit_is_enforced_at_both_ends_naming_the_field) {
  struct limited_field {
    std::string object; ///< under "settings"; "" for settings itself
    std::string key;
    double min;
    double max;
    double default_value;
    bool min_exclusive;
    bool whole;
    std::function<double(const settings&)> value_of;
  };
  auto whole = [](std::string object, std::string key, const limits::whole_number_limit& limit,
                  std::function<double(const settings&)> value_of) {
    return limited_field{std::move(object), std::move(key), double(limit.min), double(limit.max),
                         double(limit.default_value), false, true, std::move(value_of)};
  };
  auto number = [](std::string object, std::string key, const limits::number_limit& limit,
                   std::function<double(const settings&)> value_of) {
    return limited_field{std::move(object), std::move(key), limit.min, limit.max,
                         limit.default_value, limit.min_exclusive, false, std::move(value_of)};
  };
  namespace l = limits;
  const std::vector<limited_field> fields = {
    number("", "stale_loading_timeout_hours", l::stale_loading_timeout_hours,
           [](const settings& s) { return s.stale_loading_timeout_hours; }),
    number("", "stale_check_interval_minutes", l::stale_check_interval_minutes,
           [](const settings& s) { return s.stale_check_interval_minutes; }),
    number("", "backup_interval_hours", l::backup_interval_hours,
           [](const settings& s) { return s.backup_interval_hours; }),
    whole("", "max_backups", l::max_backups, [](const settings& s) { return s.max_backups; }),
    whole("", "recent_jobs_limit", l::recent_jobs_limit,
          [](const settings& s) { return s.recent_jobs_limit; }),
    number("", "max_future_skew_sec", l::max_future_skew_sec,
           [](const settings& s) { return s.max_future_skew_sec; }),
    whole("server", "io_threads", l::server::io_threads,
          [](const settings& s) { return s.server.io_threads; }),
    whole("server", "actor_threads", l::server::actor_threads,
          [](const settings& s) { return s.server.actor_threads; }),
    whole("server", "max_body_bytes", l::server::max_body_bytes,
          [](const settings& s) { return double(s.server.max_body_bytes); }),
    number("server", "request_timeout_sec", l::server::request_timeout_sec,
           [](const settings& s) { return s.server.request_timeout_sec; }),
    number("server", "read_timeout_sec", l::server::read_timeout_sec,
           [](const settings& s) { return s.server.read_timeout_sec; }),
    whole("server", "max_connections", l::server::max_connections,
          [](const settings& s) { return s.server.max_connections; }),
    whole("rate_limits", "status_per_minute", l::rate_limits::status_per_minute,
          [](const settings& s) { return s.rate_limits.status_per_minute; }),
    whole("rate_limits", "batch_per_minute", l::rate_limits::batch_per_minute,
          [](const settings& s) { return s.rate_limits.batch_per_minute; }),
    whole("rate_limits", "read_per_minute", l::rate_limits::read_per_minute,
          [](const settings& s) { return s.rate_limits.read_per_minute; }),
    number("slack", "min_update_interval_sec", l::slack::min_update_interval_sec,
           [](const settings& s) { return s.slack.min_update_interval_sec; }),
    whole("slack", "max_retries", l::slack::max_retries,
          [](const settings& s) { return s.slack.max_retries; }),
    number("slack", "request_timeout_sec", l::slack::request_timeout_sec,
           [](const settings& s) { return s.slack.request_timeout_sec; }),
    number("pull_mode", "poll_interval_seconds", l::pull_mode::poll_interval_seconds,
           [](const settings& s) { return s.pull_mode.poll_interval_seconds; }),
    number("pull_mode", "max_poll_duration_minutes", l::pull_mode::max_poll_duration_minutes,
           [](const settings& s) { return s.pull_mode.max_poll_duration_minutes; }),
    whole("pull_mode", "max_concurrent_polls_per_server",
          l::pull_mode::max_concurrent_polls_per_server,
          [](const settings& s) { return s.pull_mode.max_concurrent_polls_per_server; }),
    whole("dashboard", "session_ttl_sec", l::dashboard::session_ttl_sec,
          [](const settings& s) { return s.dashboard.session_ttl_sec; }),
  };
  const auto defaults = parse_ok(minimal).settings;
  for (const auto& f : fields) {
    const std::string field = "settings." + (f.object.empty() ? "" : f.object + ".") + f.key;
    BOOST_TEST_CONTEXT(field) {
      BOOST_TEST(f.value_of(defaults) == f.default_value);
      auto text_with = [&](double value) {
        std::ostringstream member;
        member << std::fixed << std::setprecision(f.whole ? 0 : 1) << "\"" << f.key
               << "\": " << value;
        std::string body = f.object.empty() ? member.str()
                                            : "\"" + f.object + "\": {" + member.str() + "}";
        return with(R"(, "settings": {)" + body + "}");
      };
      // Whole numbers step by one; numbers by a fraction, since they take one.
      const double step = f.whole ? 1 : 0.5;
      BOOST_TEST(f.value_of(parse_ok(text_with(f.max)).settings) == f.max);
      const double lowest_accepted = f.min_exclusive ? f.min + step : f.min;
      BOOST_TEST(f.value_of(parse_ok(text_with(lowest_accepted)).settings) == lowest_accepted);
      const double highest_rejected_below = f.min_exclusive ? f.min : f.min - step;
      for (double rejected : {f.max + step, highest_rejected_below}) {
        auto error = parse_error(text_with(rejected));
        BOOST_TEST(error.field == field);
        BOOST_TEST(error.problem.rfind("must be ", 0) == 0u, error.problem);
        BOOST_TEST(error.fix == "use a value in that range");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(slack_max_retries_takes_the_documented_zero_to_ten) {
  // Canvas code may rely on this limit, so it is pinned to the documented
  // numbers rather than read back from the table.
  BOOST_TEST(limits::slack::max_retries.min == 0);
  BOOST_TEST(limits::slack::max_retries.max == 10);
  BOOST_TEST(limits::slack::max_retries.default_value == 3);
  auto retries_in = [](const std::string& value) {
    return with(R"(, "settings": {"slack": {"max_retries": )" + value + "}}");
  };
  BOOST_TEST(parse_ok(retries_in("10")).settings.slack.max_retries == 10);
  BOOST_TEST(parse_ok(retries_in("0")).settings.slack.max_retries == 0);
  auto error = parse_error(retries_in("-1"));
  BOOST_TEST(error.field == "settings.slack.max_retries");
  BOOST_TEST(error.problem == "must be at least 0 and at most 10, got -1");
}

BOOST_AUTO_TEST_CASE(read_timeout_below_one_second_is_rejected) {
  // A fraction of a millisecond would truncate to a zero timer that drops
  // every connection at once; RESTinio checks it once a second anyway.
  auto read_timeout = [](const std::string& value) {
    return with(R"(, "settings": {"server": {"read_timeout_sec": )" + value + "}}");
  };
  BOOST_TEST(parse_ok(read_timeout("1")).settings.server.read_timeout_sec == 1);
  for (const char* too_short : {"0.0004", "0.5"}) {
    auto error = parse_error(read_timeout(too_short));
    BOOST_TEST(error.field == "settings.server.read_timeout_sec");
    BOOST_TEST(error.problem.rfind("must be at least 1 and at most 300", 0) == 0u, error.problem);
  }
}

BOOST_AUTO_TEST_CASE(names_and_texts_one_past_their_length_limit_are_rejected) {
  const std::string longest(limits::max_name_length, 'n');
  const std::string too_long = longest + "n";
  auto app_config_with = [](const std::string& app, const std::string& domain) {
    return R"({"apps": {")" + app + R"(": {"domains": [")" + domain + R"("]}}})";
  };
  BOOST_TEST(parse_ok(app_config_with(longest, longest)).apps[0].name == longest);
  auto app = parse_error(app_config_with(too_long, "Actual"));
  BOOST_TEST(app.field == "apps." + too_long);
  BOOST_TEST(contains(app.problem, "1 to 64"));
  BOOST_TEST(parse_error(app_config_with("P", too_long)).field == "apps.P.domains[0]");

  BOOST_TEST(parse_ok(R"({"apps": {"P": {"channels": [")" + longest + R"("]}},
                         "channels": {")" + longest + R"(": {}}})")
               .channels[0]
               .id
             == longest);
  BOOST_TEST(parse_error(R"({"apps": {"P": {}}, "channels": {")" + too_long + R"(": {}}})").field
             == "channels." + too_long);
  BOOST_TEST(parse_error(R"({"apps": {"P": {}}, "epm": {"servers": {")" + too_long + R"(": {}}}})")
               .field
             == "epm.servers." + too_long);
  auto key_name = parse_error(
    R"({"apps": {"P": {}}, "api_keys": [{"name": ")" + too_long + R"(", "key": "${K}"}]})",
    {{"K", secret}});
  BOOST_TEST(key_name.field == "api_keys[0].name");

  const std::string shortest_key(limits::min_api_key_length, 'k');
  auto keys_with = [](const std::string& key) {
    return R"({"apps": {"P": {}}, "api_keys": [{"name": "a", "key": ")" + key + R"("}]})";
  };
  BOOST_TEST(parse_ok(keys_with(shortest_key)).api_keys.size() == 1u);
  auto short_key = parse_error(keys_with(shortest_key.substr(1)));
  BOOST_TEST(short_key.field == "api_keys[0].key");
  BOOST_TEST(contains(short_key.problem, "shorter than 16 characters"));

  const std::string longest_title(limits::max_dashboard_title_length, 't');
  auto title_with = [](const std::string& title) {
    return with(R"(, "settings": {"slack": {"dashboard_title": ")" + title + R"("}})");
  };
  BOOST_TEST(parse_ok(title_with(longest_title)).settings.slack.dashboard_title == longest_title);
  auto title = parse_error(title_with(longest_title + "t"));
  BOOST_TEST(title.field == "settings.slack.dashboard_title");
  BOOST_TEST(contains(title.problem, "1 to 200 characters"));

  const std::string too_long_zone =
    "Europe/" + std::string(limits::max_time_zone_name_length - 6, 'z');
  auto zone = parse_error(with(R"(, "settings": {"slack": {"display_timezone": ")" + too_long_zone
                               + R"("}})"));
  BOOST_TEST(zone.field == "settings.slack.display_timezone");
  BOOST_TEST(contains(zone.problem, "IANA time zone name"));
}

BOOST_AUTO_TEST_SUITE_END() // config_limits_tests
