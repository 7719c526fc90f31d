#pragma once
/// \file
/// Atomic file writes: a run that dies leaves the old file or none, never half a file.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "w2s/core/error.hpp"

namespace w2s {

/// Writes a file by writing `<path>.tmp.<pid>` with `write` and renaming it over
/// `path`, so readers see either the old file or the whole new one.
inline void atomic_write(const std::filesystem::path& path,
                         const std::function<void(const std::filesystem::path&)>& write) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
    std::filesystem::rename(tmp, path);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

inline void atomic_write_text(const std::filesystem::path& path, const std::string& text) {
  atomic_write(path, [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.flush();
    check(out.good(), tmp.string(), ": write failed (disk full or read-only?)");
  });
}

}  // namespace w2s
