#pragma once
/// \file
/// Where and when, as records and sweep logs write them: the host's name and the UTC time
/// (ISO 8601, seconds). One definition for the experiments and the sweep tool.
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>

namespace w2s {

/// The current UTC time, e.g. "2026-12-05T17:20:00Z".
inline std::string utc_now() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// This machine's host name ("" if it has none).
inline std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace w2s
