#include <boost/test/unit_test.hpp>

// The body compressor: every reader is answered exactly once, with the gzip
// form of a body at least as new as the one it was sent with, and readers of
// one ETag share one compression.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <restinio/transforms/zlib.hpp>

#include "actors/state/body_compressor.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(body_compressor_tests)

using namespace epmpulse;
using epmpulse::test::eventually;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  body_compressor_actor compressor = spawn_body_compressor(sys);

  ~fixture() { caf::anon_send_exit(compressor, caf::exit_reason::user_shutdown); }
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

struct answers {
  std::mutex mutex;
  std::vector<std::pair<int, status_representation>> got; // (asked version, answer)

  compressed_callback for_version(int v) {
    return [this, v](status_representation r) {
      std::lock_guard<std::mutex> lock{mutex};
      got.emplace_back(v, std::move(r));
    };
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock{mutex};
    return got.size();
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(every_reader_gets_a_version_at_least_as_new_as_asked, fixture) {
  answers a;
  constexpr int versions = 200;
  for (int v = 1; v <= versions; ++v)
    caf::anon_send(compressor, compress_atom_v, std::string{}, version_body(v), a.for_version(v));
  BOOST_REQUIRE(eventually([&] { return a.size() == versions; }));
  std::lock_guard<std::mutex> lock{a.mutex};
  int last_answered = 0;
  for (const auto& [asked, r] : a.got) {
    BOOST_TEST(r.gzip);
    auto shown = version_of(r);
    BOOST_TEST(shown >= asked, "asked " << asked << ", got " << shown);
    BOOST_TEST(r.etag == "\"i-" + std::to_string(shown) + "-gz\"");
    BOOST_TEST(shown >= last_answered, "answers went back in time");
    last_answered = shown;
  }
  // The last reader always gets the last version.
  BOOST_TEST(a.got.back().first == versions);
  BOOST_TEST(version_of(a.got.back().second) == versions);
}

BOOST_FIXTURE_TEST_CASE(readers_of_one_etag_share_one_compression, fixture) {
  answers a;
  for (int i = 0; i < 3; ++i) {
    caf::anon_send(compressor, compress_atom_v, std::string{}, version_body(7), a.for_version(7));
    BOOST_REQUIRE(eventually([&] { return a.size() == static_cast<std::size_t>(i + 1); }));
  }
  std::lock_guard<std::mutex> lock{a.mutex};
  BOOST_TEST(a.got[0].second.bytes == a.got[1].second.bytes); // the same buffer, not a copy
  BOOST_TEST(a.got[1].second.bytes == a.got[2].second.bytes);
  BOOST_TEST(a.got[0].second.bytes->size() < 4000u);
}

BOOST_FIXTURE_TEST_CASE(bodies_are_kept_apart, fixture) {
  answers a;
  caf::anon_send(compressor, compress_atom_v, std::string{}, version_body(1), a.for_version(1));
  caf::anon_send(compressor, compress_atom_v, std::string{"Planning"}, version_body(2),
                 a.for_version(2));
  BOOST_REQUIRE(eventually([&] { return a.size() == 2; }));
  std::lock_guard<std::mutex> lock{a.mutex};
  for (const auto& [asked, r] : a.got)
    BOOST_TEST(version_of(r) == asked); // one app's body never answers for all apps'
}

BOOST_AUTO_TEST_CASE(gzip_etag_adds_the_coding_inside_the_quotes) {
  BOOST_TEST(gzip_etag("\"ab-12\"") == "\"ab-12-gz\"");
}

BOOST_AUTO_TEST_SUITE_END()
