#pragma once

// An immutable byte buffer passed between actors without copying: a
// serialised state file, or a group of change-log records.

#include <memory>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>

namespace epmpulse {

using shared_bytes = std::shared_ptr<const std::string>;

} // namespace epmpulse

// In-process only: an immutable buffer handed between actors without a
// copy, never serialised.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::shared_bytes)
