#pragma once

// Decoding and validation of status push bodies (POST /status and
// /status/batch). Pure functions: the handlers call them, tests too. Each
// rejection names the field (and the batch index) and says what is allowed.

#include <string_view>
#include <variant>
#include <vector>

#include "actors/state/status_model.hpp"
#include "config/config.hpp"
#include "http/api_error.hpp"

namespace epmpulse::http {

/// Validated updates, or the first problem found.
using decoded_updates = std::variant<std::vector<status_update>, api_error>;

/// Most items a batch may carry.
inline constexpr std::size_t max_batch_items = 100;

/// Decodes a single update body.
decoded_updates decode_status_body(std::string_view body, const config::service_config& cfg);

/// Decodes a batch body; nothing is returned unless every item is valid.
decoded_updates decode_batch_body(std::string_view body, const config::service_config& cfg);

/// True for names matching [A-Za-z0-9 _.-]{1,64}.
bool valid_domain_name(std::string_view name);

} // namespace epmpulse::http
