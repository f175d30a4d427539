// What EPM answers pull mode: job-status documents of every server kind, EDM
// job-run results and the daily maintenance time, on any bytes. EPM is
// outside our control; its answers reach the state as domain statuses and
// messages, and the maintenance time silences alerts.
//
// The first byte picks the server kind; the rest is the body.
//
// Invariants, besides "no crash, no sanitizer report":
// - a mapped job answer is one of: running (status Loading), succeeded (OK)
//   or failed (Warning), and its message is clean: at most max_message_chars
//   code points, no control characters and no leading, trailing or doubled
//   spaces;
// - a refused answer says why (a non-empty error);
// - a daily maintenance start is a time of day (0..1439 minutes) in a zone
//   the tz database knows, and a refusal says why;
// - the same bytes map to the same result (no hidden state).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/pull/epm_status.hpp"
#include "common/cron.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace epmpulse;
using epmpulse::fuzz::code_points;

bool is_clean(const std::string& m) {
  if (code_points(m) > max_message_chars)
    return false;
  if (!m.empty() && (m.front() == ' ' || m.back() == ' '))
    return false;
  if (m.find("  ") != std::string::npos)
    return false;
  for (char ch : m) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F)
      return false;
  }
  return true;
}

void check_job_result(const std::optional<epm_job_result>& r, const std::string& error) {
  if (!r) {
    FUZZ_CHECK(!error.empty(), "a refused job answer says why");
    return;
  }
  switch (r->phase) {
    case epm_job_phase::running:
      FUZZ_CHECK(r->status == job_status::loading, "a running job keeps Loading");
      break;
    case epm_job_phase::succeeded:
      FUZZ_CHECK(r->status == job_status::ok, "a succeeded job is OK");
      break;
    case epm_job_phase::failed:
      FUZZ_CHECK(r->status == job_status::warning, "a failed job is Warning");
      break;
  }
  FUZZ_CHECK(is_clean(r->message), "a job message is cleaned and cut to the limit");
}

bool same(const std::optional<epm_job_result>& a, const std::optional<epm_job_result>& b) {
  if (!a || !b)
    return !a && !b;
  return a->phase == b->phase && a->status == b->status && a->message == b->message
         && a->code == b->code && a->event_time == b->event_time;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  static constexpr config::epm_server_kind kinds[] = {
    config::epm_server_kind::planning, config::epm_server_kind::arcs,
    config::epm_server_kind::data_integration, config::epm_server_kind::edm,
    config::epm_server_kind::arcs_tm};
  auto kind = kinds[data[0] % std::size(kinds)];
  std::string_view body{reinterpret_cast<const char*>(data) + 1, size - 1};

  std::string error;
  auto job = map_job_body(kind, body, error);
  check_job_result(job, error);
  std::string again_error;
  FUZZ_CHECK(same(job, map_job_body(kind, body, again_error)) && error == again_error,
             "the same answer maps the same way");

  error.clear();
  check_job_result(map_edm_result_body(body, error), error);

  error.clear();
  if (auto start = parse_daily_maintenance(body, error)) {
    FUZZ_CHECK(start->minute >= 0 && start->minute < 24 * 60, "a start is a time of day");
    FUZZ_CHECK(is_known_time_zone(start->time_zone), "a start's zone is a known one");
  } else {
    FUZZ_CHECK(!error.empty(), "a refused maintenance answer says why");
  }
  return 0;
}
