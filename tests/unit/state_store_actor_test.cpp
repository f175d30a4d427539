#include <boost/test/unit_test.hpp>

// The state actor on CAF's test coordinator, driving fakes of its detached
// helpers: the fake change-log writer holds every append until the test
// completes it, so "an append in flight while updates arrive" is a state the
// test sets up, and simulated time fires the retry, snapshot and sweep timers.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/state/state_store.hpp"
#include "config/config.hpp"
#include "tests/support/simulated_system.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_config.hpp"

BOOST_AUTO_TEST_SUITE(state_store_actor_tests)

using namespace epmpulse;
using namespace std::chrono_literals;

namespace {

// What the fake writers saw, and the appends they still hold.
struct writer_log {
  std::vector<std::string> appends; ///< every append's bytes, in order
  std::vector<caf::typed_response_promise<bool>> held;
  std::size_t rotates = 0;
  std::size_t drops = 0;
  std::vector<std::uint64_t> snapshot_seqs; ///< log positions of written snapshots
};

// The fake change-log writer. A `bool` sent to it completes the oldest held
// append: durable (true) or failed (false).
caf::behavior fake_log_writer(caf::event_based_actor* self, std::shared_ptr<writer_log> seen) {
  return {
    [self, seen](append_atom, const log_bytes& bytes) -> caf::result<bool> {
      seen->appends.push_back(*bytes);
      auto promise = self->make_response_promise<bool>();
      seen->held.push_back(promise);
      return promise;
    },
    [seen](rotate_atom) {
      ++seen->rotates;
      return true;
    },
    [seen](drop_atom) {
      ++seen->drops;
      return true;
    },
    [seen](bool durable) {
      BOOST_REQUIRE(!seen->held.empty());
      auto promise = seen->held.front();
      seen->held.erase(seen->held.begin());
      if (durable)
        promise.deliver(true);
      else
        promise.deliver(caf::make_error(ec::state_error, "disk full (test)"));
    },
  };
}

state_writer_actor::behavior_type fake_state_writer(state_writer_actor::pointer,
                                                    std::shared_ptr<writer_log> seen) {
  return {
    [seen](write_atom, const snapshot_ptr&, std::uint64_t seq) -> state_bytes {
      seen->snapshot_seqs.push_back(seq);
      return std::make_shared<const std::string>("{}");
    },
    [](backup_atom, const state_bytes&, std::int32_t) { return std::string{"backup"}; },
  };
}

// One client's answer: its tag, and the result or the error.
struct answer {
  int tag = 0;
  caf::expected<apply_result> result = caf::make_error(ec::internal_error);
};

struct fixture {
  test::simulated_system sim;
  test::temp_dir data{"epmpulse-state-actor-"};
  std::shared_ptr<writer_log> seen = std::make_shared<writer_log>();
  caf::actor log_writer = sim.system().spawn(fake_log_writer, seen);
  state_store_actor state;
  std::shared_ptr<std::vector<answer>> answers = std::make_shared<std::vector<answer>>();
  std::shared_ptr<std::vector<change_set>> heard = std::make_shared<std::vector<change_set>>();

  fixture() {
    auto path = test::write_config(data.path(), test::default_test_config());
    auto loaded = config::load_config(path.string());
    BOOST_REQUIRE(!loaded.error);
    auto cfg = std::make_shared<const config::service_config>(std::move(*loaded.config));
    state_store_helpers helpers;
    helpers.log = caf::actor_cast<log_writer_actor>(log_writer);
    helpers.writer = sim.system().spawn(fake_state_writer, seen);
    helpers.compressor = sim.system().spawn(body_compressor);
    auto spawned = spawn_state_store(sim.system(), {data.make_subdir("data").string(), cfg},
                                     helpers);
    BOOST_REQUIRE(spawned);
    state = *spawned;
    auto listener = sim.system().spawn([heard = heard]() -> change_listener_actor::behavior_type {
      return {[heard](changed_atom, const change_set& changes) { heard->push_back(changes); }};
    });
    caf::anon_send(state, subscribe_atom_v, listener);
    sim.run();
  }

