#pragma once

// A real directory under $TMPDIR (or /tmp) for one test, removed with all its
// contents when the object goes away.

#include <filesystem>
#include <string>

namespace epmpulse::test {

class temp_dir {
public:
  /// Creates "<tmp>/<prefix>XXXXXX" with mkdtemp; throws on failure.
  explicit temp_dir(const std::string& prefix = "epmpulse-test-");
  ~temp_dir();

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  temp_dir(temp_dir&& other) noexcept;
  temp_dir& operator=(temp_dir&& other) noexcept;

  const std::filesystem::path& path() const { return path_; }

  /// `path() / name` (not created).
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

  /// Creates `path() / name` as a directory (and parents) and returns it.
  std::filesystem::path make_subdir(const std::string& name) const;

private:
  std::filesystem::path path_;
};

/// Whole file as a string; throws when it cannot be read.
std::string read_file(const std::filesystem::path& p);

/// Writes (truncates) `p` with `text`; throws on failure.
void write_file(const std::filesystem::path& p, const std::string& text);

} // namespace epmpulse::test
