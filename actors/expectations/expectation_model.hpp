#pragma once

// Expectations judged against the state: pure functions the evaluator actor
// runs on each timer and change, and tests call with any clock they like.
//
// For a scheduled domain the run being judged is the last scheduled start at
// or before now (S0); the one before it is S1. A run "arrived" when the
// domain had an update at or after its start less the grace (a job may start
// a little early). Then:
//   overdue      Loading for longer than max_duration (the evaluator turns it
//                into Warning, as the stale sweep does), or still that Warning;
//   missed       nothing arrived for S1 and S0 has come;
//   late         nothing arrived for S0 by S0 + grace;
//   short        the last run went OK sooner than min_duration after Loading;
//   maintenance  late or missed while a maintenance window is open (a start
//                whose deadline falls in a window is due at its end + grace);
//   held         late or missed while an upstream domain (`after`) is
//                Warning, late, missed, overdue or held: the root is named;
//   on_time      otherwise.
// An interval schedule counts from the last update (from the state's creation
// for a domain never updated): late after every + grace, missed after twice
// every.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/canvas/canvas_marks.hpp"
#include "actors/state/status_bodies.hpp"
#include "actors/state/status_model.hpp"
#include "common/cron.hpp"
#include "config/config.hpp"

namespace epmpulse {

enum class expectation_state { on_time, late, missed, overdue, short_run, held, maintenance };

/// "on_time" | "late" | "missed" | "overdue" | "short" | "held" | "maintenance".
const char* to_string(expectation_state s);

/// Late, missed, overdue and short are alerted; held and maintenance are not.
bool is_alerting(expectation_state s);

/// The judgement of one domain.
struct domain_expectation {
  expectation_state state = expectation_state::on_time;
  std::optional<time_point> next_run; ///< next scheduled start after now
  std::optional<time_point> due;      ///< the start judged late or missed
  std::string cause;                  ///< why, in words ("" when on time)
  std::string root;                   ///< held: the upstream "App/Domain" at the root
};

/// app -> domain -> judgement, for every domain an expectation covers.
using expectation_results = std::map<std::string, std::map<std::string, domain_expectation>>;

/// A window in which late and missed runs are not alerted.
struct maintenance_window {
  std::string id;                ///< "" for the configured daily ones
  std::string name;              ///< the pod's name or the reason given
  std::vector<std::string> apps; ///< empty = every app
  time_point start{};
  time_point end{};
};

/// What the evaluator needs besides the state and the clock.
struct evaluation_context {
  const config::service_config* config = nullptr;
  std::vector<maintenance_window> adhoc_windows;
  /// An interval expectation counts from here for a domain never updated
  /// when the snapshot has no creation time.
  time_point watching_since{};
  /// Starts read from EPM, by server id: they replace the configured start
  /// of the daily windows naming that server.
  std::map<std::string, time_of_day> read_starts;
};

/// The windows that hold `app` at `at`: the daily ones of that day (and of
/// the day before, for windows past midnight), each at the start read from
/// its server or else the configured one, and the ad-hoc ones. A daily
/// window with neither start holds nothing.
std::vector<maintenance_window> windows_at(const evaluation_context& ctx, const std::string& app,
                                           time_point at);

/// Judges every expectation at `now`.
expectation_results evaluate_expectations(const evaluation_context& ctx,
                                          const status_snapshot& snap, time_point now);

/// The updates that turn every overdue Loading into Warning
/// "Overdue: Loading since <time>, longer than <n> min" (source system).
std::vector<status_update> overdue_updates(const expectation_results& results,
                                           const status_snapshot& snap,
                                           const evaluation_context& ctx);

/// The marks the state's GET bodies show.
expectation_marks to_marks(const expectation_results& results);

/// The marks the canvas shows (with the start judged and the held root).
canvas::canvas_marks to_canvas_marks(const expectation_results& results);

/// The expectation that covers app/domain, if any.
const config::expectation_config* expectation_for(const config::service_config& cfg,
                                                  const std::string& app,
                                                  const std::string& domain);

/// The message prefix of an overdue Warning.
inline constexpr const char* overdue_prefix = "Overdue: ";

} // namespace epmpulse
