#pragma once
/// \file
/// Header-only or compiled: how the engine's non-template code is built
/// (docs/architecture.md, "What is compiled, what stays a template").
///
/// - **Header-only** (the default, `#include <w2s.hpp>` and link `w2s::w2s`): every function
///   is defined in its header, `inline`, and every translation unit that uses it compiles it.
/// - **Compiled** (link `w2s::engine`, which defines `W2S_COMPILED_ENGINE` for its users): the
///   headers only declare the engine's functions that depend on no policy (checkpoint
///   readers, models, pretraining, ...), and the library, built from `src/engine.cpp` and
///   `src/engine_models.cpp` (which define `W2S_ENGINE_SOURCE`), defines them once. An
///   experiment file then compiles its own policies' templates and little else.
///
/// A header marks such a function `W2S_ENGINE_INLINE` at its declaration and definition, and
/// puts the definitions in a block `#if W2S_ENGINE_DEFINES(part) ... #endif`, where `part` says
/// which of the engine's sources compiles them, so that the two compile side by side:
/// `W2S_ENGINE_PART_MODELS` (`models/` and the checkpoint readers of `io/`: src/engine_models.cpp)
/// or `W2S_ENGINE_PART_CORE` (everything else: src/engine.cpp). Each engine source defines
/// `W2S_ENGINE_PART` as its part before it includes anything of w2s.
#define W2S_ENGINE_PART_CORE 1
#define W2S_ENGINE_PART_MODELS 2
#if defined(W2S_COMPILED_ENGINE)
#define W2S_ENGINE_INLINE
#if defined(W2S_ENGINE_SOURCE)
#if !defined(W2S_ENGINE_PART)
#error "an engine source (W2S_ENGINE_SOURCE) defines W2S_ENGINE_PART before it includes w2s (core/engine.hpp)"
#endif
#define W2S_ENGINE_DEFINES(part) (W2S_ENGINE_PART == (part))
#else
#define W2S_ENGINE_DEFINES(part) 0
#endif
#else
#define W2S_ENGINE_INLINE inline
#define W2S_ENGINE_DEFINES(part) 1
#endif

namespace w2s {
/// Whether this translation unit sees the engine as a compiled library (true) or header-only.
inline constexpr bool compiled_engine =
#if defined(W2S_COMPILED_ENGINE)
    true;
#else
    false;
#endif
}  // namespace w2s
