#include "http/history_handlers.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <initializer_list>

#include <caf/send.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/common/json_writer.hpp"
#include "actors/history/history_json.hpp"
#include "http/edge.hpp"
#include "http/event_stream.hpp"

namespace epmpulse::http {

namespace {

constexpr std::size_t max_text_parameter = 200;
constexpr std::size_t max_limit = 1000;
constexpr std::size_t default_limit = 100;
constexpr int max_days = 365;
constexpr int default_days = 30;

api_error bad_parameter(std::string_view name, std::string message) {
  return {ec::validation_error, std::move(message), {{"parameter", std::string(name)}}};
}

// A request's query parameters, checked one by one; the first problem is
// kept and answered, and everything after it is skipped.
class parameters {
public:
  parameters(const restinio::request_t& req, std::initializer_list<std::string_view> known) {
    if (req.header().query().empty())
      return;
    auto parsed = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(
      req.header().query());
    if (!parsed) {
      error_ = bad_parameter("query", "The query string is malformed (check its %-encoding).");
      return;
    }
    params_ = std::move(*parsed);
    for (const auto& [name, value] : *params_) {
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (auto k : known)
          list += (list.empty() ? "" : ", ") + std::string(k);
        error_ = bad_parameter(name, "Unknown parameter '" + std::string(name)
                                       + "'; this endpoint takes " + list + ".");
        return;
      }
    }
  }

  bool failed() const { return error_.has_value(); }
  const api_error& error() const { return *error_; }

  std::optional<std::string_view> raw(std::string_view name) const {
    if (failed() || !params_)
      return std::nullopt;
    auto v = params_->get_param(name);
    if (!v)
      return std::nullopt;
    return std::string_view{v->data(), v->size()};
  }

