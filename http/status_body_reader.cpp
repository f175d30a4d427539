#include "http/status_body_reader.hpp"

#include <simdjson.h>

namespace epmpulse::http {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::optional<item_field> item_field_named(std::string_view key) {
  static constexpr std::array<std::pair<std::string_view, item_field>, item_field_count> names{{
    {"app", item_field::app},
    {"domain", item_field::domain},
    {"status", item_field::status},
    {"job_id", item_field::job_id},
    {"message", item_field::message},
    {"timestamp", item_field::timestamp},
  }};
  for (const auto& [name, field] : names)
    if (name == key)
      return field;
  return std::nullopt;
}

void note_unknown(raw_item& item, std::string_view key) {
  if (!item.unknown_key || key < *item.unknown_key)
    item.unknown_key = std::string(key);
}

// Later keys overwrite earlier ones: a repeated key keeps its last value.
void read_field(element value, raw_field& out) {
  out.text.clear();
  switch (value.type()) {
    case element_type::STRING: {
      std::string_view text;
      if (value.get_string().get(text) == simdjson::SUCCESS) {
        out.found = raw_field::kind::string;
        out.text.assign(text);
        return;
      }
      break;
    }
    case element_type::NULL_VALUE:
      out.found = raw_field::kind::null;
      return;
    default:
      break;
  }
  out.found = raw_field::kind::other;
}

raw_item read_item(element value) {
  raw_item item;
  simdjson::dom::object fields;
  if (value.get_object().get(fields) != simdjson::SUCCESS) {
    item.is_object = false;
    return item;
  }
  for (auto [key, field_value] : fields) {
    if (auto field = item_field_named(key))
      read_field(field_value, item[*field]);
    else
      note_unknown(item, key);
  }
  return item;
}

void read_updates(element value, raw_body& out) {
  out.updates.clear();
  simdjson::dom::array items;
  out.updates_is_array = value.get_array().get(items) == simdjson::SUCCESS;
  if (!out.updates_is_array)
    return;
  out.updates.reserve(items.size());
  for (element item : items)
    out.updates.push_back(read_item(item));
}

} // namespace

raw_body read_status_body(std::string_view body, body_shape shape) {
  // One parser per io thread: its buffers are kept for the next body.
  thread_local simdjson::dom::parser parser;
  raw_body out;
  element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS)
    return out;
  out.valid_json = true;
  if (shape == body_shape::single) {
    out.root = read_item(doc);
    out.is_object = out.root.is_object;
    return out;
  }
  simdjson::dom::object fields;
  if (doc.get_object().get(fields) != simdjson::SUCCESS)
    return out;
  out.is_object = true;
  for (auto [key, value] : fields) {
    if (key == "updates")
      read_updates(value, out);
    else if (key == "job_id")
      read_field(value, out.root[item_field::job_id]);
    else if (key == "timestamp")
      read_field(value, out.root[item_field::timestamp]);
    else
      note_unknown(out.root, key);
  }
  return out;
}

} // namespace epmpulse::http
