// The compiled engine's models (core/engine.hpp): every function the headers of models/ and io/
// mark W2S_ENGINE_INLINE (checkpoint readers, the backbones and their kinds, pretraining, the
// feature store, the ladder), defined once here, beside src/engine.cpp. The model kinds register
// from this object's static initialisers; it is always linked, since the registry is defined here
// too (models/model_kind.hpp). CMake builds this file with W2S_COMPILED_ENGINE and W2S_ENGINE_SOURCE.
#if !defined(W2S_COMPILED_ENGINE) || !defined(W2S_ENGINE_SOURCE)
#error \
    "src/engine_models.cpp is the compiled engine: build it with W2S_COMPILED_ENGINE and W2S_ENGINE_SOURCE (target w2s::engine)"
#endif
#define W2S_ENGINE_PART W2S_ENGINE_PART_MODELS
#include <w2s.hpp>

#include "w2s/models/kinds.hpp"  // every built-in model kind: defined and registered here, once
