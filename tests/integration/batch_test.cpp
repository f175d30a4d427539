#include <boost/test/unit_test.hpp>

// POST /api/v1/status/batch: shape, inheritance of job_id/timestamp, the 100
// item limit, and atomicity (one bad item: nothing applied).

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/time_util.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(batch_tests)

using namespace epmpulse::test;
using nlohmann::json;

namespace {

struct fresh_service {
  service svc;

  http_result batch(const json& body) const { return svc.writer().post("/api/v1/status/batch", body); }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(batch, fresh_service)

BOOST_AUTO_TEST_CASE(good_batch_applies_every_item_and_answers_the_documented_shape) {
  auto r = batch({{"updates",
                   {update("Planning", "Actual", "OK", {{"job_id", "FULL_20260216_001"}}),
                    update("FCCS", "Consolidation", "OK", {{"job_id", "FULL_20260216_001"}})}}});
  check_success(r);
  auto j = r.json();
  BOOST_TEST(j["updated_count"] == 2, j.dump());
  BOOST_TEST(j["canvas_updated"].is_boolean(), j.dump());
  BOOST_REQUIRE(j["updates"].is_array());
  BOOST_REQUIRE(j["updates"].size() == 2u);
  BOOST_TEST(j["updates"][0]["app"] == "Planning");
  BOOST_TEST(j["updates"][0]["domain"] == "Actual");
  BOOST_TEST(j["updates"][0]["status"] == "OK");
  BOOST_TEST(j["updates"][1]["app"] == "FCCS");
  BOOST_TEST(j["updates"][1]["domain"] == "Consolidation");
  auto s = svc.status();
  BOOST_TEST(s["apps"]["Planning"]["Actual"]["status"] == "OK");
  BOOST_TEST(s["apps"]["FCCS"]["Consolidation"]["status"] == "OK");
}

BOOST_AUTO_TEST_CASE(items_inherit_top_level_job_id_and_timestamp) {
  const std::string ts = "2026-02-16T14:35:00Z";
  auto r = batch({{"updates",
                   {update("Planning", "Actual", "OK"), update("FCCS", "Consolidation", "OK")}},
                  {"job_id", "FULL_20260216_001"},
                  {"timestamp", ts}});
  check_success(r);
  auto s = svc.status();
  for (auto [app, dom] : {std::pair{"Planning", "Actual"}, std::pair{"FCCS", "Consolidation"}}) {
    BOOST_TEST_CONTEXT(app << "/" << dom) {
      auto d = s["apps"][app][dom];
      BOOST_TEST(d["job_id"] == "FULL_20260216_001", d.dump());
      BOOST_TEST((parse_rfc3339(d.value("updated", "")) == parse_rfc3339(ts)), d.dump());
    }
  }
}

BOOST_AUTO_TEST_CASE(item_job_id_overrides_the_top_level_one) {
  check_success(batch({{"updates",
                        {update("Planning", "Actual", "OK", {{"job_id", "OWN_1"}}),
                         update("Planning", "Budget", "OK")}},
                       {"job_id", "TOP_1"}}));
  auto s = svc.status();
  BOOST_TEST(s["apps"]["Planning"]["Actual"]["job_id"] == "OWN_1");
  BOOST_TEST(s["apps"]["Planning"]["Budget"]["job_id"] == "TOP_1");
}

BOOST_AUTO_TEST_CASE(hundred_items_are_accepted) {
  json items = json::array();
  for (int i = 0; i < 100; ++i)
    items.push_back(update("Planning", "B" + std::to_string(i), "OK", {{"job_id", "H100"}}));
  auto r = batch({{"updates", items}});
  check_success(r);
  BOOST_TEST(r.json()["updated_count"] == 100);
  auto s = svc.status();
  for (int i = 0; i < 100; ++i)
    BOOST_TEST(s["apps"]["Planning"]["B" + std::to_string(i)]["status"] == "OK");
}

BOOST_AUTO_TEST_CASE(more_than_hundred_items_are_rejected_and_nothing_applied) {
  json items = json::array();
  for (int i = 0; i < 101; ++i)
    items.push_back(update("Planning", "C" + std::to_string(i), "OK"));
  auto r = batch({{"updates", items}});
  check_error(r, 400, "INVALID_REQUEST");
  check_names_field(r, "updates");
  auto s = svc.status();
  BOOST_TEST(!s["apps"]["Planning"].contains("C0"));
  BOOST_TEST(!s["apps"]["Planning"].contains("C100"));
}

BOOST_AUTO_TEST_CASE(one_bad_item_rejects_the_batch_naming_its_index_and_applies_nothing) {
  auto r = batch({{"updates",
                   {update("Planning", "Actual", "OK", {{"job_id", "ATOM_1"}}),
                    update("Planning", "Budget", "OK", {{"job_id", "ATOM_1"}}),
                    update("FCCS", "Consolidation", "OK", {{"job_id", "ATOM_1"}}),
                    update("Planning", "Forecast", "Finished", {{"job_id", "ATOM_1"}}),
                    update("Planning", "Extra", "OK", {{"job_id", "ATOM_1"}})}}});
  check_error(r, 400, "INVALID_STATUS");
  auto details = r.json()["error"]["details"];
  BOOST_TEST(details["index"] == 3, r.body);
  auto s = svc.status();
  BOOST_TEST(s["apps"]["Planning"]["Actual"]["status"] == "Blank", "item 0 must not be applied");
  BOOST_TEST(s["apps"]["Planning"]["Budget"]["status"] == "Blank", "item 1 must not be applied");
  BOOST_TEST(s["apps"]["FCCS"]["Consolidation"]["status"] == "Blank");
  BOOST_TEST(!s["apps"]["Planning"].contains("Extra"));
  auto file = svc.settled_state_json();
  BOOST_REQUIRE(file.is_object());
  BOOST_TEST(file["apps"]["Planning"]["domains"]["Actual"]["status"] == "Blank");
}

BOOST_AUTO_TEST_CASE(bad_items_of_every_kind_name_their_index) {
  struct bad_case {
    json item;
    std::string code;
  };
  const std::vector<bad_case> cases{
    {update("Essbase", "Actual", "OK"), "INVALID_APP"},
    {update("ARCS", "Unlisted", "OK"), "INVALID_DOMAIN"},
    {update("Planning", "Actual", "OK", {{"message", std::string(201, 'm')}}), "INVALID_REQUEST"},
    {update("Planning", "Actual", "OK", {{"timestamp", "soon"}}), "INVALID_REQUEST"},
    {update("Planning", "Actual", "OK", {{"unknown", true}}), "INVALID_REQUEST"},
    {json("not an object"), "INVALID_REQUEST"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("bad item at index 1: " << c.item.dump()) {
      auto r = batch({{"updates", {update("Planning", "Actual", "Loading"), c.item}}});
      check_error(r, 400, c.code);
      BOOST_TEST(r.json()["error"]["details"]["index"] == 1, r.body);
    }
  }
  BOOST_TEST(svc.status()["apps"]["Planning"]["Actual"]["status"] == "Blank");
}

BOOST_AUTO_TEST_CASE(malformed_batches_are_rejected_with_invalid_request) {
  for (const json& body :
       {json::object(), json{{"updates", json::array()}}, json{{"updates", "x"}},
        json{{"updates", json::object()}},
        json{{"updates", {update("Planning", "Actual", "OK")}}, {"colour", "red"}},
        json{{"updates", {update("Planning", "Actual", "OK")}}, {"timestamp", "later"}},
        json{{"updates", {update("Planning", "Actual", "OK")}}, {"job_id", 5}},
        json::array({update("Planning", "Actual", "OK")})}) {
    BOOST_TEST_CONTEXT("body: " << body.dump()) {
      check_error(batch(body), 400, "INVALID_REQUEST");
    }
  }
  BOOST_TEST(svc.status()["apps"]["Planning"]["Actual"]["status"] == "Blank");
}

BOOST_AUTO_TEST_CASE(batch_reports_stale_items_as_not_applied) {
  check_success(svc.writer().post("/api/v1/status",
                                  update("Planning", "Actual", "OK",
                                         {{"timestamp", "2026-02-16T15:00:00Z"}})));
  auto r = batch({{"updates",
                   {update("Planning", "Actual", "Loading", {{"timestamp", "2026-02-16T14:00:00Z"}}),
                    update("Planning", "Budget", "Loading", {{"timestamp", "2026-02-16T14:00:00Z"}})}}});
  check_success(r);
  auto s = svc.status();
  BOOST_TEST(s["apps"]["Planning"]["Actual"]["status"] == "OK", "the older event must not win");
  BOOST_TEST(s["apps"]["Planning"]["Budget"]["status"] == "Loading");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // batch_tests
