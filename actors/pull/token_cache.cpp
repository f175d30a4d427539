#include "actors/pull/token_cache.hpp"
#include "actors/common/durable_file.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/pull/epm_status.hpp"
#include "actors/common/log.hpp"
#include "actors/common/percent_encoding.hpp"

namespace epmpulse {

namespace {

using nlohmann::json;
using token_cache_ptr = token_cache_actor::stateful_pointer<token_cache_state>;

bool uses_token_endpoint(config::epm_auth_type t) {
  return t == config::epm_auth_type::oauth_refresh_token
         || t == config::epm_auth_type::oauth_client_credentials;
}

const char* grant_name(config::epm_auth_type t) {
  switch (t) {
    case config::epm_auth_type::oauth_refresh_token: return "oauth_refresh_token";
    case config::epm_auth_type::oauth_client_credentials: return "oauth_client_credentials";
    case config::epm_auth_type::basic: return "basic";
    case config::epm_auth_type::none: return "none";
  }
  return "none";
}

std::string refresh_token_path(const std::string& data_dir) {
  if (data_dir.empty())
    return {};
  return data_dir.back() == '/' ? data_dir + refresh_token_file_name
                                : data_dir + "/" + refresh_token_file_name;
}

double seconds_between(caf::actor_clock::time_point a, caf::actor_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string health_status(const token_cache_state& st) {
  if (!st.last_error.empty())
    return "error: " + st.last_error;
  if (!st.persist_error.empty())
    return "error: " + st.persist_error;
  if (!st.startup_warning.empty())
    return "error: " + st.startup_warning;
  return "ok";
}

bool keeps_alive(const token_cache_state& st) {
  return st.opts.auth.type == config::epm_auth_type::oauth_refresh_token
         && st.opts.refresh_keepalive.count() > 0;
}

// -- timers -----------------------------------------------------------------------

/// Sends (timer_atom, generation) to the actor itself at `at`.
template <class TimerAtom>
void send_self_at(token_cache_ptr self, caf::actor_clock::time_point at, TimerAtom timer,
                  std::uint64_t generation) {
  auto delay = std::max(at - self->clock().now(), caf::actor_clock::duration_type::zero());
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(delay), timer,
                     generation);
}

void arm_timer(token_cache_ptr self, caf::actor_clock::time_point at) {
  send_self_at(self, at, refresh_due_atom_v, ++self->state.timer_generation);
}

void arm_keepalive(token_cache_ptr self, caf::actor_clock::time_point at) {
  send_self_at(self, at, keepalive_due_atom_v, ++self->state.keepalive_generation);
}

/// When to refresh a token of lifetime `life` obtained at `obtained`: when
/// `refresh_before` remain, but never in the first half of its life (short
/// lifetimes would otherwise refresh in a loop).
caf::actor_clock::time_point refresh_time(const token_cache_options& opts,
                                          caf::actor_clock::time_point obtained,
                                          std::chrono::milliseconds life) {
  auto by_margin = life - opts.refresh_before;
  auto half = life / 2;
  return obtained + std::max(by_margin, half);
}

// -- persistence ------------------------------------------------------------------

/// A save failed: health says so until a retry (after a backoff) succeeds.
/// The old refresh token is consumed already, so a restart before then would
/// start from a token the identity domain no longer accepts.
void save_failed(token_cache_ptr self, std::uint64_t gen, const std::string& reason) {
  auto& st = self->state;
  if (gen != st.save_generation)
    return; // a newer save is on its way
  ++st.save_failures;
  auto delay = backoff_delay(st.opts.save_retry_initial, st.save_failures - 1,
                             st.opts.save_retry_max);
  st.persist_error = "cannot save the rotated refresh token (retrying; a restart now would "
                     "start from a consumed one): " + reason;
  log::error("epm rotated refresh token not saved; retrying. A restart before it is saved "
             "falls back to the previous refresh token, which the identity domain has consumed",
             {{"file", refresh_token_file_name},
              {"reason", reason},
              {"failures", st.save_failures},
              {"retry_in_sec", std::chrono::duration<double>(delay).count()}});
  send_self_at(self, self->clock().now() + delay, save_retry_atom_v, gen);
}

void persist_refresh_token(token_cache_ptr self) {
  auto& st = self->state;
  if (!st.writer)
    return;
  auto path = refresh_token_path(st.opts.data_dir);
  auto doc = stored_refresh_token_document(st.opts.auth, st.refresh_token);
  auto gen = ++st.save_generation;
  self->request(st.writer, std::chrono::seconds{30}, write_atom_v, path, std::move(doc))
    .then(
      [self, gen](const std::string& err) {
        auto& st = self->state;
        if (!err.empty()) {
          save_failed(self, gen, err);
          return;
        }
        if (gen != st.save_generation)
          return;
        if (!st.persist_error.empty())
          log::info("epm rotated refresh token saved after a failure",
                    {{"file", refresh_token_file_name}, {"failures", st.save_failures}});
        st.persist_error.clear();
        st.startup_warning.clear(); // a token of ours is on disk now
        st.save_failures = 0;
        log::debug("epm rotated refresh token saved", {{"file", refresh_token_file_name}});
      },
      [self, gen](const caf::error& err) { save_failed(self, gen, describe_error(err)); });
}

// -- fetching ---------------------------------------------------------------------

void fetch_failed(token_cache_ptr self, const std::string& reason) {
  auto& st = self->state;
  st.fetching = false;
  ++st.failures;
  ++st.counters.fetch_failures;
  st.last_error = reason;
  auto delay = backoff_delay(st.opts.backoff_initial, st.failures - 1, st.opts.backoff_max);
  auto now = self->clock().now();
  st.backoff_until = now + delay;
  log::warn("epm token fetch failed",
            {{"reason", reason},
             {"failures", st.failures},
             {"retry_in_sec", std::chrono::duration<double>(delay).count()}});
  auto parked = std::move(st.parked);
  st.parked.clear();
  for (auto& rp : parked)
    rp.deliver(caf::make_error(ec::epm_auth_error, "EPM token unavailable: " + reason));
  // A proactive refresh failed while the old token still works: try again
  // after the backoff, before the old one runs out.
  if (st.current && st.used_since_fetch && st.current->expires_at > *st.backoff_until)
    arm_timer(self, *st.backoff_until);
  // The keep-alive is tried again after the backoff: the refresh token must
  // still be used before it lapses, poll or no poll. Also after an ordinary
  // fetch: a keep-alive that came due during it left the re-arming to it.
  if (keeps_alive(st))
    arm_keepalive(self, *st.backoff_until);
}

void fetch_succeeded(token_cache_ptr self, token_grant grant, caf::actor_clock::time_point started,
                     bool proactive) {
  auto& st = self->state;
  auto now = self->clock().now();
  st.fetching = false;
  if (st.failures > 0)
    log::info("epm token endpoint recovered", {{"failures", st.failures}});
  st.failures = 0;
  st.backoff_until.reset();
  st.last_error.clear();
  auto life = std::chrono::duration_cast<std::chrono::milliseconds>(grant.expires_in);
  access_token token;
  token.header = "Bearer " + grant.access_token;
  token.generation = st.next_generation++;
  st.current = token_cache_state::cached{token, now + life};
  auto parked = std::move(st.parked);
  st.parked.clear();
  st.used_since_fetch = !parked.empty();
  for (auto& rp : parked) {
    ++st.counters.served;
    rp.deliver(token);
  }
  bool rotated = !grant.refresh_token.empty() && grant.refresh_token != st.refresh_token
                 && st.opts.auth.type == config::epm_auth_type::oauth_refresh_token;
  if (rotated) {
    st.refresh_token = std::move(grant.refresh_token);
    ++st.counters.rotations;
    persist_refresh_token(self);
  }
  if (keeps_alive(st)) {
    st.last_refresh = now;
    arm_keepalive(self, now + st.opts.refresh_keepalive);
  }
  log::info("epm token fetched", {{"grant", grant_name(st.opts.auth.type)},
                                  {"expires_in_sec", grant.expires_in.count()},
                                  {"refresh_token_rotated", rotated},
                                  {"proactive", proactive},
                                  {"elapsed_sec", seconds_between(started, now)}});
  arm_timer(self, refresh_time(st.opts, now, life));
}

void start_fetch(token_cache_ptr self, bool proactive) {
  auto& st = self->state;
  st.fetching = true;
  ++st.counters.fetches;
  auto req = make_token_request(st.opts.auth, st.refresh_token, st.opts.request_timeout_sec,
                                st.opts.connect_timeout_sec);
  auto started = self->clock().now();
  // The client enforces the transfer timeouts; ours only guards against a
  // client that never answers.
  auto guard = seconds_to_ms(st.opts.request_timeout_sec + st.opts.connect_timeout_sec + 5);
  self->request(st.opts.http, guard, fetch_atom_v, std::move(req))
    .then(
      [self, started, proactive](const http_response& resp) {
        std::string reason;
        if (resp.status == 0) {
          fetch_failed(self, "token endpoint unreachable: " + resp.transport_error);
          return;
        }
        auto grant = parse_token_response(resp.status, resp.body, reason);
        if (!grant) {
          fetch_failed(self, reason);
          return;
        }
        fetch_succeeded(self, std::move(*grant), started, proactive);
      },
      [self](const caf::error& err) {
        fetch_failed(self, "token request failed: " + describe_error(err));
      });
}

/// Answers a token request: cached, parked behind the fetch in flight, a new
/// fetch, or an error while backing off.
caf::result<access_token> serve(token_cache_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.current && st.current->expires_at - now > st.opts.min_remaining) {
    st.used_since_fetch = true;
    ++st.counters.served;
    return st.current->token;
  }
  if (st.fetching) {
    auto rp = self->make_response_promise<access_token>();
    st.parked.push_back(rp);
    return rp;
  }
  if (st.backoff_until && now < *st.backoff_until) {
    auto wait = seconds_between(now, *st.backoff_until);
    return caf::make_error(ec::epm_auth_error,
                           fmt::format("EPM token unavailable (next try in {:.1f} s): {}", wait,
                                       st.last_error));
  }
  auto rp = self->make_response_promise<access_token>();
  st.parked.push_back(rp);
  start_fetch(self, false);
  return rp;
}

// -- the actors ---------------------------------------------------------------------

token_cache_actor::behavior_type
token_cache(token_cache_ptr self, token_cache_options opts, std::string refresh_token,
            secret_writer_actor writer, std::string startup_warning) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.refresh_token = std::move(refresh_token);
  st.writer = std::move(writer);
  st.startup_warning = std::move(startup_warning);
  st.last_refresh = self->clock().now();
  if (keeps_alive(st))
    arm_keepalive(self, st.last_refresh + st.opts.refresh_keepalive);
  if (st.writer)
    self->link_to(st.writer);
  // Basic auth (and none) need no endpoint: one fixed header, never expiring.
  if (!uses_token_endpoint(st.opts.auth.type)) {
    access_token fixed;
    fixed.generation = 1;
    if (st.opts.auth.type == config::epm_auth_type::basic)
      fixed.header = basic_auth_header(st.opts.auth.username, st.opts.auth.password);
    st.current = token_cache_state::cached{fixed, caf::actor_clock::time_point::max()};
  }
  return {
    [self](token_atom) -> caf::result<access_token> { return serve(self); },
    [self](invalid_atom, std::uint64_t generation) -> caf::result<access_token> {
      auto& st = self->state;
      ++st.counters.invalidations;
      if (!uses_token_endpoint(st.opts.auth.type)) {
        // Nothing to renew: the same credentials again (the poller's single
        // retry then fails and reports the 401).
        ++st.counters.served;
        return st.current->token;
      }
      if (st.current && st.current->token.generation <= generation) {
        log::info("epm token rejected by EPM; fetching a new one",
                  {{"generation", generation}});
        st.current.reset();
      }
      return serve(self);
    },
    [self](health_atom) -> token_health {
      auto h = self->state.counters;
      h.status = health_status(self->state);
      return h;
    },
    [self](refresh_due_atom, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.timer_generation || st.fetching || !st.current)
        return;
      if (!st.used_since_fetch) {
        // Nobody used this token: let it lapse; the next request fetches.
        log::debug("epm token unused; not refreshing it");
        return;
      }
      auto now = self->clock().now();
      if (st.backoff_until && now < *st.backoff_until) {
        arm_timer(self, *st.backoff_until);
        return;
      }
      start_fetch(self, true);
    },
    [self](keepalive_due_atom, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.keepalive_generation || st.fetching)
        return; // a fetch in flight re-arms the keep-alive when it succeeds
      auto now = self->clock().now();
      if (st.backoff_until && now < *st.backoff_until) {
        arm_keepalive(self, *st.backoff_until);
        return;
      }
      auto due = st.last_refresh + st.opts.refresh_keepalive;
      if (now < due) {
        arm_keepalive(self, due);
        return;
      }
      log::info("epm refreshing to keep the refresh token alive",
                {{"unused_for_sec", seconds_between(st.last_refresh, now)}});
      start_fetch(self, true);
    },
    [self](save_retry_atom, std::uint64_t generation) {
      if (generation == self->state.save_generation && !self->state.persist_error.empty())
        persist_refresh_token(self);
    },
  };
}

