#pragma once

// Assertions shared by the integration suites: the API's error shape, the
// JSON content type, and "no internals leak into error bodies".
// Include after <boost/test/unit_test.hpp>.

#include <string>

#include <boost/test/unit_test.hpp>

#include "tests/support/http_client.hpp"

namespace epmpulse::test {

/// True when the Content-Type is application/json (parameters allowed).
inline bool is_json_content_type(const http_result& r) {
  auto ct = r.header("content-type");
  return ct.rfind("application/json", 0) == 0;
}

/// Fragments that would betray a stack trace or an unhandled exception.
inline bool leaks_internals(const std::string& body) {
  for (const char* bad : {"std::", "Traceback", "terminate called", "#0 ", ".cpp:", ".hpp:",
                          "what():", "Segmentation"})
    if (body.find(bad) != std::string::npos)
      return true;
  return false;
}

/// Checks status, code and the error shape
/// {"success": false, "error": {"code", "message", "details"?}}.
inline void check_error(const http_result& r, long status, const std::string& code) {
  BOOST_TEST_CONTEXT("response: " << r.describe()) {
    BOOST_TEST(r.status == status);
    BOOST_TEST(r.error_code() == code);
    BOOST_TEST(is_json_content_type(r), "content-type: " << r.header("content-type"));
    auto j = r.json();
    BOOST_TEST(j.is_object());
    if (j.is_object()) {
      BOOST_TEST(j.value("success", true) == false);
      BOOST_TEST((j.contains("error") && j["error"].is_object()));
      if (j.contains("error") && j["error"].is_object()) {
        BOOST_TEST((j["error"].contains("message") && j["error"]["message"].is_string()
                    && !j["error"]["message"].get<std::string>().empty()));
      }
    }
    BOOST_TEST(!leaks_internals(r.body));
  }
}

/// The error's details (or message) name `field`.
inline void check_names_field(const http_result& r, const std::string& field) {
  auto j = r.json();
  std::string details = j.is_object() && j.contains("error") && j["error"].contains("details")
                          ? j["error"]["details"].dump()
                          : std::string{};
  BOOST_TEST(details.find(field) != std::string::npos,
             "error.details should name '" << field << "': " << r.body);
}

/// A 200 JSON answer with "success": true.
inline void check_success(const http_result& r) {
  BOOST_TEST_CONTEXT("response: " << r.describe()) {
    BOOST_TEST(r.status == 200);
    BOOST_TEST(is_json_content_type(r), "content-type: " << r.header("content-type"));
    auto j = r.json();
    BOOST_TEST((j.is_object() && j.value("success", false) == true));
  }
}

} // namespace epmpulse::test
