#pragma once

// The JSON reader under the section parsers: the document itself (syntax
// errors without secrets, keys given twice), field paths for messages, typed
// fields checked against their limits, ${VAR} / ${VAR:-default}
// substitution, and unknown keys with a "did you mean". Each check fails with
// the file, the field and the fix, so a section parser states a rule in one
// line and never builds a message's frame itself.

#include <cstddef>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "config/config_limits.hpp"

namespace epmpulse::config {

/// Ordered, so apps and channels keep the order of the file.
using config_json = nlohmann::ordered_json;

/// The first problem found. Validation stops there, and throwing it from deep
/// inside the readers keeps every check a single line; parse_config is the
/// only place that catches it, so nothing escapes the public functions.
struct config_failure {
  config_error error;
};

/// Parses `text`; a syntax error (without the token it stopped at, which may
/// be a secret) or a key given twice in one object throws config_failure.
config_json parse_json_document(const std::string& text, const std::string& file);

// -- field paths ---------------------------------------------------------------

/// "settings" + "slack" -> "settings.slack"; keys with dots or spaces are
/// bracketed (apps["my app"]) so the path stays unambiguous.
std::string child_path(const std::string& parent, std::string_view key);

/// "api_keys" + 2 -> "api_keys[2]".
std::string index_path(const std::string& parent, std::size_t index);

/// `text` in double quotes, as messages quote values.
std::string in_quotes(std::string_view text);

/// "a string", "a fractional number", ...: what was written instead.
std::string_view json_type_name(const config_json& value);

// -- shapes of text --------------------------------------------------------------

/// 1 to limits::max_name_length letters, digits, '_', '.', '-' (and spaces
/// when `allow_space`).
bool is_valid_name(std::string_view name, bool allow_space);

bool has_space_or_control(std::string_view text);

/// http:// or https:// with something after it and no spaces.
bool is_http_url(std::string_view url);

/// Callers append "/method"; a trailing slash would double it.
std::string without_trailing_slashes(std::string url);

/// The fix for a ${variable} that is unset and has no default.
std::string unresolved_fix(const std::string& variable);

// -- the reader ------------------------------------------------------------------

/// One string field after substitution.
struct text_field {
  std::string value;
  std::string unresolved; ///< first variable that was unset with no default
};

/// Reads fields of one configuration file; collects its warnings.
class config_reader {
public:
  config_reader(std::string file, const env_lookup& env);

  const std::string& file() const { return file_; }

  /// Stops loading with this problem.
  [[noreturn]] void fail(std::string field, std::string problem, std::string fix) const;

  /// A non-fatal finding, prefixed with the file.
  void warn(std::string text);

  /// The warnings so far, in the order they were found.
  std::vector<std::string> take_warnings();

  /// An environment variable; set but empty counts as unset, because
  /// `docker run -e VAR=` means "not set" to people.
  std::optional<std::string> env_value(const std::string& name) const;

  // -- structure --

  static const config_json* member(const config_json& object, std::string_view key);

  /// Optional sections: absent means "all defaults".
  const config_json& member_or_empty(const config_json& object, std::string_view key) const;

  void require_object(const config_json& value, const std::string& path,
                      const std::string& problem_if_not = {}) const;

  /// Fails on the first key not in `known`, suggesting the closest one.
  void reject_unknown_keys(const config_json& object, const std::string& path,
                           std::initializer_list<std::string_view> known) const;

  // -- typed fields: each returns the default when the key is absent --

  bool read_bool(const config_json& object, std::string_view key, const std::string& parent,
                 bool fallback) const;

  int read_whole_number(const config_json& object, std::string_view key,
                        const std::string& parent, const limits::whole_number_limit& limit) const;

  double read_number(const config_json& object, std::string_view key, const std::string& parent,
                     const limits::number_limit& limit) const;

  /// A string after substitution; an unset ${VAR} is reported to the caller
  /// (some fields may stay empty, others may not).
  text_field read_text(const config_json& value, const std::string& path) const;

  std::optional<text_field> read_text_field(const config_json& object, std::string_view key,
                                            const std::string& parent) const;

  /// A string the running service needs: an unset ${VAR} stops start-up.
  std::string read_string(const config_json& value, const std::string& path) const;

  std::string read_string(const config_json& object, std::string_view key,
                          const std::string& parent, std::string fallback) const;

  /// One of a fixed set of words; returns its index in `choices`.
  std::size_t read_choice(const config_json& object, std::string_view key,
                          const std::string& parent, std::size_t fallback,
                          std::initializer_list<std::string_view> choices) const;

  std::vector<std::string> read_string_array(const config_json& object, std::string_view key,
                                             const std::string& parent) const;

  // -- fields needed only later --

  /// A string whose unset ${VAR} is not fatal yet: the value keeps what did
  /// resolve, and the field remembers the variable for a later check that
  /// finds the field needed after all.
  std::string read_deferred(const config_json& object, std::string_view key,
                            const std::string& parent);

  /// Remembers that `field` was left empty because `variable` is unset.
  void defer_unset_variable(const std::string& field, const std::string& variable);

  /// The unset variable a deferred `field` referred to, if any.
  std::optional<std::string> deferred_variable(const std::string& field) const;

private:
  std::string file_;
  const env_lookup& env_;
  std::vector<std::string> warnings_;
  std::map<std::string, std::string> deferred_unset_variables_; ///< field -> variable
};

} // namespace epmpulse::config
