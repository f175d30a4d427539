#define BOOST_TEST_MODULE epmpulse_unit
#include <boost/test/unit_test.hpp>

// The test runner for tests/unit; the cases are in the *_test.cpp files beside it.
