#pragma once

// A validator for the subset of JSON Schema (2020-12, as OpenAPI 3.1 uses it)
// that http/openapi.json uses: type (a name or a list), enum, required,
// properties, additionalProperties (false or a schema), items, minItems,
// maxItems, maxLength, pattern, oneOf and $ref to "#/..." in the same
// document. Annotations (description, format, default, ...) are ignored; any
// other keyword is reported as an error, so the document cannot quietly use
// a rule this validator does not check.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace epmpulse::test {

class json_schema_validator {
public:
  /// `document` holds the schemas and everything their $refs point to.
  explicit json_schema_validator(nlohmann::json document);

  /// Problems of `value` against `schema`, each with the JSON pointer of the
  /// value at fault; empty when it is valid.
  std::vector<std::string> validate(const nlohmann::json& value,
                                    const nlohmann::json& schema) const;

  /// What `node` is after following its $ref chain (throws on a bad one).
  const nlohmann::json& resolve(const nlohmann::json& node) const;

  const nlohmann::json& document() const { return document_; }

private:
  void check(const nlohmann::json& value, const nlohmann::json& schema, const std::string& where,
             std::vector<std::string>& problems, int depth) const;

  nlohmann::json document_;
};

/// The schema an OpenAPI document gives for the response `status` of
/// `method` (lower case) on `path_template` with `media_type`; throws with
/// a message naming what is missing.
const nlohmann::json& response_schema(const json_schema_validator& openapi,
                                      const std::string& path_template, const std::string& method,
                                      int status, const std::string& media_type = "application/json");

} // namespace epmpulse::test
