#include "actors/pull/epm_status.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/common/percent_encoding.hpp"

namespace epmpulse {

namespace {

using nlohmann::json;

// -- reading the document -------------------------------------------------------

/// A status value as a number: JSON integers, and strings holding one ("0",
/// "-1": Data Integration sends its codes as strings).
std::optional<long long> as_code(const json& v) {
  if (v.is_number_integer())
    return v.get<long long>();
  if (v.is_number_float()) {
    auto d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e18)
      return static_cast<long long>(d);
    return std::nullopt;
  }
  if (!v.is_string())
    return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 19)
    return std::nullopt;
  std::size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size())
    return std::nullopt;
  long long out = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9')
      return std::nullopt;
    out = out * 10 + (s[i] - '0');
  }
  return s[0] == '-' ? -out : out;
}

/// A text field, "" when absent, null, or the literal "null" EPM sometimes sends.
std::string text_field(const json& doc, const char* key) {
  auto i = doc.find(key);
  if (i == doc.end() || i->is_null())
    return {};
  if (i->is_string()) {
    const auto& s = i->get_ref<const std::string&>();
    return s == "null" ? std::string{} : s;
  }
  if (i->is_array() || i->is_object())
    return i->empty() ? std::string{} : i->dump(-1, ' ', false, json::error_handler_t::replace);
  return i->dump();
}

/// "IN PROGRESS", "in_progress", "In-Progress" → "INPROGRESS".
std::string normalise_word(std::string_view s) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)))
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

std::optional<epm_job_phase> phase_of_word(std::string_view word) {
  auto w = normalise_word(word);
  static constexpr std::string_view running[] = {
    "RUNNING", "INPROGRESS", "PROCESSING", "QUEUED", "SUBMITTED", "PENDING",
    "CANCELPENDING", "NOTSTARTED", "STARTED", "ACCEPTED", "WAITING", "SCHEDULED"};
  static constexpr std::string_view succeeded[] = {
    "SUCCESS", "SUCCEEDED", "SUCCESSFUL", "COMPLETED", "COMPLETE", "DONE", "OK", "FINISHED"};
  static constexpr std::string_view failed[] = {
    "FAILED", "FAILURE", "ERROR", "ERRORED", "CANCELLED", "CANCELED", "INVALID",
    "INVALIDPARAMETER", "ABORTED", "KILLED", "TERMINATED", "COMPLETEDWITHERRORS",
    "WARNING"};
  auto in = [&](const auto& list) { return std::find(std::begin(list), std::end(list), w) != std::end(list); };
  if (in(running)) return epm_job_phase::running;
  if (in(succeeded)) return epm_job_phase::succeeded;
  if (in(failed)) return epm_job_phase::failed;
  return std::nullopt;
}

epm_job_phase phase_of_code(config::epm_server_kind kind, long long code) {
  if (code == 0)
    return epm_job_phase::succeeded;
  if (code < 0)
    return epm_job_phase::running; // -1 in progress; other negatives are not EPM's
  if (kind == config::epm_server_kind::arcs || kind == config::epm_server_kind::arcs_tm)
    return epm_job_phase::failed; // ARCS's Migration Status Codes: any positive code failed
  // Planning REST codes (Data Integration and EDM use the same):
  // 2 = cancel pending (still running), INT_MAX = unknown (keep watching; the
  // timeout settles it), 1 error / 3 cancelled / 4 invalid parameter / others failed.
  if (code == 2 || code == INT_MAX)
    return epm_job_phase::running;
  return epm_job_phase::failed;
}

std::string default_failure_text(std::optional<long long> code) {
  if (!code)
    return "Failed";
  switch (*code) {
    case 1: return "Error";
    case 3: return "Cancelled";
    case 4: return "Invalid parameter";
    default: return fmt::format("Failed (EPM status {})", *code);
  }
}

// -- UTF-8 --------------------------------------------------------------------------

/// Decodes one code point at `i`; returns its length, 0 when the bytes are not
/// valid UTF-8.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > s.size())
    return 0;
  for (std::size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80)
      return 0;
  if (len == 2 && b < 0xc2)
    return 0; // overlong
  return len;
}

} // namespace

// -- URLs -----------------------------------------------------------------------------

