#pragma once
/// \file
/// Process set-up measured to matter on CPU (DEVELOPERS.md, "The machine"):
/// the OpenMP wait policy, malloc thresholds, and explicit thread counts; and the
/// library versions every record carries (the code's fingerprint: core/code.hpp).
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <boost/version.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/version.hpp"

namespace w2s::runtime {

/// LibTorch's OpenMP threads and OpenBLAS's own threads spin while waiting for
/// each other; with both at 2 threads an MLP step ran 3× slower here than with
/// OMP_WAIT_POLICY=PASSIVE (bench/ladder_bench). libgomp reads the variable
/// only when it loads, so the binary re-executes itself once with it set.
/// Returns normally when the policy is already set or re-execution failed.
W2S_ENGINE_INLINE void ensure_passive_openmp(char** argv);

/// glibc's default mmap/trim thresholds return large tensors to the kernel after
/// every step and fault them back in: measured ~2× slower training here.
W2S_ENGINE_INLINE void tune_malloc();

/// Sets LibTorch's intra-op threads and, when the BLAS is OpenBLAS, its threads
/// too. `threads <= 0` means all cores. Returns the count in force.
W2S_ENGINE_INLINE int set_threads(int threads);

/// The BLAS in use: OpenBLAS's config string, or "reference BLAS (slow)".
W2S_ENGINE_INLINE std::string blas_name();

/// The libraries a result depends on, with their versions (and the BLAS in use).
W2S_ENGINE_INLINE nlohmann::json versions();

/// Wall-clock seconds since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE void ensure_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  ::execv("/proc/self/exe", argv);  // only returns on failure: run on, just slower
}

W2S_ENGINE_INLINE void tune_malloc() {
  ::mallopt(M_MMAP_THRESHOLD, 1 << 30);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

W2S_ENGINE_INLINE int set_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  using SetFn = void (*)(int);
  if (auto f = reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(threads);
  return threads;
}

W2S_ENGINE_INLINE std::string blas_name() {
  using ConfFn = char* (*)();
  if (auto f = reinterpret_cast<ConfFn>(::dlsym(RTLD_DEFAULT, "openblas_get_config"))) return std::string("OpenBLAS ") + f();
  return "not OpenBLAS (reference BLAS is ~30x slower: apt-get install libopenblas0)";
}

W2S_ENGINE_INLINE nlohmann::json versions() {
  return {{"w2s", W2S_VERSION},
          {"libtorch", TORCH_VERSION},
          {"boost", BOOST_LIB_VERSION},
          {"nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                                std::to_string(NLOHMANN_JSON_VERSION_PATCH)},
          {"compiler", __VERSION__},
          {"blas", blas_name()}};
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s::runtime
