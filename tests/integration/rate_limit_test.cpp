#include <boost/test/unit_test.hpp>

// 429 RATE_LIMITED against the real server with small budgets: per key for
// pushes, per client address for reads, never for health.

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"

BOOST_AUTO_TEST_SUITE(rate_limit_tests)

using namespace epmpulse::test;
using nlohmann::json;

namespace {

service_options small_budgets() {
  service_options opts;
  opts.config["settings"]["rate_limits"] = {
    {"enabled", true}, {"status_per_minute", 3}, {"batch_per_minute", 2}, {"read_per_minute", 4}};
  return opts;
}

struct limited_service {
  service svc{small_budgets()};
};

json push(int i) {
  return update("Planning", "Actual", "Loading", {{"job_id", "RL_" + std::to_string(i)}});
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(limits, limited_service)

BOOST_AUTO_TEST_CASE(pushes_beyond_the_budget_get_429_with_retry_after) {
  auto writer = svc.writer();
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(writer.post("/api/v1/status", push(i)).status == 200);
  auto refused = writer.post("/api/v1/status", push(3));
  check_error(refused, 429, "RATE_LIMITED");
  auto retry_after = refused.header("retry-after");
  BOOST_TEST_REQUIRE(!retry_after.empty());
  BOOST_TEST(std::stoi(retry_after) >= 1);
  BOOST_TEST(refused.json()["error"]["details"]["retry_after_sec"] == std::stoi(retry_after));
  // The refused push changed nothing.
  BOOST_TEST(svc.domain("Planning", "Actual")["job_id"] == "RL_2");
}

BOOST_AUTO_TEST_CASE(each_key_has_its_own_budget) {
  auto writer = svc.writer();
  for (int i = 0; i < 3; ++i)
    writer.post("/api/v1/status", push(i));
  BOOST_TEST(writer.post("/api/v1/status", push(3)).status == 429);
  // The admin key is another client: its budget is untouched.
  BOOST_TEST(svc.admin().post("/api/v1/status", push(4)).status == 200);
}

BOOST_AUTO_TEST_CASE(batches_have_their_own_budget) {
  auto writer = svc.writer();
  for (int i = 0; i < 3; ++i)
    writer.post("/api/v1/status", push(i));
  json batch = {{"updates", {push(10)}}};
  BOOST_TEST(writer.post("/api/v1/status/batch", batch).status == 200);
  BOOST_TEST(writer.post("/api/v1/status/batch", batch).status == 200);
  check_error(writer.post("/api/v1/status/batch", batch), 429, "RATE_LIMITED");
}

BOOST_AUTO_TEST_CASE(reads_are_limited_per_address_and_health_never) {
  int ok = 0;
  for (int i = 0; i < 4; ++i)
    ok += svc.reader().get("/api/v1/status").status == 200 ? 1 : 0;
  BOOST_TEST(ok == 4);
  // Another key from the same address shares the address's read budget.
  check_error(svc.admin().get("/api/v1/status"), 429, "RATE_LIMITED");
  for (int i = 0; i < 10; ++i)
    BOOST_TEST(svc.anonymous().get("/api/v1/health").status == 200);
}

BOOST_AUTO_TEST_CASE(auth_comes_before_the_budget) {
  auto writer = svc.writer();
  for (int i = 0; i < 3; ++i)
    writer.post("/api/v1/status", push(i));
  // An unknown key is told so, not that it is rate limited.
  check_error(svc.client("not-a-key").post("/api/v1/status", push(9)), 403, "INVALID_KEY");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // rate_limit_tests
