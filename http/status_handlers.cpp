#include "http/status_handlers.hpp"

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "http/status_request.hpp"

namespace epmpulse::http {

using nlohmann::json;

namespace {

const api_error state_write_failed{
  ec::state_error,
  "The change could not be written to the state file, so it is not confirmed. Retry; "
  "the service health shows the cause.",
  json::object()};

const char* reason_of(merge_outcome::kind k) {
  switch (k) {
    case merge_outcome::kind::applied: return nullptr;
    case merge_outcome::kind::unchanged: return "unchanged";
    case merge_outcome::kind::stale: return "stale";
  }
  return nullptr;
}

json optional_json(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

json outcome_json(const status_update& u, const merge_outcome& o) {
  const auto& d = o.after;
  json out = {{"app", u.app},
              {"domain", u.domain},
              {"status", to_string(d.status)},
              {"job_id", optional_json(d.job_id)},
              {"message", optional_json(d.message)},
              {"updated_at", d.updated ? json(format_time(*d.updated)) : json(nullptr)},
              {"duration_sec", d.duration_sec ? json(*d.duration_sec) : json(nullptr)},
              {"applied", o.result == merge_outcome::kind::applied}};
  if (auto reason = reason_of(o.result))
    out["reason"] = reason;
  if (o.clamped)
    out["timestamp_clamped"] = true;
  return out;
}

// Sends the updates to the state actor; `answer` builds the 200 body once
// the write that holds them is durable.
template <class Answer>
void apply_and_answer(request_scope& scope, std::vector<status_update> updates, Answer answer) {
  // "canvas_updated" promises a Slack edit is on its way: not with Slack off.
  bool canvas_listens = static_cast<bool>(scope.services.canvas)
                        && !scope.services.config->settings.slack.bot_token.empty();
  auto shared_updates = std::make_shared<const std::vector<status_update>>(updates);
  apply_callback done = [out = scope.out, shared_updates, answer, canvas_listens](apply_reply reply) {
    if (reply.error != ec::none) {
      out->send_error(state_write_failed);
      return;
    }
    out->send(200, answer(*shared_updates, reply, canvas_listens && reply.changed).dump());
  };
  caf::anon_send(scope.services.state, apply_atom_v, std::move(updates), std::move(done));
}

template <class Decoded>
bool reject_if_error(request_scope& scope, Decoded& decoded) {
  if (auto* err = std::get_if<api_error>(&decoded)) {
    scope.out->send_error(*err);
    return true;
  }
  return false;
}

void send_body(request_scope& scope, status_body body) {
  if (body.error != ec::none) {
    scope.out->send_error({body.error,
                           "Unknown app '" + scope.path_param + "'.",
                           {{"app", scope.path_param}}});
    return;
  }
  scope.out->send(200, *body.json);
}

} // namespace

void handle_post_status(request_scope& scope) {
  auto decoded = decode_status_body(scope.out->request().body(), *scope.services.config);
  if (reject_if_error(scope, decoded))
    return;
  apply_and_answer(scope, std::move(std::get<std::vector<status_update>>(decoded)),
                   [](const std::vector<status_update>& updates, const apply_reply& reply,
                      bool canvas_updated) {
                     return json{{"success", true},
                                 {"updated", outcome_json(updates[0], reply.outcomes[0])},
                                 {"canvas_updated", canvas_updated}};
                   });
}

void handle_post_batch(request_scope& scope) {
  auto decoded = decode_batch_body(scope.out->request().body(), *scope.services.config);
  if (reject_if_error(scope, decoded))
    return;
  apply_and_answer(scope, std::move(std::get<std::vector<status_update>>(decoded)),
                   [](const std::vector<status_update>& updates, const apply_reply& reply,
                      bool canvas_updated) {
                     json items = json::array();
                     std::size_t applied = 0;
                     for (std::size_t i = 0; i < updates.size(); ++i) {
                       items.push_back(outcome_json(updates[i], reply.outcomes[i]));
                       if (reply.outcomes[i].result == merge_outcome::kind::applied)
                         ++applied;
                     }
                     return json{{"success", true},
                                 {"updated_count", applied},
                                 {"received_count", updates.size()},
                                 {"updates", std::move(items)},
                                 {"canvas_updated", canvas_updated}};
                   });
}

void handle_get_status(request_scope& scope) {
  caf::anon_send(scope.services.state, get_atom_v, status_query{},
                 body_callback{[scope](status_body body) mutable { send_body(scope, std::move(body)); }});
}

void handle_get_app_status(request_scope& scope) {
  caf::anon_send(scope.services.state, get_atom_v, status_query{scope.path_param},
                 body_callback{[scope](status_body body) mutable { send_body(scope, std::move(body)); }});
}

} // namespace epmpulse::http
