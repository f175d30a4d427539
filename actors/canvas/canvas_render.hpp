#pragma once

// Canvas rendering: snapshot + channel -> the markdown a channel's Slack
// canvas shows. Pure functions: the canvas actor runs them, tests call them
// directly, and the preview endpoint shows exactly their output.
//
// Layout ("list", the default, uses only elements every version of Slack's
// canvas documentation lists: headings, paragraphs, bulleted lists, bold):
//   # 📊 <title>                      header: title and the channel's last update
//   ## <app display name>             one per app of the channel, config order:
//   - 🟢 **Actual**: OK · job ...      one list item per domain
//   - 🟢 **Load**: OK · ⏰ **late** (run of 02:00) · ... · next run 02:00
//                                     a domain with an expectation: its mark
//                                     (none when on time) and its next run
//   ### Recent jobs                   the channel's most recent jobs
// The "table" layout shows each app's domains as a markdown table instead;
// an app with an expected domain gets an "Expected" column (mark, next run).
//
// The output depends only on the snapshot (no "now"): times are absolute, so
// rendering the same state twice gives the same bytes and an unchanged canvas
// is never re-sent. It stays within render_options::max_bytes unless that is
// too small for what is never cut (the title, the recent jobs heading and the
// lines saying what was cut; those are then all it holds): recent jobs are
// cut first, then domain rows from the end, then whole apps, each cut said.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "actors/canvas/canvas_marks.hpp"
#include "actors/state/status_model.hpp"
#include "config/config.hpp"

namespace date {
class time_zone;
}

namespace epmpulse::canvas {

// -- time zone -----------------------------------------------------------------

/// A display time zone: UTC, or an IANA zone of the system's tz database
/// (/usr/share/zoneinfo, read through Howard Hinnant's date/tz.h). Offsets
/// and abbreviations follow the zone's history and daylight saving time as
/// far as the database's files list transitions (to 2037 in Debian's).
class display_zone {
public:
  /// UTC.
  display_zone() = default;

  /// "UTC" or an IANA name such as "Europe/Berlin". On failure returns
  /// false, leaves `out` unchanged and says why in `error`.
  static bool load(const std::string& name, display_zone& out, std::string& error);

  /// Offset from UTC at `t` and the zone's abbreviation then ("UTC", "CEST").
  std::chrono::seconds offset_at(time_point t, std::string* abbrev = nullptr) const;

  /// The configured name ("UTC", "Europe/Berlin").
  const std::string& name() const { return name_; }

private:
  std::string name_ = "UTC";
  const date::time_zone* zone_ = nullptr; ///< owned by the date library's database; null = UTC
};

/// "2026-02-16 14:35 UTC" in `zone`.
std::string format_display_time(time_point t, const display_zone& zone);

// -- escaping ------------------------------------------------------------------

/// Makes user-supplied text (job ids, messages, domain and app names) inert in
/// canvas markdown: no mentions (`<!channel>`, `<@U…>`, `@here`), no links
/// (`<url|x>`, `[x](url)`, bare URLs), no formatting (`*`, `_`, `~`, `` ` ``,
/// `>`, `#`), no table or line breaks. Characters that would act are replaced
/// by look-alikes so the text still reads the same. Invalid UTF-8 becomes
/// U+FFFD; control and bidi-override characters are dropped or become spaces.
/// The result is cut to `max_chars` code points ("…" marks a cut).
std::string escape_text(std::string_view text, std::size_t max_chars = 200);

// -- rendering -----------------------------------------------------------------

/// "⚪" | "🟡" | "🟢" | "🔴".
const char* status_icon(job_status s);

/// "2h 5m", "2m 25s", "45s".
std::string format_duration(std::int64_t seconds);

/// One part of a canvas: the header, an app, or the recent jobs.
struct canvas_section {
  std::string anchor;   ///< "header", "app:<name>" or "recent": stable identity
  std::string markdown; ///< its heading line and everything up to the next part
  bool operator==(const canvas_section&) const = default;
};

/// A whole canvas as its parts, in order.
struct rendered_canvas {
  std::vector<canvas_section> sections;

  /// The whole canvas: the parts' markdown concatenated.
  std::string markdown() const;

  bool operator==(const rendered_canvas&) const = default;
};

/// Slack documents no size limit for a canvas. The nearest documented limits
/// are 40,000 characters for a message's text and 12,000 for a markdown
/// block; a canvas is held to 30,000 bytes of markdown, well under both.
inline constexpr std::size_t default_max_canvas_bytes = 30'000;

struct render_options {
  std::string title = "EPM Status Dashboard";
  display_zone zone;
  std::size_t recent_jobs = 5; ///< jobs listed in the footer
  config::canvas_layout layout = config::canvas_layout::list;
  std::size_t max_bytes = default_max_canvas_bytes; ///< the whole canvas's markdown, at most
};

/// The apps shown on `channel_id`'s canvas, in config order.
std::vector<const config::app_config*> channel_apps(const config::service_config& cfg,
                                                    std::string_view channel_id);

/// Renders `channel_id`'s canvas from `snap`: only the apps configured for
/// that channel, their domains in config order (then any others the state
/// has, alphabetically), and the recent jobs that touched those apps. Over
/// `opts.max_bytes`, recent jobs and then domain rows (last app first) give
/// way to a "… N more" line; a canvas of nothing but headings that still
/// does not fit drops whole apps from the end the same way.
rendered_canvas render_canvas(const status_snapshot& snap, const config::service_config& cfg,
                              std::string_view channel_id, const render_options& opts);

/// The same with the expectation marks (null = none): each marked domain
/// shows its mark, "" when on time: "⏰ **late** (run of 02:00)", "⛔ **missed**
/// (run of 02:00)", "⌛ **overdue**", "⚠️ **short run**", "⏸️ **held** by
/// Planning/Load", "🛠️ **maintenance**" (never "late" inside a window), and
/// "next run <time>", times as the rows show them. Marked rows give way to the
/// size cap like any row.
rendered_canvas render_canvas(const status_snapshot& snap, const domain_marks* marks,
                              const config::service_config& cfg, std::string_view channel_id,
                              const render_options& opts);

} // namespace epmpulse::canvas
