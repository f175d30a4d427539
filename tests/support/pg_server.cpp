#include "tests/support/pg_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "tests/support/log_secrets.hpp"

namespace epmpulse::test {

namespace fs = std::filesystem;

namespace {

const char* const pg_user = "nobody";

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

/// Runs `command` through sh as `nobody`; returns its output, throws with it
/// when the exit code is not 0.
std::string run_as_pg_user(const std::string& command) {
  const std::string full = "runuser -u " + std::string(pg_user) + " -- sh -c " + shell_quoted(command) + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr)
    throw std::runtime_error("cannot run: " + command);
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0)
    out.append(buf.data(), n);
  const int rc = ::pclose(pipe);
  if (rc != 0)
    throw std::runtime_error("failed (" + std::to_string(rc) + "): " + command + "\n" + out);
  return out;
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
      || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("no free loopback port");
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string random_password() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  const char* alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out = "pgpw-";
  for (int i = 0; i < 24; ++i)
    out += alphabet[gen() % 62];
  return out;
}

} // namespace

std::string postgres_bin_dir() {
  const fs::path root = "/usr/lib/postgresql";
  std::error_code ec;
  std::string best;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const auto bin = e.path() / "bin";
    if (fs::exists(bin / "initdb") && fs::exists(bin / "pg_ctl") && bin.string() > best)
      best = bin.string();
  }
  return best;
}

pg_server::pg_server() : bin_(postgres_bin_dir()), password_(random_password()) {
  if (bin_.empty())
    throw std::runtime_error(
      "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
      "run `scripts/install-deps.sh test` (it installs the postgresql package)");
  register_secret(password_);
  // nobody owns the cluster's directory; the temp dir itself is 0700 root.
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  const auto work = dir_.make_subdir("pg");
  run_as_pg_user("true");
  if (::system(("chown " + std::string(pg_user) + " " + shell_quoted(work.string())).c_str()) != 0)
    throw std::runtime_error("cannot chown the PostgreSQL temp dir to nobody");
  const auto pwfile = work / "pwfile";
  write_file(pwfile, password_);
  fs::permissions(pwfile, fs::perms::owner_read | fs::perms::owner_write);
  if (::system(("chown " + std::string(pg_user) + " " + shell_quoted(pwfile.string())).c_str()) != 0)
    throw std::runtime_error("cannot chown the PostgreSQL password file to nobody");
  run_as_pg_user(bin_ + "/initdb -D " + shell_quoted((work / "data").string()) +
                 " -U epmpulse -A scram-sha-256 --pwfile=" + shell_quoted(pwfile.string()) +
                 " -E UTF8 --no-sync");
  run_as_pg_user("mv " + shell_quoted(pwfile.string()) + " " + shell_quoted((work / "password").string()));
  port_ = free_loopback_port();
  start();
}

pg_server::~pg_server() {
  try {
    stop();
  } catch (...) {
  }
}

void pg_server::start() {
  const auto work = dir_.path() / "pg";
  run_as_pg_user(bin_ + "/pg_ctl -D " + shell_quoted((work / "data").string()) + " -l " +
                 shell_quoted((work / "server.log").string()) + " -w -t 30 -o " +
                 shell_quoted("-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) +
                        " -k " + work.string() + " -c fsync=off") +
                 " start");
  running_ = true;
}

void pg_server::stop() {
  if (!running_)
    return;
  running_ = false;
  run_as_pg_user(bin_ + "/pg_ctl -D " + shell_quoted((dir_.path() / "pg" / "data").string()) +
                 " -m fast -w -t 30 stop");
}

std::string pg_server::url() const {
  return "postgresql://epmpulse:" + password_ + "@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

std::string pg_server::psql(const std::string& sql) const {
  // The password through the environment: a failure message quotes the command.
  auto out = run_as_pg_user("PGPASSWORD=\"$(cat " + shell_quoted((dir_.path() / "pg" / "password").string()) +
                            ")\" " + bin_ + "/psql -X -A -t -q -h 127.0.0.1 -p " + std::to_string(port_) +
                            " -U epmpulse -d postgres -c " + shell_quoted(sql));
  // psql ends its answer with a newline: a single value compares as itself.
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

} // namespace epmpulse::test
