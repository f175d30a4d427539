#include <boost/test/unit_test.hpp>

// Power loss in the middle of a change-log append: the last record reaches
// the disk only in part (cut at any byte, with the file's zero-filled space
// or its end after it, or with unwritten holes inside), or the tail holds
// garbage. Reading the log must skip what is not a whole record and keep
// every record before it; start-up must serve exactly those, and the next
// append must not be glued to the torn one.

#include <filesystem>
#include <random>

#include <caf/send.hpp>

#include "actors/state/log_file.hpp"
#include "actors/state/state_log.hpp"
#include "actors/state/state_store.hpp"
#include "config/config.hpp"
#include "tests/support/simulated_system.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_config.hpp"

BOOST_AUTO_TEST_SUITE(torn_log_tests)

using namespace epmpulse;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t whole_records = 4;
constexpr std::size_t zero_filled_bytes = 4096;

status_update pushed(int domain, std::uint64_t seq) {
  status_update u;
  u.app = "Planning";
  u.domain = "Torn " + std::to_string(domain);
  u.status = job_status::ok;
  u.job_id = "TORN_" + std::to_string(seq);
  u.message = "record " + std::to_string(seq);
  return u;
}

// Records 1..4 change one domain each; record 5, the one torn, changes two
// (a batch): neither may come back from a torn copy.
std::string record(std::uint64_t seq) {
  log_record r;
  r.seq = seq;
  r.at = *parse_time("2026-02-16T14:30:00Z");
  r.updates.push_back(pushed(static_cast<int>(seq), seq));
  if (seq > whole_records)
    r.updates.push_back(pushed(static_cast<int>(seq) + 1, seq));
  return encode_log_record(r);
}

std::string whole_prefix() {
  std::string text;
  for (std::uint64_t seq = 1; seq <= whole_records; ++seq)
    text += record(seq);
  return text;
}

const std::string& last_record() {
  static const std::string last = record(whole_records + 1);
  return last;
}

std::vector<std::uint64_t> seqs_of(const log_contents& c) {
  std::vector<std::uint64_t> out;
  for (const auto& r : c.records)
    out.push_back(r.seq);
  return out;
}

std::vector<std::uint64_t> seqs_up_to(std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t seq = 1; seq <= last; ++seq)
    out.push_back(seq);
  return out;
}

// The record cut after `cut` bytes is still whole when only its newline is
// missing: all of its bytes reached the disk, and reading it is right (it was
// not acknowledged, and it may be kept, as a database keeps a whole record).
bool whole_at(std::size_t cut) {
  return cut + 1 >= last_record().size();
}

status_snapshot seeded() {
  status_snapshot snap;
  snap.apps["Planning"].domains["Actual"];
  return snap;
}

// What reading `text` and replaying it onto an empty Planning gives, checked
// against "records 1..4, and 5 only when whole".
void check_read(const std::string& text, bool last_whole) {
  auto contents = decode_log(text);
  BOOST_TEST(seqs_of(contents) == seqs_up_to(whole_records + (last_whole ? 1 : 0)));
  auto snap = seeded();
  auto position = replay_log(snap, 0, contents.records, {std::chrono::minutes(5), 50});
  BOOST_TEST(position == whole_records + (last_whole ? 1 : 0));
  const auto& domains = snap.apps["Planning"].domains;
  for (std::uint64_t seq = 1; seq <= whole_records; ++seq) {
    auto it = domains.find("Torn " + std::to_string(seq));
    BOOST_TEST_REQUIRE((it != domains.end()), "record " << seq << " was lost");
    BOOST_TEST(it->second.job_id.value_or("") == "TORN_" + std::to_string(seq));
  }
  // The torn batch: both of its domains or neither.
  BOOST_TEST(domains.count("Torn 5") == (last_whole ? 1u : 0u));
  BOOST_TEST(domains.count("Torn 6") == (last_whole ? 1u : 0u));
}

// The log file after power loss in place: the records, then the torn bytes,
// then the zero-filled space that was never written.
std::string zero_filled(std::string text) {
  text.resize(std::max(text.size(), zero_filled_bytes), '\0');
  return text;
}

