#pragma once
/// \file
/// Every random stream a run draws from its seed, in one table: how each stream's generator
/// seed derives from the run's `--seeds` value. Streams stay apart by their multipliers (primes
/// or other odd constants); a new stream gets a row here, with a multiplier no other uses, and
/// never an ad-hoc `seed * k + c` at its call site. The values are the ones each call site used
/// before this table existed, so records made since then are reproduced exactly.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include <cstdint>

namespace w2s {

enum class Stream {
  train_order,      ///< the trainer's shuffle of each epoch (train/trainer.hpp)
  val_holdout,      ///< --val-fraction: the rows held out for early stopping (train/callbacks.hpp)
  cross_fit_folds,  ///< bootstrapping: the halves of one step (`extra`: the step; experiment/method.hpp)
  backbone_init,    ///< a ladder size without pretraining: its per-seed initialisation (models/pretrain.hpp)
  label_errors,     ///< the classes ground truth is moved to (`extra`: the label source's salt; labels/noise.hpp)
  random_errors,    ///< which examples random noise corrupts (labels/noise.hpp)
  error_ties,       ///< the jitter that breaks ties among structured errors' scores (labels/noise.hpp)
  demonstrations,   ///< few-shot demonstrations and their order (students/few_shot.hpp)
  misfit_data,      ///< the synthetic data of the misfit theory (theory/misfit.hpp)
  label_free_starts,  ///< the k-means++ starts of the label-free baseline (metrics/label_free.hpp)
  label_cleaning,     ///< the random filter's choice of rows to drop (labels/cleaned.hpp)
};

/// The generator seed of `stream` for run seed `seed` (`extra`: the stream's own index, where it has one).
constexpr uint64_t stream_seed(uint64_t seed, Stream stream, uint64_t extra = 0) {
  switch (stream) {
    case Stream::train_order: return seed * 1000003ull + 17;
    case Stream::val_holdout: return seed * 7919ull + 3;
    case Stream::cross_fit_folds: return seed * 1000003ull + extra * 7919ull + 11;
    case Stream::backbone_init: return seed * 1000003ull + 1234;
    case Stream::label_errors: return seed * 7919ull + extra;
    case Stream::random_errors: return seed * 104729ull + 3;
    case Stream::error_ties: return seed * 15485863ull + 5;
    case Stream::demonstrations: return seed * 31337ull + 11;
    case Stream::misfit_data: return seed * 2654435761ull + 1;
    case Stream::label_free_starts: return seed * 6700417ull + 7;
    case Stream::label_cleaning: return seed * 2147483647ull + 13;
  }
  return seed;  // unreachable: every stream has its row
}

/// A CPU generator for `stream` of run seed `seed`.
inline at::Generator stream_generator(uint64_t seed, Stream stream, uint64_t extra = 0) {
  return at::make_generator<at::CPUGeneratorImpl>(stream_seed(seed, stream, extra));
}

}  // namespace w2s
