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
    std::string what = e.what();
    if (const auto nl = what.find('\n'); nl != std::string::npos && dynamic_cast<const Error*>(&e) == nullptr)
      what = what.substr(0, nl);  // LibTorch's c10::Error appends a C++ backtrace
    std::cerr << name << ": error: " << what << std::endl;
    return 1;
  }
}

}  // namespace w2s