secret_writer_actor::behavior_type secret_writer() {
  return {
    [](write_atom, const std::string& path, const std::string& content) -> std::string {
      return write_file_atomically(path, content).value_or("");
    },
  };
}

} // namespace

// -- spawning -----------------------------------------------------------------------

caf::expected<token_cache_actor> spawn_token_cache(caf::actor_system& sys,
                                                   token_cache_options opts) {
  const auto& auth = opts.auth;
  auto fail = [](std::string what) {
    return caf::make_error(ec::epm_auth_error, std::move(what));
  };
  std::string refresh_token;
  std::string startup_warning;
  switch (auth.type) {
    case config::epm_auth_type::none:
      break;
    case config::epm_auth_type::basic:
      if (auth.username.empty() || auth.password.empty())
        return fail("epm.auth: basic auth needs username and password");
      break;
    case config::epm_auth_type::oauth_client_credentials:
      if (auth.token_url.empty() || auth.client_id.empty() || auth.client_secret.empty())
        return fail("epm.auth: oauth_client_credentials needs token_url, client_id and "
                    "client_secret");
      break;
    case config::epm_auth_type::oauth_refresh_token: {
      if (auth.token_url.empty() || auth.client_id.empty())
        return fail("epm.auth: oauth_refresh_token needs token_url and client_id");
      std::string note;
      auto stored = load_stored_refresh_token(opts.data_dir, auth, note);
      if (stored) {
        refresh_token = std::move(*stored);
        log::info("epm using the stored rotated refresh token",
                  {{"file", refresh_token_file_name}});
      } else {
        if (note == configured_token_changed_note) {
          log::info("epm stored refresh token not used", {{"reason", note}});
        } else if (!note.empty()) {
          // The configured token may be one the identity domain consumed when
          // the stored one was issued: say so rather than fail mysteriously.
          startup_warning = "the stored rotated refresh token was not used (" + note
                            + "); using the configured one, which may already be consumed";
          log::warn("epm stored refresh token not used; falling back to the configured one, "
                    "which the identity domain may already have consumed",
                    {{"file", refresh_token_file_name}, {"reason", note}});
        }
        refresh_token = auth.refresh_token;
      }
      if (refresh_token.empty())
        return fail("epm.auth: oauth_refresh_token needs refresh_token (none configured and "
                    "none stored in the data dir)");
      break;
    }
  }
  if (uses_token_endpoint(auth.type) && !opts.http)
    return fail("token cache needs an HTTP client");
  // Only a rotating refresh token with a data dir to live in needs saving.
  secret_writer_actor writer;
  if (auth.type == config::epm_auth_type::oauth_refresh_token && !opts.data_dir.empty())
    writer = opts.writer ? opts.writer : sys.spawn<caf::detached>(secret_writer);
  return sys.spawn(token_cache, std::move(opts), std::move(refresh_token), std::move(writer),
                   std::move(startup_warning));
}

