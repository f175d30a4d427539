#include <boost/test/unit_test.hpp>

// A full disk under the real server: pushes answer 500 STATE_ERROR and health
// 503 while nothing can be made durable, nothing half-written is left or
// loaded, a restart on the full disk serves what was acknowledged, and the
// service recovers by itself once space is freed.
//
// Two variants, and the test says which one ran:
// - tmpfs: the data dir is a small tmpfs (needs CAP_SYS_ADMIN, as root in CI
//   has) filled to the last byte: every write the service makes meets a real
//   ENOSPC;
// - fault injection, where mounting is not allowed: the change log's path is a
//   symlink to /dev/full, whose writes fail with ENOSPC from the kernel. Only
//   the change log is hit, and a restart on a full disk cannot be shown.
// EPMPULSE_FULL_DISK_VARIANT=fault-injection forces the second.

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(full_disk_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// A tmpfs mounted over a directory for the test's lifetime, in a mount
/// namespace of this process's own: the server child inherits it, and the
/// mount dies with the process even when a timeout kills it before the
/// destructor runs.
class tmpfs_mount {
public:
  /// Mounts; `error` says why not (then mounted() is false).
  tmpfs_mount(fs::path at, const std::string& size) : at_(std::move(at)) {
    if (::unshare(CLONE_NEWNS) != 0) {
      error_ = std::string("no mount namespace of our own: ") + std::strerror(errno);
      return;
    }
    // Namespaces copied from a shared "/" would still propagate the mount.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      error_ = std::string("cannot make the mounts private: ") + std::strerror(errno);
      return;
    }
    auto options = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", at_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0)
      mounted_ = true;
    else
      error_ = std::strerror(errno);
  }
  ~tmpfs_mount() {
    if (mounted_)
      ::umount2(at_.c_str(), MNT_DETACH);
  }
  tmpfs_mount(const tmpfs_mount&) = delete;
  tmpfs_mount& operator=(const tmpfs_mount&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

private:
  fs::path at_;
  bool mounted_ = false;
  std::string error_;
};

/// Writes `path` until the file system has no byte left; the bytes written.
std::uint64_t fill_file_system(const fs::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  BOOST_REQUIRE_MESSAGE(fd >= 0, "cannot create " << path << ": " << std::strerror(errno));
  std::uint64_t written = 0;
  const std::string block(64 * 1024, 'x');
  // Big blocks first, then single bytes for the last partial page.
  for (std::size_t size : {block.size(), std::size_t{1}}) {
    for (;;) {
      auto n = ::write(fd, block.data(), size);
      if (n > 0) {
        written += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      BOOST_REQUIRE_MESSAGE(errno == ENOSPC, "filling " << path << ": " << std::strerror(errno));
      break;
    }
  }
  ::close(fd);
  return written;
}

json pushed(const std::string& domain, const std::string& job) {
  return update("Planning", domain, "OK", {{"job_id", job}});
}

/// The mount table of the process that started this test (ctest, a shell).
std::string parents_mounts() {
  std::ifstream in("/proc/" + std::to_string(::getppid()) + "/mountinfo");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

long health_status(const service& svc) {
  return svc.anonymous().get("/api/v1/health").status;
}

/// The JSON state file parses as a state and no temp file is left beside it.
void check_nothing_half_written(const service& svc) {
  auto doc = svc.state_json();
  BOOST_TEST((doc.is_object() && doc.contains("apps")), "the state file does not parse");
  for (const auto& e : fs::directory_iterator(svc.data_dir())) {
    auto name = e.path().filename().string();
    BOOST_TEST(name.find(".tmp-") == std::string::npos, "a half-written file is left: " << name);
  }
}

/// While the change log cannot be written: the push is not confirmed and
/// health says no push can be.
void check_refused_while_full(service& svc, const std::string& job) {
  auto r = svc.writer().post("/api/v1/status", pushed("Budget", job));
  check_error(r, 500, "STATE_ERROR");
  auto health = svc.anonymous().get("/api/v1/health");
  BOOST_TEST(health.status == 503, health.describe());
  BOOST_TEST(health.json()["checks"]["change_log"] != "ok", health.body);
  BOOST_TEST(!leaks_internals(health.body));
}

/// Once space is back: health recovers without a restart, new pushes are
/// confirmed, and a crash after that loses none of the acknowledged ones.
void check_recovers(service& svc, const std::vector<std::pair<std::string, std::string>>& acked) {
  BOOST_REQUIRE_MESSAGE(eventually([&] { return health_status(svc) == 200; }, 15s),
                        "health did not recover once space was freed");
  check_success(svc.writer().post("/api/v1/status", pushed("Forecast", "AFTER_FULL")));
  auto all = acked;
  all.emplace_back("Forecast", "AFTER_FULL");
  svc.server().kill();
  svc.server().restart();
  for (const auto& [domain, job] : all)
    BOOST_TEST(svc.domain("Planning", domain)["job_id"] == job, domain);
  check_nothing_half_written(svc);
  BOOST_TEST(svc.anonymous().get("/api/v1/health").json()["status"] == "healthy");
}

void wait_until_the_log_is_folded(service& svc) {
  // The snapshot holds everything and the change logs are gone: the next
  // push has to create a log file.
  svc.settled_state_json();
  BOOST_REQUIRE(eventually(
    [&] {
      return !fs::exists(svc.data_dir() / "apps_status.wal")
             && !fs::exists(svc.data_dir() / "apps_status.wal.prev");
    },
    10s));
}

void run_on_tmpfs(service& svc) {
  svc.start();
  check_success(svc.writer().post("/api/v1/status", pushed("Actual", "BEFORE_FULL")));
  wait_until_the_log_is_folded(svc);
  const auto filler = svc.data_dir() / "filler";
  auto filled = fill_file_system(filler);
  BOOST_TEST_MESSAGE("full_disk: filled " << filled << " bytes");
  check_refused_while_full(svc, "WHILE_FULL_1");
  check_nothing_half_written(svc);

  // A crash and a restart on the full disk: the acknowledged state is served
  // (start-up cannot rewrite the state file and says so), nothing is
  // confirmed, and nothing half-written is loaded.
  svc.server().kill();
  svc.server().restart();
  BOOST_TEST(svc.server().log_text().find("state file not rewritten at start-up")
               != std::string::npos,
             svc.server().log_text());
  BOOST_TEST(svc.domain("Planning", "Actual")["job_id"] == "BEFORE_FULL");
  check_refused_while_full(svc, "WHILE_FULL_2");
  check_nothing_half_written(svc);

  fs::remove(filler);
  check_recovers(svc, {{"Actual", "BEFORE_FULL"}});
  // The rewrite start-up could not do is done by now.
  BOOST_TEST(svc.settled_state_json()["apps"]["Planning"]["domains"]["Forecast"]["job_id"]
             == "AFTER_FULL");
}

void run_with_dev_full(service& svc) {
  svc.start();
  check_success(svc.writer().post("/api/v1/status", pushed("Actual", "BEFORE_FULL")));
  wait_until_the_log_is_folded(svc);
  const auto wal = svc.data_dir() / "apps_status.wal";
  fs::create_symlink("/dev/full", wal);
  check_refused_while_full(svc, "WHILE_FULL_1");
  check_refused_while_full(svc, "WHILE_FULL_2");
  check_nothing_half_written(svc);
  fs::remove(wal);
  check_recovers(svc, {{"Actual", "BEFORE_FULL"}});
}

} // namespace

BOOST_AUTO_TEST_CASE(a_full_disk_refuses_confirmation_and_recovers_without_a_restart) {
  service_options o;
  o.start = false;
  service svc(o);
  const char* forced = std::getenv("EPMPULSE_FULL_DISK_VARIANT");
  const bool fault_injection = forced && std::string(forced) == "fault-injection";
  std::optional<tmpfs_mount> disk;
  if (!fault_injection)
    disk.emplace(svc.data_dir(), "4m");
  if (disk && disk->mounted()) {
    std::cout << "full_disk: variant tmpfs (a 4 MiB tmpfs as the data dir, filled to ENOSPC)"
              << std::endl;
    BOOST_TEST(parents_mounts().find(svc.data_dir().string()) == std::string::npos,
               "the tmpfs is visible outside the test process");
    run_on_tmpfs(svc);
  } else {
    std::cout << "full_disk: variant fault-injection (change log -> /dev/full; "
              << (disk ? "mount not allowed: " + disk->error() : std::string("forced"))
              << "; the restart on a full disk is not covered)" << std::endl;
    run_with_dev_full(svc);
  }
  // The server goes before the mount under it.
  svc.server().stop();
}

BOOST_AUTO_TEST_SUITE_END() // full_disk_tests
