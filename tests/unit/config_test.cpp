#include <boost/test/unit_test.hpp>

// The config loader on JSON text with a fake environment: defaults,
// substitution, env shortcuts, and that every error names the field and the
// fix without ever showing a secret.

#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/config_limits.hpp"
#include "tests/support/config_parsing.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(config_tests)

using namespace epmpulse::config;

using namespace epmpulse::test::config_parsing;

// -- defaults ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(minimal_config_gets_the_documented_defaults) {
  auto cfg = parse_ok(minimal);
  BOOST_TEST(cfg.source_path == "test.json");
  BOOST_REQUIRE(cfg.apps.size() == 1u);
  const auto& app = cfg.apps[0];
  BOOST_TEST(app.name == "Planning");
  BOOST_TEST(app.display_name == "Planning");
  BOOST_TEST(app.domains.empty());
  BOOST_TEST(app.channels.empty());
  BOOST_TEST(!app.strict_domains);
  BOOST_TEST(app.server.empty());
  BOOST_TEST(cfg.channels.empty());
  BOOST_TEST(cfg.api_keys.empty());

  const auto& s = cfg.settings;
  BOOST_TEST(s.stale_loading_timeout_hours == 2.0);
  BOOST_TEST(s.stale_check_interval_minutes == 5.0);
  BOOST_TEST(s.backup_interval_hours == 1.0);
  BOOST_TEST(s.max_backups == 24);
  BOOST_TEST(s.recent_jobs_limit == 50);
  BOOST_TEST(s.max_future_skew_sec == 300.0);
  BOOST_TEST(s.log_level == "info");
  BOOST_TEST(s.server.io_threads == 1);
  BOOST_TEST(s.server.actor_threads == 1);
  BOOST_TEST(s.server.max_body_bytes == 65536u);
  BOOST_TEST(s.server.request_timeout_sec == 10.0);
  BOOST_TEST(s.rate_limits.enabled);
  BOOST_TEST(s.rate_limits.status_per_minute == 600);
  BOOST_TEST(s.rate_limits.batch_per_minute == 120);
  BOOST_TEST(s.rate_limits.read_per_minute == 1200);
  BOOST_TEST(s.slack.bot_token.empty());
  BOOST_TEST(s.slack.api_url == "https://slack.com/api");
  BOOST_TEST(s.slack.min_update_interval_sec == 2.0);
  BOOST_TEST((s.slack.layout == canvas_layout::list));
  BOOST_TEST(s.slack.max_retries == 3);
  BOOST_TEST(!s.slack.create_missing_canvases);
  BOOST_TEST(s.slack.dashboard_title == "EPM Status Dashboard");
  BOOST_TEST(s.slack.display_timezone == "UTC");
  BOOST_TEST(!s.pull_mode.enabled);
  BOOST_TEST(s.pull_mode.poll_interval_seconds == 30.0);
  BOOST_TEST((cfg.epm.auth.type == epm_auth_type::none));
  BOOST_TEST(cfg.epm.servers.empty());
  BOOST_TEST(cfg.warnings.empty());
}

BOOST_AUTO_TEST_CASE(apps_and_channels_keep_file_order_and_fill_names) {
  auto cfg = parse_ok(R"({"apps": {"Zeta": {"display_name": "Zeta Cloud", "channels": ["C2"]},
                                   "Alpha": {"channels": ["C1"]}},
                          "channels": {"C2": {}, "C1": {"name": "main", "canvas_id": "F1"}}})");
  BOOST_REQUIRE(cfg.apps.size() == 2u);
  BOOST_TEST(cfg.apps[0].name == "Zeta");
  BOOST_TEST(cfg.apps[0].display_name == "Zeta Cloud");
  BOOST_TEST(cfg.apps[1].name == "Alpha");
  BOOST_REQUIRE(cfg.channels.size() == 2u);
  BOOST_TEST(cfg.channels[0].id == "C2");
  BOOST_TEST(cfg.channels[0].name == "C2");
  BOOST_TEST(cfg.channels[0].canvas_id.empty());
  BOOST_TEST(cfg.find_channel("C1")->canvas_id == "F1");
  BOOST_TEST(cfg.find_app("Alpha") == &cfg.apps[1]);
  BOOST_TEST(cfg.find_app("Missing") == nullptr);
}