// -- pure helpers -----------------------------------------------------------------

std::optional<token_grant> parse_token_response(long status, std::string_view body,
                                                std::string& error) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (status < 200 || status >= 300) {
    // The OAuth error code ("invalid_grant") is safe to show; the description
    // is left out: it is free text we do not control.
    std::string code;
    if (!doc.is_discarded() && doc.is_object()) {
      auto e = doc.find("error");
      if (e != doc.end() && e->is_string())
        code = clean_message(e->get<std::string>(), 60);
    }
    error = code.empty() ? fmt::format("token endpoint answered {}", status)
                         : fmt::format("token endpoint answered {} ({})", status, code);
    // RFC 6749 5.2 codes as OCI IAM uses them, with the fix.
    if (code == "invalid_grant")
      error += ": the refresh token is expired, revoked or already used; get a new one "
               "(docs/pull-mode.md) and restart";
    else if (code == "invalid_client")
      error += ": the identity domain does not accept this client id or secret";
    else if (code == "unauthorized_client")
      error += ": this grant type is not enabled for the client application";
    else if (code == "invalid_scope")
      error += ": check epm.auth.scope (urn:opc:serviceInstanceID=...urn:opc:resource:consumer::all)";
    return std::nullopt;
  }
  if (doc.is_discarded() || !doc.is_object()) {
    error = "token endpoint answered something that is not a JSON object";
    return std::nullopt;
  }
  token_grant g;
  auto at = doc.find("access_token");
  if (at == doc.end() || !at->is_string() || at->get_ref<const std::string&>().empty()) {
    error = "token endpoint answer has no access_token";
    return std::nullopt;
  }
  g.access_token = at->get<std::string>();
  auto tt = doc.find("token_type");
  if (tt != doc.end() && tt->is_string()) {
    auto t = tt->get<std::string>();
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
    if (t != "bearer") {
      error = "token endpoint answered an unsupported token_type";
      return std::nullopt;
    }
  }
  auto ex = doc.find("expires_in");
  if (ex != doc.end()) {
    double secs = -1;
    if (ex->is_number())
      secs = ex->get<double>();
    else if (ex->is_string())
      secs = std::atof(ex->get_ref<const std::string&>().c_str());
    if (!(secs > 0)) {
      error = "token endpoint answered an invalid expires_in";
      return std::nullopt;
    }
    g.expires_in = std::chrono::seconds{static_cast<long long>(secs)};
    if (g.expires_in.count() == 0)
      g.expires_in = std::chrono::seconds{1};
  }
  auto rt = doc.find("refresh_token");
  if (rt != doc.end() && rt->is_string())
    g.refresh_token = rt->get<std::string>();
  return g;
}

