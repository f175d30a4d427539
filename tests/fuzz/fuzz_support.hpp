#pragma once

// What the fuzz targets share: the check that stops on a broken invariant,
// the configuration the request and log targets run against, and equality of
// updates and records (the model types define none).
//
// Each target defines LLVMFuzzerTestOneInput. Built with clang and
// -fsanitize=fuzzer it is driven by libFuzzer (make fuzz); built with the
// rest of the suite it is driven by replay_main.cpp over the checked-in
// corpus and regressions (ctest fuzz.<target>).

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "actors/state/state_log.hpp"
#include "actors/state/status_model.hpp"
#include "config/config.hpp"

/// Stops the run with the broken invariant: libFuzzer saves the input that
/// broke it, the replay driver names the file.
#define FUZZ_CHECK(condition, what)                                                  \
  do {                                                                               \
    if (!(condition)) {                                                              \
      std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s (%s)\n", __FILE__,    \
                   __LINE__, what, #condition);                                      \
      std::abort();                                                                  \
    }                                                                                \
  } while (false)

namespace epmpulse::fuzz {

/// Two apps: Planning takes any well-formed domain name, FCCS only its own.
inline const config::service_config& fuzz_config() {
  static const config::service_config cfg = [] {
    config::service_config c;
    c.source_path = "fuzz/apps.json";
    config::app_config planning;
    planning.name = "Planning";
    planning.display_name = "Planning";
    planning.domains = {"Actual", "Budget", "Forecast"};
    planning.channels = {"C12345678"};
    config::app_config fccs;
    fccs.name = "FCCS";
    fccs.display_name = "FCCS";
    fccs.domains = {"Consolidation"};
    fccs.strict_domains = true;
    c.apps = {planning, fccs};
    c.channels = {{"C12345678", "epm-main", ""}};
    return c;
  }();
  return cfg;
}

inline bool same_update(const status_update& a, const status_update& b) {
  return a.app == b.app && a.domain == b.domain && a.status == b.status && a.job_id == b.job_id
         && a.message == b.message && a.event_time == b.event_time && a.source == b.source;
}

inline bool same_record(const log_record& a, const log_record& b) {
  if (a.seq != b.seq || a.at != b.at || a.updates.size() != b.updates.size())
    return false;
  for (std::size_t i = 0; i < a.updates.size(); ++i)
    if (!same_update(a.updates[i], b.updates[i]))
      return false;
  return true;
}

/// Characters, not bytes: what the API's length limits count.
inline std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

} // namespace epmpulse::fuzz
