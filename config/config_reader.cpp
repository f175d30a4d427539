#include "config/config_reader.hpp"

// How one configuration file is read: the JSON document, paths, typed fields
// against their limits, substitution and unknown keys. Which fields exist and
// what they mean is config_sections.cpp's business.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

namespace epmpulse::config {

namespace {

bool is_plain_path_key(std::string_view key) {
  if (key.empty())
    return false;
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
      return false;
  return true;
}

std::string format_config_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

/// `min_exclusive` spells "greater than" instead of "at least".
std::string describe_interval(double min, double max, bool min_exclusive) {
  return std::string{min_exclusive ? "greater than " : "at least "} + format_config_number(min)
         + " and at most " + format_config_number(max);
}

/// Edit distance, to suggest the field a typo meant.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_key_fix(const std::string& key,
                            std::initializer_list<std::string_view> known) {
  std::string_view closest;
  std::size_t best = std::numeric_limits<std::size_t>::max();
  std::string list;
  for (auto k : known) {
    std::size_t d = edit_distance(key, k);
    if (d < best) {
      best = d;
      closest = k;
    }
    list += (list.empty() ? "" : ", ") + std::string{k};
  }
  std::string fix;
  if (!closest.empty() && best <= std::max<std::size_t>(2, key.size() / 3))
    fix = "did you mean " + in_quotes(closest) + "? ";
  return fix + "known fields here: " + list;
}

std::string describe_choices(std::initializer_list<std::string_view> choices) {
  std::vector<std::string> words;
  for (auto c : choices)
    words.push_back(in_quotes(c));
  if (words.size() == 2)
    return words[0] + " or " + words[1];
  std::string out = "one of ";
  for (std::size_t i = 0; i < words.size(); ++i)
    out += (i ? ", " : "") + words[i];
  return out;
}

// -- ${VAR} / ${VAR:-default} substitution -----------------------------------

struct substitution_result {
  std::string value;
  std::string unresolved; ///< first variable that was unset with no default
  std::string malformed;  ///< what is wrong with a ${...} reference, if anything
};

bool is_valid_variable_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return true;
}

/// Shell semantics: ${VAR:-d} takes d when VAR is unset *or empty*; ${VAR}
/// is unresolved only when VAR is unset. "$${" writes a literal "${".
substitution_result substitute_variables(const std::string& text, const env_lookup& env) {
  substitution_result out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text.compare(pos, 3, "$${") == 0) {
      out.value += "${";
      pos += 3;
      continue;
    }
    if (text.compare(pos, 2, "${") != 0) {
      out.value += text[pos++];
      continue;
    }
    std::size_t close = text.find('}', pos + 2);
    if (close == std::string::npos) {
      out.malformed = "has a \"${\" without its closing \"}\"";
      return out;
    }
    std::string inner = text.substr(pos + 2, close - pos - 2);
    std::size_t default_at = inner.find(":-");
    std::string name = inner.substr(0, default_at);
    if (!is_valid_variable_name(name)) {
      out.malformed = "has a ${...} reference whose variable name is not valid "
                      "(use letters, digits and _, not starting with a digit)";
      return out;
    }
    std::optional<std::string> found = env(name);
    if (default_at == std::string::npos) {
      if (found)
        out.value += *found;
      else if (out.unresolved.empty())
        out.unresolved = name;
    } else {
      out.value += (found && !found->empty()) ? *found : inner.substr(default_at + 2);
    }
    pos = close + 1;
  }
  return out;
}

// -- the document ------------------------------------------------------------

