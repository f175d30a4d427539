#define BOOST_TEST_MODULE epmpulse_integration
#include <boost/test/unit_test.hpp>

// The test runner for tests/integration; the cases are in the *_test.cpp files beside it.
