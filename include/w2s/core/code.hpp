#pragma once
/// \file
/// The fingerprint of the code a binary was built from, embedded at build time by
/// `w2s_add_experiment` (cmake/w2sFingerprint.cmake): a hash of the library's headers, a
/// hash of the binary's own source file, the build type and compiler, and the git revision
/// of the source tree when the fingerprint was made. A binary built without
/// `w2s_add_experiment` has none: every field reads "unknown".
///
/// Run identities (experiment/identity.hpp) hold all of it; cache keys hold the library's
/// hash and the build (core/cache.hpp), so artefacts are shared between the experiment
/// binaries of one library version and never served to another.
#include <nlohmann/json.hpp>

#include <string>

extern "C" {
// Weak: defined by the generated file when there is one, else null.
extern const char w2s_code_library[] __attribute__((weak));
extern const char w2s_code_source[] __attribute__((weak));
extern const char w2s_code_build[] __attribute__((weak));
extern const char w2s_code_revision[] __attribute__((weak));
}

namespace w2s::code {

namespace detail {
inline std::string read(const char* embedded) { return embedded != nullptr ? embedded : "unknown"; }
}  // namespace detail

/// Hash of every header of the library (16 hex digits).
inline std::string library() { return detail::read(w2s_code_library); }
/// Hash of the binary's own source file (16 hex digits).
inline std::string source() { return detail::read(w2s_code_source); }
/// Build type, compiler and its version, e.g. "Release GNU 12.2.0".
inline std::string build() { return detail::read(w2s_code_build); }
/// `git describe --always --dirty` of the source tree when the fingerprint was made; informative
/// only (the hashes identify the code).
inline std::string revision() { return detail::read(w2s_code_revision); }

/// What identifies this binary's code: {library, source, build}.
inline nlohmann::json fingerprint() { return {{"library", library()}, {"source", source()}, {"build", build()}}; }

/// What identifies the library's code, for cache keys shared by every binary: {library, build}.
inline nlohmann::json library_fingerprint() { return {{"library", library()}, {"build", build()}}; }

}  // namespace w2s::code
