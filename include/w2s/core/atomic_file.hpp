#pragma once
/// \file
/// Atomic file writes: a run that dies leaves the old file or none, never half a file.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"

namespace w2s {

/// Writes a file by writing `<path>.tmp.<pid>` with `write` and renaming it over
/// `path`, so readers see either the old file or the whole new one.
W2S_ENGINE_INLINE void atomic_write(const std::filesystem::path& path,
                                    const std::function<void(const std::filesystem::path&)>& write);

/// Creates `dir` if needed and proves it writable by creating and removing a file in
/// it, so that a run finds a bad --out or --cache-dir before its work, not after.
W2S_ENGINE_INLINE void check_writable_dir(const std::filesystem::path& dir, const std::string& option);

W2S_ENGINE_INLINE void atomic_write_text(const std::filesystem::path& path, const std::string& text);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE void atomic_write(const std::filesystem::path& path,
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

W2S_ENGINE_INLINE void check_writable_dir(const std::filesystem::path& dir, const std::string& option) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  check(ec.value() != ENOSPC, option, ": no space left on the device to create directory '", dir.string(), "'");
  check(!ec, option, ": cannot create directory '", dir.string(), "': ", ec.message());
  check(std::filesystem::is_directory(dir), option, ": '", dir.string(), "' is not a directory");
  const auto probe = dir / (".w2s-write-test." + std::to_string(::getpid()));
  // POSIX calls, not a stream: the error number tells a full disk from a read-only directory.
  int error = 0;
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    error = errno;
  } else {
    const std::string probe_text = "w2s\n";
    if (::write(fd, probe_text.data(), probe_text.size()) != static_cast<ssize_t>(probe_text.size()))
      error = errno ? errno : ENOSPC;
    if (::fsync(fd) != 0 && !error) error = errno;
    if (::close(fd) != 0 && !error) error = errno;
  }
  std::filesystem::remove(probe, ec);
  check(error != ENOSPC && error != EDQUOT, option, ": no space left on the device of '", dir.string(),
        "' (writing a test file failed: ", std::strerror(error), "); free some space or choose another ",
        option);
  check(error == 0, option, ": directory '", dir.string(), "' is not writable (", std::strerror(error), ")");
}

W2S_ENGINE_INLINE void atomic_write_text(const std::filesystem::path& path, const std::string& text) {
  atomic_write(path, [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.flush();
    check(out.good(), tmp.string(), ": write failed (disk full or read-only?)");
  });
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
