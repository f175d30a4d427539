#pragma once

// The bodies GET /status and GET /status/{app} answer, kept by the state
// actor: each is serialised once per state version and shared by every reader
// of that version (their gzip form is made by actors/body_compressor). Under
// pushes nearly every read meets a new version, so each domain's member text
// is kept with the state it shows and rewritten only when that state changed:
// a new body is mostly a copy. Every representation carries a strong entity
// tag naming the process instance and the version, so a dashboard that polls
// with If-None-Match is answered 304 while nothing changed.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "actors/common/json_writer.hpp"
#include "actors/state/status_model.hpp"

namespace epmpulse {

/// What the expectation evaluator says of one domain (actors/expectations):
/// shown in the bodies as `expectation`, never logged or written to the file.
struct expectation_mark {
  std::string state;                  ///< "on_time", "late", "missed", "overdue", "short", ...
  std::optional<time_point> next_run; ///< the next scheduled start, when there is a schedule
  std::string cause;                  ///< why, for the bad states ("" when on time)

  bool operator==(const expectation_mark&) const = default;
};

/// app -> domain -> mark; domains without an expectation are absent.
using expectation_marks =
  std::shared_ptr<const std::map<std::string, std::map<std::string, expectation_mark>>>;

/// One representation of a body.
struct status_representation {
  std::shared_ptr<const std::string> bytes; ///< JSON, or JSON gzip-compressed when `gzip`
  std::string etag;                         ///< quoted, e.g. "1f3a9c-42-gz"
  bool gzip = false;
};

class status_bodies {
public:
  /// `instance` tells this process's versions apart from an earlier run's
  /// (the same version may hold other display names after a restart).
  explicit status_bodies(std::uint64_t instance);

  /// All apps' domains (GET /status) at `version`.
  status_representation all(const status_snapshot& snap, std::uint64_t version);

  /// One app's (GET /status/{app}); no bytes when the app is unknown.
  status_representation app(const status_snapshot& snap, std::uint64_t version,
                            const std::string& name);

  /// Replaces the expectation marks; the next bodies show them (with a new
  /// entity tag even when the state version stays).
  void set_expectations(expectation_marks marks);

private:
  struct cached {
    std::uint64_t version = 0;
    std::uint64_t marks_generation = 0;
    std::shared_ptr<const std::string> json;
    std::string etag;
  };

  /// One domain's `"name":{...}` and the state it was written from.
  struct domain_text {
    domain_state shown;
    std::optional<expectation_mark> mark;
    std::string member;
  };
  using app_texts = std::map<std::string, domain_text, std::less<>>;

  template <class Serialise>
  status_representation serve(cached& slot, std::uint64_t version, Serialise&& make);

  /// Writes the app's domains object, rewriting only the members whose
  /// domain changed (and dropping those of domains no longer there).
  void write_domains(json_writer& out, const std::string& app_name, const app_state& app);

  const expectation_mark* mark_of(const std::string& app, const std::string& domain) const;

  std::string instance_;
  expectation_marks marks_;
  std::uint64_t marks_generation_ = 0;
  cached all_;
  std::map<std::string, cached, std::less<>> apps_;
  std::map<std::string, app_texts, std::less<>> domain_texts_;
};

} // namespace epmpulse
