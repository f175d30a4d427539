#include "actors/canvas/canvas_render.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

namespace epmpulse::canvas {

// -- time zone -----------------------------------------------------------------

bool display_zone::load(const std::string& name, display_zone& out, std::string& error) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC" || name == "Z") {
    out = display_zone{};
    return true;
  }
  try {
    display_zone z;
    // The first lookup reads the database's zone list; the zone's own file is
    // read (once, thread-safe) by its first offset query.
    z.zone_ = date::locate_zone(name);
    z.name_ = name;
    out = z;
    return true;
  } catch (const std::exception& e) {
    // An unknown name, or no zoneinfo directory at all (tzdata missing).
    error = "unknown time zone " + name + ": " + e.what();
    return false;
  }
}

std::chrono::seconds display_zone::offset_at(time_point t, std::string* abbrev) const {
  if (zone_ == nullptr) {
    if (abbrev != nullptr)
      *abbrev = "UTC";
    return std::chrono::seconds{0};
  }
  auto info = zone_->get_info(date::floor<std::chrono::seconds>(t));
  if (abbrev != nullptr)
    *abbrev = info.abbrev;
  return info.offset;
}

namespace {

struct local_parts {
  date::year_month_day ymd;
  int hour = 0;
  int minute = 0;
  std::string abbrev;
};

local_parts to_local(time_point t, const display_zone& zone) {
  local_parts out;
  auto off = zone.offset_at(t, &out.abbrev);
  auto secs = date::floor<std::chrono::seconds>(t) + off;
  auto day = date::floor<date::days>(secs);
  out.ymd = date::year_month_day{day};
  auto tod = std::chrono::duration_cast<std::chrono::seconds>(secs - day).count();
  out.hour = static_cast<int>(tod / 3600);
  out.minute = static_cast<int>((tod % 3600) / 60);
  return out;
}

std::string ymd_text(const date::year_month_day& d) {
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

} // namespace

std::string format_display_time(time_point t, const display_zone& zone) {
  auto p = to_local(t, zone);
  return fmt::format("{} {:02}:{:02} {}", ymd_text(p.ymd), p.hour, p.minute, p.abbrev);
}

// -- escaping ------------------------------------------------------------------

namespace {

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Decodes `text` into code points; malformed sequences become U+FFFD.
std::vector<char32_t> decode_utf8(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > text.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    // Reject overlong forms, surrogates and out-of-range values.
    static constexpr char32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (!ok || cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

bool ascii_alnum(char32_t c) {
  return c < 0x80 && std::isalnum(static_cast<int>(c));
}

bool is_bidi_control(char32_t c) {
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E ||
         c == 0x200F || c == 0x061C;
}

} // namespace

std::string escape_text(std::string_view text, std::size_t max_chars) {
  auto cps = decode_utf8(text);
  // Trim surrounding whitespace and control characters.
  auto blank = [](char32_t c) { return c <= 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F); };
  std::size_t first = 0, last = cps.size();
  while (first < last && blank(cps[first]))
    ++first;
  while (last > first && blank(cps[last - 1]))
    --last;
  std::string out;
  std::size_t count = 0;
  bool prev_space = false;
  for (std::size_t i = first; i < last; ++i) {
    char32_t c = cps[i];
    char32_t prev = i > first ? cps[i - 1] : U' ';
    char32_t next = i + 1 < last ? cps[i + 1] : U' ';
    if (is_bidi_control(c))
      continue;
    if (blank(c) || c == 0x2028 || c == 0x2029)
      c = U' '; // no line breaks: a message stays in its table cell
    if (c == U' ' && prev_space)
      continue;
    prev_space = c == U' ';
    if (count == max_chars) {
      append_utf8(out, U'…');
      return out;
    }
    ++count;
    switch (c) {
      case U'<': append_utf8(out, U'‹'); break;   // <!channel>, <@U1>, <url|text>
      case U'>': append_utf8(out, U'›'); break;   // quotes, the end of <...>
      case U'@': append_utf8(out, U'＠'); break;  // @here, @channel, @name
      case U'&': append_utf8(out, U'＆'); break;  // &lt;!channel&gt;
      case U'*': append_utf8(out, U'∗'); break;   // bold
      case U'~': append_utf8(out, U'∼'); break;   // strike
      case U'`': append_utf8(out, U'ˋ'); break;   // code
      case U'|': append_utf8(out, U'∣'); break;   // table cells
      case U'\\': append_utf8(out, U'∖'); break;  // escaping our own delimiters
      case U'[': append_utf8(out, U'［'); break;  // [text](url)
      case U']': append_utf8(out, U'］'); break;
      case U'#': append_utf8(out, U'＃'); break;  // headings, #channel
      case U'_':
        // Inside a word (JOB_001) an underscore never starts emphasis.
        if (ascii_alnum(prev) && ascii_alnum(next))
          out += '_';
        else
          append_utf8(out, U'＿');
        break;
      case U':':
        // "https://": no scheme, no link.
        if (next == U'/' && i + 2 < last && cps[i + 2] == U'/')
          append_utf8(out, U'：');
        else
          out += ':';
        break;
      case U'.': {
        // "www.example.com": no auto-link.
        bool www = i >= first + 3 && (cps[i - 1] | 0x20) == U'w' && (cps[i - 2] | 0x20) == U'w' &&
                   (cps[i - 3] | 0x20) == U'w' && (i == first + 3 || !ascii_alnum(cps[i - 4]));
        if (www)
          append_utf8(out, U'․');
        else
          out += '.';
        break;
      }
      default: append_utf8(out, c);
    }
  }
  return out;
}

// -- rendering -----------------------------------------------------------------

const char* status_icon(job_status s) {
  switch (s) {
    case job_status::blank: return "⚪";
    case job_status::loading: return "🟡";
    case job_status::ok: return "🟢";
    case job_status::warning: return "🔴";
  }
  return "⚪";
}

std::string format_duration(std::int64_t seconds) {
  if (seconds < 0)
    seconds = 0;
  auto h = seconds / 3600, m = (seconds % 3600) / 60, s = seconds % 60;
  if (h > 0)
    return fmt::format("{}h {}m", h, m);
  if (m > 0)
    return fmt::format("{}m {}s", m, s);
  return fmt::format("{}s", s);
}

std::string rendered_canvas::markdown() const {
  std::string out;
  for (const auto& s : sections)
    out += s.markdown;
  return out;
}

std::vector<const config::app_config*> channel_apps(const config::service_config& cfg,
                                                    std::string_view channel_id) {
  std::vector<const config::app_config*> out;
  for (const auto& app : cfg.apps)
    if (std::find(app.channels.begin(), app.channels.end(), channel_id) != app.channels.end())
      out.push_back(&app);
  return out;
}

namespace {

constexpr const char* dash = "–";

/// "14:35" on the reference day, "02-15 14:35" on another.
std::string short_time(time_point t, const display_zone& zone,
                       const std::optional<date::year_month_day>& ref_day) {
  auto p = to_local(t, zone);
  if (ref_day && *ref_day == p.ymd)
    return fmt::format("{:02}:{:02}", p.hour, p.minute);
  return fmt::format("{:02}-{:02} {:02}:{:02}", static_cast<unsigned>(p.ymd.month()),
                     static_cast<unsigned>(p.ymd.day()), p.hour, p.minute);
}

std::string app_title(const config::app_config& app) {
  return escape_text(app.display_name.empty() ? app.name : app.display_name, 80);
}

/// A part of the canvas being built: fixed text around rows that may give
/// way to one "… N more" line when the canvas would be too big.
struct canvas_part {
  std::string anchor;
  std::string head;              ///< the heading line (and, for the header, its text)
  std::string rows_head;         ///< table layout: header row and separator, before the first row
  std::vector<std::string> rows; ///< one line each
  std::vector<std::size_t> row_bytes{0}; ///< row_bytes[k]: bytes of the first k rows
  std::size_t shown = 0;         ///< rows kept
  std::string empty_text;        ///< when there are no rows at all
  std::string more_separator;    ///< between kept rows and the "… N more" line
  std::string more_format;       ///< the "… N more" line, {} = the count
  std::string tail;              ///< after everything
  bool dropped = false;          ///< an app cut whole (a canvas of headings only still too big)

