#pragma once

// The canvas actor's steps shared by its two source files: canvas.cpp (the
// behaviour, scheduling, rendering and sending) and canvas_token.cpp (the
// token check with auth.test, and finding a channel's existing canvas).
// Internal to the canvas actor: nothing outside actors/canvas includes it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "actors/canvas/canvas.hpp"
#include "actors/canvas/update_rules.hpp"

namespace epmpulse::canvas_steps {

using canvas_pointer = canvas_actor::stateful_pointer<canvas_state>;

std::chrono::milliseconds canvas_millis(double seconds);

// -- canvas.cpp ----------------------------------------------------------------------

/// Sends `req` and hands the classified answer to `k`.
void call_slack(canvas_pointer self, http_request req, std::function<void(slack::api_result)> k);
/// A render attempt of canvas `i` ended with `o`.
void finish_attempt(canvas_pointer self, std::size_t i, canvas::attempt_outcome o);
/// Gives sync `id` the result of canvas `i`.
void report_sync(canvas_pointer self, std::uint64_t id, std::size_t i,
                 const canvas::attempt_outcome& o);
/// Starts a render of canvas `i` when it is due (or arms its timer).
void schedule_canvas(canvas_pointer self, std::size_t i);
/// Replaces the whole canvas `i` with `r`.
void send_full(canvas_pointer self, std::size_t i, canvas::rendered_canvas r);
/// Hands every created (or found) canvas id the config does not name to the writer.
void keep_created_ids(canvas_pointer self);
canvas_actor::behavior_type canvas_behavior(canvas_pointer self, canvas_state init);

// -- canvas_token.cpp ------------------------------------------------------------------

/// The token is known to be refused: no canvas calls Slack.
inline bool token_refused(const canvas_state& st) {
  return st.auth.status.rfind("error: ", 0) == 0;
}
/// Asks auth.test who the token is (one check at a time); every canvas is
/// scheduled once it passes.
void check_token(canvas_pointer self);
/// The re-check timer of generation `gen` fired.
void on_token_check_due(canvas_pointer self, std::uint64_t gen);
/// Slack refused the token with `code`: stop every canvas, answer waiting
/// syncs, re-check every `auth_recheck`.
void refuse_token(canvas_pointer self, const std::string& code, const std::string& detail);
/// A create of canvas `i` found the channel's canvas already there: take its
/// id from conversations.info and replace it with `r`, or wait for the operator.
void adopt_channel_canvas(canvas_pointer self, std::size_t i, canvas::rendered_canvas r);

} // namespace epmpulse::canvas_steps
