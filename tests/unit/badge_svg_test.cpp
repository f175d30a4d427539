#include <boost/test/unit_test.hpp>

// Badges: the status word on its colour, the app's worst domain, and text
// that cannot break out of the SVG.

#include <map>
#include <string>

#include "http/badge_svg.hpp"

BOOST_AUTO_TEST_SUITE(badge_svg_tests)

using namespace epmpulse;
using namespace epmpulse::http;

BOOST_AUTO_TEST_CASE(badge_shows_label_and_status_in_the_status_colour) {
  auto svg = render_badge("Planning/Actual", job_status::ok);
  BOOST_TEST(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  BOOST_TEST(svg.find(">Planning/Actual</text>") != std::string::npos);
  BOOST_TEST(svg.find(">OK</text>") != std::string::npos);
  BOOST_TEST(svg.find(badge_colour(job_status::ok)) != std::string::npos);
  BOOST_TEST(svg.ends_with("</svg>"));
  BOOST_TEST(std::string(badge_colour(job_status::warning)) != badge_colour(job_status::ok));
}

BOOST_AUTO_TEST_CASE(every_text_is_escaped) {
  auto svg = render_badge("<script>alert('x')</script>&\"", job_status::warning);
  BOOST_TEST(svg.find("<script") == std::string::npos);
  BOOST_TEST(svg.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;") != std::string::npos);
  BOOST_TEST(xml_escape("a\x01" "b\tc") == "ab\tc");
}

BOOST_AUTO_TEST_CASE(a_longer_label_makes_a_wider_badge) {
  auto width = [](const std::string& svg) {
    auto at = svg.find("width=\"") + 7;
    return std::stoi(svg.substr(at, svg.find('"', at) - at));
  };
  BOOST_TEST(width(render_badge("FCCS", job_status::ok))
             < width(render_badge("FCCS/Consolidation", job_status::ok)));
}

BOOST_AUTO_TEST_CASE(app_status_is_its_worst_domain) {
  std::map<std::string, domain_state> domains;
  BOOST_TEST(overall_status(domains) == job_status::blank);
  domains["a"].status = job_status::blank;
  BOOST_TEST(overall_status(domains) == job_status::blank);
  domains["b"].status = job_status::ok;
  BOOST_TEST(overall_status(domains) == job_status::ok);
  domains["c"].status = job_status::loading;
  BOOST_TEST(overall_status(domains) == job_status::loading);
  domains["d"].status = job_status::warning;
  BOOST_TEST(overall_status(domains) == job_status::warning);
}

BOOST_AUTO_TEST_SUITE_END()
