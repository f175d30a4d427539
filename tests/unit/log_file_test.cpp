#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <sys/stat.h>

#include "actors/state/log_file.hpp"
#include "actors/state/state_log.hpp"
#include "tests/support/temp_dir.hpp"

// The change log's file: records written in place over zero-filled space must
// read back exactly, whatever happened to the file between appends.
BOOST_AUTO_TEST_SUITE(log_file_tests)

using namespace epmpulse;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t small_chunk = 4096;

std::string record(std::uint64_t seq, const std::string& job = "JOB") {
  log_record r;
  r.seq = seq;
  r.at = *parse_time("2026-02-16T14:30:00Z");
  status_update u;
  u.app = "Planning";
  u.domain = "Actual";
  u.status = job_status::ok;
  u.job_id = job + "_" + std::to_string(seq);
  r.updates.push_back(u);
  return encode_log_record(r);
}

log_contents read_back(const fs::path& p) {
  return decode_log(test::read_file(p));
}

std::vector<std::uint64_t> seqs(const log_contents& c) {
  std::vector<std::uint64_t> out;
  for (const auto& r : c.records)
    out.push_back(r.seq);
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_new_log_is_zero_filled_ahead_and_its_records_read_back) {
  test::temp_dir dir;
  auto path = dir.file("apps_status.wal");
  log_file log(path.string(), small_chunk);
  BOOST_TEST(!log.is_open());
  BOOST_TEST(!fs::exists(path), "nothing is created before the first append");
  BOOST_TEST_REQUIRE(!log.append(record(1)));
  BOOST_TEST(log.is_open());
  BOOST_TEST(fs::file_size(path) == small_chunk);
  BOOST_TEST_REQUIRE(!log.append(record(2) + record(3)));
  // Written in place: the size (and so the file's metadata) did not change.
  BOOST_TEST(fs::file_size(path) == small_chunk);
  auto contents = read_back(path);
  BOOST_TEST(seqs(contents) == (std::vector<std::uint64_t>{1, 2, 3}));
  BOOST_TEST(contents.unreadable_lines == 0u);
  BOOST_TEST(contents.records[2].updates.at(0).job_id.value() == "JOB_3");
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u, "the change log is private");
}

BOOST_AUTO_TEST_CASE(records_past_the_end_grow_the_file_by_whole_chunks) {
  test::temp_dir dir;
  auto path = dir.file("apps_status.wal");
  log_file log(path.string(), small_chunk);
  std::vector<std::uint64_t> written;
  std::uint64_t seq = 0;
  do {
    std::string group;
    for (int i = 0; i < 5; ++i) {
      group += record(++seq, std::string(100, 'x'));
      written.push_back(seq);
    }
    BOOST_TEST_REQUIRE(!log.append(group));
    BOOST_TEST_REQUIRE(fs::file_size(path) % small_chunk == 0u);
  } while (fs::file_size(path) < 3 * small_chunk);
  BOOST_TEST(log.capacity() == fs::file_size(path));
  auto contents = read_back(path);
  BOOST_TEST(seqs(contents) == written);
  BOOST_TEST(contents.unreadable_lines == 0u);
}

BOOST_AUTO_TEST_CASE(a_reopened_log_continues_after_its_last_record) {
  test::temp_dir dir;
  auto path = dir.file("apps_status.wal");
  {
    log_file log(path.string(), small_chunk);
    BOOST_TEST_REQUIRE(!log.append(record(1) + record(2)));
  }
  log_file again(path.string(), small_chunk);
  BOOST_TEST_REQUIRE(!again.append(record(3)));
  BOOST_TEST(fs::file_size(path) == small_chunk, "the zero-filled space is used, not skipped");
  auto contents = read_back(path);
  BOOST_TEST(seqs(contents) == (std::vector<std::uint64_t>{1, 2, 3}));
  BOOST_TEST(contents.unreadable_lines == 0u);
}

BOOST_AUTO_TEST_CASE(a_torn_record_is_not_glued_to_the_next) {
  test::temp_dir dir;
  auto path = dir.file("apps_status.wal");
  auto torn = record(2);
  test::write_file(path, record(1) + torn.substr(0, torn.size() / 2));
  log_file log(path.string(), small_chunk);
  BOOST_TEST_REQUIRE(!log.append(record(3)));
  auto contents = read_back(path);
  BOOST_TEST(seqs(contents) == (std::vector<std::uint64_t>{1, 3}));
  BOOST_TEST(contents.unreadable_lines == 1u);
}

BOOST_AUTO_TEST_CASE(a_failed_append_names_the_file_and_the_next_one_succeeds) {
  test::temp_dir dir;
  auto path = dir.file("apps_status.wal");
  fs::create_directory(path); // what the log should be cannot be created
  log_file log(path.string(), small_chunk);
  auto failure = log.append(record(1));
  BOOST_TEST_REQUIRE(failure.has_value());
  BOOST_TEST(failure->find(path.string()) != std::string::npos, *failure);
  BOOST_TEST(!log.is_open());
  fs::remove(path);
  BOOST_TEST_REQUIRE(!log.append(record(1)));
  BOOST_TEST(seqs(read_back(path)) == (std::vector<std::uint64_t>{1}));
}

BOOST_AUTO_TEST_CASE(a_closed_log_can_be_moved_away_and_the_next_append_starts_afresh) {
  test::temp_dir dir;
  auto path = dir.file("apps_status.wal");
  log_file log(path.string(), small_chunk);
  BOOST_TEST_REQUIRE(!log.append(record(1)));
  log.close();
  fs::rename(path, dir.file("apps_status.wal.prev"));
  BOOST_TEST_REQUIRE(!log.append(record(2)));
  BOOST_TEST(seqs(read_back(dir.file("apps_status.wal.prev"))) == (std::vector<std::uint64_t>{1}));
  BOOST_TEST(seqs(read_back(path)) == (std::vector<std::uint64_t>{2}));
}

BOOST_AUTO_TEST_SUITE_END()
