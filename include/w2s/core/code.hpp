#pragma once
/// \file
/// The fingerprint of the code a binary was built from, embedded at build time by
/// `w2s_add_experiment` (cmake/w2sFingerprint.cmake): a hash of the library's headers, a
/// hash of the binary's own source file, the build type and compiler; and where the build keeps
/// the git revision of the source tree (cmake/w2sRevision.cmake), read at run time so that a
/// commit that changes no code relinks nothing. A binary built without `w2s_add_experiment` has
/// none: every field reads "unknown".
///
/// Run identities (experiment/identity.hpp) hold all of it; cache keys hold the library's
/// hash and the build (core/cache.hpp), so artefacts are shared between the experiment
/// binaries of one library version and never served to another; the per-text features of a
/// checkpoint hold the models' hash instead (models_fingerprint), a hash of the part of the library
/// that computes them.
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

extern "C" {
// Weak: defined by the generated file when there is one, else null.
extern const char w2s_code_library[] __attribute__((weak));
extern const char w2s_code_models[] __attribute__((weak));
extern const char w2s_code_source[] __attribute__((weak));
extern const char w2s_code_build[] __attribute__((weak));
extern const char w2s_code_revision_file[] __attribute__((weak));
}

namespace w2s::code {

namespace detail {
inline std::string read(const char* embedded) { return embedded != nullptr ? embedded : "unknown"; }
}  // namespace detail

/// Hash of every header of the library (16 hex digits).
inline std::string library() { return detail::read(w2s_code_library); }
/// Hash of the part of the library that the features of a pretrained checkpoint depend on (16 hex
/// digits): the models, their checkpoint readers, the batched forward and the core they include
/// (W2S_MODEL_CODE in cmake/w2sExperiment.cmake). "unknown" in a binary without a fingerprint.
inline std::string models() { return detail::read(w2s_code_models); }
/// Hash of the binary's own source file (16 hex digits).
inline std::string source() { return detail::read(w2s_code_source); }
/// Build type, compiler and its version, e.g. "Release GNU 12.2.0".
inline std::string build() { return detail::read(w2s_code_build); }
/// `git describe --always --dirty` of the source tree at the last build, read from the file the
/// build keeps it in; informative only (the hashes identify the code). "unknown" without one.
inline std::string revision() {
  if (w2s_code_revision_file == nullptr) return "unknown";
  std::ifstream in(w2s_code_revision_file);
  std::string line;
  if (!in || !std::getline(in, line)) return "unknown";
  return line;
}

/// What identifies this binary's code: {library, source, build}.
inline nlohmann::json fingerprint() { return {{"library", library()}, {"source", source()}, {"build", build()}}; }

/// What identifies the library's code, for cache keys shared by every binary: {library, build}.
inline nlohmann::json library_fingerprint() { return {{"library", library()}, {"build", build()}}; }

/// What identifies the models' code, for the per-text feature store (models/feature_store.hpp):
/// {models, build}. A binary whose library differs only outside the models reads the same features.
inline nlohmann::json models_fingerprint() { return {{"models", models()}, {"build", build()}}; }

}  // namespace w2s::code
