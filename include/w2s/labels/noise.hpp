#pragma once
/// \file
/// Ground truth with errors of other structure at the weak supervisor's own
/// error rate (paper appendix, Fig. 26): placed uniformly at random
/// ("unsimulable" noise), or on the longest / shortest inputs, or where the
/// strong ceiling is least confident.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <string>

#include "w2s/core/seeds.hpp"
#include "w2s/labels/label_source.hpp"
#include "w2s/labels/weak_labels.hpp"

namespace w2s {

/// How many transfer examples the weak supervisor gets wrong: the count of errors
/// every noise source reproduces.
inline int64_t weak_error_count(const LabelContext& c) {
  require_classes(c.splits.transfer_half, "label noise");
  return c.weak_transfer_probs.argmax(1).ne(c.splits.transfer_half.targets).sum().item<int64_t>();
}

/// Ground truth with the examples at `where` (int64 indices) given a wrong
/// class, uniformly among the others. Hard: one-hot. Soft: the (possibly wrong)
/// class gets the weak supervisor's mean confidence (mean max-probability on the
/// transfer half), the rest share what is left.
template <class Kind>
StudentData ground_truth_with_errors(const LabelContext& c, const at::Tensor& where, uint64_t salt) {
  const auto& t = c.splits.transfer_half;
  const int64_t k = t.classes;
  require_classes(t, "label noise");
  auto labels = t.targets.clone();
  if (where.numel() > 0) {
    auto gen = stream_generator(c.seed, Stream::label_errors, salt);
    // a shift of 1..k-1 classes: always a different class, uniform over the others
    const auto shift = at::randint(1, k, {where.numel()}, gen, at::TensorOptions().dtype(at::kLong));
    labels.index_put_({where}, labels.index_select(0, where).add(shift).remainder(k));
  }
  at::Tensor targets;
  if constexpr (std::is_same_v<Kind, Hard>) {
    targets = one_hot_targets(labels, k);
  } else {
    const double conf = c.weak_transfer_probs.amax(1).mean().item<double>();
    targets = at::full({t.size(), k}, (1.0 - conf) / double(k - 1), at::kFloat);
    targets.scatter_(1, labels.unsqueeze(1), conf);
  }
  return {t, targets, c.splits.test};
}

/// Errors on `weak_error_count` examples chosen uniformly at random.
template <class Kind = Soft>
struct RandomNoise {
  static constexpr std::string_view name = std::is_same_v<Kind, Soft> ? "random_noise_soft" : "random_noise_hard";
  StudentData make(const LabelContext& c) const {
    const int64_t n = c.splits.transfer_half.size();
    auto gen = stream_generator(c.seed, Stream::random_errors);
    const auto where = at::randperm(n, gen, at::kLong).slice(0, 0, weak_error_count(c));
    return ground_truth_with_errors<Kind>(c, where, 1);
  }
};

/// Where StructuredNoise puts its errors: a score per transfer example; the
/// highest-scoring `weak_error_count` examples get the errors.
struct Longest {
  static constexpr std::string_view name = "longest";
  static at::Tensor score(const LabelContext& c) { return example_length(c, name); }
  static at::Tensor example_length(const LabelContext& c, std::string_view who) {
    const auto& t = c.splits.transfer_half;
    check(t.length.defined(), "errors on the ", who, " inputs: dataset '", t.name,
          "' has no per-example length (images have ink, text has tokens)");
    return t.length.to(at::kDouble);
  }
};
struct Shortest {
  static constexpr std::string_view name = "shortest";
  static at::Tensor score(const LabelContext& c) { return -Longest::example_length(c, name); }
};
struct StrongUnconfident {
  static constexpr std::string_view name = "strong_unconfident";
  /// Low max-probability of the strong ceiling (trained on ground truth) = high score.
  static at::Tensor score(const LabelContext& c) {
    check(c.ceiling_transfer_probs.defined() && c.ceiling_transfer_probs.size(0) == c.splits.transfer_half.size(),
          "errors where the strong model is unconfident: the ceiling's predictions on the transfer half are missing");
    check(!c.ceiling_trained_on_transfer, "errors where the strong model is unconfident: the ceiling trained on the ",
          "transfer half (--ceiling-half transfer), so its confidence there is on its own training rows; use ",
          "--ceiling-half weak");
    return -c.ceiling_transfer_probs.amax(1).to(at::kDouble);
  }
};

/// Errors at the weak supervisor's rate, placed by `Where` (Longest, Shortest,
/// StrongUnconfident); ties broken at random. Soft labels as in RandomNoise.
template <class Where, class Kind = Soft>
struct StructuredNoise {
  static constexpr std::string_view name = Where::name;
  /// Ranking by the ceiling's confidence needs it held out (refused with --ceiling-half transfer).
  static constexpr bool needs_held_out_ceiling = std::is_same_v<Where, StrongUnconfident>;
  StudentData make(const LabelContext& c) const {
    const auto score = Where::score(c);
    const int64_t n = score.size(0);
    // a tiny random jitter breaks ties (e.g. equal ink counts) without reordering distinct scores
    auto gen = stream_generator(c.seed, Stream::error_ties);
    const auto jitter = at::rand({n}, gen, at::TensorOptions().dtype(at::kDouble)) * 1e-6;
    const auto ranks = (score + jitter * score.abs().max().clamp_min(1.0)).argsort(0, true);
    return ground_truth_with_errors<Kind>(c, ranks.slice(0, 0, weak_error_count(c)), 2);
  }
};

}  // namespace w2s
