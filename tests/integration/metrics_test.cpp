#include <boost/test/unit_test.hpp>

// GET /metrics: the per-route histogram and responses, the per-domain
// gauges and their cap, and the process metrics, against a running server.

#include "http/metrics_text.hpp"
#include "tests/support/prometheus_text.hpp"
#include "tests/support/service_fixture.hpp"

// How Boost.Test prints a sample that may be missing.
namespace std {
inline ostream& boost_test_print_type(ostream& os, const optional<double>& v) {
  return v ? os << *v : os << "(absent)";
}
} // namespace std

BOOST_AUTO_TEST_SUITE(metrics_tests)

using namespace epmpulse::test;
using nlohmann::json;

namespace {

struct running_service {
  service svc;

  prometheus_scrape scrape() const {
    auto r = svc.reader().get("/metrics");
    BOOST_TEST_REQUIRE(r.status == 200, r.describe());
    return prometheus_scrape::parse(r.body);
  }

  void push(const json& body) const {
    auto r = svc.writer().post("/api/v1/status", body);
    BOOST_TEST_REQUIRE(r.status == 200, r.describe());
  }
};

const std::map<std::string, std::string> push_route = {{"method", "POST"},
                                                       {"route", "/api/v1/status"}};

double count_of(const prometheus_scrape& s, const std::map<std::string, std::string>& labels) {
  return s.value("epmpulse_http_request_duration_seconds_count", labels).value_or(-1);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(metrics, running_service)

BOOST_AUTO_TEST_CASE(pushes_move_the_domain_gauges) {
  std::map<std::string, std::string> actual = {{"app", "Planning"}, {"domain", "Actual"}};
  auto before = scrape();
  BOOST_TEST(before.value("epmpulse_domain_status", actual) == 0.0); // Blank
  BOOST_TEST(before.find("epmpulse_domain_seconds_since_update", actual).empty());
  BOOST_TEST(before.value("epmpulse_domains", {{"status", "Blank"}}) == 5.0);

  push(update("Planning", "Actual", "Loading", {{"job_id", "J7"}}));
  auto loading = scrape();
  BOOST_TEST(loading.value("epmpulse_domain_status", actual) == 2.0);
  auto age = loading.value("epmpulse_domain_seconds_since_update", actual);
  BOOST_TEST_REQUIRE(age.has_value());
  BOOST_TEST(*age >= 0.0);
  BOOST_TEST(*age < 60.0);
  BOOST_TEST(loading.find("epmpulse_domain_last_run_duration_seconds", actual).empty());
  BOOST_TEST(loading.value("epmpulse_domains", {{"status", "Loading"}}) == 1.0);
  BOOST_TEST(loading.has_family("epmpulse_state_last_update_timestamp_seconds"));
  BOOST_TEST(loading.value("epmpulse_state_last_update_timestamp_seconds").has_value());

  push(update("Planning", "Actual", "Warning", {{"job_id", "J7"}, {"message", "3 rows rejected"}}));
  auto warning = scrape();
  BOOST_TEST(warning.value("epmpulse_domain_status", actual) == 3.0);
  auto duration = warning.value("epmpulse_domain_last_run_duration_seconds", actual);
  BOOST_TEST_REQUIRE(duration.has_value());
  BOOST_TEST(*duration >= 0.0);
  push(update("FCCS", "Consolidation", "OK"));
  auto ok = scrape();
  BOOST_TEST(ok.value("epmpulse_domain_status", {{"app", "FCCS"}, {"domain", "Consolidation"}})
             == 1.0);
  BOOST_TEST(ok.value("epmpulse_domain_series_dropped") == 0.0);
}

BOOST_AUTO_TEST_CASE(route_histogram_and_responses_count_each_request) {
  auto before = scrape();
  auto pushes_before = count_of(before, push_route);
  BOOST_TEST_REQUIRE(pushes_before >= 0.0);
  auto ok_before = before.value("epmpulse_http_route_responses_total",
                                {{"method", "POST"}, {"route", "/api/v1/status"}, {"class", "2xx"}});
  auto bad_before = before.value("epmpulse_http_route_responses_total",
                                 {{"method", "POST"}, {"route", "/api/v1/status"}, {"class", "4xx"}});
  for (int i = 0; i < 3; ++i)
    push(update("Planning", "Budget", i % 2 ? "OK" : "Loading", {{"job_id", "B" + std::to_string(i)}}));
  BOOST_TEST(svc.writer().post("/api/v1/status", update("Planning", "Budget", "Done")).status == 400);
  BOOST_TEST(svc.reader().get("/api/v1/status/Planning").status == 200);
  BOOST_TEST(svc.reader().get("/api/v1/nowhere").status == 404);

  auto after = scrape();
  BOOST_TEST(count_of(after, push_route) == pushes_before + 4);
  BOOST_TEST(*after.value("epmpulse_http_route_responses_total",
                          {{"method", "POST"}, {"route", "/api/v1/status"}, {"class", "2xx"}})
             == *ok_before + 3);
  BOOST_TEST(*after.value("epmpulse_http_route_responses_total",
                          {{"method", "POST"}, {"route", "/api/v1/status"}, {"class", "4xx"}})
             == *bad_before + 1);
  // The template, not the raw path: one series for every app.
  BOOST_TEST(count_of(after, {{"method", "GET"}, {"route", "/api/v1/status/{app}"}}) >= 1.0);
  BOOST_TEST(after.find("epmpulse_http_request_duration_seconds_count",
                        {{"route", "/api/v1/status/Planning"}})
               .empty());
  BOOST_TEST(count_of(after, {{"method", "other"}, {"route", "other"}}) >= 1.0);

  // Buckets are cumulative and end with +Inf = count.
  auto buckets = after.find("epmpulse_http_request_duration_seconds_bucket", push_route);
  BOOST_TEST_REQUIRE(buckets.size() == epmpulse::http::latency_bucket_bounds_us.size() + 1);
  for (std::size_t i = 1; i < buckets.size(); ++i)
    BOOST_TEST(buckets[i].value >= buckets[i - 1].value);
  BOOST_TEST(buckets.back().labels.at("le") == "+Inf");
  BOOST_TEST(buckets.back().value == count_of(after, push_route));
  BOOST_TEST(*after.value("epmpulse_http_request_duration_seconds_sum", push_route) > 0.0);
}

BOOST_AUTO_TEST_CASE(process_metrics_name_the_build) {
  auto s = scrape();
  auto info = s.find("epmpulse_build_info");
  BOOST_TEST_REQUIRE(info.size() == 1u);
  BOOST_TEST(info[0].value == 1.0);
  BOOST_TEST(info[0].labels.at("version") == EPMPULSE_VERSION);
  BOOST_TEST(!info[0].labels.at("commit").empty());
  BOOST_TEST(s.value("epmpulse_uptime_seconds").value_or(-1) >= 0.0);
  // The scrape's own connection at least.
  BOOST_TEST(s.value("epmpulse_http_open_connections").value_or(0) >= 1.0);
  BOOST_TEST(s.types.at("epmpulse_http_request_duration_seconds") == "histogram");
}

BOOST_AUTO_TEST_CASE(domain_series_stop_at_the_cap_and_count_the_rest) {
  // Planning accepts any domain name: fill it past the cap in batches.
  const std::size_t extra = epmpulse::http::max_domain_series + 50;
  for (std::size_t first = 0; first < extra; first += 100) {
    json updates = json::array();
    for (std::size_t i = first; i < std::min(first + 100, extra); ++i)
      updates.push_back(update("Planning", "D" + std::to_string(10000 + i), "OK"));
    auto r = svc.writer().post("/api/v1/status/batch", {{"updates", updates}});
    BOOST_TEST_REQUIRE(r.status == 200, r.describe());
  }
  auto s = scrape();
  const double total = static_cast<double>(extra + 5); // and the five configured domains
  BOOST_TEST(s.find("epmpulse_domain_status").size() == epmpulse::http::max_domain_series);
  BOOST_TEST(s.find("epmpulse_domain_seconds_since_update").size()
             <= epmpulse::http::max_domain_series);
  BOOST_TEST(s.value("epmpulse_domain_series_dropped")
             == total - static_cast<double>(epmpulse::http::max_domain_series));
  double counted = 0;
  for (const auto& sample : s.find("epmpulse_domains"))
    counted += sample.value;
  BOOST_TEST(counted == total); // the per-status totals are never capped
  BOOST_TEST(s.value("epmpulse_domains", {{"status", "OK"}}) == static_cast<double>(extra));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()