const char* kind_name(config::epm_server_kind kind) {
  switch (kind) {
    case config::epm_server_kind::planning: return "planning";
    case config::epm_server_kind::arcs: return "arcs";
    case config::epm_server_kind::data_integration: return "data_integration";
    case config::epm_server_kind::edm: return "edm";
    case config::epm_server_kind::arcs_tm: return "arcs_tm";
  }
  return "planning";
}

std::string encode_path_segment(std::string_view text) {
  return percent_encode(text);
}

namespace {

std::string_view base_of(const config::epm_server& server) {
  std::string_view base = server.base_url;
  while (!base.empty() && base.back() == '/')
    base.remove_suffix(1);
  return base;
}

} // namespace

std::string job_status_url(const config::epm_server& server, std::string_view job_id) {
  auto base = base_of(server);
  auto id = encode_path_segment(job_id);
  switch (server.kind) {
    case config::epm_server_kind::planning:
      return fmt::format("{}/HyperionPlanning/rest/v3/applications/{}/jobs/{}", base,
                         encode_path_segment(server.application), id);
    case config::epm_server_kind::arcs:
      return fmt::format("{}/armARCS/rest/v1/jobs/{}", base, id);
    case config::epm_server_kind::data_integration:
      return fmt::format("{}/aif/rest/V1/jobs/{}", base, id);
    case config::epm_server_kind::edm:
      return fmt::format("{}/epm/rest/v1/jobRuns/{}", base, id);
    case config::epm_server_kind::arcs_tm:
      return fmt::format("{}/arm/rest/v1/jobs/{}", base, id);
  }
  return {};
}

std::string job_result_url(const config::epm_server& server, std::string_view job_id) {
  if (server.kind != config::epm_server_kind::edm)
    return {};
  return job_status_url(server, job_id) + "/result";
}

// -- mapping -----------------------------------------------------------------------

std::optional<epm_job_result> map_job_response(config::epm_server_kind kind, const json& doc,
                                               std::string& error) {
  if (!doc.is_object()) {
    error = "job status is not a JSON object";
    return std::nullopt;
  }
  epm_job_result r;
  std::optional<epm_job_phase> phase;
  auto status_it = doc.find("status");
  if (status_it != doc.end() && !status_it->is_null()) {
    r.code = as_code(*status_it);
    if (r.code)
      phase = phase_of_code(kind, *r.code);
    else if (status_it->is_string())
      phase = phase_of_word(status_it->get_ref<const std::string&>());
  }
  // Data Integration's textual jobStatus, when status itself says nothing.
  if (!phase) {
    auto word = text_field(doc, "jobStatus");
    if (!word.empty())
      phase = phase_of_word(word);
  }
  if (!phase) {
    error = status_it == doc.end() ? "job status has no \"status\" field"
                                   : "job status has an unrecognised \"status\" value";
    return std::nullopt;
  }
  auto details = text_field(doc, "details");
  auto descriptive = text_field(doc, "descriptiveStatus");
  auto err_text = text_field(doc, "error"); // EDM's JobRun
  if (*phase == epm_job_phase::succeeded && !r.code && !err_text.empty())
    phase = epm_job_phase::failed; // "COMPLETED" with an error attached
  r.phase = *phase;
  switch (r.phase) {
    case epm_job_phase::running:
      r.status = job_status::loading;
      r.message = clean_message(details.empty() ? descriptive : details);
      break;
    case epm_job_phase::succeeded:
      r.status = job_status::ok;
      r.message = clean_message(!details.empty() ? details
                                : !descriptive.empty() ? descriptive
                                                       : std::string{"Completed"});
      break;
    case epm_job_phase::failed: {
      r.status = job_status::warning;
      std::string text = !details.empty()     ? details
                         : !err_text.empty()  ? err_text
                         : !descriptive.empty() ? descriptive
                                                : std::string{};
      if (text.empty()) {
        auto word = text_field(doc, "jobStatus");
        text = !word.empty() ? word : default_failure_text(r.code);
      }
      r.message = clean_message(text);
      break;
    }
  }
  // EDM's lastModified is the completion time: epoch milliseconds in the
  // schema, an RFC 3339 string in Oracle's example result.
  if (r.phase != epm_job_phase::running) {
    auto lm = doc.find("lastModified");
    if (lm != doc.end() && lm->is_number_integer() && lm->get<long long>() > 0)
      r.event_time = time_point{std::chrono::milliseconds{lm->get<long long>()}};
    else if (lm != doc.end() && lm->is_string())
      r.event_time = parse_time(lm->get_ref<const std::string&>());
  }
  return r;
}

