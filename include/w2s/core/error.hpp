#pragma once
/// \file
/// The one exception type of w2s and the check helper that throws it.
///
/// Every configuration, data, shape or device problem surfaces as a w2s::Error
/// whose message names the place (file, line, field or option) and what was
/// expected. Experiment binaries print it on one line and exit non-zero; the
/// library itself never calls exit().
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace w2s {

/// A problem a researcher can act on: the message says where and what was expected.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

/// Throws w2s::Error with the concatenated message parts when `condition` is false.
/// Example: `check(n > 0, "--seeds: expected at least one seed, got '", text, "'");`
template <class... Parts>
void check(bool condition, Parts&&... parts) {
  if (!condition) throw Error(detail::concat(std::forward<Parts>(parts)...));
}

/// The first line of `what`: LibTorch's c10::Error appends a C++ backtrace.
inline std::string first_line(const std::string& what) { return what.substr(0, what.find('\n')); }

/// Throws w2s::Error with the concatenated message parts.
template <class... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(detail::concat(std::forward<Parts>(parts)...));
}

}  // namespace w2s