BOOST_AUTO_TEST_CASE(fractional_update_interval_and_the_table_layout_are_accepted) {
  auto cfg = parse_ok(with(R"(, "settings": {"slack": {"min_update_interval_sec": 0.5, )"
                           R"("update_mode": "full", "layout": "table"}})"));
  BOOST_TEST(cfg.settings.slack.min_update_interval_sec == 0.5);
  BOOST_TEST((cfg.settings.slack.layout == canvas_layout::table));
  BOOST_TEST((parse_ok(with("")).settings.slack.layout == canvas_layout::list));
}

BOOST_AUTO_TEST_CASE(sections_mode_is_refused_with_the_reason_and_the_fix) {
  auto error = parse_error(with(R"(, "settings": {"slack": {"update_mode": "sections"}})"));
  BOOST_TEST(error.field == "settings.slack.update_mode");
  BOOST_TEST(contains(error.problem, "no longer supported"));
  BOOST_TEST(contains(error.problem, "under a heading"));
  BOOST_TEST(contains(error.fix, "use \"full\""));
  auto layout = parse_error(with(R"(, "settings": {"slack": {"layout": "grid"}})"));
  BOOST_TEST(layout.field == "settings.slack.layout");
  BOOST_TEST(layout.problem == "must be \"list\" or \"table\", got \"grid\"");
}

BOOST_AUTO_TEST_CASE(trailing_slash_is_dropped_from_urls) {
  auto cfg = parse_ok(with(R"(, "settings": {"slack": {"api_url": "http://127.0.0.1:9000/api/"}})"));
  BOOST_TEST(cfg.settings.slack.api_url == "http://127.0.0.1:9000/api");
  BOOST_TEST(cfg.find_server("p")->base_url == "https://epm.example.com");
}

BOOST_AUTO_TEST_CASE(roles_nest_admin_over_write_over_read) {
  BOOST_TEST(role_allows(key_role::admin, key_role::write));
  BOOST_TEST(role_allows(key_role::admin, key_role::read));
  BOOST_TEST(role_allows(key_role::write, key_role::read));
  BOOST_TEST(role_allows(key_role::write, key_role::write));
  BOOST_TEST(!role_allows(key_role::write, key_role::admin));
  BOOST_TEST(!role_allows(key_role::read, key_role::write));
  BOOST_TEST(std::string{to_string(key_role::admin)} == "admin");
  BOOST_TEST(std::string{to_string(epm_server_kind::data_integration)} == "data_integration");
}

// -- substitution ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(variable_is_substituted_from_the_environment) {
  auto cfg = parse_ok(with(R"(, "settings": {"slack": {"dashboard_title": "EPM ${STAGE} board"}})"),
                      {{"STAGE", "prod"}});
  BOOST_TEST(cfg.settings.slack.dashboard_title == "EPM prod board");
}

BOOST_AUTO_TEST_CASE(default_is_used_when_variable_is_unset_or_empty) {
  const std::string text =
    with(R"(, "settings": {"slack": {"dashboard_title": "${TITLE:-Fallback}"}})");
  BOOST_TEST(parse_ok(text).settings.slack.dashboard_title == "Fallback");
  BOOST_TEST(parse_ok(text, {{"TITLE", ""}}).settings.slack.dashboard_title == "Fallback");
  BOOST_TEST(parse_ok(text, {{"TITLE", "Set"}}).settings.slack.dashboard_title == "Set");
}

BOOST_AUTO_TEST_CASE(substitution_happens_before_validation) {
  auto cfg = parse_ok(with(R"(, "settings": {"slack": {"layout": "${LAYOUT:-table}"}})"));
  BOOST_TEST((cfg.settings.slack.layout == canvas_layout::table));
  auto error = parse_error(with(R"(, "settings": {"slack": {"layout": "${LAYOUT}"}})"),
                           {{"LAYOUT", "fast"}});
  BOOST_TEST(error.field == "settings.slack.layout");
  BOOST_TEST(contains(error.problem, "\"fast\""));
}

BOOST_AUTO_TEST_CASE(double_dollar_writes_a_literal_reference) {
  auto cfg = parse_ok(with(R"(, "settings": {"slack": {"dashboard_title": "cost $${X} $5"}})"));
  BOOST_TEST(cfg.settings.slack.dashboard_title == "cost ${X} $5");
}

BOOST_AUTO_TEST_CASE(unresolved_variable_error_names_field_variable_and_fix) {
  auto error = parse_error(with(R"(, "settings": {"slack": {"dashboard_title": "${EPM_TITLE}"}})"));
  BOOST_TEST(error.file == "test.json");
  BOOST_TEST(error.field == "settings.slack.dashboard_title");
  BOOST_TEST(contains(error.problem, "EPM_TITLE"));
  BOOST_TEST(contains(error.fix, "set EPM_TITLE in the environment"));
  BOOST_TEST(contains(error.fix, "${EPM_TITLE:-value}"));
}

BOOST_AUTO_TEST_CASE(unresolved_variable_in_an_array_names_the_element) {
  auto error = parse_error(R"({"apps": {"Planning": {"domains": ["Actual", "${SECOND}"]}}})");
  BOOST_TEST(error.field == "apps.Planning.domains[1]");
  BOOST_TEST(contains(error.problem, "SECOND"));
}

BOOST_AUTO_TEST_CASE(malformed_reference_is_an_error) {
  auto error = parse_error(with(R"(, "settings": {"log_level": "${LEVEL"})"));
  BOOST_TEST(error.field == "settings.log_level");
  BOOST_TEST(contains(error.problem, "closing"));
}

// -- api keys ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(api_key_with_unset_variable_is_skipped_with_a_warning) {
  auto cfg = parse_ok(with(R"(, "api_keys": [
      {"name": "epm_groovy", "key": "${EPMPULSE_KEY_GROOVY}", "role": "write"},
      {"name": "reader", "key": "${READ_KEY}", "role": "read"}])"),
                      {{"READ_KEY", secret}});
  BOOST_REQUIRE(cfg.api_keys.size() == 1u);
  BOOST_TEST(cfg.api_keys[0].name == "reader");
  BOOST_TEST(cfg.api_keys[0].key == secret);
  BOOST_TEST((cfg.api_keys[0].role == key_role::read));
  BOOST_REQUIRE(cfg.warnings.size() == 1u);
  BOOST_TEST(contains(cfg.warnings[0], "epm_groovy"));
  BOOST_TEST(contains(cfg.warnings[0], "EPMPULSE_KEY_GROOVY"));
  BOOST_TEST(!contains(all_warnings(cfg), secret));
}

