#pragma once
/// \file
/// The error boundary of every binary: any exception becomes one line on stderr,
/// `<name>: error: <what>`, and exit status 1. No LibTorch needed.
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "w2s/core/error.hpp"

namespace w2s {

/// Runs `body` (returning the exit status); reports an exception as one line.
template <class Body>
int guarded_main(std::string_view name, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    const std::string what = dynamic_cast<const Error*>(&e) ? std::string(e.what()) : first_line(e.what());
    std::cerr << name << ": error: " << what << std::endl;
    return 1;
  }
}

}  // namespace w2s