/// nlohmann keeps the last of two equal keys without a word; two apps with
/// the same name are a copy-paste slip we must report. This parser callback
/// remembers the keys of every open object and the path that leads there.
class duplicate_key_finder {
public:
  bool operator()(int /*depth*/, config_json::parse_event_t event, config_json& parsed) {
    using ev = config_json::parse_event_t;
    if ((event == ev::object_start || event == ev::array_start || event == ev::value)
        && !frames_.empty() && frames_.back().is_array)
      ++frames_.back().index;
    switch (event) {
      case ev::object_start: frames_.push_back({false, {}, {}, 0}); break;
      case ev::array_start: frames_.push_back({true, {}, {}, 0}); break;
      case ev::object_end:
      case ev::array_end:
        if (!frames_.empty())
          frames_.pop_back();
        break;
      case ev::key: on_key(parsed.get<std::string>()); break;
      case ev::value: break;
    }
    return true;
  }

  /// Path of the first repeated key, if any.
  const std::optional<std::string>& duplicate() const { return duplicate_; }

private:
  struct frame {
    bool is_array;
    std::set<std::string> keys;
    std::string current_key;
    std::size_t index; ///< 1-based count of elements seen (arrays)
  };

  void on_key(const std::string& key) {
    if (frames_.empty())
      return;
    auto& top = frames_.back();
    if (!top.keys.insert(key).second && !duplicate_)
      duplicate_ = child_path(path_of_open_object(), key);
    top.current_key = key;
  }

  std::string path_of_open_object() const {
    std::string path;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i)
      path = frames_[i].is_array ? index_path(path, frames_[i].index - 1)
                                 : child_path(path, frames_[i].current_key);
    return path;
  }

  std::vector<frame> frames_;
  std::optional<std::string> duplicate_;
};

/// nlohmann's message quotes the token it last read, which may be a secret
/// written in the file; keep the position and the reason, drop the token.
std::string json_error_text(const config_json::exception& e) {
  std::string message = e.what();
  if (auto tag_end = message.find("] "); message.rfind("[json.exception", 0) == 0
                                         && tag_end != std::string::npos)
    message.erase(0, tag_end + 2);
  if (auto last_read = message.find("; last read: '"); last_read != std::string::npos) {
    auto expected = message.find("'; expected ", last_read);
    message.erase(last_read, expected == std::string::npos ? std::string::npos
                                                           : expected + 1 - last_read);
  }
  return message;
}

} // namespace

config_json parse_json_document(const std::string& text, const std::string& file) {
  duplicate_key_finder duplicates;
  config_json root;
  try {
    root = config_json::parse(text, std::ref(duplicates));
  } catch (const config_json::parse_error& e) {
    throw config_failure{
      config_error{file, "", "is not valid JSON: " + json_error_text(e),
                   "correct the JSON syntax at that position"}};
  } catch (const config_json::out_of_range& e) {
    // Well-formed JSON that no double holds, e.g. 1e400.
    throw config_failure{config_error{file, "", "has a number too large to read: " + json_error_text(e),
                                      "write a number within the range its field accepts"}};
  }
  if (duplicates.duplicate())
    throw config_failure{config_error{file, *duplicates.duplicate(),
                                      "appears twice in the same object",
                                      "keep one of them; JSON would silently drop the first"}};
  return root;
}

// -- field paths -------------------------------------------------------------

std::string child_path(const std::string& parent, std::string_view key) {
  if (!is_plain_path_key(key))
    return parent + "[\"" + std::string{key} + "\"]";
  if (parent.empty())
    return std::string{key};
  return parent + "." + std::string{key};
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string in_quotes(std::string_view text) {
  return "\"" + std::string{text} + "\"";
}

std::string_view json_type_name(const config_json& value) {
  // "number" hides whether a whole number was written; say which.
  if (value.is_number_float())
    return "a fractional number";
  if (value.is_number())
    return "a number";
  if (value.is_string())
    return "a string";
  if (value.is_boolean())
    return "true/false";
  if (value.is_array())
    return "an array";
  if (value.is_object())
    return "an object";
  return "null";
}

// -- shapes of text ----------------------------------------------------------

bool is_valid_name(std::string_view name, bool allow_space) {
  if (name.empty() || name.size() > limits::max_name_length)
    return false;
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'
              || c == '-' || (allow_space && c == ' ');
    if (!ok)
      return false;
  }
  return true;
}