BOOST_AUTO_TEST_CASE(api_key_that_resolves_empty_is_skipped_with_a_warning) {
  auto cfg = parse_ok(with(R"(, "api_keys": [{"name": "odi", "key": "${ODI_KEY:-}"}])"));
  BOOST_TEST(cfg.api_keys.empty());
  BOOST_REQUIRE(cfg.warnings.size() == 1u);
  BOOST_TEST(contains(cfg.warnings[0], "odi"));
}

BOOST_AUTO_TEST_CASE(api_key_role_defaults_to_write) {
  auto cfg = parse_ok(with(R"(, "api_keys": [{"name": "odi", "key": "${K}"}])"), {{"K", secret}});
  BOOST_REQUIRE(cfg.api_keys.size() == 1u);
  BOOST_TEST((cfg.api_keys[0].role == key_role::write));
}

BOOST_AUTO_TEST_CASE(short_api_key_is_rejected_as_guessable_without_showing_it) {
  auto error = parse_error(with(R"(, "api_keys": [{"name": "odi", "key": "${K}"}])"),
                           {{"K", "hunter2"}});
  BOOST_TEST(error.field == "api_keys[0].key");
  BOOST_TEST(contains(error.problem, "guessable"));
  BOOST_TEST(contains(error.problem, "odi"));
  BOOST_TEST(!contains(error.to_string(), "hunter2"));
}

BOOST_AUTO_TEST_CASE(duplicate_api_key_values_are_rejected_without_showing_them) {
  auto error = parse_error(with(R"(, "api_keys": [{"name": "a", "key": "${K1}"},
                                                  {"name": "b", "key": "${K2}"}])"),
                           {{"K1", secret}, {"K2", secret}});
  BOOST_TEST(error.field == "api_keys[1].key");
  BOOST_TEST(contains(error.problem, "\"a\""));
  BOOST_TEST(contains(error.problem, "\"b\""));
  BOOST_TEST(!contains(error.to_string(), secret));
}

