#pragma once

// Canvas rendering: snapshot + channel -> the markdown a channel's Slack
// canvas shows. Pure functions: the canvas actor runs them, tests call them
// directly, and the preview endpoint shows exactly their output.
//
// Layout (each part starts with a heading, the anchor for section updates):
//   # 📊 <title>                      header: title and the channel's last update
//   ## <app display name>             one per app of the channel, config order:
//   | Domain | Status | Job | ... |     a table of its domains
//   ### Recent jobs                   the channel's most recent jobs
//
// The output depends only on the snapshot (no "now"): times are absolute, so
// rendering the same state twice gives the same bytes and an unchanged canvas
// is never re-sent.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

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

/// One anchored part of a canvas.
struct canvas_section {
  std::string anchor;   ///< "header", "app:<name>" or "recent": stable identity
  int level = 2;        ///< heading level (1..3), used for sections.lookup
  std::string heading;  ///< the heading's text (sections.lookup contains_text)
  std::string markdown; ///< the heading line and everything up to the next heading
  bool operator==(const canvas_section&) const = default;
};

/// A whole canvas as its sections, in order.
struct rendered_canvas {
  std::vector<canvas_section> sections;

  /// The whole canvas: the sections' markdown concatenated.
  std::string markdown() const;

  bool operator==(const rendered_canvas&) const = default;
};

struct render_options {
  std::string title = "EPM Status Dashboard";
  display_zone zone;
  std::size_t recent_jobs = 5; ///< jobs listed in the footer
};

/// The apps shown on `channel_id`'s canvas, in config order.
std::vector<const config::app_config*> channel_apps(const config::service_config& cfg,
                                                    std::string_view channel_id);

/// Renders `channel_id`'s canvas from `snap`: only the apps configured for
/// that channel, their domains in config order (then any others the state
/// has, alphabetically), and the recent jobs that touched those apps.
rendered_canvas render_canvas(const status_snapshot& snap, const config::service_config& cfg,
                              std::string_view channel_id, const render_options& opts);

} // namespace epmpulse::canvas
