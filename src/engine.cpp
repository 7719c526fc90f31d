// The compiled engine (core/engine.hpp): every function the headers mark W2S_ENGINE_INLINE,
// defined once here, so that an experiment file linking w2s::engine compiles only its own
// policies' templates. CMake builds this file with W2S_COMPILED_ENGINE and W2S_ENGINE_SOURCE.
#if !defined(W2S_COMPILED_ENGINE) || !defined(W2S_ENGINE_SOURCE)
#error \
    "src/engine.cpp is the compiled engine: build it with W2S_COMPILED_ENGINE and W2S_ENGINE_SOURCE (target w2s::engine)"
#endif
#include <w2s.hpp>

#include "w2s/models/kinds.hpp"  // every built-in model kind: defined and registered here, once

// What every experiment of a task shares, instantiated once (the headers declare these extern).
template nlohmann::json w2s::seed_record<w2s::Classification>(const w2s::RecordParts&);
template nlohmann::json w2s::seed_record<w2s::Regression>(const w2s::RecordParts&);
template w2s::StageResult w2s::ground_truth_stage<w2s::Classification, w2s::FineTune>(const w2s::SeedState&,
                                                                                      const w2s::FineTune&,
                                                                                      const w2s::PretrainedBackbone&,
                                                                                      const w2s::Dataset&, bool,
                                                                                      const std::string&, bool);