bool has_space_or_control(std::string_view text) {
  for (char c : text)
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      return true;
  return false;
}

bool is_http_url(std::string_view url) {
  auto rest_after = [&](std::string_view scheme) {
    return url.substr(0, scheme.size()) == scheme && url.size() > scheme.size();
  };
  return (rest_after("http://") || rest_after("https://")) && !has_space_or_control(url);
}

std::string without_trailing_slashes(std::string url) {
  while (url.size() > 1 && url.back() == '/')
    url.pop_back();
  return url;
}

std::string unresolved_fix(const std::string& variable) {
  return "set " + variable + " in the environment or give a default with ${" + variable
         + ":-value}";
}

// -- the reader --------------------------------------------------------------

config_reader::config_reader(std::string file, const env_lookup& env)
  : file_(std::move(file)), env_(env) {}

void config_reader::fail(std::string field, std::string problem, std::string fix) const {
  throw config_failure{config_error{file_, std::move(field), std::move(problem), std::move(fix)}};
}

void config_reader::warn(std::string text) {
  warnings_.push_back(file_ + ": " + std::move(text));
}

std::vector<std::string> config_reader::take_warnings() {
  return std::move(warnings_);
}

std::optional<std::string> config_reader::env_value(const std::string& name) const {
  auto value = env_(name);
  if (!value || value->empty())
    return std::nullopt;
  return value;
}