// The state the service serves after starting on `data_dir` (real start-up:
// load, replay, rewrite, drop the log).
snapshot_ptr start_up_on(const fs::path& data_dir) {
  test::simulated_system sim;
  auto cfg_path = test::write_config(data_dir.parent_path(), test::default_test_config());
  auto loaded = config::load_config(cfg_path.string());
  BOOST_REQUIRE(!loaded.error);
  auto cfg = std::make_shared<const config::service_config>(std::move(*loaded.config));
  auto state = spawn_state_store(sim.system(), {data_dir.string(), cfg});
  BOOST_REQUIRE(state);
  auto snap = sim.ask<snapshot_ptr>(*state, snapshot_atom_v);
  caf::anon_send_exit(*state, caf::exit_reason::user_shutdown);
  sim.run();
  BOOST_REQUIRE(snap && *snap);
  return **snap;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_last_record_cut_at_any_byte_is_skipped_and_nothing_before_it_is_lost) {
  const auto& last = last_record();
  for (std::size_t cut = 0; cut < last.size(); ++cut) {
    BOOST_TEST_CONTEXT("cut after " << cut << " of " << last.size() << " bytes") {
      const auto torn = whole_prefix() + last.substr(0, cut);
      check_read(torn, whole_at(cut)); // the file ends there
      check_read(zero_filled(torn), whole_at(cut)); // zero-filled space follows
    }
  }
}

BOOST_AUTO_TEST_CASE(unwritten_holes_inside_the_last_record_make_it_unreadable) {
  // Written in place, the record's blocks may reach the disk in any order:
  // a part of it can still be the zero-filled space underneath.
  const auto& last = last_record();
  for (std::size_t at = 0; at + 1 < last.size(); ++at) {
    BOOST_TEST_CONTEXT("zeros from byte " << at) {
      auto holed = last;
      std::fill(holed.begin() + static_cast<std::ptrdiff_t>(at),
                holed.begin() + static_cast<std::ptrdiff_t>(std::min(at + 16, last.size() - 1)),
                '\0');
      check_read(zero_filled(whole_prefix() + holed), false);
      auto tail_only = last;
      std::fill(tail_only.begin(), tail_only.begin() + static_cast<std::ptrdiff_t>(at + 1), '\0');
      check_read(zero_filled(whole_prefix() + tail_only), false);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_garbage_tail_is_skipped_and_invents_nothing) {
  std::mt19937 rng(20260216);
  std::uniform_int_distribution<int> byte(1, 255);
  std::uniform_int_distribution<std::size_t> length(1, 600);
  for (int round = 0; round < 200; ++round) {
    std::string garbage(length(rng), ' ');
    for (auto& c : garbage)
      c = static_cast<char>(byte(rng));
    BOOST_TEST_CONTEXT("round " << round) {
      // Garbage after the whole records, and garbage over the last one's end.
      check_read(whole_prefix() + garbage, false);
      const auto& last = last_record();
      auto overwritten = last.substr(0, last.size() / 2) + garbage;
      check_read(zero_filled(whole_prefix() + overwritten), false);
    }
  }
}

BOOST_AUTO_TEST_CASE(start_up_serves_every_record_before_a_torn_one) {
  const auto& last = last_record();
  for (std::size_t cut : {std::size_t{1}, last.size() / 3, last.size() / 2, last.size() - 2}) {
    for (bool in_place : {false, true}) {
      BOOST_TEST_CONTEXT("cut after " << cut << (in_place ? ", zero-filled" : ", truncated")) {
        test::temp_dir dir("epmpulse-torn-");
        const auto data = dir.make_subdir("data");
        auto torn = whole_prefix() + last.substr(0, cut);
        test::write_file(data / log_file_name, in_place ? zero_filled(torn) : torn);
        auto snap = start_up_on(data);
        const auto& domains = snap->apps.at("Planning").domains;
        for (std::uint64_t seq = 1; seq <= whole_records; ++seq) {
          auto it = domains.find("Torn " + std::to_string(seq));
          BOOST_TEST_REQUIRE((it != domains.end()), "record " << seq << " was lost");
          BOOST_TEST(it->second.job_id.value_or("") == "TORN_" + std::to_string(seq));
        }
        BOOST_TEST(domains.count("Torn 5") == 0u);
        BOOST_TEST(domains.count("Torn 6") == 0u);
        // Folded into the state file, the log is gone.
        BOOST_TEST(!fs::exists(data / log_file_name));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(an_append_after_a_torn_record_starts_on_a_line_of_its_own) {
  // A log left behind (by a rotation that could not rename it) is continued.
  // Every append is fdatasync'd: cuts a few bytes apart, not every one.
  const auto& last = last_record();
  for (std::size_t cut = 1; cut + 1 < last.size(); cut += 11) {
    BOOST_TEST_CONTEXT("cut after " << cut) {
      test::temp_dir dir("epmpulse-torn-");
      auto path = dir.file(log_file_name);
      test::write_file(path, zero_filled(whole_prefix() + last.substr(0, cut)));
      log_file log(path.string(), zero_filled_bytes);
      BOOST_TEST_REQUIRE(!log.append(record(whole_records + 2)));
      auto contents = decode_log(test::read_file(path));
      auto expected = seqs_up_to(whole_records);
      expected.push_back(whole_records + 2);
      BOOST_TEST(seqs_of(contents) == expected);
      BOOST_TEST(contents.unreadable_lines == 1u);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END() // torn_log_tests