bool needs_result_check(config::epm_server_kind kind, const epm_job_result& result) {
  return kind == config::epm_server_kind::edm && result.phase == epm_job_phase::succeeded;
}

namespace {

/// The messages of an EDM result's failed tasks ("ERROR", "FAILED", …), in
/// order, joined with "; ".
std::string failed_task_messages(const json& result) {
  std::string out;
  auto tasks = result.find("tasks");
  if (tasks == result.end() || !tasks->is_array())
    return out;
  for (const auto& task : *tasks) {
    if (!task.is_object())
      continue;
    auto phase = phase_of_word(text_field(task, "status"));
    if (phase != epm_job_phase::failed)
      continue;
    auto messages = task.find("messages");
    std::string text;
    if (messages != task.end() && messages->is_array()) {
      for (const auto& m : *messages)
        if (m.is_string() && !m.get_ref<const std::string&>().empty())
          text += (text.empty() ? "" : " ") + m.get<std::string>();
    } else {
      text = text_field(task, "messages");
    }
    if (text.empty())
      text = text_field(task, "taskName") + " failed";
    out += (out.empty() ? "" : "; ") + text;
  }
  return out;
}

} // namespace

std::optional<epm_job_result> map_edm_result_body(std::string_view body, std::string& error) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "job run result is not a JSON object";
    return std::nullopt;
  }
  auto r = map_job_response(config::epm_server_kind::edm, doc, error);
  if (!r)
    return std::nullopt;
  auto result = doc.find("result");
  if (r->phase != epm_job_phase::succeeded || result == doc.end() || !result->is_object())
    return r;
  auto success = result->find("success");
  if (success == result->end() || !success->is_boolean() || success->get<bool>())
    return r;
  // COMPLETED, yet the run's own result says it failed.
  auto text = failed_task_messages(*result);
  if (text.empty())
    text = text_field(*result, "messages");
  if (text.empty())
    text = text_field(doc, "error");
  if (text.empty())
    text = "the job run completed but its result reports a failure";
  r->phase = epm_job_phase::failed;
  r->status = job_status::warning;
  r->message = clean_message("Failed: " + text);
  return r;
}

std::optional<epm_job_result> map_job_body(config::epm_server_kind kind, std::string_view body,
                                           std::string& error) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) {
    error = "job status is not valid JSON";
    return std::nullopt;
  }
  return map_job_response(kind, doc, error);
}

// -- messages ------------------------------------------------------------------------

std::string clean_message(std::string_view text, std::size_t max_chars) {
  // Pass 1: valid code points, control characters and whitespace runs as one space.
  std::vector<std::string_view> points;
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size();) {
    auto len = utf8_sequence_length(text, i);
    std::string_view cp = len == 0 ? replacement : text.substr(i, len);
    i += len == 0 ? 1 : len;
    auto c = static_cast<unsigned char>(cp[0]);
    if (cp.size() == 1 && (c <= 0x20 || c == 0x7f)) {
      pending_space = !points.empty();
      continue;
    }
    if (pending_space)
      points.emplace_back(" ");
    pending_space = false;
    points.push_back(cp);
  }
  std::string out;
  if (points.size() <= max_chars) {
    for (auto p : points)
      out.append(p);
    return out;
  }
  // Pass 2: cut, leaving room for the ellipsis.
  std::size_t keep = max_chars == 0 ? 0 : max_chars - 1;
  while (keep > 0 && points[keep - 1] == " ")
    --keep;
  for (std::size_t i = 0; i < keep; ++i)
    out.append(points[i]);
  if (max_chars > 0)
    out.append("\xE2\x80\xA6");
  return out;
}

std::string timeout_message(double max_poll_duration_minutes) {
  return fmt::format("Timed out: no completion after {:g} min", max_poll_duration_minutes);
}

std::string timeout_message(double max_poll_duration_minutes, std::string_view last_state) {
  auto base = timeout_message(max_poll_duration_minutes);
  if (last_state.empty())
    return base;
  return clean_message(fmt::format("{}; {}", base, last_state));
}

