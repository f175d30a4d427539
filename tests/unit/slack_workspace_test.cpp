#include <boost/test/unit_test.hpp>

// The fake Slack's canvas documents hold to what Slack documents for
// canvases.edit and canvases.sections.lookup (docs/integrations.md, "Canvas
// content and sections"): the canvas tests are only as good as this model.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakes/slack_workspace.hpp"
#include "tests/support/printing.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(slack_workspace_tests)

using namespace epmpulse::test;
using nlohmann::json;

namespace {

constexpr const char* canvas = "F1";
constexpr const char* dashboard = "# Board\n"
                                  "Last update: 14:30\n"
                                  "\n"
                                  "## Planning\n"
                                  "- Actual: OK\n"
                                  "- Budget: Blank\n"
                                  "\n"
                                  "## FCCS\n"
                                  "| Domain | Status |\n"
                                  "| --- | --- |\n"
                                  "| Consolidation | OK |\n";

struct workspace_fixture {
  slack_workspace slack{"xoxb-test"};

  workspace_fixture() { slack.put_canvas(canvas, dashboard); }

  json call(const std::string& method, const json& body) {
    auto c = slack_workspace::read_call(method, "Bearer xoxb-test", body.dump());
    return json::parse(slack.answer(c).body);
  }

  std::vector<std::string> lookup(const json& criteria) {
    auto answer = call("canvases.sections.lookup", {{"canvas_id", canvas}, {"criteria", criteria}});
    std::vector<std::string> ids;
    for (const auto& s : answer.value("sections", json::array()))
      ids.push_back(s["id"].get<std::string>());
    return ids;
  }

  json edit(const std::string& operation, const std::string& section_id,
            const std::string& markdown = {}) {
    json change = {{"operation", operation}};
    if (!section_id.empty())
      change["section_id"] = section_id;
    if (!markdown.empty())
      change["document_content"] = {{"type", "markdown"}, {"markdown", markdown}};
    return call("canvases.edit", {{"canvas_id", canvas}, {"changes", json::array({change})}});
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(every_heading_paragraph_list_and_table_is_a_section, workspace_fixture) {
  std::vector<std::string> expected = {"h1 Board", "paragraph", "h2 Planning", "list",
                                       "h2 FCCS", "table"};
  auto outline = slack.outline(canvas);
  BOOST_TEST(outline == expected, boost::test_tools::per_element());
  BOOST_TEST(slack.document(canvas) == dashboard); // reads back as written
}

BOOST_FIXTURE_TEST_CASE(lookup_by_section_type_finds_headings_only, workspace_fixture) {
  BOOST_TEST(lookup({{"section_types", {"any_header"}}}).size() == 3u);
  BOOST_TEST(lookup({{"section_types", {"h2"}}}).size() == 2u);
  BOOST_TEST(lookup({{"section_types", {"h2"}}, {"contains_text", "FCCS"}}).size() == 1u);
  // The table's text is not a heading's: with a section type, nothing.
  BOOST_TEST(lookup({{"section_types", {"any_header"}}, {"contains_text", "Consolidation"}}).empty());
  // Without one, other kinds of sections may be found (the method page says so).
  BOOST_TEST(lookup({{"contains_text", "Consolidation"}}).size() == 1u);
  // Criteria need a section type (1 to 3 of h1, h2, h3, any_header) or a text.
  auto bad = call("canvases.sections.lookup", {{"canvas_id", canvas}, {"criteria", json::object()}});
  BOOST_TEST(bad["error"] == "invalid_arguments");
  auto four = call("canvases.sections.lookup",
                   {{"canvas_id", canvas},
                    {"criteria", {{"section_types", {"h1", "h2", "h3", "any_header"}}}}});
  BOOST_TEST(four["error"] == "invalid_arguments");
}

BOOST_FIXTURE_TEST_CASE(replacing_a_heading_leaves_the_list_under_it, workspace_fixture) {
  auto planning = lookup({{"section_types", {"h2"}}, {"contains_text", "Planning"}});
  BOOST_REQUIRE_EQUAL(planning.size(), 1u);
  auto answer = edit("replace", planning[0], "## Planning\n- Actual: Loading\n- Budget: Blank\n");
  BOOST_TEST(answer["ok"] == true); // no error: Slack did exactly what it was asked
  std::vector<std::string> expected = {"h1 Board", "paragraph", "h2 Planning", "list", "list",
                                       "h2 FCCS", "table"};
  auto outline = slack.outline(canvas);
  BOOST_TEST(outline == expected, boost::test_tools::per_element());
  // The old list is still there, under the new one.
  auto doc = slack.document(canvas);
  BOOST_TEST(doc.find("- Actual: Loading") < doc.find("- Actual: OK"));
}

BOOST_FIXTURE_TEST_CASE(ids_change_with_every_edit, workspace_fixture) {
  auto fccs = lookup({{"section_types", {"h2"}}, {"contains_text", "FCCS"}});
  BOOST_REQUIRE_EQUAL(fccs.size(), 1u);
  BOOST_TEST(edit("insert_after", fccs[0], "A note\n")["ok"] == true);
  // The id looked up before the edit is stale now.
  auto stale = edit("delete", fccs[0]);
  BOOST_TEST(stale["error"] == "canvas_editing_failed");
  auto fresh = lookup({{"section_types", {"h2"}}, {"contains_text", "FCCS"}});
  BOOST_REQUIRE_EQUAL(fresh.size(), 1u);
  BOOST_TEST(fresh[0] != fccs[0]);
  BOOST_TEST(edit("delete", fresh[0])["ok"] == true);
  std::vector<std::string> expected = {"h1 Board", "paragraph", "h2 Planning", "list", "paragraph",
                                       "table"};
  auto outline = slack.outline(canvas);
  BOOST_TEST(outline == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(edits_take_one_documented_operation_per_call, workspace_fixture) {
  BOOST_TEST(edit("insert_at_start", "", "Top\n")["ok"] == true);
  BOOST_TEST(edit("insert_at_end", "", "Bottom\n")["ok"] == true);
  BOOST_TEST(slack.outline(canvas).front() == "paragraph");
  BOOST_TEST(slack.outline(canvas).back() == "paragraph");
  BOOST_TEST(edit("delete", "")["error"] == "invalid_arguments");         // needs a section id
  BOOST_TEST(edit("insert_after", "", "x\n")["error"] == "invalid_arguments");
  BOOST_TEST(edit("append", "", "x\n")["error"] == "invalid_arguments");  // not an operation
  json two = json::array({{{"operation", "insert_at_end"},
                           {"document_content", {{"type", "markdown"}, {"markdown", "a\n"}}}},
                          {{"operation", "insert_at_end"},
                           {"document_content", {{"type", "markdown"}, {"markdown", "b\n"}}}}});
  BOOST_TEST(call("canvases.edit", {{"canvas_id", canvas}, {"changes", two}})["error"]
             == "invalid_arguments");
  // A whole replace leaves exactly what was sent.
  BOOST_TEST(edit("replace", "", dashboard)["ok"] == true);
  BOOST_TEST(slack.document(canvas) == dashboard);
}

BOOST_AUTO_TEST_SUITE_END() // slack_workspace_tests