http_request make_token_request(const config::epm_auth& auth, const std::string& refresh_token,
                                double timeout_sec, double connect_timeout_sec) {
  http_request req;
  req.method = "POST";
  req.url = auth.token_url;
  req.timeout_sec = timeout_sec;
  req.connect_timeout_sec = connect_timeout_sec;
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  req.headers.emplace_back("Accept", "application/json");
  std::string body;
  bool confidential = !auth.client_secret.empty();
  if (auth.type == config::epm_auth_type::oauth_client_credentials) {
    body = "grant_type=client_credentials";
  } else {
    body = "grant_type=refresh_token&refresh_token=" + form_encode(refresh_token);
  }
  // A confidential client authenticates with HTTP Basic (RFC 6749 2.3.1; raw
  // id and secret, as OCI IAM expects them); a public client only names itself.
  if (confidential)
    req.headers.emplace_back("Authorization",
                             basic_auth_header(auth.client_id, auth.client_secret));
  else
    body += "&client_id=" + form_encode(auth.client_id);
  if (!auth.scope.empty())
    body += "&scope=" + form_encode(auth.scope);
  req.body = std::move(body);
  return req;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char table[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    auto n = (static_cast<unsigned char>(bytes[i]) << 16)
             | (static_cast<unsigned char>(bytes[i + 1]) << 8)
             | static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(table[(n >> 18) & 63]);
    out.push_back(table[(n >> 12) & 63]);
    out.push_back(table[(n >> 6) & 63]);
    out.push_back(table[n & 63]);
  }
  if (i + 1 == bytes.size()) {
    auto n = static_cast<unsigned char>(bytes[i]) << 16;
    out.push_back(table[(n >> 18) & 63]);
    out.push_back(table[(n >> 12) & 63]);
    out += "==";
  } else if (i + 2 == bytes.size()) {
    auto n = (static_cast<unsigned char>(bytes[i]) << 16)
             | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out.push_back(table[(n >> 18) & 63]);
    out.push_back(table[(n >> 12) & 63]);
    out.push_back(table[(n >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::string basic_auth_header(std::string_view user, std::string_view password) {
  std::string pair;
  pair.reserve(user.size() + 1 + password.size());
  pair.append(user);
  pair.push_back(':');
  pair.append(password);
  return "Basic " + base64_encode(pair);
}

std::string form_encode(std::string_view text) {
  return percent_encode(text);
}

std::string fingerprint(std::string_view secret) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : secret) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}


std::string stored_refresh_token_document(const config::epm_auth& auth,
                                          const std::string& refresh_token) {
  json doc = {
    {"refresh_token", refresh_token},
    {"origin", fingerprint(auth.refresh_token)},
    {"client_id", auth.client_id},
    {"token_url", auth.token_url},
    {"saved_at", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)))},
  };
  return doc.dump(2) + "\n";
}

std::optional<std::string> load_stored_refresh_token(const std::string& data_dir,
                                                     const config::epm_auth& auth,
                                                     std::string& note) {
  auto path = refresh_token_path(data_dir);
  if (path.empty())
    return std::nullopt;
  std::ifstream in(path);
  if (!in)
    return std::nullopt; // none stored yet
  std::stringstream buf;
  buf << in.rdbuf();
  auto doc = json::parse(buf.str(), nullptr, false);
  auto str = [&](const char* key) -> std::string {
    if (doc.is_object()) {
      auto i = doc.find(key);
      if (i != doc.end() && i->is_string())
        return i->get<std::string>();
    }
    return {};
  };
  auto token = str("refresh_token");
  if (doc.is_discarded() || token.empty()) {
    note = "stored refresh token file is unreadable";
    return std::nullopt;
  }
  if (str("client_id") != auth.client_id || str("token_url") != auth.token_url) {
    note = "stored refresh token belongs to another client or token URL";
    return std::nullopt;
  }
  if (!auth.refresh_token.empty() && str("origin") != fingerprint(auth.refresh_token)) {
    note = configured_token_changed_note;
    return std::nullopt;
  }
  return token;
}

} // namespace epmpulse
