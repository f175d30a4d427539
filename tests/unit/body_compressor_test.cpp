#include <boost/test/unit_test.hpp>

// The body compressor: every reader is answered exactly once, with the gzip
// form of a body at least as new as the one it was sent with, and readers of
// one ETag share one compression.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <restinio/transforms/zlib.hpp>

#include "actors/state/body_compressor.hpp"
#include "tests/support/simulated_system.hpp"

// On the test coordinator: messages run in the order they were sent, so
// "readers that arrived while one compression ran" is a fact the test sets
// up, not a race it hopes for.
BOOST_AUTO_TEST_SUITE(body_compressor_tests)

using namespace epmpulse;

namespace {

struct fixture {
  test::simulated_system sim;
  body_compressor_actor compressor = sim.system().spawn(body_compressor);
};

// A JSON representation of version `v`, large enough to be worth compressing.
status_representation version_body(int v) {
  auto text = "{\"version\":" + std::to_string(v) + ",\"pad\":\"" + std::string(4000, 'x') + "\"}";
  return {std::make_shared<const std::string>(std::move(text)),
          "\"i-" + std::to_string(v) + "\"", false};
}

int version_of(const status_representation& zipped) {
  auto text = restinio::transforms::zlib::gzip_decompress(*zipped.bytes);
  auto at = text.find("\"version\":");
  return std::stoi(text.substr(at + 10));
}

// (asked version, answer), in the order the answers arrived.
using answers = std::vector<std::pair<int, status_representation>>;

// Sends one request per (body, version) from one reader actor, in order,
// without waiting between them; the answers land in `got`.
void ask_all(fixture& f, std::vector<std::pair<std::string, int>> asks,
             std::shared_ptr<answers> got) {
  f.sim.system().spawn([compressor = f.compressor, asks, got](caf::event_based_actor* self) {
    for (const auto& [body, v] : asks)
      self->request(compressor, std::chrono::seconds{10}, compress_atom_v, body, version_body(v))
        .then([got, v = v](status_representation& r) { got->emplace_back(v, std::move(r)); });
  });
  f.sim.run();
}

} // namespace

BOOST_FIXTURE_TEST_CASE(every_reader_gets_a_version_at_least_as_new_as_asked, fixture) {
  auto got = std::make_shared<answers>();
  constexpr int versions = 200;
  std::vector<std::pair<std::string, int>> asks;
  for (int v = 1; v <= versions; ++v)
    asks.emplace_back(std::string{}, v);
  ask_all(*this, asks, got);
  BOOST_REQUIRE_EQUAL(got->size(), std::size_t{versions});
  int last_answered = 0;
  for (const auto& [asked, r] : *got) {
    BOOST_TEST(r.gzip);
    auto shown = version_of(r);
    BOOST_TEST(shown >= asked, "asked " << asked << ", got " << shown);
    BOOST_TEST(r.etag == "\"i-" + std::to_string(shown) + "-gz\"");
    BOOST_TEST(shown >= last_answered, "answers went back in time");
    last_answered = shown;
  }
  // The last reader always gets the last version; readers queued together
  // shared compressions (all 200 were in the mailbox before the first ran).
  BOOST_TEST(got->back().first == versions);
  BOOST_TEST(version_of(got->back().second) == versions);
  BOOST_TEST(got->front().second.bytes == got->back().second.bytes);
}

BOOST_FIXTURE_TEST_CASE(readers_of_one_etag_share_one_compression, fixture) {
  // Three readers one after the other, each answered before the next asks.
  auto got = std::make_shared<answers>();
  for (int i = 0; i < 3; ++i) {
    ask_all(*this, {{std::string{}, 7}}, got);
    BOOST_REQUIRE_EQUAL(got->size(), static_cast<std::size_t>(i + 1));
  }
  const auto& a = *got;
  BOOST_TEST(a[0].second.bytes == a[1].second.bytes); // the same buffer, not a copy
  BOOST_TEST(a[1].second.bytes == a[2].second.bytes);
  BOOST_TEST(a[0].second.bytes->size() < 4000u);
}

BOOST_FIXTURE_TEST_CASE(bodies_are_kept_apart, fixture) {
  auto got = std::make_shared<answers>();
  ask_all(*this, {{std::string{}, 1}, {std::string{"Planning"}, 2}}, got);
  BOOST_REQUIRE_EQUAL(got->size(), std::size_t{2});
  for (const auto& [asked, r] : *got)
    BOOST_TEST(version_of(r) == asked); // one app's body never answers for all apps'
}

BOOST_AUTO_TEST_CASE(gzip_etag_adds_the_coding_inside_the_quotes) {
  BOOST_TEST(gzip_etag("\"ab-12\"") == "\"ab-12-gz\"");
}

BOOST_AUTO_TEST_SUITE_END()