BOOST_AUTO_TEST_CASE(api_key_with_trailing_newline_is_rejected_without_showing_it) {
  auto error = parse_error(with(R"(, "api_keys": [{"name": "a", "key": "${K}"}])"),
                           {{"K", std::string{secret} + "\n"}});
  BOOST_TEST(contains(error.problem, "whitespace"));
  BOOST_TEST(!contains(error.to_string(), secret));
}

BOOST_AUTO_TEST_CASE(bad_role_is_rejected) {
  auto error = parse_error(with(R"(, "api_keys": [{"name": "a", "key": "${K}", "role": "root"}])"),
                           {{"K", secret}});
  BOOST_TEST(error.field == "api_keys[0].role");
  BOOST_TEST(contains(error.problem, "\"read\", \"write\", \"admin\""));
}

// -- env shortcuts -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(env_shortcuts_add_write_and_admin_keys) {
  const std::string write_key = "env-write-key-0123456789";
  const std::string admin_key = "env-admin-key-0123456789";
  auto cfg = parse_ok(minimal, {{"EPMPULSE_API_KEY", write_key}, {"EPMPULSE_ADMIN_KEY", admin_key}});
  BOOST_REQUIRE(cfg.api_keys.size() == 2u);
  BOOST_TEST(cfg.api_keys[0].name == "env_write");
  BOOST_TEST(cfg.api_keys[0].key == write_key);
  BOOST_TEST((cfg.api_keys[0].role == key_role::write));
  BOOST_TEST(cfg.api_keys[1].name == "env_admin");
  BOOST_TEST(cfg.api_keys[1].key == admin_key);
  BOOST_TEST((cfg.api_keys[1].role == key_role::admin));
}

BOOST_AUTO_TEST_CASE(short_env_shortcut_key_is_rejected_naming_the_variable) {
  auto error = parse_error(minimal, {{"EPMPULSE_API_KEY", "pw9x7q"}});
  BOOST_TEST(contains(error.field, "EPMPULSE_API_KEY"));
  BOOST_TEST(contains(error.problem, "guessable"));
  BOOST_TEST(!contains(error.to_string(), "pw9x7q"));
}

BOOST_AUTO_TEST_CASE(slack_bot_token_shortcut_fills_only_an_empty_token) {
  const std::string env_token = "xoxb-from-env";
  auto filled = parse_ok(minimal, {{"SLACK_BOT_TOKEN", env_token}});
  BOOST_TEST(filled.settings.slack.bot_token == env_token);

  auto kept = parse_ok(with(R"(, "settings": {"slack": {"bot_token": "${MY_TOKEN}"}})"),
                       {{"MY_TOKEN", "xoxb-from-file"}, {"SLACK_BOT_TOKEN", env_token}});
  BOOST_TEST(kept.settings.slack.bot_token == "xoxb-from-file");
}

BOOST_AUTO_TEST_CASE(unset_bot_token_variable_disables_slack_with_a_warning) {
  auto cfg = parse_ok(with(R"(, "settings": {"slack": {"bot_token": "${MY_TOKEN}"}})"));
  BOOST_TEST(cfg.settings.slack.bot_token.empty());
  BOOST_TEST(contains(all_warnings(cfg), "MY_TOKEN"));
}

BOOST_AUTO_TEST_CASE(slack_api_url_shortcut_overrides_the_file) {
  auto cfg = parse_ok(with(R"(, "settings": {"slack": {"api_url": "https://slack.com/api"}})"),
                      {{"SLACK_API_URL", "http://127.0.0.1:18080/api"}});
  BOOST_TEST(cfg.settings.slack.api_url == "http://127.0.0.1:18080/api");
}

// -- structural errors -------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_key_error_names_the_field_and_suggests_the_right_one) {
  auto error = parse_error(with(R"(, "settings": {"slack": {"update_mod": "full"}})"));
  BOOST_TEST(error.field == "settings.slack.update_mod");
  BOOST_TEST(contains(error.problem, "unknown field"));
  BOOST_TEST(contains(error.fix, "did you mean \"update_mode\""));
}

