// The compiled engine's core (core/engine.hpp): every function the headers mark W2S_ENGINE_INLINE
// in a W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE) block (command line, caches, data, training, the
// protocol and its records), defined once here; src/engine_models.cpp defines the models beside it,
// so the two compile in parallel. An experiment file linking w2s::engine compiles only its own
// policies' templates. CMake builds this file with W2S_COMPILED_ENGINE and W2S_ENGINE_SOURCE.
#if !defined(W2S_COMPILED_ENGINE) || !defined(W2S_ENGINE_SOURCE)
#error \
    "src/engine.cpp is the compiled engine: build it with W2S_COMPILED_ENGINE and W2S_ENGINE_SOURCE (target w2s::engine)"
#endif
#define W2S_ENGINE_PART W2S_ENGINE_PART_CORE
#include <w2s.hpp>

// What every experiment of a task shares, instantiated once (the headers declare these extern).
template nlohmann::json w2s::seed_record<w2s::Classification>(const w2s::RecordParts&);
template nlohmann::json w2s::seed_record<w2s::Regression>(const w2s::RecordParts&);
template w2s::StageResult w2s::ground_truth_stage<w2s::Classification, w2s::FineTune>(const w2s::SeedState&,
                                                                                      const w2s::FineTune&,
                                                                                      const w2s::PretrainedBackbone&,
                                                                                      const w2s::Dataset&, bool,
                                                                                      const std::string&, bool);
