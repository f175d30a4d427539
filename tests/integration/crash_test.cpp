#include <boost/test/unit_test.hpp>

// Crash trials: concurrent clients push singles and batches to the real
// server, which is SIGKILLed at a random moment and restarted on the same
// data dir; every update answered 200 must then be served and be in the
// state file. ctest runs 3 trials; scripts/crash-trials runs this case with
// `-- --trials N --clients C --seed S` for the long version.
//
// What "acknowledged" means when the kill races the clients: each client
// owns its domains and sends one request at a time, numbering its updates
// with a sequence carried in the job_id. After a restart a domain must show
// the client's last acknowledged update, or the one request that got no
// answer (it may have become durable just before the kill; if it was a batch,
// all of its updates or none).
//
// The history too: after each restart, every acknowledged update (its job_id
// is unique) must be in GET /api/v1/history, each change id once.

#include <atomic>
#include <iostream>
#include <limits>
#include <set>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(crash_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct trial_options {
  int trials = 3;
  int clients = 8;
  unsigned seed = 0; ///< 0: a random one (printed, to repeat a run's kill moments)
  int max_kill_delay_ms = 1500; ///< past the first snapshot (about 1 s after changes)
};

constexpr int domains_per_client = 4;
constexpr int max_batch = domains_per_client;

/// The options after `--` on the test binary's command line.
trial_options options_from_command_line() {
  trial_options o;
  auto& master = boost::unit_test::framework::master_test_suite();
  CLI::App app{"crash trials"};
  app.add_option("--trials", o.trials)->check(CLI::Range(1, 100000));
  app.add_option("--clients", o.clients)->check(CLI::Range(1, 256));
  app.add_option("--seed", o.seed);
  app.add_option("--max-kill-delay-ms", o.max_kill_delay_ms)->check(CLI::Range(0, 600000));
  std::vector<std::string> args;
  for (int i = master.argc - 1; i > 0; --i)
    args.emplace_back(master.argv[i]);
  app.parse(args);
  return o;
}

const char* status_for(std::uint64_t n) {
  static const char* const names[] = {"OK", "Warning", "Loading"};
  return names[n % 3];
}

/// One update a client sent: which of its domains, and its sequence number.
struct sent_update {
  int domain = 0;
  std::uint64_t n = 0;
};

/// A client owning `domains_per_client` domains of one app.
struct client_record {
  int id = 0;
  std::string app;
  std::uint64_t next_n = 1;
  /// Per domain: what the last check saw (the state a trial starts from).
  std::vector<std::optional<std::uint64_t>> baseline =
    std::vector<std::optional<std::uint64_t>>(domains_per_client);
  // -- this trial --
  std::vector<std::optional<std::uint64_t>> last_acked =
    std::vector<std::optional<std::uint64_t>>(domains_per_client);
  std::vector<sent_update> unanswered; ///< the request the kill left without an answer
  std::string unexpected;              ///< an answer that was neither 200 nor "no answer"
  std::uint64_t acknowledged = 0;
  std::vector<std::string> acked_jobs; ///< job_ids of this trial's acknowledged updates

  std::string domain_name(int k) const {
    return "crash-c" + std::to_string(id) + "-d" + std::to_string(k);
  }
  std::string job_for(std::uint64_t n) const {
    return "C" + std::to_string(id) + "-N" + std::to_string(n);
  }
  std::optional<std::uint64_t> n_of(const json& job) const {
    auto prefix = "C" + std::to_string(id) + "-N";
    if (!job.is_string())
      return std::nullopt;
    auto s = job.get<std::string>();
    if (s.rfind(prefix, 0) != 0)
      return std::nullopt;
    return std::stoull(s.substr(prefix.size()));
  }
};

json update_of(const client_record& c, const sent_update& u) {
  return update(c.app, c.domain_name(u.domain), status_for(u.n), {{"job_id", c.job_for(u.n)}});
}

bool every_item_applied(const json& body, bool batch) {
  if (!body.is_object())
    return false;
  if (!batch)
    return body.value(json::json_pointer("/updated/applied"), false);
  const auto& items = body.value("updates", json::array());
  for (const auto& item : items)
    if (!item.value("applied", false))
      return false;
  return !items.empty();
}

