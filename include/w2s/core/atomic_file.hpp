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

/// Creates `dir` if needed and proves it writable by creating and removing a file in
/// it, so that a run finds a bad --out or --cache-dir before its work, not after.
inline void check_writable_dir(const std::filesystem::path& dir, const std::string& option) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  check(!ec, option, ": cannot create directory '", dir.string(), "': ", ec.message());
  check(std::filesystem::is_directory(dir), option, ": '", dir.string(), "' is not a directory");
  const auto probe = dir / (".w2s-write-test." + std::to_string(::getpid()));
  bool ok = false;
  {
    std::ofstream out(probe, std::ios::binary);
    out << "w2s\n";
    out.flush();
    ok = out.good();
  }
  std::filesystem::remove(probe, ec);
  check(ok, option, ": directory '", dir.string(), "' is not writable");
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
