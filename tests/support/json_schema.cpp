#include "tests/support/json_schema.hpp"

#include <regex>
#include <set>
#include <stdexcept>

namespace epmpulse::test {

using nlohmann::json;

namespace {

const std::set<std::string> annotations = {"description", "format", "default", "title",
                                           "examples", "deprecated", "readOnly", "writeOnly"};

bool has_type(const json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  throw std::runtime_error("unknown JSON Schema type '" + type + "'");
}

// Code points, as JSON Schema counts a string's length.
std::size_t code_points(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

std::string pointer_token(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

} // namespace

json_schema_validator::json_schema_validator(json document) : document_(std::move(document)) {}

const json& json_schema_validator::resolve(const json& node) const {
  const json* at = &node;
  for (int hops = 0; at->is_object() && at->contains("$ref"); ++hops) {
    auto ref = (*at)["$ref"].get<std::string>();
    if (hops > 32 || ref.rfind("#/", 0) != 0)
      throw std::runtime_error("unsupported or circular $ref '" + ref + "'");
    at = &document_.at(json::json_pointer(ref.substr(1)));
  }
  return *at;
}

std::vector<std::string> json_schema_validator::validate(const json& value,
                                                         const json& schema) const {
  std::vector<std::string> problems;
  check(value, schema, "", problems, 0);
  return problems;
}

void json_schema_validator::check(const json& value, const json& schema_node,
                                  const std::string& where, std::vector<std::string>& problems,
                                  int depth) const {
  const json& schema = resolve(schema_node);
  auto here = where.empty() ? std::string("/") : where;
  if (depth > 64)
    throw std::runtime_error("schema nested too deep at " + here);
  if (!schema.is_object())
    throw std::runtime_error("a schema must be an object at " + here);
  for (const auto& [keyword, rule] : schema.items()) {
    if (annotations.count(keyword))
      continue;
    if (keyword == "type") {
      bool ok = false;
      if (rule.is_string())
        ok = has_type(value, rule.get<std::string>());
      else
        for (const auto& t : rule)
          ok = ok || has_type(value, t.get<std::string>());
      if (!ok)
        problems.push_back(here + ": " + value.dump() + " is not of type " + rule.dump());
    } else if (keyword == "enum") {
      bool found = false;
      for (const auto& allowed : rule)
        found = found || allowed == value;
      if (!found)
        problems.push_back(here + ": " + value.dump() + " is not one of " + rule.dump());
    } else if (keyword == "required") {
      if (value.is_object())
        for (const auto& name : rule)
          if (!value.contains(name.get<std::string>()))
            problems.push_back(here + ": missing required member '" + name.get<std::string>()
                               + "'");
    } else if (keyword == "properties") {
      if (value.is_object())
        for (const auto& [name, sub] : rule.items())
          if (value.contains(name))
            check(value[name], sub, where + "/" + pointer_token(name), problems, depth + 1);
    } else if (keyword == "additionalProperties") {
      if (!value.is_object())
        continue;
      const json* declared = schema.contains("properties") ? &schema["properties"] : nullptr;
      for (const auto& [name, member] : value.items()) {
        if (declared && declared->contains(name))
          continue;
        if (rule.is_boolean()) {
          if (!rule.get<bool>())
            problems.push_back(here + ": member '" + name + "' is not in the schema");
        } else {
          check(member, rule, where + "/" + pointer_token(name), problems, depth + 1);
        }
      }
    } else if (keyword == "items") {
      if (value.is_array())
        for (std::size_t i = 0; i < value.size(); ++i)
          check(value[i], rule, where + "/" + std::to_string(i), problems, depth + 1);
    } else if (keyword == "minItems") {
      if (value.is_array() && value.size() < rule.get<std::size_t>())
        problems.push_back(here + ": fewer than " + rule.dump() + " items");
    } else if (keyword == "maxItems") {
      if (value.is_array() && value.size() > rule.get<std::size_t>())
        problems.push_back(here + ": more than " + rule.dump() + " items");
    } else if (keyword == "maxLength") {
      if (value.is_string() && code_points(value.get<std::string>()) > rule.get<std::size_t>())
        problems.push_back(here + ": longer than " + rule.dump() + " characters");
    } else if (keyword == "pattern") {
      if (value.is_string()
          && !std::regex_search(value.get<std::string>(), std::regex(rule.get<std::string>())))
        problems.push_back(here + ": does not match " + rule.dump());
    } else if (keyword == "oneOf") {
      int matches = 0;
      for (const auto& alternative : rule) {
        std::vector<std::string> sub;
        check(value, alternative, where, sub, depth + 1);
        matches += sub.empty() ? 1 : 0;
      }
      if (matches != 1)
        problems.push_back(here + ": matches " + std::to_string(matches)
                           + " of the oneOf alternatives, not exactly one");
    } else {
      throw std::runtime_error("the validator does not support the keyword '" + keyword
                               + "' (at " + here + ")");
    }
  }
}

const json& response_schema(const json_schema_validator& openapi, const std::string& path_template,
                            const std::string& method, int status, const std::string& media_type) {
  const json& paths = openapi.document().at("paths");
  if (!paths.contains(path_template))
    throw std::runtime_error("the document has no path " + path_template);
  const json& path = paths[path_template];
  if (!path.contains(method))
    throw std::runtime_error("the document has no " + method + " " + path_template);
  const json& responses = path[method].at("responses");
  auto code = std::to_string(status);
  if (!responses.contains(code))
    throw std::runtime_error(method + " " + path_template + " documents no " + code + " response");
  const json& response = openapi.resolve(responses[code]);
  if (!response.contains("content") || !response["content"].contains(media_type))
    throw std::runtime_error(method + " " + path_template + " " + code + " has no " + media_type
                             + " content");
  return response["content"][media_type].at("schema");
}

} // namespace epmpulse::test
