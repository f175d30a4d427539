#include "actors/state/state_log.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/common/json_writer.hpp"

using nlohmann::json;

namespace epmpulse {

namespace {

// `c` is what the update changed (format 2), null in format 1.
void write_logged_update(json_writer& out, const status_update& u, const domain_change* c) {
  out.begin_object();
  if (c)
    out.key("id").value(c->id);
  out
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
  if (u.key_name)
    out.key("key").value(*u.key_name);
  if (c) {
    out.key("old").value(to_string(c->before.status));
    if (c->after.updated)
      out.key("eff").value(format_time(*c->after.updated));
    if (c->after.duration_sec)
      out.key("dur").value(*c->after.duration_sec);
  }
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
  u.key_name = logged_string(j, "key");
  return u;
}

// Format 2: what the update changed; nullopt when a member is missing.
std::optional<domain_change> logged_change_from(const json& j, const status_update& u,
                                                time_point at) {
  auto id = j.find("id");
  auto old_text = logged_string(j, "old");
  if (id == j.end() || !id->is_number_unsigned() || !old_text)
    return std::nullopt;
  auto old_status = parse_status(*old_text);
  if (!old_status)
    return std::nullopt;
  domain_change c;
  c.app = u.app;
  c.domain = u.domain;
  c.before.status = *old_status;
  c.after.status = u.status;
  c.after.job_id = u.job_id;
  c.after.message = u.message;
  c.after.source = u.source;
  c.after.updated = u.event_time.value_or(at);
  if (auto eff = logged_string(j, "eff")) {
    c.after.updated = parse_time(*eff);
    if (!c.after.updated)
      return std::nullopt;
  }
  if (auto dur = j.find("dur"); dur != j.end() && dur->is_number_integer())
    c.after.duration_sec = dur->get<std::int64_t>();
  c.id = id->get<std::uint64_t>();
  c.received = at;
  c.key_name = u.key_name;
  return c;
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
  auto version = doc.find("v");
  const bool with_changes = version != doc.end() && version->is_number_unsigned()
                            && version->get<std::uint64_t>() >= 2;
  for (const auto& u : *updates) {
    auto update = logged_update_from(u);
    if (!update)
      return std::nullopt;
    if (with_changes) {
      auto change = logged_change_from(u, *update, record.at);
      if (!change)
        return std::nullopt;
      record.changes.push_back(std::move(*change));
    }
    record.updates.push_back(std::move(*update));
  }
  return record;
}

} // namespace

std::string encode_log_record(std::uint64_t seq, time_point at,
                              std::span<const status_update* const> updates,
                              std::span<const domain_change> changes) {
  // json_writer escapes control characters, so a record never spans two lines.
  std::string line;
  line.reserve(64 + 256 * updates.size());
  json_writer out{line};
  out.begin_object().key("v").value(std::uint64_t{2}).key("seq").value(seq);
  out.key("at").value(format_time(at));
  out.key("updates").begin_array();
  for (std::size_t i = 0; i < updates.size(); ++i)
    write_logged_update(out, *updates[i], &changes[i]);
  out.end_array().end_object();
  line += '\n';
  return line;
}

std::string encode_log_record(const log_record& record) {
  std::vector<const status_update*> updates;
  updates.reserve(record.updates.size());
  for (const auto& u : record.updates)
    updates.push_back(&u);
  if (record.changes.size() == record.updates.size() && !record.updates.empty())
    return encode_log_record(record.seq, record.at, updates, record.changes);
  // Without its changes (a format 1 record read back): format 1 again.
  std::string line;
  json_writer out{line};
  out.begin_object().key("seq").value(record.seq).key("at").value(format_time(record.at));
  out.key("updates").begin_array();
  for (const auto* u : updates)
    write_logged_update(out, *u, nullptr);
  out.end_array().end_object();
  line += '\n';
  return line;
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
    for (const auto& c : record.changes)
      snap.last_change_id = std::max(snap.last_change_id, c.id);
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