BOOST_AUTO_TEST_CASE(unknown_top_level_and_app_keys_are_errors) {
  BOOST_TEST(parse_error(R"({"apps": {"P": {}}, "setings": {}})").field == "setings");
  BOOST_TEST(parse_error(R"({"apps": {"P": {"domain": []}}})").field == "apps.P.domain");
}

BOOST_AUTO_TEST_CASE(bad_enum_error_reads_file_field_problem_and_fix) {
  auto error = parse_error(with(R"(, "settings": {"slack": {"layout": "fast"}})"));
  BOOST_TEST(error.field == "settings.slack.layout");
  BOOST_TEST(error.problem == "must be \"list\" or \"table\", got \"fast\"");
  BOOST_TEST(error.to_string().rfind(
               "test.json: settings.slack.layout: must be \"list\" or \"table\", "
               "got \"fast\" (fix: ",
               0)
             == 0u);
}

BOOST_AUTO_TEST_CASE(out_of_range_values_are_rejected) {
  auto threads = parse_error(with(R"(, "settings": {"server": {"io_threads": 65}})"));
  BOOST_TEST(threads.field == "settings.server.io_threads");
  BOOST_TEST(contains(threads.problem, "at most 64"));
  BOOST_TEST(contains(threads.problem, "65"));

  BOOST_TEST(parse_error(with(R"(, "settings": {"slack": {"min_update_interval_sec": 0}})")).field
             == "settings.slack.min_update_interval_sec");
  BOOST_TEST(parse_error(with(R"(, "settings": {"server": {"max_body_bytes": 100}})")).field
             == "settings.server.max_body_bytes");
  BOOST_TEST(parse_error(with(R"(, "settings": {"slack": {"max_retries": 11}})")).field
             == "settings.slack.max_retries");
  BOOST_TEST(parse_error(with(R"(, "settings": {"max_backups": -1})")).field
             == "settings.max_backups");
}

BOOST_AUTO_TEST_CASE(wrong_types_are_rejected) {
  auto quoted_number = parse_error(with(R"(, "settings": {"max_backups": "24"})"));
  BOOST_TEST(quoted_number.field == "settings.max_backups");
  BOOST_TEST(contains(quoted_number.problem, "expected a whole number, got a string"));
  BOOST_TEST(parse_error(with(R"(, "settings": {"max_backups": 2.5})")).field
             == "settings.max_backups");
  BOOST_TEST(parse_error(with(R"(, "settings": {"rate_limits": {"enabled": "yes"}})")).field
             == "settings.rate_limits.enabled");
  BOOST_TEST(parse_error(R"({"apps": {"P": {"domains": "Actual"}}})").field == "apps.P.domains");
}

BOOST_AUTO_TEST_CASE(missing_or_empty_apps_is_an_error) {
  BOOST_TEST(parse_error(R"({"channels": {}})").field == "apps");
  BOOST_TEST(parse_error(R"({"apps": {}})").field == "apps");
}

BOOST_AUTO_TEST_CASE(invalid_app_and_domain_names_are_rejected) {
  BOOST_TEST(parse_error(R"({"apps": {"Plan ning": {}}})").field == "apps[\"Plan ning\"]");
  auto domain = parse_error(R"({"apps": {"P": {"domains": ["Actual/2026"]}}})");
  BOOST_TEST(domain.field == "apps.P.domains[0]");
  // Spaces inside domain names are fine, at the ends they are a typo.
  BOOST_TEST(parse_ok(R"({"apps": {"P": {"domains": ["Q1 Actual"]}}})").apps[0].domains[0]
             == "Q1 Actual");
  BOOST_TEST(parse_error(R"({"apps": {"P": {"domains": ["Actual "]}}})").field
             == "apps.P.domains[0]");
  BOOST_TEST(parse_error(R"({"apps": {"P": {"domains": ["A", "A"]}}})").field
             == "apps.P.domains[1]");
}

BOOST_AUTO_TEST_CASE(app_channel_must_exist_in_channels) {
  auto error = parse_error(R"({"apps": {"Planning": {"channels": ["C999"]}},
                               "channels": {"C1": {}}})");
  BOOST_TEST(error.field == "apps.Planning.channels[0]");
  BOOST_TEST(contains(error.problem, "\"C999\""));
}

