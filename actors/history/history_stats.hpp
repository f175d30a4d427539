#pragma once

// The statistics of GET /api/v1/stats computed from the runs a backend
// reads (changes into OK or Warning, oldest first). Both history backends
// (SQLite in the data dir, the audit table in PostgreSQL) feed the same
// aggregation, so they answer the same for the same changes.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/history/history_db.hpp"

namespace epmpulse {

class run_aggregator {
public:
  /// One run: a change of app/domain into `status` received at `received`.
  void add(const std::string& app, const std::string& domain, job_status status,
           std::optional<std::int64_t> duration_sec, time_point received);

  /// The result, by app then domain.
  stats_result finish(int days);

private:
  struct runs_of_domain {
    domain_stats stats;
    std::vector<std::int64_t> durations;
    std::map<std::string, std::pair<std::uint64_t, std::vector<std::int64_t>>> days;
  };
  std::map<std::pair<std::string, std::string>, runs_of_domain> by_domain_;
};

} // namespace epmpulse
