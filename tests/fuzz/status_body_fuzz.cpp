// POST /status and /status/batch bodies: the simdjson reader and the
// validator behind them, on any bytes.
//
// Invariants, besides "no crash, no sanitizer report":
// - an accepted body is valid JSON (nlohmann agrees) and every update in it is
//   within the API's limits: a configured app, a domain the app takes, a
//   status, job_id 1-100 characters and message at most 200, neither with
//   control characters (message: \t \n \r allowed), a batch 1-100 items;
// - a rejection is a 400 code naming its field (and, in a batch, an index
//   within the batch);
// - round trip: an accepted update written back as a body (its event time as
//   format_time writes it) decodes to the same update, alone and in a batch;
// - a single body that is accepted, wrapped as {"updates": [body]}, is
//   accepted as the same one update;
// - the simdjson reader sees what nlohmann sees: JSON that simdjson takes,
//   nlohmann takes too, and then every known field has the kind and text of
//   the key's last occurrence, and the unknown key reported is the first by
//   name.

#include <algorithm>
#include <array>
#include <string>

#include <nlohmann/json.hpp>

#include "http/status_body_reader.hpp"
#include "http/status_request.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace epmpulse;
using epmpulse::fuzz::code_points;
using epmpulse::fuzz::fuzz_config;
using epmpulse::fuzz::same_update;

bool has_control(std::string_view s, bool allow_whitespace) {
  return std::any_of(s.begin(), s.end(), [&](char ch) {
    auto c = static_cast<unsigned char>(ch);
    if (allow_whitespace && (c == '\n' || c == '\t' || c == '\r'))
      return false;
    return c < 0x20 || c == 0x7F;
  });
}

void check_update_within_limits(const status_update& u) {
  const auto* app = fuzz_config().find_app(u.app);
  FUZZ_CHECK(app != nullptr, "an accepted update names a configured app");
  bool listed = std::find(app->domains.begin(), app->domains.end(), u.domain) != app->domains.end();
  if (app->strict_domains)
    FUZZ_CHECK(listed, "a strict app takes only its configured domains");
  else
    FUZZ_CHECK(listed || http::valid_domain_name(u.domain), "a domain name is well formed");
  FUZZ_CHECK(u.source == update_source::push, "a pushed update is a push");
  if (u.job_id) {
    FUZZ_CHECK(!u.job_id->empty() && code_points(*u.job_id) <= 100, "job_id is 1-100 characters");
    FUZZ_CHECK(!has_control(*u.job_id, false), "job_id has no control characters");
  }
  if (u.message) {
    FUZZ_CHECK(!u.message->empty() && code_points(*u.message) <= 200,
               "message is 1-200 characters (empty is dropped)");
    FUZZ_CHECK(!has_control(*u.message, true), "message has no control characters");
  }
}

void check_rejection(const http::api_error& err, bool batch) {
  FUZZ_CHECK(err.code == ec::invalid_request || err.code == ec::invalid_app
               || err.code == ec::invalid_status || err.code == ec::invalid_domain,
             "a bad body is a 400 with a validation code");
  FUZZ_CHECK(!err.message.empty(), "a rejection says what is wrong");
  FUZZ_CHECK(err.details.is_object() && err.details.contains("field")
               && err.details["field"].is_string(),
             "a rejection names its field");
  if (err.details.contains("index")) {
    FUZZ_CHECK(batch, "only a batch item's rejection has an index");
    FUZZ_CHECK(err.details["index"].is_number_unsigned()
                 && err.details["index"].get<std::size_t>() < http::max_batch_items,
               "a rejected item's index is within the batch");
  }
}

nlohmann::json as_body(const status_update& u) {
  nlohmann::json body{{"app", u.app}, {"domain", u.domain}, {"status", to_string(u.status)}};
  if (u.job_id)
    body["job_id"] = *u.job_id;
  if (u.message)
    body["message"] = *u.message;
  if (u.event_time)
    body["timestamp"] = format_time(*u.event_time);
  return body;
}

const std::vector<status_update>* accepted(const http::decoded_updates& decoded) {
  return std::get_if<std::vector<status_update>>(&decoded);
}

void check_round_trip(const std::vector<status_update>& updates) {
  nlohmann::json batch{{"updates", nlohmann::json::array()}};
  for (const auto& u : updates) {
    auto body = as_body(u);
    auto again = http::decode_status_body(body.dump(), fuzz_config());
    const auto* out = accepted(again);
    FUZZ_CHECK(out != nullptr && out->size() == 1, "an accepted update written back is accepted");
    FUZZ_CHECK(same_update(out->front(), u), "an accepted update written back reads the same");
    batch["updates"].push_back(std::move(body));
  }
  auto again = http::decode_batch_body(batch.dump(), fuzz_config());
  const auto* out = accepted(again);
  FUZZ_CHECK(out != nullptr && out->size() == updates.size(),
             "accepted updates written back as a batch are accepted");
  for (std::size_t i = 0; i < updates.size(); ++i)
    FUZZ_CHECK(same_update((*out)[i], updates[i]), "a batch written back reads the same");
}

