#include "tests/support/server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/test/framework.hpp>
#include <boost/test/results_collector.hpp>
#include <boost/test/tree/test_unit.hpp>

#include "tests/support/log_secrets.hpp"
#include "tests/support/wait.hpp"

namespace epmpulse::test {

namespace {

using namespace std::chrono_literals;

std::map<std::string, std::string> minimal_env(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  const char* path = std::getenv("PATH");
  env["PATH"] = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  const char* home = std::getenv("HOME");
  env["HOME"] = home && *home ? home : "/tmp";
  // A sanitizer build's server reports where the tests' own processes do
  // (make test-asan).
  for (const char* name : {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"})
    if (const char* value = std::getenv(name))
      env[name] = value;
  for (const auto& [k, v] : extra)
    env[k] = v;
  return env;
}

/// fork + execve with stdin from /dev/null and stdout/stderr into files.
/// Everything the child touches is prepared before fork (the parent has
/// threads: only async-signal-safe calls are allowed in the child).
pid_t spawn(const std::vector<std::string>& argv_in, const std::map<std::string, std::string>& env_in,
            const std::filesystem::path& out_path, const std::filesystem::path& err_path) {
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env_in)
    env_strings.push_back(k + "=" + v);
  std::vector<char*> argv;
  for (const auto& a : argv_in)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string out_s = out_path.string();
  const std::string err_s = err_path.string();
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    // A test binary that dies must not leave servers behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(126);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0)
      ::_exit(125);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::close_range(3, ~0U, 0);
    // Ignored signals and the mask survive exec: give the server a clean slate.
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s)
      ::sigaction(s, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

int decode_status(int st) {
  if (WIFEXITED(st))
    return WEXITSTATUS(st);
  if (WIFSIGNALED(st))
    return 128 + WTERMSIG(st);
  return -1;
}

std::string file_or_empty(const std::filesystem::path& p) {
  try {
    return read_file(p);
  } catch (...) {
    return {};
  }
}

std::string tail(const std::string& text, std::size_t max_lines) {
  std::size_t pos = text.size();
  std::size_t lines = 0;
  while (pos > 0) {
    auto nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    if (nl + 1 < text.size() && ++lines > max_lines) {
      pos = nl + 1;
      break;
    }
    pos = nl;
  }
  return text.substr(pos);
}

bool current_test_failed() {
  try {
    namespace utf = boost::unit_test;
    auto id = utf::framework::current_test_case().p_id;
    return !utf::results_collector.results(id).passed();
  } catch (...) {
    return false;
  }
}

} // namespace

std::string server_binary() {
#ifdef EPMPULSE_BINARY
  return EPMPULSE_BINARY;
#else
  const char* b = std::getenv("EPMPULSE_TEST_BINARY");
  return b ? b : "epmpulse";
#endif
}

// -- server_process -----------------------------------------------------------

server_process::server_process(server_options opts) : opts_(std::move(opts)) {
  start();
}

server_process::~server_process() {
  if (pid_ > 0 && !exit_code_) {
    try {
      stop();
    } catch (...) {
    }
  }
  if (current_test_failed()) {
    std::cerr << "---- server log (" << log_path_.string() << "), last lines ----\n"
              << tail(log_text(), 60) << "---- end of server log ----\n";
  }
}

void server_process::start() {
  const auto bin = server_binary();
  if (::access(bin.c_str(), X_OK) != 0)
    throw std::runtime_error("server binary not found or not executable: " + bin);
  ++runs_;
  // In the run's log directory when there is one, so integration.log_secrets
  // scans every server's output once the tests are done.
  log_path_ = new_log_path("stderr");
  auto out_path = new_log_path("stdout");
  if (log_path_.empty()) {
    log_path_ = log_dir_.file("stderr-" + std::to_string(runs_) + ".log");
    out_path = log_dir_.file("stdout-" + std::to_string(runs_) + ".log");
  }
  register_env_secrets(opts_.env);
  std::vector<std::string> argv{bin};
  if (opts_.default_args)
    argv.insert(argv.end(), {"--config", opts_.config_path.string(), "--data-dir",
                             opts_.data_dir.string(), "--host", "127.0.0.1", "--port", "0"});
  argv.insert(argv.end(), opts_.extra_args.begin(), opts_.extra_args.end());
  exit_code_.reset();
  base_url_.clear();
  port_ = 0;
  pid_ = spawn(argv, minimal_env(opts_.env), out_path, log_path_);

  const auto deadline = std::chrono::steady_clock::now() + opts_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto line = find_log("listening")) {
      const auto& f = (*line)["fields"];
      if (f.is_object() && f.contains("port") && f["port"].is_number_integer()) {
        port_ = static_cast<std::uint16_t>(f["port"].get<int>());
        if (f.contains("url") && f["url"].is_string())
          base_url_ = f["url"].get<std::string>();
        else
          base_url_ = "http://127.0.0.1:" + std::to_string(port_);
        // Tolerate a trailing slash in the announced url.
        while (!base_url_.empty() && base_url_.back() == '/')
          base_url_.pop_back();
        return;
      }
    }
    if (reap(false))
      throw std::runtime_error("server exited with code " + std::to_string(*exit_code_)
                               + " before listening; stderr:\n" + tail(log_text(), 40));
    std::this_thread::sleep_for(5ms);
  }
  auto log = log_text();
  kill();
  throw std::runtime_error("server did not log \"listening\" within "
                           + std::to_string(opts_.start_timeout.count()) + " ms; stderr:\n"
                           + tail(log, 40));
}

bool server_process::reap(bool block) {
  if (pid_ <= 0 || exit_code_)
    return exit_code_.has_value();
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exit_code_ = decode_status(st);
    return true;
  }
  return false;
}