BOOST_AUTO_TEST_CASE(app_server_must_exist_in_epm_servers) {
  auto error = parse_error(R"({"apps": {"Planning": {"server": "nope"}}})");
  BOOST_TEST(error.field == "apps.Planning.server");
  BOOST_TEST(contains(error.problem, "\"nope\""));
}

BOOST_AUTO_TEST_CASE(strict_domains_without_domains_is_an_error) {
  BOOST_TEST(parse_error(R"({"apps": {"P": {"strict_domains": true}}})").field
             == "apps.P.strict_domains");
}

BOOST_AUTO_TEST_CASE(duplicate_json_keys_are_an_error) {
  auto error = parse_error(R"({"apps": {"P": {}, "Q": {}, "P": {"domains": ["x"]}}})");
  BOOST_TEST(error.field == "apps.P");
  auto nested = parse_error(
    R"({"apps": {"P": {}}, "api_keys": [{"name": "a"}, {"name": "b", "name": "c"}]})");
  BOOST_TEST(nested.field == "api_keys[1].name");
}

BOOST_AUTO_TEST_CASE(unused_channel_gives_a_warning) {
  auto cfg = parse_ok(R"({"apps": {"P": {}}, "channels": {"C1": {}}})");
  BOOST_TEST(contains(all_warnings(cfg), "C1"));
}

BOOST_AUTO_TEST_CASE(unknown_time_zone_is_rejected) {
  if (!std::filesystem::is_directory("/usr/share/zoneinfo")) {
    BOOST_TEST_MESSAGE("no tzdata here; only the warning can be checked");
    BOOST_TEST(!parse_ok(with(R"(, "settings": {"slack": {"display_timezone": "Europe/London"}})"))
                  .warnings.empty());
    return;
  }
  BOOST_TEST(parse_ok(with(R"(, "settings": {"slack": {"display_timezone": "Europe/London"}})"))
               .settings.slack.display_timezone
             == "Europe/London");
  BOOST_TEST(parse_error(with(R"(, "settings": {"slack": {"display_timezone": "Europe/Londn"}})"))
               .field
             == "settings.slack.display_timezone");
}

// -- pull mode and EPM secrets -----------------------------------------------

BOOST_AUTO_TEST_CASE(unset_epm_secrets_are_fine_while_pull_mode_is_off) {
  auto cfg = parse_ok(R"({"apps": {"P": {}}, "epm": {"auth": {"type": "basic",
                          "username": "${EPM_USER}", "password": "${EPM_PASSWORD}"}}})");
  BOOST_TEST(cfg.epm.auth.username.empty());
  BOOST_TEST(cfg.epm.auth.password.empty());
}

BOOST_AUTO_TEST_CASE(pull_mode_requires_the_auth_types_fields_naming_the_variable) {
  const std::string text = R"({"apps": {"P": {"server": "s"}},
      "settings": {"pull_mode": {"enabled": true}},
      "epm": {"auth": {"type": "oauth_refresh_token", "token_url": "https://idcs.example.com/token",
                       "client_id": "epmpulse", "refresh_token": "${EPM_REFRESH_TOKEN}"},
              "servers": {"s": {"base_url": "https://epm.example.com", "application": "Vision"}}}})";
  auto error = parse_error(text);
  BOOST_TEST(error.field == "epm.auth.refresh_token");
  BOOST_TEST(contains(error.problem, "EPM_REFRESH_TOKEN"));
  BOOST_TEST(contains(error.fix, "EPM_REFRESH_TOKEN"));

  auto cfg = parse_ok(text, {{"EPM_REFRESH_TOKEN", secret}});
  BOOST_TEST(cfg.epm.auth.refresh_token == secret);
  BOOST_TEST((cfg.epm.auth.type == epm_auth_type::oauth_refresh_token));
}

