#pragma once
/// \file
/// The configuration keys that cannot change a result (experiment/identity.hpp leaves them out
/// of a run's identity; the report leaves them out of an older record's configuration). Free of
/// LibTorch, for w2s_report. tools/w2s_placement.py is the Python tools' copy, checked against
/// this one by tests/experiment/identity_test.cpp.
#include <set>
#include <string>

namespace w2s {

/// Seeds (the identity is per seed through `RunIdentity::run`), where records, cache and data
/// live, logging, and what to do on divergence. `threads` is here because the identity holds
/// the count actually used instead.
inline const std::set<std::string>& placement_keys() {
  static const std::set<std::string> keys{"seeds",    "out",   "cache_dir",     "data_dir", "config",
                                          "no_cache", "quiet", "on_divergence", "threads"};
  return keys;
}

}  // namespace w2s
