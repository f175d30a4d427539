#pragma once

// One pass over a status push body with simdjson, keeping the fields an
// update may carry as they were found. nlohmann's lexer, whether it built a
// document or drove a SAX handler, spent about 80 instructions a byte: 26%
// of a batch request's instructions (bench/RESULTS.md). What the fields must
// hold is checked afterwards, in status_request.cpp; this reader only
// records what is there, with a JSON document's rules: a repeated key keeps
// its last value, and unknown keys are listed by name, as a JSON object
// orders them.
// simdjson's 30,000-line header is included here alone (and this file is
// compiled outside the unity batches).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace epmpulse::http {

/// What a body held under one key.
struct raw_field {
  enum class kind : std::uint8_t { absent, null, string, other };
  kind found = kind::absent;
  std::string text; ///< the value when found == kind::string
};

/// The keys an update object may have.
enum class item_field : std::uint8_t { app, domain, status, job_id, message, timestamp };
inline constexpr std::size_t item_field_count = 6;

/// One update object (or, in a batch, the body's own job_id and timestamp).
struct raw_item {
  bool is_object = true; ///< false: a batch item that is not an object
  std::array<raw_field, item_field_count> fields;
  std::optional<std::string> unknown_key; ///< the first by name, when any

  raw_field& operator[](item_field f) { return fields[static_cast<std::size_t>(f)]; }
  const raw_field& operator[](item_field f) const { return fields[static_cast<std::size_t>(f)]; }
};

enum class body_shape : std::uint8_t {
  single, ///< the body is one update
  batch,  ///< {"updates": [...], "job_id": ..., "timestamp": ...}
};

struct raw_body {
  bool valid_json = false;
  bool is_object = false;
  /// The update (single), or the batch's job_id and timestamp and its
  /// unknown keys (batch: "updates", "job_id" and "timestamp" are known).
  raw_item root;
  bool updates_is_array = false; ///< batch: "updates" was present and an array
  std::vector<raw_item> updates; ///< batch: its items, in order
};

/// Reads `body`; never throws for any input.
raw_body read_status_body(std::string_view body, body_shape shape);

} // namespace epmpulse::http