/// Pushes until a request gets no 200 (the kill) or `stop` is set.
void push_until_killed(client_record& c, const api_client& api, std::mt19937 rng,
                       const std::atomic<bool>& stop, std::atomic<std::uint64_t>& acked_total) {
  std::uniform_int_distribution<int> batch_size(1, max_batch);
  std::uniform_int_distribution<int> first_domain(0, domains_per_client - 1);
  while (!stop) {
    const int size = batch_size(rng);
    const int first = first_domain(rng);
    std::vector<sent_update> sent;
    for (int i = 0; i < size; ++i)
      sent.push_back({(first + i) % domains_per_client, c.next_n++});
    http_result r;
    if (size == 1) {
      r = api.post("/api/v1/status", update_of(c, sent[0]));
    } else {
      json items = json::array();
      for (const auto& u : sent)
        items.push_back(update_of(c, u));
      r = api.post("/api/v1/status/batch", {{"updates", items}});
    }
    if (r.status == 200 && every_item_applied(r.json(), size > 1)) {
      for (const auto& u : sent) {
        c.last_acked[static_cast<std::size_t>(u.domain)] = u.n;
        c.acked_jobs.push_back(c.job_for(u.n));
      }
      c.acknowledged += sent.size();
      acked_total += sent.size();
      continue;
    }
    c.unanswered = sent;
    if (r.status != 0)
      c.unexpected = r.describe();
    return;
  }
}

struct trial_totals {
  int trials = 0;
  int kept = 0;
  std::uint64_t acknowledged = 0;
  std::uint64_t checked = 0;
  std::uint64_t checked_in_history = 0;
  std::vector<std::string> failures;

  std::string summary() const {
    std::ostringstream out;
    out << "crash-trials: " << kept << "/" << trials << " trials kept every acknowledged update ("
        << acknowledged << " acknowledged, " << checked << " checked, " << checked_in_history
        << " found in the history)";
    if (!failures.empty())
      out << "; " << failures.size() << " failures, first: " << failures.front();
    return out.str();
  }
};

/// Checks every domain of `c` against what the restarted server serves and
/// what its state file holds; returns the failures and moves the baseline.
std::vector<std::string> check_client(client_record& c, const json& served, const json& file,
                                      std::uint64_t& checked) {
  std::vector<std::string> failures;
  auto fail = [&](const std::string& domain, const std::string& what) {
    failures.push_back(c.app + "/" + domain + ": " + what);
  };
  std::size_t unanswered_shown = 0;
  std::vector<std::optional<std::uint64_t>> seen(domains_per_client);
  for (int k = 0; k < domains_per_client; ++k) {
    const auto ku = static_cast<std::size_t>(k);
    const auto name = c.domain_name(k);
    auto expected = c.last_acked[ku] ? c.last_acked[ku] : c.baseline[ku];
    std::optional<std::uint64_t> maybe;
    for (const auto& u : c.unanswered)
      if (u.domain == k)
        maybe = u.n;
    const auto got = served.value(json::json_pointer("/apps/" + c.app + "/" + name), json());
    const auto in_file =
      file.value(json::json_pointer("/apps/" + c.app + "/domains/" + name), json());
    if (!expected && !maybe) {
      if (!got.is_null())
        fail(name, "served but never pushed: " + got.dump());
      continue;
    }
    ++checked;
    auto n = got.is_object() ? c.n_of(got.value("job_id", json())) : std::nullopt;
    if (!n) {
      if (expected)
        fail(name, "acknowledged N" + std::to_string(*expected) + " is missing: " + got.dump());
      continue;
    }
    if (n != expected && n != maybe) {
      fail(name, "serves N" + std::to_string(*n) + ", the last acknowledged is "
                   + (expected ? "N" + std::to_string(*expected) : std::string("none"))
                   + (maybe ? ", the unanswered N" + std::to_string(*maybe) : std::string()));
      continue;
    }
    if (got.value("status", "") != status_for(*n))
      fail(name, "status does not match its job: " + got.dump());
    if (!in_file.is_object() || in_file.value("job_id", json()) != got["job_id"])
      fail(name, "the state file holds " + in_file.dump() + ", the service " + got.dump());
    if (maybe && n == maybe)
      ++unanswered_shown;
    seen[ku] = n;
  }
  // A batch is one state transition: all of it or nothing.
  if (unanswered_shown != 0 && unanswered_shown != c.unanswered.size())
    failures.push_back(c.app + ": " + std::to_string(unanswered_shown) + " of the "
                       + std::to_string(c.unanswered.size())
                       + " updates of the unanswered batch survived");
  if (!c.unexpected.empty())
    failures.push_back(c.app + " client " + std::to_string(c.id)
                       + ": an answer that is neither 200 nor none: " + c.unexpected);
  c.baseline = seen;
  return failures;
}

