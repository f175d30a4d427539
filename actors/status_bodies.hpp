#pragma once

// The bodies GET /status and GET /status/{app} answer, kept by the state
// actor: each is serialised once per state version and shared by every reader
// of that version; its gzip form is made on the first request that accepts
// it, also once per version. Every representation carries a strong entity tag
// naming the process instance, the version and the coding, so a dashboard
// that polls with If-None-Match is answered 304 while nothing changed.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "actors/status_model.hpp"

namespace epmpulse {

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
  status_representation all(const status_snapshot& snap, std::uint64_t version, bool gzip);

  /// One app's (GET /status/{app}); no bytes when the app is unknown.
  status_representation app(const status_snapshot& snap, std::uint64_t version,
                            const std::string& name, bool gzip);

private:
  struct cached {
    std::uint64_t version = 0;
    std::shared_ptr<const std::string> json;
    std::shared_ptr<const std::string> gzip; ///< made on demand
  };

  template <class Serialise>
  status_representation serve(cached& slot, std::uint64_t version, bool gzip, Serialise&& make);

  std::string instance_;
  cached all_;
  std::map<std::string, cached, std::less<>> apps_;
};

} // namespace epmpulse
