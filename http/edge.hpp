#pragma once

// The one bridge between RESTinio and the actors. Handlers run on RESTinio's
// io threads, which are not actors and so cannot `request`; a handler hands
// the edge actor a job instead. The job runs inside the edge actor, sends the
// typed request and, in its continuation, completes the response. Every error
// an actor answers (a caf::error built from the service's `ec`) and a request
// that found its actor gone become the API's error response in one place
// (api_error_of).
//
// Deadlines: every job is for one response, and the edge answers it 503 once
// its deadline passed without an answer. One queue in arrival order and one
// sweep timer keep those deadlines instead of a timeout per request: CAF's
// request timeouts cost two events on the clock thread each (set, then
// cancel), which on two cores cost pushes about a tenth of their rate
// (bench/RESULTS.md). The requests themselves therefore carry no timeout; an
// actor that answers after the deadline is ignored (a response is sent once).
//
// The edge actor holds no state of the service, so one serves every io
// thread, and a job that throws is answered 500 without ending it.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include <caf/actor_clock.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/duration.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/send.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/atoms.hpp"
#include "http/api_error.hpp"
#include "http/responder.hpp"

namespace epmpulse::http {

struct edge_job;

/// The edge actor as its jobs see it.
using edge_self =
  caf::typed_event_based_actor<caf::reacts_to<edge_job>, caf::reacts_to<deadline_sweep_atom>>*;

/// Work for the edge actor: send requests and complete `out`.
struct edge_job {
  responder_ptr out;
  std::function<void(edge_self)> run;
};

/// The protocol: jobs in (the jobs answer the HTTP clients), and the sweep
/// timer that answers those past their deadline.
using edge_actor =
  caf::typed_actor<caf::reacts_to<edge_job>, caf::reacts_to<deadline_sweep_atom>>;

/// Spawns the edge actor on the CAF workers; jobs not answered within
/// `deadline` are answered 503.
edge_actor spawn_edge(caf::actor_system& sys, std::chrono::milliseconds deadline);

/// Runs `body`; an exception becomes a 500 for `out` (logged with its
/// request ID, never shown to the client).
void answer_guarded(responder& out, const std::function<void()>& body);

/// Where handlers send their requests.
struct edge {
  edge_actor actor;

  /// Runs `job` inside the edge actor; `out` is answered by the deadline.
  void post(responder_ptr out, std::function<void(edge_self)> job) const {
    caf::anon_send(actor, edge_job{std::move(out), std::move(job)});
  }

  /// Asks `dest` (xs...) and completes `out` with `on_value(T&)` once the
  /// answer is there (or `on_value(self, T&)`, for an answer that asks further
  /// parts); any error completes `out` with api_error_of(error).
  template <class T, class Handle, class OnValue, class... Ts>
  void ask(responder_ptr out, const Handle& dest, OnValue on_value, Ts&&... xs) const {
    ask_or<T>(std::move(out), dest, std::move(on_value),
              [](responder& r, const caf::error& err) { r.send_error(api_error_of(err)); },
              std::forward<Ts>(xs)...);
  }

  /// The same with an error handler of the caller's (e.g. to add details).
  template <class T, class Handle, class OnValue, class OnError, class... Ts>
  void ask_or(responder_ptr out, const Handle& dest, OnValue on_value, OnError on_error,
              Ts&&... xs) const {
    auto job = [out, dest, on_value = std::move(on_value), on_error = std::move(on_error),
                args = std::make_tuple(std::forward<Ts>(xs)...)](edge_self self) mutable {
      std::apply(
        [&](auto&... unpacked) {
          self->request(dest, caf::infinite, std::move(unpacked)...)
            .then(
              [self, out, on_value](T& value) mutable {
                answer_guarded(*out, [&] {
                  if constexpr (std::is_invocable_v<OnValue&, edge_self, T&>)
                    on_value(self, value);
                  else
                    on_value(value);
                });
              },
              [out, on_error](caf::error& err) mutable {
                answer_guarded(*out, [&] { on_error(*out, err); });
              });
        },
        args);
    };
    post(std::move(out), std::move(job));
  }
};

} // namespace epmpulse::http

// In-process only: a job is code for the edge actor, never serialised.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::http::edge_job)
