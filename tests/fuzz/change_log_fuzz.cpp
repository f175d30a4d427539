// The change log's reader (decode_log, which start-up runs over the log
// file's bytes) and what start-up does with its records, on any bytes.
//
// Invariants, besides "no crash, no sanitizer report":
// - records and unreadable lines together are no more than the lines;
// - round trip: each record read, encoded again, is one line without a zero
//   byte that reads back as the same record; all of them, written after each
//   other with zero-filled space between (as the log file holds them), read
//   back as the same records with nothing unreadable;
// - replaying them moves the log position forward only, to the last seq
//   applied;
// - the state they replay into survives the state file: snapshot_document,
//   written and read back, is the same document.

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace epmpulse;
using epmpulse::fuzz::fuzz_config;
using epmpulse::fuzz::same_record;

void check_round_trip(const log_contents& contents) {
  std::string log;
  for (const auto& record : contents.records) {
    auto line = encode_log_record(record);
    FUZZ_CHECK(!line.empty() && line.back() == '\n'
                 && line.find('\n') == line.size() - 1,
               "a record is one line");
    FUZZ_CHECK(line.find('\0') == std::string::npos, "a record holds no zero byte");
    auto again = decode_log(line);
    FUZZ_CHECK(again.unreadable_lines == 0 && again.records.size() == 1,
               "an encoded record reads back");
    FUZZ_CHECK(same_record(again.records.front(), record), "an encoded record reads the same");
    log += line;
    log.append(record.seq % 3, '\0');
  }
  auto again = decode_log(log);
  FUZZ_CHECK(again.unreadable_lines == 0 && again.records.size() == contents.records.size(),
             "a log of encoded records reads back whole");
  for (std::size_t i = 0; i < again.records.size(); ++i)
    FUZZ_CHECK(same_record(again.records[i], contents.records[i]),
               "a log of encoded records reads the same");
}

void check_replay(const log_contents& contents) {
  const auto& cfg = fuzz_config();
  auto created = *parse_time("2026-02-16T00:00:00Z");
  auto snap = seed_snapshot(cfg, created);
  merge_settings settings{std::chrono::seconds(300), 50};
  // The state file's log position is at least 1 once anything was logged.
  const std::uint64_t start = 1;
  std::uint64_t expected = start;
  for (const auto& record : contents.records)
    if (record.seq > expected)
      expected = record.seq;
  auto position = replay_log(snap, start, contents.records, settings);
  FUZZ_CHECK(position == expected, "replay ends at the highest seq above the start");

  auto document = snapshot_document(snap, position);
  auto text = document.dump();
  auto reread = nlohmann::json::parse(text, nullptr, false);
  FUZZ_CHECK(!reread.is_discarded(), "the state file is JSON");
  FUZZ_CHECK(snapshot_log_seq(reread) == position, "the state file keeps its log position");
  std::string error;
  auto loaded = snapshot_from_json(reread, error);
  FUZZ_CHECK(loaded.has_value(), "a replayed state loads from its state file");
  FUZZ_CHECK(snapshot_document(*loaded, position) == document,
             "a replayed state reads back the same from its state file");
  FUZZ_CHECK(loaded->recent_jobs.size() <= settings.recent_jobs_limit,
             "recent jobs stay within their limit");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto contents = decode_log(text);
  auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  FUZZ_CHECK(contents.records.size() + contents.unreadable_lines <= lines,
             "no more records and unreadable lines than lines");
  check_round_trip(contents);
  check_replay(contents);
  return 0;
}