BOOST_AUTO_TEST_CASE(pull_mode_checks_each_auth_type) {
  auto text_for = [](const std::string& auth) {
    return R"({"apps": {"P": {"server": "s"}}, "settings": {"pull_mode": {"enabled": true}},
               "epm": {"auth": )"
           + auth + R"(, "servers": {"s": {"base_url": "https://e.example.com", "kind": "arcs"}}}})";
  };
  BOOST_TEST(parse_error(text_for(R"({"type": "none"})")).field == "epm.auth.type");
  BOOST_TEST(parse_error(text_for(R"({"type": "basic", "username": "u"})")).field
             == "epm.auth.password");
  BOOST_TEST(parse_error(text_for(R"({"type": "oauth_client_credentials",
                                     "token_url": "https://t.example.com", "client_id": "c"})"))
               .field
             == "epm.auth.client_secret");
  parse_ok(text_for(R"({"type": "basic", "username": "u", "password": "${PW}"})"),
           {{"PW", secret}});
  auto experimental = parse_ok(text_for(R"({"type": "oauth_client_credentials",
      "token_url": "https://t.example.com", "client_id": "c", "client_secret": "${S}"})"),
                               {{"S", secret}});
  bool warned = false;
  for (const auto& w : experimental.warnings)
    warned = warned || contains(w, "experimental");
  BOOST_TEST(warned);
}

BOOST_AUTO_TEST_CASE(arcs_transaction_matching_is_a_server_kind) {
  auto cfg = parse_ok(R"({"apps": {"P": {"server": "tm"}}, "epm": {"servers": {"tm":
                          {"base_url": "https://e.example.com", "kind": "arcs_tm"}}}})");
  BOOST_TEST_REQUIRE(cfg.epm.servers.size() == 1u);
  BOOST_TEST((cfg.epm.servers[0].kind == epm_server_kind::arcs_tm));
  BOOST_TEST(contains(parse_error(R"({"epm": {"servers": {"tm": {"kind": "arcs_rc"}}}})").problem,
                      "arcs_tm"));
}

BOOST_AUTO_TEST_CASE(pull_mode_requires_server_url_and_planning_application) {
  auto error = parse_error(R"({"apps": {"P": {"server": "s"}},
      "settings": {"pull_mode": {"enabled": true}},
      "epm": {"auth": {"type": "basic", "username": "u", "password": "p"},
              "servers": {"s": {"base_url": "https://epm.example.com"}}}})");
  BOOST_TEST(error.field == "epm.servers.s.application");
}

// -- secrets never leak ------------------------------------------------------

BOOST_AUTO_TEST_CASE(secret_values_never_appear_in_error_text) {
  // A secret written into fields of the wrong type or shape.
  const std::vector<std::string> texts = {
    with(R"(, "settings": {"slack": {"bot_token": "${T}"}})"),
    with(R"(, "api_keys": [{"name": "a", "key": "${T}"}, {"name": "b", "key": "${T}"}])"),
    R"({"apps": {"P": {}}, "api_keys": [{"name": "a", "key": ")" + std::string{secret}
      + R"(" "role": "write"}]})",
    R"({"apps": {"P": {}}, "api_keys": [{"name": "a", "key": ")" + std::string{secret}
      + R"(}]})",
  };
  // The last two are JSON syntax errors: no field, but the parser's "last
  // read" token would have held the secret.
  const std::vector<std::string> fields = {"settings.slack.bot_token", "api_keys[0].key", "", ""};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto result = parse(texts[i], {{"T", std::string{secret} + " x"}});
    BOOST_REQUIRE(result.error);
    BOOST_TEST(result.error->field == fields[i]);
    BOOST_TEST(!contains(result.error->to_string(), secret), result.error->to_string());
  }
}

// -- files -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(invalid_json_reports_the_position) {
  auto error = parse_error("{\"apps\": {\"P\": {}},\n  \"settings\": {,}}");
  BOOST_TEST(error.field.empty());
  BOOST_TEST(contains(error.problem, "line 2"));
  BOOST_TEST(contains(error.problem, "column"));
}

BOOST_AUTO_TEST_CASE(number_no_double_holds_is_an_error_naming_the_file_and_the_fix) {
  // Valid JSON that the parser cannot hold: reported as the file's problem,
  // not as an escaped exception ("a bug in the config loader").
  for (const char* number : {"1e400", "-1e400"}) {
    auto error = parse_error(std::string{R"({"apps": {"P": {}}, "settings": {"stale_loading_timeout_hours": )"}
                             + number + "}}");
    BOOST_TEST(error.file == "test.json");
    BOOST_TEST(contains(error.problem, "number too large"), error.to_string());
    BOOST_TEST(!contains(error.to_string(), "bug"), error.to_string());
    BOOST_TEST(!error.fix.empty());
  }
}