const config_json* config_reader::member(const config_json& object, std::string_view key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const config_json& config_reader::member_or_empty(const config_json& object,
                                                  std::string_view key) const {
  static const config_json empty = config_json::object();
  const config_json* found = member(object, key);
  return found ? *found : empty;
}

void config_reader::require_object(const config_json& value, const std::string& path,
                                   const std::string& problem_if_not) const {
  if (!value.is_object())
    fail(path,
         problem_if_not.empty() ? "expected an object, got " + std::string{json_type_name(value)}
                                : problem_if_not + ", got " + std::string{json_type_name(value)},
         "write it as { ... }");
}

void config_reader::reject_unknown_keys(const config_json& object, const std::string& path,
                                        std::initializer_list<std::string_view> known) const {
  for (const auto& [key, value] : object.items()) {
    bool is_known = false;
    for (auto k : known)
      is_known = is_known || k == key;
    if (!is_known)
      fail(child_path(path, key), "unknown field", unknown_key_fix(key, known));
  }
}

bool config_reader::read_bool(const config_json& object, std::string_view key,
                              const std::string& parent, bool fallback) const {
  const config_json* value = member(object, key);
  if (!value)
    return fallback;
  if (!value->is_boolean())
    fail(child_path(parent, key),
         "expected true or false, got " + std::string{json_type_name(*value)},
         "write true or false without quotes");
  return value->get<bool>();
}

int config_reader::read_whole_number(const config_json& object, std::string_view key,
                                     const std::string& parent,
                                     const limits::whole_number_limit& limit) const {
  const config_json* value = member(object, key);
  if (!value)
    return limit.default_value;
  std::string path = child_path(parent, key);
  const std::int64_t min = limit.min;
  const std::int64_t max = limit.max;
  const std::string allowed =
    describe_interval(static_cast<double>(min), static_cast<double>(max), false);
  if (!value->is_number_integer())
    fail(path, "expected a whole number, got " + std::string{json_type_name(*value)},
         "write a whole number " + allowed + ", without quotes");
  // Compared as unsigned first: a huge number does not fit int64_t.
  bool too_big = value->is_number_unsigned()
                 && value->get<std::uint64_t>() > static_cast<std::uint64_t>(max);
  std::int64_t number = too_big ? max : value->get<std::int64_t>();
  if (too_big || number < min || number > max)
    fail(path, "must be " + allowed + ", got " + value->dump(), "use a value in that range");
  return static_cast<int>(number);
}

double config_reader::read_number(const config_json& object, std::string_view key,
                                  const std::string& parent,
                                  const limits::number_limit& limit) const {
  const config_json* value = member(object, key);
  if (!value)
    return limit.default_value;
  std::string path = child_path(parent, key);
  const std::string allowed = describe_interval(limit.min, limit.max, limit.min_exclusive);
  if (!value->is_number())
    fail(path, "expected a number, got " + std::string{json_type_name(*value)},
         "write a number " + allowed + ", without quotes");
  double number = value->get<double>();
  bool above_min = limit.min_exclusive ? number > limit.min : number >= limit.min;
  if (!std::isfinite(number) || !above_min || number > limit.max)
    fail(path, "must be " + allowed + ", got " + value->dump(), "use a value in that range");
  return number;
}

text_field config_reader::read_text(const config_json& value, const std::string& path) const {
  if (!value.is_string())
    fail(path, "expected a string, got " + std::string{json_type_name(value)},
         "write it in double quotes");
  substitution_result result = substitute_variables(value.get<std::string>(), env_);
  if (!result.malformed.empty())
    fail(path, result.malformed, "write ${NAME} or ${NAME:-default}; write $${ for a literal ${");
  return {std::move(result.value), std::move(result.unresolved)};
}

std::optional<text_field> config_reader::read_text_field(const config_json& object,
                                                         std::string_view key,
                                                         const std::string& parent) const {
  const config_json* value = member(object, key);
  if (!value)
    return std::nullopt;
  return read_text(*value, child_path(parent, key));
}

std::string config_reader::read_string(const config_json& value, const std::string& path) const {
  text_field text = read_text(value, path);
  if (!text.unresolved.empty())
    fail(path, "refers to ${" + text.unresolved + "}, which is not set in the environment",
         unresolved_fix(text.unresolved));
  return std::move(text.value);
}

std::string config_reader::read_string(const config_json& object, std::string_view key,
                                       const std::string& parent, std::string fallback) const {
  const config_json* value = member(object, key);
  if (!value)
    return fallback;
  return read_string(*value, child_path(parent, key));
}

std::size_t config_reader::read_choice(const config_json& object, std::string_view key,
                                       const std::string& parent, std::size_t fallback,
                                       std::initializer_list<std::string_view> choices) const {
  const config_json* value = member(object, key);
  if (!value)
    return fallback;
  std::string path = child_path(parent, key);
  std::string word = read_string(*value, path);
  std::size_t index = 0;
  for (auto choice : choices) {
    if (choice == word)
      return index;
    ++index;
  }
  fail(path, "must be " + describe_choices(choices) + ", got " + in_quotes(word),
       "use one of the listed values");
}

std::vector<std::string> config_reader::read_string_array(const config_json& object,
                                                          std::string_view key,
                                                          const std::string& parent) const {
  const config_json* value = member(object, key);
  if (!value)
    return {};
  std::string path = child_path(parent, key);
  if (!value->is_array())
    fail(path, "expected an array of strings, got " + std::string{json_type_name(*value)},
         "write it as [\"...\", \"...\"]");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < value->size(); ++i)
    out.push_back(read_string((*value)[i], index_path(path, i)));
  return out;
}

std::string config_reader::read_deferred(const config_json& object, std::string_view key,
                                         const std::string& parent) {
  auto text = read_text_field(object, key, parent);
  if (!text)
    return {};
  if (!text->unresolved.empty())
    defer_unset_variable(child_path(parent, key), text->unresolved);
  return std::move(text->value);
}

void config_reader::defer_unset_variable(const std::string& field, const std::string& variable) {
  deferred_unset_variables_[field] = variable;
}

std::optional<std::string> config_reader::deferred_variable(const std::string& field) const {
  if (auto it = deferred_unset_variables_.find(field); it != deferred_unset_variables_.end())
    return it->second;
  return std::nullopt;
}

} // namespace epmpulse::config