  /// A name or id: 1..200 characters, no control characters.
  std::optional<std::string> text(std::string_view name) {
    auto v = raw(name);
    if (!v)
      return std::nullopt;
    bool clean = std::none_of(v->begin(), v->end(),
                              [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
    if (v->empty() || v->size() > max_text_parameter || !clean) {
      fail(name, "'" + std::string(name) + "' must have 1 to "
                   + std::to_string(max_text_parameter) + " characters and no control characters.");
      return std::nullopt;
    }
    return std::string(*v);
  }

  std::optional<time_point> time(std::string_view name) {
    auto v = raw(name);
    if (!v)
      return std::nullopt;
    auto t = parse_time(*v);
    if (!t)
      fail(name, "'" + std::string(name)
                   + "' must be an RFC 3339 time such as 2026-12-02T10:00:00Z.");
    return t;
  }

  std::optional<std::int64_t> whole(std::string_view name, std::int64_t min, std::int64_t max) {
    auto v = raw(name);
    if (!v)
      return std::nullopt;
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || end != v->data() + v->size() || n < min || n > max) {
      fail(name, "'" + std::string(name) + "' must be a whole number from " + std::to_string(min)
                   + " to " + std::to_string(max) + ".");
      return std::nullopt;
    }
    return n;
  }

  void fail(std::string_view name, std::string message) {
    if (!error_)
      error_ = bad_parameter(name, std::move(message));
  }

private:
  std::optional<restinio::query_string_params_t> params_;
  std::optional<api_error> error_;
};

// A cursor is opaque to clients; inside it is "h" and the hex id to continue
// below. Anything else is refused rather than guessed at.
std::string encode_cursor(std::uint64_t id) {
  return fmt::format("h{:x}", id);
}

std::optional<std::uint64_t> decode_cursor(std::string_view text) {
  if (text.size() < 2 || text.size() > 17 || text[0] != 'h')
    return std::nullopt;
  auto digits = text.substr(1);
  if (!std::all_of(digits.begin(), digits.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return std::nullopt;
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id, 16);
  if (ec != std::errc{} || end != digits.data() + digits.size() || id == 0)
    return std::nullopt;
  return id;
}

std::optional<std::uint64_t> decode_event_id(std::string_view text) {
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return id;
}

nlohmann::json seconds_value(const std::optional<double>& v) {
  if (!v)
    return nullptr;
  if (*v == static_cast<double>(static_cast<std::int64_t>(*v)))
    return static_cast<std::int64_t>(*v);
  return *v;
}

// The time window and the page of both histories' queries: since, until,
// limit and the cursor, the same rules and messages for both.
template <class Query>
void read_page_window(parameters& p, Query& q) {
  q.since = p.time("since");
  q.until = p.time("until");
  if (q.since && q.until && *q.until < *q.since)
    p.fail("until", "'until' must not be before 'since'.");
  q.limit = static_cast<std::size_t>(
    p.whole("limit", 1, max_limit).value_or(static_cast<std::int64_t>(default_limit)));
  if (auto cursor = p.raw("cursor")) {
    q.before_id = decode_cursor(*cursor);
    if (!q.before_id)
      p.fail("cursor", "'cursor' is not one this service gave out; start again without it.");
  }
}

bool history_available(request_scope& scope) {
  if (scope.services.history)
    return true;
  scope.out->send_error({ec::unavailable, "The history is not running.", {}});
  return false;
}

} // namespace

void handle_get_history(request_scope& scope) {
  parameters p{scope.out->request(),
               {"app", "domain", "job_id", "status", "since", "until", "limit", "cursor"}};
  history_query q;
  q.app = p.text("app");
  q.domain = p.text("domain");
  q.job_id = p.text("job_id");
  if (auto status = p.raw("status")) {
    q.status = parse_status(*status);
    if (!q.status)
      p.fail("status", "'status' must be one of Blank, Loading, OK, Warning.");
  }
  read_page_window(p, q);
  if (p.failed())
    return scope.out->send_error(p.error());
  if (!history_available(scope))
    return;
  scope.services.edge.ask<history_page>(
    scope.out, scope.services.history,
    [out = scope.out](history_page& page) {
      std::string body;
      body.reserve(64 + 320 * page.entries.size());
      json_writer w{body};
      w.begin_object().key("entries").begin_array();
      for (const auto& c : page.entries)
        write_history_entry(w, c);
      w.end_array().key("next_cursor");
      if (page.next)
        w.value(encode_cursor(*page.next));
      else
        w.null();
      w.end_object();
      out->send(200, std::move(body));
    },
    query_atom_v, std::move(q));
}

void handle_get_stats(request_scope& scope) {
  parameters p{scope.out->request(), {"app", "domain", "days"}};
  stats_query q;
  q.app = p.text("app");
  q.domain = p.text("domain");
  q.days = static_cast<int>(p.whole("days", 1, max_days).value_or(default_days));
  q.now = now_ms();
  if (p.failed())
    return scope.out->send_error(p.error());
  if (!history_available(scope))
    return;
  scope.services.edge.ask<stats_result>(
    scope.out, scope.services.history,
    [out = scope.out](stats_result& result) {
      auto domains = nlohmann::json::array();
      for (const auto& d : result.domains) {
        auto trend = nlohmann::json::array();
        for (const auto& day : d.trend)
          trend.push_back({{"day", day.day},
                           {"runs", day.runs},
                           {"median_duration_sec", seconds_value(day.median_duration_sec)}});
        domains.push_back({{"app", d.app},
                           {"domain", d.domain},
                           {"runs", d.runs},
                           {"successes", d.successes},
                           {"warnings", d.warnings},
                           {"median_duration_sec", seconds_value(d.median_duration_sec)},
                           {"p95_duration_sec", seconds_value(d.p95_duration_sec)},
                           {"last_run", d.last_run ? nlohmann::json(format_time(*d.last_run))
                                                   : nlohmann::json(nullptr)},
                           {"trend", std::move(trend)}});
      }
      nlohmann::json body = {{"days", result.days}, {"domains", std::move(domains)}};
      out->send(200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    },
    stats_atom_v, std::move(q));
}

void handle_get_alert_history(request_scope& scope) {
  parameters p{scope.out->request(), {"app", "domain", "alert_id", "event", "target", "since",
                                      "until", "limit", "cursor"}};
  alert_history_query q;
  q.app = p.text("app");
  q.domain = p.text("domain");
  q.alert_id = p.text("alert_id");
  static constexpr std::array<std::string_view, 9> events{
    "opened", "changed", "reminded", "acknowledged", "recovered", "sent", "retried", "failed",
    "expectation"};
  if (auto event = p.raw("event")) {
    if (std::find(events.begin(), events.end(), *event) == events.end())
      p.fail("event", "'event' must be one of opened, changed, reminded, acknowledged, "
                      "recovered, sent, retried, failed, expectation.");
    else
      q.event = std::string{*event};
  }
  if (auto target = p.raw("target")) {
    if (*target != "slack" && *target != "webhook")
      p.fail("target", "'target' must be slack or webhook.");
    else
      q.target = std::string{*target};
  }
  read_page_window(p, q);
  if (p.failed())
    return scope.out->send_error(p.error());
  if (!history_available(scope))
    return;
  scope.services.edge.ask<alert_history_page>(
    scope.out, scope.services.history,
    [out = scope.out](alert_history_page& page) {
      auto entries = nlohmann::json::array();
      auto optional = [](const std::optional<std::string>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
      };
      for (const auto& e : page.entries)
        entries.push_back({{"id", std::to_string(e.id)},
                           {"time", format_time(e.at)},
                           {"alert_id", e.alert_id},
                           {"app", e.app},
                           {"domain", e.domain},
                           {"kind", e.kind},
                           {"event", e.event},
                           {"target", optional(e.target)},
                           {"channel", optional(e.channel)},
                           {"message", optional(e.message)},
                           {"detail", e.detail}});
      nlohmann::json body = {{"entries", std::move(entries)},
                             {"next_cursor", page.next ? nlohmann::json(encode_cursor(*page.next))
                                                       : nlohmann::json(nullptr)}};
      out->send(200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    },
    alert_atom_v, std::move(q));
}

void handle_get_events(request_scope& scope) {
  parameters p{scope.out->request(), {"last_event_id"}};
  std::optional<std::uint64_t> last_id;
  // EventSource sends the header on its own when it reconnects; the
  // parameter lets a page resume on its first connection.
  auto header = scope.out->request().header().opt_value_of("Last-Event-ID");
  std::string_view given_name = header ? "Last-Event-ID" : "last_event_id";
  auto given = header ? std::optional<std::string_view>{std::string_view{header->data(), header->size()}}
                      : p.raw("last_event_id");
  if (given) {
    last_id = decode_event_id(*given);
    if (!last_id)
      p.fail(given_name, "'" + std::string(given_name) + "' must be a change id (a whole number).");
  }
  if (p.failed())
    return scope.out->send_error(p.error());
  if (!scope.services.events) {
    scope.out->send_error({ec::unavailable, "The live stream is not running.", {}});
    return;
  }
  auto req = scope.out->take_over(200);
  if (!req)
    return;
  auto stream = event_stream::open(
    req, scope.out->request_id(),
    static_cast<std::size_t>(scope.services.config->settings.history.stream_buffer_bytes));
  caf::anon_send(scope.services.events, attach_atom_v, stream_request{std::move(stream), last_id});
}

} // namespace epmpulse::http