const char* required_role(config::epm_server_kind kind) {
  switch (kind) {
    case config::epm_server_kind::planning: return "the Service Administrator role";
    case config::epm_server_kind::arcs:
      return "the Service Administrator, Power User, User or Viewer role";
    case config::epm_server_kind::arcs_tm:
      return "the Service Administrator or Power User role, or the Jobs - View application role";
    case config::epm_server_kind::data_integration:
      return "the Service Administrator or Power User role";
    case config::epm_server_kind::edm:
      return "a role that may run the job in Enterprise Data Management";
  }
  return "the Service Administrator role";
}

std::string forbidden_message(const config::epm_server& server) {
  return fmt::format("EPM refused the job status (HTTP 403 Forbidden): give the EPM user of "
                     "epm.auth {} on {}",
                     required_role(server.kind), server.name.empty() ? server.id : server.name);
}

std::string not_found_message(const config::epm_server& server) {
  return fmt::format("Job not found on {}", server.name.empty() ? server.id : server.name);
}

std::string daily_maintenance_url(const config::epm_server& server) {
  return fmt::format("{}/interop/rest/v2/maintenance/getdailymaintenancestarttime",
                     base_of(server));
}

std::optional<time_of_day> parse_daily_maintenance(std::string_view body, std::string& error) {
  auto doc = json::parse(body, nullptr, false);
  if (!doc.is_object()) {
    error = "the answer is not a JSON object";
    return std::nullopt;
  }
  auto status = doc.find("status");
  auto code = status == doc.end() ? std::nullopt : as_code(*status);
  if (!code) {
    error = "the answer has no numeric \"status\"";
    return std::nullopt;
  }
  if (*code != 0) {
    auto details = doc.find("details");
    error = fmt::format("EPM answered status {}{}", *code,
                        details != doc.end() && details->is_string()
                          ? ": " + clean_message(details->get<std::string>(), 200)
                          : std::string{});
    return std::nullopt;
  }
  // v2 puts the fields in the first item; accept them at the top too.
  const json* fields = &doc;
  if (auto items = doc.find("items"); items != doc.end() && items->is_array() && !items->empty()
                                      && items->front().is_object())
    fields = &items->front();
  auto amw = fields->find("amwTime");
  if (amw == fields->end() || !amw->is_string()) {
    error = "the answer has no \"amwTime\"";
    return std::nullopt;
  }
  auto text = amw->get<std::string>();
  time_of_day out;
  if (auto minute = parse_hh_mm(text)) {
    out.minute = *minute;
  } else if (!text.empty() && text.size() <= 2
             && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })
             && std::stoi(text) < 24) {
    out.minute = std::stoi(text) * 60; // v1: the hour only
  } else {
    error = "\"amwTime\" is not a time of day: " + clean_message(text, 40);
    return std::nullopt;
  }
  if (auto zone = fields->find("timeZone"); zone != fields->end() && zone->is_string()
                                            && !zone->get<std::string>().empty()) {
    out.time_zone = zone->get<std::string>();
    if (!is_known_time_zone(out.time_zone)) {
      error = "\"timeZone\" is not a zone of the tz database: " + clean_message(out.time_zone, 60);
      return std::nullopt;
    }
  }
  return out;
}

std::string maintenance_forbidden_message(const config::epm_server& server) {
  return fmt::format("EPM refused the daily maintenance time (HTTP 403 Forbidden): give the EPM "
                     "user of epm.auth the Service Administrator role, or a predefined role and "
                     "the Migrations - Administer application role, on {}",
                     server.name.empty() ? server.id : server.name);
}

std::chrono::milliseconds backoff_delay(std::chrono::milliseconds initial, unsigned failures,
                                        std::chrono::milliseconds cap) {
  auto d = initial;
  for (unsigned i = 0; i < failures && d < cap; ++i)
    d *= 2;
  return std::min(d, cap);
}

std::chrono::milliseconds seconds_to_ms(double seconds) {
  if (!(seconds > 0))
    return std::chrono::milliseconds{1};
  auto ms = static_cast<long long>(std::llround(seconds * 1000.0));
  return std::chrono::milliseconds{std::max(1LL, ms)};
}

} // namespace epmpulse