  void add_row(std::string row) {
    row_bytes.push_back(row_bytes.back() + row.size());
    rows.push_back(std::move(row));
    shown = rows.size();
  }
  std::string more_line() const {
    return fmt::format(fmt::runtime(more_format), rows.size() - shown);
  }
};

std::size_t part_size(const canvas_part& p) {
  if (p.dropped)
    return 0;
  std::size_t n = p.head.size() + p.tail.size();
  if (p.rows.empty())
    return n + p.empty_text.size();
  if (p.shown > 0)
    n += p.rows_head.size() + p.row_bytes[p.shown];
  if (p.shown < p.rows.size())
    n += (p.shown > 0 ? p.more_separator.size() : 0) + p.more_line().size();
  return n;
}

std::string part_markdown(const canvas_part& p) {
  std::string out = p.head;
  if (p.rows.empty()) {
    out += p.empty_text;
  } else {
    if (p.shown > 0) {
      out += p.rows_head;
      for (std::size_t k = 0; k < p.shown; ++k)
        out += p.rows[k];
    }
    if (p.shown < p.rows.size()) {
      if (p.shown > 0)
        out += p.more_separator;
      out += p.more_line();
    }
  }
  return out + p.tail;
}

std::string more_apps_line(std::size_t dropped) {
  return dropped == 0 ? std::string{}
                      : fmt::format("… {} more apps (canvas size limit)\n\n", dropped);
}

/// Cuts rows, recent jobs first, then the apps' rows from the last app
/// backwards, then whole apps from the end, until `parts` fit in `max_bytes`.
/// parts: the header, the apps, the recent jobs (last). Returns the number of
/// apps cut whole.
std::size_t fit_to_size(std::vector<canvas_part>& parts, std::size_t max_bytes) {
  std::size_t total = 0;
  for (const auto& p : parts)
    total += part_size(p);
  auto cut_row = [&](canvas_part& p) {
    total -= part_size(p);
    --p.shown;
    total += part_size(p);
  };
  auto& recent = parts.back();
  while (total > max_bytes && recent.shown > 0)
    cut_row(recent);
  for (std::size_t k = parts.size() - 1; k-- > 1 && total > max_bytes;)
    while (total > max_bytes && parts[k].shown > 0)
      cut_row(parts[k]);
  std::size_t dropped = 0;
  for (std::size_t k = parts.size() - 1; k-- > 1 && total > max_bytes;) {
    total -= part_size(parts[k]) + more_apps_line(dropped).size();
    parts[k].dropped = true;
    total += more_apps_line(++dropped).size();
  }
  return dropped;
}

std::string mark_text(const domain_mark& m, const display_zone& zone,
                      const std::optional<date::year_month_day>& day) {
  auto run_of = [&](const char* head) {
    std::string out = head;
    if (m.due)
      out += " (run of " + short_time(*m.due, zone, day) + ")";
    return out;
  };
  if (m.state == "on_time")
    return {};
  if (m.state == "late")
    return run_of("⏰ **late**");
  if (m.state == "missed")
    return run_of("⛔ **missed**");
  if (m.state == "overdue")
    return "⌛ **overdue**";
  if (m.state == "short")
    return "⚠️ **short run**";
  if (m.state == "held")
    return m.upstream.empty() ? std::string{"⏸️ **held**"}
                              : "⏸️ **held** by " + escape_text(m.upstream, 130);
  if (m.state == "maintenance")
    return "🛠️ **maintenance**";
  return "**" + escape_text(m.state, 20) + "**";
}

/// "next run 02:00", "" without a schedule's next start.
std::string next_run_text(const domain_mark& m, const display_zone& zone,
                          const std::optional<date::year_month_day>& day) {
  return m.next_run ? "next run " + short_time(*m.next_run, zone, day) : std::string{};
}

/// One domain as a list item or a table row; `expected` adds the mark (table:
/// the Expected column, empty for a domain without one).
std::string domain_row(const std::string& name, const domain_state& d, config::canvas_layout layout,
                       const display_zone& zone, const std::optional<date::year_month_day>& day,
                       const domain_mark* mark = nullptr, bool expected_column = false) {
  std::string job = d.job_id && !d.job_id->empty() ? escape_text(*d.job_id, 64) : std::string{};
  std::string updated = d.updated ? short_time(*d.updated, zone, day) : std::string{};
  std::string running, took;
  if (d.status == job_status::loading && d.started)
    running = short_time(*d.started, zone, day);
  else if (d.duration_sec && d.status != job_status::blank)
    took = format_duration(*d.duration_sec);
  std::string message;
  if (d.status == job_status::warning && d.message)
    message = escape_text(*d.message, 200);
  std::string marked = mark != nullptr ? mark_text(*mark, zone, day) : std::string{};
  std::string next = mark != nullptr ? next_run_text(*mark, zone, day) : std::string{};
  if (layout == config::canvas_layout::table) {
    auto or_dash = [](const std::string& v) { return v.empty() ? std::string{dash} : v; };
    std::string duration = !running.empty() ? "running since " + running : or_dash(took);
    std::string expected;
    if (expected_column) {
      auto cell = marked;
      if (!next.empty())
        cell += (cell.empty() ? "" : " · ") + next;
      expected = " " + or_dash(cell) + " |";
    }
    return fmt::format("| {} | {} {} |{} {} | {} | {} | {} |\n", escape_text(name, 64),
                       status_icon(d.status), to_string(d.status), expected, or_dash(job),
                       or_dash(updated), duration, message);
  }
  std::string out = fmt::format("- {} **{}**: {}", status_icon(d.status), escape_text(name, 64),
                                to_string(d.status));
  if (!marked.empty())
    out += " · " + marked;
  if (!job.empty())
    out += " · job " + job;
  if (!updated.empty())
    out += " · updated " + updated;
  if (!running.empty())
    out += " · running since " + running;
  if (!took.empty())
    out += " · took " + took;
  if (!next.empty())
    out += " · " + next;
  if (!message.empty())
    out += " · " + message;
  return out + "\n";
}

} // namespace

rendered_canvas render_canvas(const status_snapshot& snap, const config::service_config& cfg,
                              std::string_view channel_id, const render_options& opts) {
  return render_canvas(snap, nullptr, cfg, channel_id, opts);
}

rendered_canvas render_canvas(const status_snapshot& snap, const domain_marks* marks,
                              const config::service_config& cfg, std::string_view channel_id,
                              const render_options& opts) {
  auto apps = channel_apps(cfg, channel_id);
  std::set<std::string> app_names;
  for (auto* app : apps)
    app_names.insert(app->name);
  bool table = opts.layout == config::canvas_layout::table;

  // The channel's own last update: changes to other channels' apps leave
  // this canvas byte-identical, so it is not re-sent.
  std::optional<time_point> last;
  for (auto* app : apps) {
    auto it = snap.apps.find(app->name);
    if (it == snap.apps.end())
      continue;
    for (const auto& [_, d] : it->second.domains)
      if (d.updated && (!last || *d.updated > *last))
        last = d.updated;
  }
  std::optional<date::year_month_day> ref_day;
  if (last)
    ref_day = to_local(*last, opts.zone).ymd;

  std::vector<canvas_part> parts;
  // -- header --
  {
    canvas_part p;
    p.anchor = "header";
    p.head = "# 📊 " + escape_text(opts.title, 80) + "\n";
    p.head += last ? "Last update: " + format_display_time(*last, opts.zone) + "\n\n"
                   : std::string{"No updates yet\n\n"};
    parts.push_back(std::move(p));
  }

  // -- one part per app --
  for (auto* app : apps) {
    canvas_part p;
    p.anchor = "app:" + app->name;
    p.head = "## " + app_title(*app) + "\n";
    p.empty_text = "No domains yet\n";
    p.tail = "\n";
    static const std::map<std::string, domain_mark> no_marks;
    const auto* app_marks = &no_marks;
    if (marks != nullptr)
      if (auto m = marks->find(app->name); m != marks->end())
        app_marks = &m->second;
    auto mark_of = [&](const std::string& domain) -> const domain_mark* {
      auto m = app_marks->find(domain);
      return m != app_marks->end() ? &m->second : nullptr;
    };
    bool expected_column = table && !app_marks->empty();
    if (table) {
      p.rows_head = expected_column
                      ? "| Domain | Status | Expected | Job | Updated | Duration | Message |\n"
                        "| --- | --- | --- | --- | --- | --- | --- |\n"
                      : "| Domain | Status | Job | Updated | Duration | Message |\n"
                        "| --- | --- | --- | --- | --- | --- |\n";
      // A line right under a table would be read as one more row.
      p.more_separator = "\n";
      p.more_format = "… {} more domains (canvas size limit)\n";
    } else {
      p.more_format = "- … {} more domains (canvas size limit)\n";
    }
    static const std::map<std::string, domain_state> no_domains;
    auto it = snap.apps.find(app->name);
    const auto& domains = it != snap.apps.end() ? it->second.domains : no_domains;
    for (const auto& name : app->domains) {
      auto d = domains.find(name);
      p.add_row(domain_row(name, d != domains.end() ? d->second : domain_state{}, opts.layout,
                           opts.zone, ref_day, mark_of(name), expected_column));
    }
    for (const auto& [name, d] : domains)
      if (std::find(app->domains.begin(), app->domains.end(), name) == app->domains.end())
        p.add_row(domain_row(name, d, opts.layout, opts.zone, ref_day, mark_of(name),
                             expected_column));
    parts.push_back(std::move(p));
  }

  // -- recent jobs that touched this channel's apps --
  {
    canvas_part p;
    p.anchor = "recent";
    p.head = "### Recent jobs\n";
    p.empty_text = "No recent jobs\n";
    p.more_format = "- … {} more (canvas size limit)\n";
    for (const auto& job : snap.recent_jobs) {
      if (p.rows.size() == opts.recent_jobs)
        break;
      std::vector<std::string> shown;
      for (const auto& a : job.apps)
        if (app_names.count(a) != 0) {
          auto* cfg_app = cfg.find_app(a);
          shown.push_back(cfg_app != nullptr ? app_title(*cfg_app) : escape_text(a, 80));
        }
      if (shown.empty())
        continue;
      std::string apps_text;
      for (const auto& a : shown)
        apps_text += (apps_text.empty() ? "" : ", ") + a;
      std::string when;
      if (job.started)
        when = short_time(*job.started, opts.zone, ref_day);
      if (job.completed)
        when += (when.empty() ? "" : " → ") + short_time(*job.completed, opts.zone, ref_day);
      p.add_row(fmt::format("- {} **{}** ({}): {}{}\n", status_icon(job.status),
                            escape_text(job.job_id, 64), apps_text, to_string(job.status),
                            when.empty() ? "" : ", " + when));
    }
    parts.push_back(std::move(p));
  }

  auto dropped = fit_to_size(parts, opts.max_bytes);
  rendered_canvas out;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    if (k + 1 == parts.size() && dropped > 0)
      out.sections.push_back({"more-apps", more_apps_line(dropped)});
    if (!parts[k].dropped)
      out.sections.push_back({parts[k].anchor, part_markdown(parts[k])});
  }
  return out;
}

} // namespace epmpulse::canvas
