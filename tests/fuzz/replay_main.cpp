// Feeds files to a fuzz target's LLVMFuzzerTestOneInput, the way libFuzzer
// runs a corpus: the normal (g++) build replays the checked-in corpus and
// regressions through the same entry point without clang. Arguments are
// files or directories (their files, in name order). A broken invariant
// aborts inside the target; the file being fed is printed first.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs_in(const fs::path& arg) {
  std::vector<fs::path> out;
  if (fs::is_directory(arg)) {
    for (const auto& entry : fs::directory_iterator(arg))
      if (entry.is_regular_file() && entry.path().filename().string().front() != '.')
        out.push_back(entry.path());
    std::sort(out.begin(), out.end());
  } else if (fs::is_regular_file(arg)) {
    out.push_back(arg);
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t fed = 0;
  for (int i = 1; i < argc; ++i) {
    if (!fs::exists(argv[i])) {
      std::fprintf(stderr, "fuzz replay: %s does not exist\n", argv[i]);
      return 2;
    }
    for (const auto& input : inputs_in(argv[i])) {
      std::ifstream in{input, std::ios::binary};
      std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      std::fprintf(stderr, "fuzz replay: %s\n", input.c_str());
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++fed;
    }
  }
  if (fed == 0) {
    std::fprintf(stderr, "fuzz replay: no inputs\n");
    return 2;
  }
  std::printf("fuzz replay: %zu inputs, no invariant broken\n", fed);
  return 0;
}