void check_decoded(const http::decoded_updates& decoded, std::string_view body, bool batch) {
  if (const auto* err = std::get_if<http::api_error>(&decoded)) {
    check_rejection(*err, batch);
    return;
  }
  const auto& updates = std::get<std::vector<status_update>>(decoded);
  FUZZ_CHECK(nlohmann::json::accept(body), "only valid JSON is accepted");
  FUZZ_CHECK(!updates.empty(), "an accepted body carries an update");
  FUZZ_CHECK(batch ? updates.size() <= http::max_batch_items : updates.size() == 1,
             "a batch has at most 100 updates, a single body one");
  for (const auto& u : updates)
    check_update_within_limits(u);
  check_round_trip(updates);
}

// What nlohmann, parsing the same object, holds under each key (for a key
// given twice, nlohmann keeps the last value, as the reader does).
void check_item_matches(const http::raw_item& item, const nlohmann::json& doc,
                        std::initializer_list<http::item_field> fields,
                        std::initializer_list<std::string_view> known) {
  FUZZ_CHECK(item.is_object == doc.is_object(), "the reader sees an object where nlohmann does");
  if (!doc.is_object())
    return;
  static constexpr std::array<const char*, http::item_field_count> names{
    "app", "domain", "status", "job_id", "message", "timestamp"};
  for (auto field : fields) {
    const auto& raw = item[field];
    auto it = doc.find(names[static_cast<std::size_t>(field)]);
    if (it == doc.end())
      FUZZ_CHECK(raw.found == http::raw_field::kind::absent, "an absent field is absent");
    else if (it->is_string())
      FUZZ_CHECK(raw.found == http::raw_field::kind::string && raw.text == it->get<std::string>(),
                 "a string field reads as nlohmann reads it");
    else if (it->is_null())
      FUZZ_CHECK(raw.found == http::raw_field::kind::null, "a null field is null");
    else
      FUZZ_CHECK(raw.found == http::raw_field::kind::other, "another value is other");
  }
  std::optional<std::string> first_unknown;
  for (const auto& [key, value] : doc.items())
    if (std::find(known.begin(), known.end(), key) == known.end()
        && (!first_unknown || key < *first_unknown))
      first_unknown = key;
  FUZZ_CHECK(item.unknown_key == first_unknown, "the unknown key reported is the first by name");
}

void check_reader_matches_nlohmann(std::string_view body) {
  auto single = http::read_status_body(body, http::body_shape::single);
  auto batch = http::read_status_body(body, http::body_shape::batch);
  FUZZ_CHECK(single.valid_json == batch.valid_json, "validity does not depend on the shape");
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!single.valid_json)
    return; // simdjson is stricter on numbers (no big integers, no 1e400); the body gets a 400
  FUZZ_CHECK(!doc.is_discarded(), "JSON the reader takes is JSON");
  using http::item_field;
  check_item_matches(single.root, doc,
                     {item_field::app, item_field::domain, item_field::status, item_field::job_id,
                      item_field::message, item_field::timestamp},
                     {"app", "domain", "status", "job_id", "message", "timestamp"});
  FUZZ_CHECK(batch.is_object == doc.is_object(), "a batch body is an object where nlohmann says so");
  if (!doc.is_object())
    return;
  check_item_matches(batch.root, doc, {item_field::job_id, item_field::timestamp},
                     {"updates", "job_id", "timestamp"});
  auto updates = doc.find("updates");
  bool is_array = updates != doc.end() && updates->is_array();
  FUZZ_CHECK(batch.updates_is_array == is_array, "\"updates\" is an array where nlohmann says so");
  if (!is_array)
    return;
  FUZZ_CHECK(batch.updates.size() == updates->size(), "every batch item is read");
  for (std::size_t i = 0; i < batch.updates.size(); ++i)
    check_item_matches(batch.updates[i], (*updates)[i],
                       {item_field::app, item_field::domain, item_field::status,
                        item_field::job_id, item_field::message, item_field::timestamp},
                       {"app", "domain", "status", "job_id", "message", "timestamp"});
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body{reinterpret_cast<const char*>(data), size};
  check_reader_matches_nlohmann(body);
  auto single = http::decode_status_body(body, fuzz_config());
  check_decoded(single, body, false);
  check_decoded(http::decode_batch_body(body, fuzz_config()), body, true);
  if (const auto* updates = accepted(single)) {
    std::string wrapped = "{\"updates\": [" + std::string(body) + "]}";
    auto as_batch = http::decode_batch_body(wrapped, fuzz_config());
    const auto* out = accepted(as_batch);
    FUZZ_CHECK(out != nullptr && out->size() == 1 && same_update(out->front(), updates->front()),
               "an accepted single body is accepted as a batch's one item");
  }
  return 0;
}
