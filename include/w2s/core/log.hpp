#pragma once
/// \file
/// Progress lines on standard error, so long stages show they are alive.
#include <chrono>
#include <iostream>
#include <string>

#include "w2s/core/error.hpp"

namespace w2s {

/// Prints `[prefix +12.3s] message` lines on stderr unless quiet.
class Log {
 public:
  explicit Log(std::string prefix = "w2s", bool quiet = false)
      : prefix_(std::move(prefix)), quiet_(quiet), start_(std::chrono::steady_clock::now()) {}

  template <class... Parts>
  void operator()(Parts&&... parts) const {
    if (quiet_) return;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, " +%.1fs] ", t);
    std::cerr << "[" << prefix_ << stamp << detail::concat(std::forward<Parts>(parts)...) << std::endl;
  }
  [[nodiscard]] bool quiet() const { return quiet_; }

 private:
  std::string prefix_;
  bool quiet_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace w2s
