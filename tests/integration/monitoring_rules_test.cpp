#include <boost/test/unit_test.hpp>

// docs/monitoring-rules.yml uses only metrics a running server exports: its
// exprs' epmpulse_* names against a real scrape with canvases and pull mode
// on, and an API key with an expiry (so every family is there).

#include <fstream>
#include <sstream>

#include "tests/fakes/fake_epm.hpp"
#include "tests/support/prometheus_text.hpp"
#include "tests/support/service_fixture.hpp"

BOOST_AUTO_TEST_SUITE(monitoring_rules_tests)

using namespace epmpulse::test;
using nlohmann::json;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A histogram's series are its family name plus one of these.
std::string family_of(const std::string& name, const prometheus_scrape& s) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string tail = suffix;
    if (name.size() > tail.size() && name.ends_with(tail)) {
      auto base = name.substr(0, name.size() - tail.size());
      auto type = s.types.find(base);
      if (type != s.types.end() && type->second == "histogram")
        return base;
    }
  }
  return name;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_metric_the_rules_use_is_exported) {
  fake_token_endpoint tokens;
  fake_epm pod;
  service_options o;
  o.config["apps"]["Planning"]["server"] = "planning_pod";
  o.config["epm"] = {
    {"auth",
     {{"type", "oauth_refresh_token"},
      {"token_url", tokens.url()},
      {"client_id", "epmpulse-public-client"},
      {"refresh_token", "rt-monitoring-5521"}}},
    {"servers",
     {{"planning_pod",
       {{"name", "Planning pod"}, {"base_url", pod.base_url()}, {"kind", "planning"},
        {"application", "Vision"}}}}}};
  o.config["settings"]["pull_mode"] = {{"enabled", true}, {"poll_interval_seconds", 1}};
  // Its start read from the pod (the fake answers 404: the fallback stands in).
  o.config["maintenance"] = nlohmann::json::array(
    {{{"name", "Planning pod"}, {"server", "planning_pod"}, {"start", "03:00"}}});
  o.config["api_keys"].push_back({{"name", "expiring"},
                                  {"key", "test-expiring-key-0123456789"},
                                  {"role", "read"},
                                  {"expires", "2099-01-01T00:00:00Z"}});
  service svc(o);
  // A push, so the state's last update and the domain ages have samples.
  BOOST_TEST_REQUIRE(
    svc.writer().post("/api/v1/status", update("FCCS", "Consolidation", "OK")).status == 200);

  auto r = svc.reader().get("/metrics");
  BOOST_TEST_REQUIRE(r.status == 200, r.describe());
  auto scrape = prometheus_scrape::parse(r.body);

  auto names = metric_names_in_rules(read_text(EPMPULSE_SOURCE_DIR "/docs/monitoring-rules.yml"));
  BOOST_TEST(names.size() >= 10u, "too few names found; is the parser reading the file?");
  for (const auto& name : names)
    BOOST_TEST(scrape.has_family(family_of(name, scrape)), name << " is not in the scrape");
}

BOOST_AUTO_TEST_CASE(the_rules_parser_reads_single_line_and_block_exprs) {
  auto names = metric_names_in_rules("groups:\n"
                                     "  - rules:\n"
                                     "      - alert: A\n"
                                     "        expr: epmpulse_a_total > 0\n"
                                     "        annotations:\n"
                                     "          summary: epmpulse_not_an_expr\n"
                                     "      - alert: B\n"
                                     "        expr: |\n"
                                     "          rate(epmpulse_b_bucket[5m])\n"
                                     "            and epmpulse_c\n"
                                     "        for: 5m\n");
  BOOST_TEST((names == std::set<std::string>{"epmpulse_a_total", "epmpulse_b_bucket", "epmpulse_c"}));
}

BOOST_AUTO_TEST_SUITE_END()
