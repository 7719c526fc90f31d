#pragma once
/// \file
/// The library's version, recorded in every result.
#include <torch/version.h>

#define W2S_VERSION "0.1.0"
