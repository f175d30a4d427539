#pragma once

// How Boost.Test prints the service's value types in failure messages (found
// by argument-dependent lookup). Include before a file's test suite.

#include <ostream>

#include <nlohmann/json.hpp>

#include "actors/state/status_model.hpp"

namespace epmpulse {

inline std::ostream& boost_test_print_type(std::ostream& os, job_status s) {
  return os << to_string(s);
}

inline std::ostream& boost_test_print_type(std::ostream& os, update_source s) {
  return os << to_string(s);
}

inline std::ostream& boost_test_print_type(std::ostream& os, const domain_state& d) {
  return os << to_json(d).dump();
}

} // namespace epmpulse
