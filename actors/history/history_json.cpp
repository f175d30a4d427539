#include "actors/history/history_json.hpp"

namespace epmpulse {

void write_history_entry(json_writer& out, const domain_change& c) {
  out.begin_object()
    .key("id").value(std::to_string(c.id))
    .key("app").value(c.app)
    .key("domain").value(c.domain)
    .key("old_status").value(to_string(c.before.status))
    .key("status").value(to_string(c.after.status))
    .key("job_id").value(c.after.job_id)
    .key("message").value(c.after.message)
    .key("event_time").value(format_time(c.after.updated))
    .key("received_time").value(format_time(c.received))
    .key("duration_sec").value(c.after.duration_sec)
    .key("source").value(to_string(c.after.source))
    .key("key_name").value(c.key_name)
    .end_object();
}

std::string event_frame(const domain_change& c) {
  // json_writer escapes control characters: the entry is one line, as a
  // `data:` field must be.
  std::string frame = "id: " + std::to_string(c.id) + "\nevent: change\ndata: ";
  json_writer out{frame};
  write_history_entry(out, c);
  frame += "\n\n";
  return frame;
}

} // namespace epmpulse