bool server_process::running() {
  return pid_ > 0 && !reap(false);
}

void server_process::signal(int sig) {
  if (running())
    ::kill(pid_, sig);
}

std::optional<int> server_process::wait_exit(std::chrono::milliseconds timeout) {
  eventually([this] { return reap(false); }, timeout, 5ms);
  return exit_code_;
}

int server_process::stop() {
  if (!running())
    return exit_code_.value_or(-1);
  ::kill(pid_, SIGTERM);
  if (!wait_exit(opts_.stop_timeout)) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  return *exit_code_;
}

void server_process::kill() {
  if (!running())
    return;
  ::kill(pid_, SIGKILL);
  reap(true);
}

void server_process::restart() {
  stop();
  start();
}

std::string server_process::log_text() const {
  return file_or_empty(log_path_);
}

std::vector<nlohmann::json> server_process::log_lines() const {
  std::vector<nlohmann::json> out;
  std::istringstream in(log_text());
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object())
      out.push_back(std::move(j));
  }
  return out;
}

std::vector<std::string> server_process::non_json_log_lines() const {
  std::vector<std::string> out;
  std::istringstream in(log_text());
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      out.push_back(line);
  }
  return out;
}

std::optional<nlohmann::json> server_process::find_log(const std::string& message) const {
  for (auto& j : log_lines())
    if (j.contains("message") && j["message"] == message)
      return j;
  return std::nullopt;
}

// -- run_binary ---------------------------------------------------------------

run_result run_binary(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env,
                      std::chrono::milliseconds timeout) {
  temp_dir dir("epmpulse-run-");
  register_env_secrets(env);
  std::vector<std::string> argv{server_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = spawn(argv, minimal_env(env), dir.file("stdout"), dir.file("stderr"));
  run_result result;
  int st = 0;
  bool done = eventually(
    [&] {
      pid_t r = ::waitpid(pid, &st, WNOHANG);
      return r == pid;
    },
    timeout, 5ms);
  if (done) {
    result.exit_code = decode_status(st);
  } else {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &st, 0);
    result.exit_code = -1;
  }
  result.out = file_or_empty(dir.file("stdout"));
  result.err = file_or_empty(dir.file("stderr"));
  for (const auto& [what, text] : {std::pair{"run-stdout", &result.out}, std::pair{"run-stderr", &result.err}})
    if (auto keep = new_log_path(what); !keep.empty())
      write_file(keep, *text);
  return result;
}

} // namespace epmpulse::test