/// Every job_id in the history, paging through it with the cursor; a failure
/// when a change id comes twice or out of order.
std::set<std::string> history_jobs(const service& svc, std::vector<std::string>& failures) {
  std::set<std::string> jobs;
  std::string query = "?limit=1000";
  std::uint64_t previous = std::numeric_limits<std::uint64_t>::max();
  for (;;) {
    auto r = svc.reader().get("/api/v1/history" + query);
    if (r.status != 200) {
      failures.push_back("GET /api/v1/history: " + r.describe());
      return jobs;
    }
    auto body = r.json();
    for (const auto& e : body["entries"]) {
      auto id = std::stoull(e["id"].get<std::string>());
      if (id >= previous)
        failures.push_back("history id " + std::to_string(id) + " after " + std::to_string(previous));
      previous = id;
      if (e["job_id"].is_string())
        jobs.insert(e["job_id"].get<std::string>());
    }
    if (body["next_cursor"].is_null())
      return jobs;
    query = "?limit=1000&cursor=" + body["next_cursor"].get<std::string>();
  }
}

/// Runs the trials on one data dir; prints each failing trial and the summary.
trial_totals run_trials(const trial_options& opts) {
  service svc;
  std::mt19937 rng(opts.seed);
  std::vector<client_record> clients(static_cast<std::size_t>(opts.clients));
  for (int i = 0; i < opts.clients; ++i) {
    clients[static_cast<std::size_t>(i)].id = i;
    clients[static_cast<std::size_t>(i)].app = i % 2 == 0 ? "Planning" : "FCCS";
  }
  trial_totals totals;
  std::uniform_int_distribution<int> kill_delay(0, opts.max_kill_delay_ms);
  for (int trial = 1; trial <= opts.trials; ++trial) {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> acked{0};
    std::vector<std::thread> pushers;
    const auto api = svc.writer();
    for (auto& c : clients) {
      c.last_acked.assign(domains_per_client, std::nullopt);
      c.unanswered.clear();
      c.unexpected.clear();
      c.acknowledged = 0;
      c.acked_jobs.clear();
      pushers.emplace_back(push_until_killed, std::ref(c), api, std::mt19937(rng()),
                           std::cref(stop), std::ref(acked));
    }
    // Every trial kills a server that has acknowledged updates from every
    // client's side of the race; the random pause after that is the point of
    // the trial (where the kill lands), not a wait for something to happen.
    const auto min_acked = static_cast<std::uint64_t>(opts.clients);
    const bool pushing = eventually([&] { return acked >= min_acked; }, 20s);
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_delay(rng)));
    svc.server().kill();
    stop = true;
    for (auto& th : pushers)
      th.join();
    std::vector<std::string> failures;
    if (!pushing)
      failures.push_back("fewer than " + std::to_string(min_acked)
                         + " updates acknowledged before the kill");
    svc.server().restart();
    const auto served = svc.status();
    const auto file = svc.state_json();
    if (!file.is_object())
      failures.push_back("the state file does not parse after the restart");
    const auto in_history = history_jobs(svc, failures);
    for (auto& c : clients) {
      auto found = check_client(c, served, file, totals.checked);
      failures.insert(failures.end(), found.begin(), found.end());
      totals.acknowledged += c.acknowledged;
      for (const auto& job : c.acked_jobs) {
        ++totals.checked_in_history;
        if (in_history.count(job) == 0)
          failures.push_back(c.app + ": acknowledged " + job + " is not in the history");
      }
    }
    ++totals.trials;
    if (failures.empty())
      ++totals.kept;
    for (const auto& f : failures) {
      std::cout << "crash-trials: trial " << trial << ": " << f << "\n";
      totals.failures.push_back("trial " + std::to_string(trial) + ": " + f);
    }
  }
  return totals;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_acknowledged_update_survives_repeated_sigkills) {
  auto opts = options_from_command_line();
  if (opts.seed == 0)
    opts.seed = std::random_device{}();
  std::cout << "crash-trials: " << opts.trials << " trials, " << opts.clients
            << " clients, seed " << opts.seed << "\n";
  auto totals = run_trials(opts);
  std::cout << totals.summary() << std::endl;
  BOOST_TEST(totals.trials == opts.trials);
  BOOST_TEST(totals.kept == totals.trials, totals.summary());
  // Not vacuous: every trial acknowledged updates and checked them afterwards.
  BOOST_TEST(totals.acknowledged >= static_cast<std::uint64_t>(opts.trials * opts.clients));
  BOOST_TEST(totals.checked > 0u);
  BOOST_TEST(totals.checked_in_history == totals.acknowledged);
}

BOOST_AUTO_TEST_SUITE_END() // crash_tests
