#include "http/status_body_reader.hpp"

#include <nlohmann/json.hpp>

namespace epmpulse::http {

namespace {

using nlohmann::json;

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

void note_unknown(raw_item& item, std::string& key) {
  if (!item.unknown_key || key < *item.unknown_key)
    item.unknown_key = std::move(key);
}

// The SAX handler nlohmann's parser drives. The value after a key lands in
// the slot key() chose; containers nobody reads (a field given an object, an
// unknown key's array, ...) are walked through as skipped frames.
class status_body_sax {
public:
  status_body_sax(raw_body& out, body_shape shape) : out_(out), shape_(shape) {}

  bool null() { return scalar(raw_field::kind::null, nullptr); }
  bool boolean(bool) { return scalar(raw_field::kind::other, nullptr); }
  bool number_integer(json::number_integer_t) { return scalar(raw_field::kind::other, nullptr); }
  bool number_unsigned(json::number_unsigned_t) { return scalar(raw_field::kind::other, nullptr); }
  bool number_float(json::number_float_t, const json::string_t&) {
    return scalar(raw_field::kind::other, nullptr);
  }
  bool string(json::string_t& value) { return scalar(raw_field::kind::string, &value); }
  bool binary(json::binary_t&) { return scalar(raw_field::kind::other, nullptr); }

  bool start_object(std::size_t) { return open(true); }
  bool start_array(std::size_t) { return open(false); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& key) {
    auto top = frames_.back();
    if (top == frame::skipped)
      return true;
    auto& item = top == frame::item ? out_.updates.back() : out_.root;
    if (top == frame::root && shape_ == body_shape::batch) {
      if (key == "updates")
        target_updates_ = true;
      else if (key == "job_id")
        target_ = &item[item_field::job_id];
      else if (key == "timestamp")
        target_ = &item[item_field::timestamp];
      else
        note_unknown(item, key);
      return true;
    }
    if (auto field = item_field_named(key))
      target_ = &item[*field];
    else
      note_unknown(item, key);
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

private:
  enum class frame : std::uint8_t { root, item, updates, skipped };

  // A scalar value: the root itself, a batch item, or the value of a key.
  bool scalar(raw_field::kind kind, json::string_t* text) {
    if (frames_.empty() || frames_.back() == frame::skipped)
      return true; // a root that is not an object, or inside a skipped value
    if (frames_.back() == frame::updates) {
      out_.updates.emplace_back().is_object = false;
      return true;
    }
    assign(kind, text);
    return true;
  }

  bool open(bool object) {
    if (frames_.empty()) {
      out_.is_object = object;
      frames_.push_back(object ? frame::root : frame::skipped);
      return true;
    }
    switch (frames_.back()) {
      case frame::updates:
        out_.updates.emplace_back().is_object = object;
        frames_.push_back(object ? frame::item : frame::skipped);
        return true;
      case frame::root:
      case frame::item:
        if (target_updates_ && !object) {
          target_updates_ = false;
          out_.updates_is_array = true;
          out_.updates.clear(); // a repeated "updates" keeps its last value
          frames_.push_back(frame::updates);
          return true;
        }
        assign(raw_field::kind::other, nullptr);
        break;
      case frame::skipped:
        break;
    }
    frames_.push_back(frame::skipped);
    return true;
  }

  bool close() {
    frames_.pop_back();
    return true;
  }

  // The value of the key just read, in an object we read.
  void assign(raw_field::kind kind, json::string_t* text) {
    if (target_updates_) {
      target_updates_ = false;
      out_.updates_is_array = false;
      out_.updates.clear();
    } else if (target_ != nullptr) {
      target_->found = kind;
      if (text != nullptr)
        target_->text = std::move(*text);
      else
        target_->text.clear();
      target_ = nullptr;
    }
  }

  raw_body& out_;
  body_shape shape_;
  std::vector<frame> frames_;
  raw_field* target_ = nullptr;  ///< where the next value goes (cleared once used)
  bool target_updates_ = false;  ///< the next value is the batch's "updates"
};

} // namespace

raw_body read_status_body(std::string_view body, body_shape shape) {
  raw_body out;
  status_body_sax sax(out, shape);
  out.valid_json = json::sax_parse(body.begin(), body.end(), &sax);
  return out;
}

} // namespace epmpulse::http
