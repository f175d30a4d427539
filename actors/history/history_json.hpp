#pragma once

// One history entry as the API shows it, in GET /api/v1/history and in the
// live stream's `data:` lines alike: the change id as a decimal string (a
// JavaScript number loses precision past 2^53), the key's name, never a key.

#include <string>

#include "actors/common/json_writer.hpp"
#include "actors/state/status_model.hpp"

namespace epmpulse {

/// Writes {"id", "app", "domain", "old_status", "status", "job_id",
/// "message", "event_time", "received_time", "duration_sec", "source",
/// "key_name"}.
void write_history_entry(json_writer& out, const domain_change& change);

/// The entry as one Server-Sent Events frame:
/// "id: N\nevent: change\ndata: <entry>\n\n".
std::string event_frame(const domain_change& change);

} // namespace epmpulse
