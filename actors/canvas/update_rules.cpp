#include "actors/canvas/update_rules.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/common/errors.hpp"

namespace epmpulse::canvas {

using slack::api_result;

// -- what to send ----------------------------------------------------------------

send_plan plan_send(const std::optional<rendered_canvas>& sent, const rendered_canvas& fresh,
                    bool has_canvas_id, bool force) {
  if (!force && sent && *sent == fresh)
    return send_plan::unchanged;
  return has_canvas_id ? send_plan::full : send_plan::create;
}

// -- what Slack's answers mean ---------------------------------------------------

attempt_outcome outcome_of(const api_result& r) {
  attempt_outcome o;
  o.error = r.error;
  switch (r.outcome) {
    case api_result::kind::ok: o.result = attempt_outcome::kind::sent; break;
    case api_result::kind::rate_limited:
      o.result = attempt_outcome::kind::rate_limited;
      o.retry_after_sec = r.retry_after_sec;
      break;
    case api_result::kind::refused: o.result = attempt_outcome::kind::refused; break;
    case api_result::kind::unreachable:
    case api_result::kind::server_error: o.result = attempt_outcome::kind::failed; break;
  }
  return o;
}

created_canvas read_create_answer(const api_result& r) {
  created_canvas out;
  if (!r.ok()) {
    out.failure = outcome_of(r);
    return out;
  }
  out.canvas_id = slack::created_canvas_id(r.body);
  if (out.canvas_id.empty())
    out.failure = {attempt_outcome::kind::refused, "bad_response", 0};
  return out;
}

// -- retries ----------------------------------------------------------------------

retry_plan plan_retry(int attempts, int max_retries, std::chrono::milliseconds backoff_base,
                      std::chrono::milliseconds periodic) {
  retry_plan plan;
  if (attempts <= max_retries) {
    // The shift is capped so a large max_retries cannot overflow it.
    plan.delay = backoff_base * (1 << std::clamp(attempts - 1, 0, 16));
  } else {
    plan.delay = periodic;
    plan.backoff_used_up = true;
  }
  return plan;
}

// -- the canvas ids file ------------------------------------------------------------

caf::expected<std::map<std::string, std::string>> parse_canvas_ids(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("canvases") ||
      !doc["canvases"].is_object())
    return caf::make_error(ec::invalid_request,
                           std::string{"not a {\"canvases\": {channel: canvas_id}} document"});
  std::map<std::string, std::string> ids;
  for (const auto& [channel, id] : doc["canvases"].items())
    if (id.is_string())
      ids[channel] = id.get<std::string>();
  return ids;
}

std::string canvas_ids_text(const std::map<std::string, std::string>& ids) {
  return nlohmann::json{{"canvases", ids}}.dump(2) + "\n";
}

std::map<std::string, std::string> ids_to_keep(const config::service_config& cfg,
                                               const std::map<std::string, std::string>& current) {
  std::map<std::string, std::string> keep;
  for (const auto& [channel, id] : current) {
    const auto* configured = cfg.find_channel(channel);
    if (!id.empty() && configured != nullptr && configured->canvas_id.empty())
      keep[channel] = id;
  }
  return keep;
}

} // namespace epmpulse::canvas
