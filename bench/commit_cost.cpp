// commit_cost: what one durable commit costs as the state grows, measured
// outside the server so the numbers do not depend on the load.
//
// For each domain count it fills a snapshot (3 apps, every domain with a
// status, job id, message, times; 50 recent jobs) and measures:
//   - the state file as the server writes it today: to_json(snapshot) (the
//     DOM), .dump(2) (the text), and write_file_atomically (temp file, fsync,
//     rename, fsync of the directory);
//   - the alternative: appending one change record (~the JSON of one update)
//     to an O_APPEND log and fdatasync'ing it, alone and as a group of 32;
//   - the same records written over a preallocated, zero-filled file (as
//     databases' log segments are): the file's size does not change, so an
//     fdatasync has no metadata to commit.
//
//   commit_cost [--dir DIR] [--domains 150,1000,10000] [--writes 20]
//
// DIR must be on the disk the service would use (not tmpfs): fsync is the
// point. One JSON line per domain count on stdout.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/common/durable_file.hpp"
#include "actors/state/status_model.hpp"

namespace {

using namespace epmpulse;
using nlohmann::json;
using steady = std::chrono::steady_clock;

double ms_since(steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

status_snapshot filled_snapshot(std::size_t domains) {
  const char* apps[] = {"Planning", "FCCS", "ARCS"};
  status_snapshot snap;
  auto now = now_ms();
  snap.created = now;
  snap.last_updated = now;
  for (const char* app : apps)
    snap.apps[app].display_name = app;
  for (std::size_t i = 0; i < domains; ++i) {
    domain_state d;
    d.status = i % 3 == 0 ? job_status::loading : i % 3 == 1 ? job_status::ok : job_status::warning;
    d.job_id = fmt::format("R1a2b3c-{}", 1000000 + i);
    if (d.status != job_status::loading)
      d.message = fmt::format("rows loaded: {}", 10000 + i);
    d.updated = now;
    d.started = now;
    if (d.status == job_status::ok)
      d.duration_sec = 145;
    d.source = update_source::push;
    snap.apps[apps[i % 3]].domains[fmt::format("D{:05d}", i)] = d;
  }
  for (int j = 0; j < 50; ++j)
    snap.recent_jobs.push_back({fmt::format("R1a2b3c-{}", j), {"Planning"}, job_status::ok, now, now});
  return snap;
}

/// One change record as a log would hold it: the update and its result.
std::string change_record(std::size_t seq) {
  json rec = {{"seq", seq},
              {"app", "Planning"},
              {"domain", fmt::format("D{:05d}", seq % 1000)},
              {"status", "OK"},
              {"job_id", fmt::format("R1a2b3c-{}", seq)},
              {"message", "rows loaded: 12345"},
              {"updated", "2026-02-16T14:30:00.123Z"},
              {"duration_sec", 145},
              {"source", "push"}};
  return rec.dump() + "\n";
}

/// Median ms of `n` writes of `group` records, each followed by one
/// fdatasync; `write_at(fd, bytes, offset)` writes them (appends or writes in
/// place). Closes `fd`; -1 on any failure.
template <class WriteAt>
double synced_writes_ms(int fd, int n, std::size_t group, WriteAt write_at) {
  std::vector<double> times;
  std::size_t seq = 0;
  off_t offset = 0;
  for (int i = 0; i < n; ++i) {
    std::string buf;
    for (std::size_t k = 0; k < group; ++k)
      buf += change_record(++seq);
    auto t0 = steady::now();
    if (write_at(fd, buf, offset) != static_cast<ssize_t>(buf.size()) || ::fdatasync(fd) != 0) {
      ::close(fd);
      return -1;
    }
    times.push_back(ms_since(t0));
    offset += static_cast<off_t>(buf.size());
  }
  ::close(fd);
  return median(times);
}

/// Appends to an O_APPEND log, as the service does.
double wal_append_ms(const std::string& path, int n, std::size_t group) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  return synced_writes_ms(fd, n, group, [](int out, const std::string& buf, off_t) {
    return ::write(out, buf.data(), buf.size());
  });
}

/// Writes over a file zero-filled and synced beforehand: its size never changes.
double wal_overwrite_ms(const std::string& path, int n, std::size_t group) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  const std::string zeros(static_cast<std::size_t>(n) * group * change_record(1).size() * 2 + 4096, '\0');
  if (::write(fd, zeros.data(), zeros.size()) != static_cast<ssize_t>(zeros.size())
      || ::fsync(fd) != 0) {
    ::close(fd);
    return -1;
  }
  return synced_writes_ms(fd, n, group, [](int out, const std::string& buf, off_t offset) {
    return ::pwrite(out, buf.data(), buf.size(), offset);
  });
}

} // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::vector<std::size_t> counts = {150, 1000, 10000};
  int writes = 20;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--writes" && i + 1 < argc) {
      writes = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--domains" && i + 1 < argc) {
      counts.clear();
      std::string list = argv[++i];
      for (std::size_t pos = 0; pos < list.size();) {
        auto comma = list.find(',', pos);
        counts.push_back(std::stoul(list.substr(pos, comma - pos)));
        pos = comma == std::string::npos ? list.size() : comma + 1;
      }
    } else {
      std::cerr << "usage: commit_cost [--dir DIR] [--domains 150,1000,10000] [--writes 20]\n";
      return 2;
    }
  }
  bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/var/tmp/epmpulse-commit-cost.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  for (auto n : counts) {
    auto snap = filled_snapshot(n);
    // Serialisation: repeat for at least ~0.3 s (or 3 rounds) for a stable median.
    std::vector<double> dom_ms, dump_ms;
    std::size_t pretty_bytes = 0, compact_bytes = 0;
    auto start = steady::now();
    do {
      auto t0 = steady::now();
      json doc = to_json(snap);
      dom_ms.push_back(ms_since(t0));
      t0 = steady::now();
      auto text = doc.dump(2);
      dump_ms.push_back(ms_since(t0));
      pretty_bytes = text.size();
      compact_bytes = doc.dump().size();
    } while (dom_ms.size() < 3 || (ms_since(start) < 300 && dom_ms.size() < 200));
    auto bytes = to_json(snap).dump(2);
    auto path = dir + "/apps_status.json";
    std::vector<double> write_ms;
    for (int i = 0; i < writes; ++i) {
      auto t0 = steady::now();
      if (auto failure = write_file_atomically(path, bytes)) {
        std::cerr << "commit_cost: " << *failure << "\n";
        return 1;
      }
      write_ms.push_back(ms_since(t0));
    }
    auto wal_path = dir + "/apps_status.wal";
    double wal1 = wal_append_ms(wal_path, writes, 1);
    double wal32 = wal_append_ms(wal_path, writes, 32);
    std::filesystem::remove(wal_path);
    double over1 = wal_overwrite_ms(wal_path, writes, 1);
    double over32 = wal_overwrite_ms(wal_path, writes, 32);
    std::filesystem::remove(wal_path);
    auto rewrite = median(dom_ms) + median(dump_ms) + median(write_ms);
    json out = {{"tool", "commit_cost"},
                {"domains", n},
                {"file_bytes", pretty_bytes},
                {"compact_bytes", compact_bytes},
                {"to_json_ms", median(dom_ms)},
                {"dump_ms", median(dump_ms)},
                {"write_fsync_rename_ms", median(write_ms)},
                {"rewrite_commit_ms", rewrite},
                {"rewrite_commits_per_s", rewrite > 0 ? 1000.0 / rewrite : 0},
                {"wal_record_bytes", change_record(1).size()},
                {"wal_append_fdatasync_ms", wal1},
                {"wal_append32_fdatasync_ms", wal32},
                {"prealloc_overwrite_fdatasync_ms", over1},
                {"prealloc_overwrite32_fdatasync_ms", over32}};
    std::cout << out.dump() << std::endl;
  }
  if (own_dir)
    std::filesystem::remove_all(dir);
  return 0;
}
