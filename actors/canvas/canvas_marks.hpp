#pragma once

// What the canvas shows of the expectations (actors/expectations): per
// domain, the mark (late, missed, overdue, short, held by an upstream, in
// maintenance) and the next expected run. The evaluator sends the whole set
// to the canvas actor whenever it changes; the canvas treats a changed mark
// like a status change of that app (same debounce, one edit for a burst).

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/state/status_model.hpp"

namespace epmpulse::canvas {

/// One domain's judgement as the canvas shows it.
struct domain_mark {
  /// "on_time" | "late" | "missed" | "overdue" | "short" | "held" | "maintenance".
  std::string state = "on_time";
  std::optional<time_point> next_run; ///< the next scheduled start, when there is a schedule
  std::optional<time_point> due;      ///< late / missed: the start that has not come
  std::string upstream;               ///< held: the "App/Domain" at the root of the hold

  bool operator==(const domain_mark&) const = default;
};

/// app -> domain -> mark; domains without an expectation are absent.
using domain_marks = std::map<std::string, std::map<std::string, domain_mark>>;
using canvas_marks = std::shared_ptr<const domain_marks>;

} // namespace epmpulse::canvas

namespace epmpulse {

/// What the evaluator uses of the canvas actor: a canvas_actor converts to it.
using canvas_marks_listener =
  caf::typed_actor<caf::reacts_to<expectation_atom, canvas::canvas_marks>>;

} // namespace epmpulse

// Only between actors of this process: never serialised.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::canvas::canvas_marks)