BOOST_AUTO_TEST_CASE(missing_file_is_a_config_error) {
  auto result = load_config("/nonexistent/epmpulse/apps.json", fake_env({}));
  BOOST_REQUIRE(result.error);
  BOOST_TEST(!result.config);
  BOOST_TEST(result.error->file == "/nonexistent/epmpulse/apps.json");
  BOOST_TEST(contains(result.error->problem, "cannot be opened"));
}

BOOST_AUTO_TEST_CASE(shipped_config_loads_with_an_empty_environment) {
  const std::string path = std::string{EPMPULSE_SOURCE_DIR} + "/config/apps.json";
  auto result = load_config(path, fake_env({}));
  BOOST_REQUIRE_MESSAGE(result.config, (result.error ? result.error->to_string() : ""));
  const auto& cfg = *result.config;
  BOOST_TEST(cfg.apps.size() >= 1u);
  BOOST_TEST(cfg.find_app("Planning") != nullptr);
  BOOST_TEST(cfg.find_app("Planning")->domains.size() == 3u);
  BOOST_TEST(cfg.find_channel("C87654321") != nullptr);
  // The four file keys are skipped without their variables.
  BOOST_TEST(cfg.api_keys.empty());
  BOOST_TEST(cfg.warnings.size() == 4u);
  BOOST_TEST(cfg.settings.slack.bot_token.empty());
  BOOST_TEST(!cfg.settings.pull_mode.enabled);
  BOOST_TEST(cfg.epm.servers.size() == 6u);
  // The nightly chain as an example of expectations, alerts left off.
  BOOST_TEST(cfg.expectations.size() == 3u);
  BOOST_TEST(cfg.expectations[2].after == std::vector<std::string>{"FCCS/Consolidation"});
  BOOST_TEST(cfg.maintenance.size() == 1u);
  BOOST_TEST(!cfg.settings.alerts.enabled);
}

BOOST_AUTO_TEST_CASE(shipped_config_takes_keys_from_the_environment) {
  const std::string path = std::string{EPMPULSE_SOURCE_DIR} + "/config/apps.json";
  auto result = load_config(path, fake_env({{"EPMPULSE_KEY_GROOVY", "groovy-key-0123456789"},
                                            {"EPMPULSE_KEY_ADMIN", "admin-key-0123456789"}}));
  BOOST_REQUIRE(result.config);
  BOOST_TEST(result.config->api_keys.size() == 2u);
  BOOST_TEST(result.config->warnings.size() == 2u);
}

BOOST_AUTO_TEST_CASE(storage_defaults_to_json_and_postgres_needs_a_url_kept_secret) {
  auto plain = parse_ok(minimal);
  BOOST_TEST((plain.settings.storage.kind == storage_kind::json));
  auto pg = parse_ok(with(R"(, "settings": {"storage": {"kind": "postgres", "url": "${DB_URL}", "pool": 4}})"),
                     {{"DB_URL", "postgresql://u:hunter2-secret@db/epm"}});
  BOOST_TEST((pg.settings.storage.kind == storage_kind::postgres));
  BOOST_TEST(pg.settings.storage.url == "postgresql://u:hunter2-secret@db/epm");
  BOOST_TEST(pg.settings.storage.pool == 4);
  auto missing = parse_error(with(R"(, "settings": {"storage": {"kind": "postgres"}})"));
  BOOST_TEST(missing.field == "settings.storage.url");
  BOOST_TEST(contains(missing.fix, "EPMPULSE_DATABASE_URL"));
  auto bad_mode = parse_error(with(R"(, "settings": {"storage": {"kind": "postgres", "url": "postgresql://u:hunter2-secret@db/epm", "sslmode": "maybe"}})"));
  BOOST_TEST(bad_mode.field == "settings.storage.sslmode");
  BOOST_TEST(!contains(bad_mode.problem + bad_mode.fix, "hunter2"));
  // Alerts on a shared database: elected to the leader like the canvases.
  auto alerts = parse_ok(with(R"(, "settings": {"alerts": {"enabled": true}, "storage": {"kind": "postgres", "url": "postgresql://db/epm"}})"));
  BOOST_TEST(alerts.settings.alerts.enabled);
}

BOOST_AUTO_TEST_SUITE_END() // config_tests
