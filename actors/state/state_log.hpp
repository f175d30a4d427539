#pragma once

// The state's change log (write-ahead log): one JSON line per applied update
// request, appended and fdatasync'd before the request is answered. The JSON
// state file is a snapshot of the state at a log position (its
// metadata.log_seq); start-up loads the snapshot and replays the records
// after that position. Pure functions: the state actor and start-up use them,
// tests call them directly.
//
// A record: {"v": 2, "seq": 42, "at": "<server time of the apply>", "updates": [...]}.
// Replaying an update runs merge_update with the recorded server time, so a
// replay reaches exactly the state the live apply reached.
//
// Format 2 (the "v" member) also records what each update changed, for the
// history: its change id ("id"), the status before ("old"), the event time
// used ("eff", after clamping), the duration after ("dur") and the pushing
// key's name ("key"). Format 1 records (no "v") replay as before and carry
// no change ids.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "actors/state/status_model.hpp"

namespace epmpulse {

/// One logged apply: the updates that changed the state, in order.
struct log_record {
  std::uint64_t seq = 0;
  time_point at{};
  std::vector<status_update> updates;
  /// Format 2: what each update changed, one per update; empty in format 1.
  std::vector<domain_change> changes;
};

/// The record as one line, '\n' included.
std::string encode_log_record(const log_record& record);

/// The same for updates held elsewhere: the state actor logs a request's
/// applied updates without copying them into a log_record. `changes` holds
/// what each of them changed (the same length as `updates`).
std::string encode_log_record(std::uint64_t seq, time_point at,
                              std::span<const status_update* const> updates,
                              std::span<const domain_change> changes);

/// What reading a log file found.
struct log_contents {
  std::vector<log_record> records;
  std::size_t unreadable_lines = 0; ///< torn tail after a crash, or damage
};

/// Parses every line of `text`; lines that are not a valid record are counted
/// and skipped (the records after them are still good). Zero bytes between
/// lines are unwritten preallocated space and skipped silently.
log_contents decode_log(std::string_view text);

/// How merges behave (from the config's settings).
struct merge_settings {
  std::chrono::milliseconds max_future_skew{0};
  std::size_t recent_jobs_limit = 50;
};

/// Applies, in order, the records with a seq above `position` and returns the
/// new position. Updates for apps the snapshot does not hold are skipped.
/// The snapshot's last_change_id becomes the highest change id of any record.
std::uint64_t replay_log(status_snapshot& snap, std::uint64_t position,
                         const std::vector<log_record>& records, const merge_settings& settings);

/// The log position a state file document was written at (0 when absent).
std::uint64_t snapshot_log_seq(const nlohmann::json& doc);

/// The state file document for `snap` at log position `seq`.
nlohmann::json snapshot_document(const status_snapshot& snap, std::uint64_t seq);

/// File names inside the data dir.
inline constexpr const char* log_file_name = "apps_status.wal";
inline constexpr const char* previous_log_file_name = "apps_status.wal.prev";

} // namespace epmpulse
