#pragma once

// An error as the API reports it: the code (mapped to HTTP status and API
// code in reply.cpp, the one place), a message that says what is allowed, and
// details naming the field or item at fault.

#include <string>

#include <nlohmann/json.hpp>

#include "actors/common/errors.hpp"

namespace epmpulse::http {

struct api_error {
  ec code = ec::internal_error;
  std::string message;
  nlohmann::json details = nlohmann::json::object();
};

} // namespace epmpulse::http
