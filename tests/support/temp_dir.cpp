#include "tests/support/temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace epmpulse::test {

temp_dir::temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    throw std::runtime_error("mkdtemp(" + pattern + ") failed: " + std::strerror(errno));
  path_ = buf.data();
}

temp_dir::~temp_dir() {
  if (path_.empty())
    return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

temp_dir::temp_dir(temp_dir&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

temp_dir& temp_dir::operator=(temp_dir&& other) noexcept {
  if (this != &other) {
    std::error_code ignored;
    if (!path_.empty())
      std::filesystem::remove_all(path_, ignored);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

std::filesystem::path temp_dir::make_subdir(const std::string& name) const {
  auto p = path_ / name;
  std::filesystem::create_directories(p);
  return p;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read " + p.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  if (!out)
    throw std::runtime_error("cannot write " + p.string());
  out << text;
  out.flush();
  if (!out)
    throw std::runtime_error("short write to " + p.string());
}

} // namespace epmpulse::test
