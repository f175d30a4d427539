#pragma once

// An error as the API reports it: the code (whose HTTP status and API code
// actors/common/errors maps in one place), a message that says what is
// allowed, and details naming the field or item at fault.

#include <string>

#include <caf/error.hpp>
#include <nlohmann/json.hpp>

#include "actors/common/errors.hpp"

namespace epmpulse::http {

struct api_error {
  ec code = ec::internal_error;
  std::string message;
  nlohmann::json details = nlohmann::json::object();
};

/// The API's error for an actor's answer. An `ec` error keeps its code; its
/// message is the error's context when that is one string (actors put only
/// client-fit text there), else the code's standard message. A request not
/// answered in time, or sent to an actor that is gone, is 503
/// SERVICE_UNAVAILABLE; anything else is 500 INTERNAL_ERROR.
api_error api_error_of(const caf::error& err);

/// The standard message for `code`, for errors that carry none.
std::string standard_message(ec code);

} // namespace epmpulse::http
