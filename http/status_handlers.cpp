#include "http/status_handlers.hpp"

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/common/json_writer.hpp"
#include "http/negotiation.hpp"
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

// The answer for one update, in the order of the API documentation.
void write_outcome(json_writer& out, const status_update& u, const merge_outcome& o) {
  const auto& d = o.after;
  out.begin_object()
    .key("app").value(u.app)
    .key("domain").value(u.domain)
    .key("status").value(to_string(d.status))
    .key("job_id").value(d.job_id)
    .key("message").value(d.message)
    .key("updated_at").value(format_time(d.updated))
    .key("duration_sec").value(d.duration_sec);
  out.key("applied").value(o.result == merge_outcome::kind::applied);
  if (auto reason = reason_of(o.result))
    out.key("reason").value(reason);
  if (o.clamped)
    out.key("timestamp_clamped").value(true);
  out.end_object();
}

// Sends the updates to the state actor; once the write that holds them is
// durable, `answer` writes the members of the 200 body between "success" and
// "canvas_updated".
template <class Answer>
void apply_and_answer(request_scope& scope, std::vector<status_update> updates, Answer answer) {
  // "canvas_updated" promises a Slack edit is on its way: not with Slack off.
  bool canvas_listens = static_cast<bool>(scope.services.canvas)
                        && !scope.services.config->settings.slack.bot_token.empty();
  apply_callback done = [out = scope.out, answer, canvas_listens](apply_reply reply) {
    if (reply.error != ec::none) {
      out->send_error(state_write_failed);
      return;
    }
    std::string body;
    body.reserve(256 * reply.updates.size());
    json_writer writer{body};
    writer.begin_object().key("success").value(true);
    answer(writer, reply.updates, reply);
    writer.key("canvas_updated").value(canvas_listens && reply.changed).end_object();
    out->send(200, std::move(body));
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

void send_body(request_scope& scope, status_body answer) {
  if (answer.error != ec::none) {
    scope.out->send_error({answer.error,
                           "Unknown app '" + scope.path_param + "'.",
                           {{"app", scope.path_param}}});
    return;
  }
  auto& out = *scope.out;
  const status_representation& body = answer.body;
  // Caches and browsers may keep the body but must ask again before using it.
  out.add_header("ETag", body.etag);
  out.add_header("Cache-Control", "no-cache");
  out.add_header("Vary", "Accept-Encoding");
  auto if_none_match = out.request().header().opt_value_of(restinio::http_field::if_none_match);
  if (if_none_match && etag_matches(*if_none_match, body.etag)) {
    out.send_not_modified(body.bytes->size());
    return;
  }
  if (body.gzip)
    out.add_header("Content-Encoding", "gzip");
  out.send(200, body.bytes);
}

void get_status(request_scope& scope, std::string app) {
  status_query query{std::move(app), accepts_gzip(scope.out->request())};
  caf::anon_send(scope.services.state, get_atom_v, std::move(query),
                 body_callback{[scope](status_body answer) mutable {
                   send_body(scope, std::move(answer));
                 }});
}

} // namespace

void handle_post_status(request_scope& scope) {
  auto decoded = decode_status_body(scope.out->request().body(), *scope.services.config);
  if (reject_if_error(scope, decoded))
    return;
  apply_and_answer(scope, std::move(std::get<std::vector<status_update>>(decoded)),
                   [](json_writer& out, const std::vector<status_update>& updates,
                      const apply_reply& reply) {
                     out.key("updated");
                     write_outcome(out, updates[0], reply.outcomes[0]);
                   });
}

void handle_post_batch(request_scope& scope) {
  auto decoded = decode_batch_body(scope.out->request().body(), *scope.services.config);
  if (reject_if_error(scope, decoded))
    return;
  apply_and_answer(scope, std::move(std::get<std::vector<status_update>>(decoded)),
                   [](json_writer& out, const std::vector<status_update>& updates,
                      const apply_reply& reply) {
                     std::uint64_t applied = 0;
                     for (const auto& outcome : reply.outcomes)
                       if (outcome.result == merge_outcome::kind::applied)
                         ++applied;
                     out.key("updated_count").value(applied);
                     out.key("received_count").value(std::uint64_t{updates.size()});
                     out.key("updates").begin_array();
                     for (std::size_t i = 0; i < updates.size(); ++i)
                       write_outcome(out, updates[i], reply.outcomes[i]);
                     out.end_array();
                   });
}

void handle_get_status(request_scope& scope) {
  get_status(scope, {});
}

void handle_get_app_status(request_scope& scope) {
  get_status(scope, scope.path_param);
}

} // namespace epmpulse::http
