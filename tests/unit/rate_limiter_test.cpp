#include <boost/test/unit_test.hpp>

// The token buckets behind 429 RATE_LIMITED, driven with an explicit clock.

#include <chrono>
#include <string>

#include "http/rate_limiter.hpp"

BOOST_AUTO_TEST_SUITE(rate_limiter_tests)

using epmpulse::http::rate_limiter;
using namespace std::chrono_literals;

namespace {

const rate_limiter::clock::time_point t0{};

int admitted_in_a_row(rate_limiter& limiter, const std::string& key, int per_minute,
                      rate_limiter::clock::time_point at) {
  int n = 0;
  while (limiter.admit(key, per_minute, at).allowed)
    ++n;
  return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_full_minute_of_requests_may_come_as_one_burst) {
  rate_limiter limiter;
  BOOST_TEST(admitted_in_a_row(limiter, "status:groovy", 60, t0) == 60);
}

BOOST_AUTO_TEST_CASE(a_refused_request_learns_how_long_to_wait) {
  rate_limiter limiter;
  admitted_in_a_row(limiter, "status:groovy", 30, t0); // 30 a minute: one per 2 s
  auto refused = limiter.admit("status:groovy", 30, t0);
  BOOST_TEST(!refused.allowed);
  BOOST_TEST(refused.retry_after_sec == 2);
}

BOOST_AUTO_TEST_CASE(the_bucket_refills_at_the_configured_rate) {
  rate_limiter limiter;
  admitted_in_a_row(limiter, "k", 60, t0);
  BOOST_TEST(!limiter.admit("k", 60, t0 + 500ms).allowed);
  BOOST_TEST(limiter.admit("k", 60, t0 + 1s).allowed);
  BOOST_TEST(!limiter.admit("k", 60, t0 + 1s).allowed);
  // Ten idle seconds buy ten requests, not more.
  BOOST_TEST(admitted_in_a_row(limiter, "k", 60, t0 + 11s) == 10);
}

BOOST_AUTO_TEST_CASE(refill_never_exceeds_one_minute_of_budget) {
  rate_limiter limiter;
  admitted_in_a_row(limiter, "k", 6, t0);
  BOOST_TEST(admitted_in_a_row(limiter, "k", 6, t0 + 1h) == 6);
}

BOOST_AUTO_TEST_CASE(keys_have_separate_budgets) {
  rate_limiter limiter;
  admitted_in_a_row(limiter, "status:noisy", 5, t0);
  BOOST_TEST(!limiter.admit("status:noisy", 5, t0).allowed);
  BOOST_TEST(limiter.admit("status:quiet", 5, t0).allowed);
  BOOST_TEST(limiter.tracked() == 2u);
}

BOOST_AUTO_TEST_CASE(zero_or_negative_means_unlimited_and_tracks_nothing) {
  rate_limiter limiter;
  for (int i = 0; i < 1000; ++i)
    BOOST_TEST_REQUIRE(limiter.admit("k", 0, t0).allowed);
  BOOST_TEST(limiter.tracked() == 0u);
}

BOOST_AUTO_TEST_CASE(idle_buckets_are_forgotten_once_many_clients_were_seen) {
  rate_limiter limiter;
  for (int i = 0; i < 10'001; ++i)
    limiter.admit("read:10.0.0." + std::to_string(i), 100, t0);
  // A minute later every old bucket is full again; the next new client
  // triggers the sweep and only it remains.
  limiter.admit("read:new", 100, t0 + 61s);
  BOOST_TEST(limiter.tracked() == 1u);
}

BOOST_AUTO_TEST_SUITE_END() // rate_limiter_tests