  ~fixture() {
    caf::anon_send_exit(state, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(log_writer, caf::exit_reason::user_shutdown);
    sim.run();
  }

  static status_update update(std::string domain, job_status status, std::string job) {
    status_update u;
    u.app = "Planning";
    u.domain = std::move(domain);
    u.status = status;
    u.job_id = std::move(job);
    return u;
  }

  // A client that asks once and keeps the answer under `tag`.
  void push(int tag, std::vector<status_update> updates) {
    sim.system().spawn([state = state, answers = answers, tag,
                        updates = std::move(updates)](caf::event_based_actor* self) {
      self->request(state, std::chrono::seconds{3600}, apply_atom_v, updates)
        .then([answers, tag](apply_result& r) { answers->push_back({tag, std::move(r)}); },
              [answers, tag](caf::error& err) { answers->push_back({tag, std::move(err)}); });
    });
    sim.run();
  }

  void complete(bool ok = true) {
    caf::anon_send(log_writer, ok);
    sim.run();
  }

  std::vector<int> answered_tags() const {
    std::vector<int> tags;
    for (const auto& a : *answers)
      tags.push_back(a.tag);
    return tags;
  }

  static std::size_t records_in(const std::string& bytes) {
    std::size_t lines = 0;
    for (char c : bytes)
      lines += c == '\n';
    return lines;
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(updates_arriving_during_an_append_go_out_together_in_the_next, fixture) {
  push(1, {update("Actual", job_status::loading, "J1")});
  BOOST_REQUIRE_EQUAL(seen->appends.size(), 1u); // in flight, held by the fake
  BOOST_TEST(answers->empty());                   // not durable: not answered
  push(2, {update("Budget", job_status::loading, "J2")});
  push(3, {update("Forecast", job_status::loading, "J3")});
  BOOST_TEST(seen->appends.size() == 1u); // waiting for the append in flight
  BOOST_TEST(answers->empty());

  complete(); // the first append is durable
  BOOST_TEST(answered_tags() == std::vector<int>{1});
  BOOST_REQUIRE_EQUAL(seen->appends.size(), 2u); // the group of 2 and 3, at once
  BOOST_TEST(records_in(seen->appends[1]) == 2u);

  complete();
  BOOST_TEST(answered_tags() == (std::vector<int>{1, 2, 3}));
  for (const auto& a : *answers) {
    BOOST_REQUIRE(a.result);
    BOOST_TEST(a.result->changed);
    BOOST_TEST(a.result->outcomes.size() == 1u);
  }
  BOOST_TEST(seen->appends.size() == 2u); // nothing left to write
}

BOOST_FIXTURE_TEST_CASE(subscribers_hear_of_a_change_only_once_it_is_durable, fixture) {
  push(1, {update("Actual", job_status::loading, "J1")});
  BOOST_TEST(heard->empty());
  complete();
  BOOST_REQUIRE_EQUAL(heard->size(), 1u);
  BOOST_REQUIRE_EQUAL((*heard)[0]->size(), 1u);
  BOOST_TEST((*heard)[0]->front().domain == "Actual");
  BOOST_TEST(((*heard)[0]->front().after.status == job_status::loading));
}

BOOST_FIXTURE_TEST_CASE(an_unchanged_update_waits_for_the_append_holding_what_it_saw, fixture) {
  push(1, {update("Actual", job_status::loading, "J1")});
  push(2, {update("Actual", job_status::loading, "J1")}); // the same: changes nothing
  BOOST_TEST(answers->empty()); // the state it saw is not durable yet
  BOOST_TEST(seen->appends.size() == 1u);
  complete();
  BOOST_TEST(answered_tags() == (std::vector<int>{1, 2}));
  BOOST_REQUIRE((*answers)[1].result);
  BOOST_TEST(!(*answers)[1].result->changed);
  BOOST_TEST(seen->appends.size() == 1u); // nothing was written for it

  push(3, {update("Actual", job_status::loading, "J1")}); // nothing pending: at once
  BOOST_TEST(answered_tags() == (std::vector<int>{1, 2, 3}));
}

BOOST_FIXTURE_TEST_CASE(a_failed_append_answers_state_error_and_is_retried_a_second_later,
                        fixture) {
  push(1, {update("Actual", job_status::loading, "J1")});
  complete(false);
  BOOST_REQUIRE_EQUAL(answers->size(), 1u);
  BOOST_REQUIRE(!(*answers)[0].result);
  BOOST_TEST((*answers)[0].result.error().code() == static_cast<std::uint8_t>(ec::state_error));
  BOOST_TEST(heard->empty()); // not durable, not announced
  auto health = sim.ask<state_health>(state, health_atom_v);
  BOOST_REQUIRE(health && *health);
  BOOST_TEST(!(*health)->file_ok);

  sim.advance(999ms);
  BOOST_TEST(seen->appends.size() == 1u);
  sim.advance(1ms); // the retry carries the same record
  BOOST_REQUIRE_EQUAL(seen->appends.size(), 2u);
  BOOST_TEST(seen->appends[1] == seen->appends[0]);
  complete();
  BOOST_TEST(heard->size() == 1u); // announced once it is durable
  health = sim.ask<state_health>(state, health_atom_v);
  BOOST_REQUIRE(health && *health);
  BOOST_TEST((*health)->file_ok);
  BOOST_TEST((*health)->commits == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_snapshot_follows_a_second_after_changes, fixture) {
  push(1, {update("Actual", job_status::loading, "J1")});
  complete();
  BOOST_TEST(seen->snapshot_seqs.empty());
  sim.advance(1s);
  BOOST_TEST(seen->rotates == 1u); // the log is moved aside first ...
  BOOST_REQUIRE_EQUAL(seen->snapshot_seqs.size(), 1u);
  BOOST_TEST(seen->drops == 1u); // ... and dropped once the snapshot holds it
  auto health = sim.ask<state_health>(state, health_atom_v);
  BOOST_REQUIRE(health && *health);
  BOOST_TEST((*health)->snapshot_lag == 0u);
  BOOST_TEST(seen->snapshot_seqs[0] == (*health)->version);
}

BOOST_FIXTURE_TEST_CASE(flush_answers_once_the_log_and_the_json_file_hold_everything, fixture) {
  push(1, {update("Actual", job_status::loading, "J1")});
  auto flushed = std::make_shared<std::optional<bool>>();
  sim.system().spawn([state = state, flushed](caf::event_based_actor* self) {
    self->request(state, std::chrono::seconds{3600}, flush_atom_v).then([flushed](bool ok) { *flushed = ok; });
  });
  sim.run();
  BOOST_TEST(!flushed->has_value()); // the append is still in flight
  complete();
  BOOST_REQUIRE(flushed->has_value());
  BOOST_TEST(**flushed);
  BOOST_TEST(seen->snapshot_seqs.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(the_sweep_turns_a_loading_older_than_the_timeout_into_warning, fixture) {
  auto old = update("Actual", job_status::loading, "J1");
  old.event_time = now_ms() - 3h; // the default timeout is 2 h
  push(1, {old});
  complete();
  BOOST_REQUIRE_EQUAL(seen->appends.size(), 1u);
  sim.advance(5min); // the default sweep interval
  BOOST_REQUIRE_EQUAL(seen->appends.size(), 2u);
  BOOST_TEST(seen->appends[1].find("Stale: no update since") != std::string::npos);
  complete();
  BOOST_REQUIRE_EQUAL(heard->size(), 2u);
  BOOST_TEST(((*heard)[1]->front().after.status == job_status::warning));
}

BOOST_FIXTURE_TEST_CASE(an_unknown_app_is_an_app_not_found_error, fixture) {
  auto body = sim.ask<status_representation>(state, get_atom_v, status_query{"HR", false});
  BOOST_REQUIRE(body.has_value());
  BOOST_REQUIRE(!*body);
  BOOST_TEST(body->error().code() == static_cast<std::uint8_t>(ec::app_not_found));
  auto all = sim.ask<status_representation>(state, get_atom_v, status_query{"", false});
  BOOST_REQUIRE(all && *all);
  BOOST_TEST((*all)->bytes->find("\"Planning\"") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
