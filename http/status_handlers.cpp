#include "http/status_handlers.hpp"

#include <nlohmann/json.hpp>

#include "actors/common/json_writer.hpp"
#include "http/edge.hpp"
#include "http/negotiation.hpp"
#include "http/status_request.hpp"

namespace epmpulse::http {

using nlohmann::json;

namespace {

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
  // The history records who pushed: the key's name, never the key.
  for (auto& u : updates)
    u.key_name = scope.key->name;
  // "canvas_updated" promises a Slack edit is on its way: not with Slack off.
  bool canvas_listens = static_cast<bool>(scope.services.canvas)
                        && !scope.services.config->settings.slack.bot_token.empty();
  scope.services.edge.ask<apply_result>(
    scope.out, scope.services.state,
    [out = scope.out, answer, canvas_listens](apply_result& result) {
      std::string body;
      body.reserve(256 * result.updates.size());
      json_writer writer{body};
      writer.begin_object().key("success").value(true);
      answer(writer, result.updates, result);
      writer.key("canvas_updated").value(canvas_listens && result.changed).end_object();
      out->send(200, std::move(body));
    },
    apply_atom_v, std::move(updates));
}

template <class Decoded>
bool reject_if_error(request_scope& scope, Decoded& decoded) {
  if (auto* err = std::get_if<api_error>(&decoded)) {
    scope.out->send_error(*err);
    return true;
  }
  return false;
}

void send_body(responder& out, const status_representation& body) {
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
  status_query query{app, accepts_gzip(scope.out->request())};
  scope.services.edge.ask_or<status_representation>(
    scope.out, scope.services.state,
    [out = scope.out](status_representation& body) { send_body(*out, body); },
    [app](responder& out, const caf::error& err) {
      auto failure = api_error_of(err);
      if (failure.code == ec::app_not_found)
        failure.details = {{"app", app}};
      out.send_error(failure);
    },
    get_atom_v, std::move(query));
}

} // namespace

void handle_post_status(request_scope& scope) {
  auto decoded = decode_status_body(scope.out->request().body(), *scope.services.config);
  if (reject_if_error(scope, decoded))
    return;
  apply_and_answer(scope, std::move(std::get<std::vector<status_update>>(decoded)),
                   [](json_writer& out, const std::vector<status_update>& updates,
                      const apply_result& reply) {
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
                      const apply_result& reply) {
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
