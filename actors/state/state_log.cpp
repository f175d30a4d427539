#include "actors/state/state_log.hpp"

#include <nlohmann/json.hpp>

#include "actors/common/json_writer.hpp"

using nlohmann::json;

namespace epmpulse {

namespace {

void write_logged_update(json_writer& out, const status_update& u) {
  out.begin_object()
    .key("app").value(u.app)
    .key("domain").value(u.domain)
    .key("status").value(to_string(u.status))
    .key("source").value(to_string(u.source));
  if (u.job_id)
    out.key("job_id").value(*u.job_id);
  if (u.message)
    out.key("message").value(*u.message);
  if (u.event_time)
    out.key("event_time").value(format_time(*u.event_time));
  out.end_object();
}

std::optional<std::string> logged_string(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string())
    return std::nullopt;
  return it->get<std::string>();
}

std::optional<status_update> logged_update_from(const json& j) {
  if (!j.is_object())
    return std::nullopt;
  auto app = logged_string(j, "app");
  auto domain = logged_string(j, "domain");
  auto status_text = logged_string(j, "status");
  auto source_text = logged_string(j, "source");
  if (!app || !domain || !status_text || !source_text)
    return std::nullopt;
  auto status = parse_status(*status_text);
  auto source = parse_source(*source_text);
  if (!status || !source)
    return std::nullopt;
  status_update u;
  u.app = std::move(*app);
  u.domain = std::move(*domain);
  u.status = *status;
  u.source = *source;
  u.job_id = logged_string(j, "job_id");
  u.message = logged_string(j, "message");
  if (auto when = logged_string(j, "event_time")) {
    u.event_time = parse_time(*when);
    if (!u.event_time)
      return std::nullopt;
  }
  return u;
}

std::optional<log_record> log_record_from(std::string_view line) {
  auto doc = json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return std::nullopt;
  auto seq = doc.find("seq");
  auto at = logged_string(doc, "at");
  auto updates = doc.find("updates");
  if (seq == doc.end() || !seq->is_number_unsigned() || !at || updates == doc.end()
      || !updates->is_array())
    return std::nullopt;
  log_record record;
  record.seq = seq->get<std::uint64_t>();
  auto when = parse_time(*at);
  if (!when)
    return std::nullopt;
  record.at = *when;
  for (const auto& u : *updates) {
    auto update = logged_update_from(u);
    if (!update)
      return std::nullopt;
    record.updates.push_back(std::move(*update));
  }
  return record;
}

} // namespace

std::string encode_log_record(std::uint64_t seq, time_point at,
                              std::span<const status_update* const> updates) {
  // json_writer escapes control characters, so a record never spans two lines.
  std::string line;
  line.reserve(64 + 192 * updates.size());
  json_writer out{line};
  out.begin_object().key("seq").value(seq).key("at").value(format_time(at));
  out.key("updates").begin_array();
  for (const auto* u : updates)
    write_logged_update(out, *u);
  out.end_array().end_object();
  line += '\n';
  return line;
}

std::string encode_log_record(const log_record& record) {
  std::vector<const status_update*> updates;
  updates.reserve(record.updates.size());
  for (const auto& u : record.updates)
    updates.push_back(&u);
  return encode_log_record(record.seq, record.at, updates);
}

log_contents decode_log(std::string_view text) {
  log_contents out;
  while (!text.empty()) {
    // Zero bytes are the log file's preallocated space not yet written
    // (actors/log_file.hpp); a record torn by a crash keeps any that follow
    // it on its line, so it still counts as unreadable.
    auto start = text.find_first_not_of('\0');
    if (start == std::string_view::npos)
      break;
    text.remove_prefix(start);
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty())
      continue;
    if (auto record = log_record_from(line))
      out.records.push_back(std::move(*record));
    else
      ++out.unreadable_lines;
  }
  return out;
}

std::uint64_t replay_log(status_snapshot& snap, std::uint64_t position,
                         const std::vector<log_record>& records, const merge_settings& settings) {
  for (const auto& record : records) {
    // Records at or below the position are already in the snapshot (a log
    // moved aside for a snapshot that completed, or an append retried).
    if (record.seq <= position)
      continue;
    for (const auto& u : record.updates)
      if (snap.apps.count(u.app) != 0)
        merge_update(snap, u, record.at, settings.max_future_skew, settings.recent_jobs_limit);
    position = record.seq;
  }
  return position;
}

std::uint64_t snapshot_log_seq(const json& doc) {
  if (!doc.is_object())
    return 0;
  auto meta = doc.find("metadata");
  if (meta == doc.end() || !meta->is_object())
    return 0;
  auto seq = meta->find("log_seq");
  if (seq == meta->end() || !seq->is_number_unsigned())
    return 0;
  return seq->get<std::uint64_t>();
}

json snapshot_document(const status_snapshot& snap, std::uint64_t seq) {
  json doc = to_json(snap);
  doc["metadata"]["log_seq"] = seq;
  return doc;
}

} // namespace epmpulse
