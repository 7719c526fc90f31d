#pragma once
/// \file
/// The paper's measures: accuracy, ROC AUC (binary tasks), PGR, and
/// student–supervisor agreement (paper Fig. 8), from predictions on the test set.
#include <ATen/ATen.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"

namespace w2s::metrics {

/// Share of rows of `probs` (N×C) whose argmax equals `labels` (N int64).
W2S_ENGINE_INLINE double accuracy(const at::Tensor& probs, const at::Tensor& labels);

/// Regression targets are real-valued; classification targets are int64 class ids.
/// Per test example, whether argmax(probs) is the label, packed as hexadecimal digits
/// (4 examples each, the first in the highest bit; the last digit padded with zeros): what
/// the report's two-level bootstrap resamples (report/aggregate.hpp, decode_correct).
W2S_ENGINE_INLINE std::string correct_hex(const at::Tensor& probs, const at::Tensor& labels);

/// Whether `targets` are regression targets, read from their dtype: the rule every loaded dataset
/// is checked against (Dataset::regression, fingerprint_bundle).
inline bool is_regression(const at::Tensor& targets) { return at::isFloatingType(targets.scalar_type()); }

/// Mean squared error of `predictions` (N×k) against real `targets` (N×k), over all entries.
W2S_ENGINE_INLINE double mse(const at::Tensor& predictions, const at::Tensor& targets);

/// The number every comparison uses (curves, best step, PGR): accuracy for
/// classification, −MSE for regression, so that higher is better in both and
/// PGR = (err_weak − err_student) / (err_weak − err_ceiling) for regression.
inline double score(const at::Tensor& predictions, const at::Tensor& targets) {
  return is_regression(targets) ? -mse(predictions, targets) : accuracy(predictions, targets);
}

/// ROC AUC of `scores` (higher = class 1) against binary `labels`: the chance that
/// a random positive outscores a random negative, ties counting ½ (Mann–Whitney U
/// with mid-ranks). NaN when one class is absent.
W2S_ENGINE_INLINE double roc_auc(const at::Tensor& scores, const at::Tensor& labels);

/// ROC AUC of the class-1 probability for binary tasks; nullopt otherwise.
W2S_ENGINE_INLINE std::optional<double> binary_auc(const at::Tensor& probs, const at::Tensor& labels);

/// Performance gap recovered (paper §3): (student − weak) / (ceiling − weak).
/// nullopt when the ceiling is not above the weak model (openai drops such pairs).
inline std::optional<double> pgr(double weak, double student, double ceiling) {
  if (!(ceiling > weak)) return std::nullopt;
  return (student - weak) / (ceiling - weak);
}

/// Share of test inputs where the student predicts what the supervisor predicts,
/// overall and on the inputs the supervisor gets right / wrong (paper Fig. 8).
struct Agreement {
  double all = NAN, supervisor_right = NAN, supervisor_wrong = NAN;
};

W2S_ENGINE_INLINE Agreement agreement(const at::Tensor& student_probs, const at::Tensor& weak_probs,
                                      const at::Tensor& labels);

/// How sure a classifier is and whether it should be (issue 21: a supervisor whose soft labels
/// sit near uniform hands the aux loss little besides the student's own prediction).
struct Calibration {
  double mean_confidence = NAN;  ///< mean max-probability
  /// mean max-probability − 1/C: 0 for uniform predictions, 1 − 1/C for one-hot ones; for two
  /// classes the mean |p − 0.5|
  double mean_margin = NAN;
  /// expected calibration error: |accuracy − mean confidence| per bin of max-probability,
  /// weighted by the bin's share of rows
  double ece = NAN;
};

/// Calibration of `probs` (N×C, rows summing to 1) against `labels` (N class ids), `bins`
/// equal-width bins of the max-probability over [0, 1] (a bin holds (lo, hi], the first [0, hi]).
W2S_ENGINE_INLINE Calibration calibration(const at::Tensor& probs, const at::Tensor& labels, int64_t bins = 15);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE double accuracy(const at::Tensor& probs, const at::Tensor& labels) {
  check(probs.size(0) == labels.size(0), "accuracy: ", probs.size(0), " predictions for ", labels.size(0), " labels");
  return probs.argmax(1).eq(labels).to(at::kDouble).mean().item<double>();
}

W2S_ENGINE_INLINE Calibration calibration(const at::Tensor& probs, const at::Tensor& labels, int64_t bins) {
  check(probs.dim() == 2 && labels.dim() == 1 && probs.size(0) == labels.size(0) && probs.size(0) > 0,
        "calibration: ", probs.sizes(), " predictions for ", labels.sizes(), " labels");
  check(bins >= 1, "calibration: bins must be >= 1, got ", bins);
  const auto p = probs.to(at::kDouble);
  const auto [conf, pred] = p.max(1);
  const auto right = pred.eq(labels).to(at::kDouble);
  const double n = static_cast<double>(p.size(0));
  Calibration c;
  c.mean_confidence = conf.mean().item<double>();
  c.mean_margin = c.mean_confidence - 1.0 / static_cast<double>(p.size(1));
  // bin b holds confidences in (b/bins, (b+1)/bins]; a confidence of exactly 0 goes to bin 0
  const auto bin = (conf * static_cast<double>(bins)).ceil().sub(1).clamp(0, bins - 1).to(at::kLong);
  const auto conf_sum = at::zeros({bins}, at::kDouble).index_add_(0, bin, conf);
  const auto right_sum = at::zeros({bins}, at::kDouble).index_add_(0, bin, right);
  c.ece = (conf_sum - right_sum).abs().sum().item<double>() / n;  // Σ_b n_b/n · |conf_b − acc_b|
  return c;
}

W2S_ENGINE_INLINE std::string correct_hex(const at::Tensor& probs, const at::Tensor& labels) {
  const auto ok = probs.argmax(1).eq(labels).to(at::kByte).contiguous().cpu();
  const auto* v = ok.data_ptr<uint8_t>();
  const int64_t n = ok.numel();
  std::string out(static_cast<size_t>((n + 3) / 4), '0');
  for (int64_t i = 0; i < n; ++i)
    if (v[i]) {
      auto& c = out[static_cast<size_t>(i / 4)];
      const int digit = (c <= '9' ? c - '0' : c - 'a' + 10) | (1 << (3 - i % 4));
      c = static_cast<char>(digit < 10 ? '0' + digit : 'a' + digit - 10);
    }
  return out;
}

W2S_ENGINE_INLINE double mse(const at::Tensor& predictions, const at::Tensor& targets) {
  check(predictions.sizes() == targets.sizes(), "mse: predictions of shape ", predictions.sizes(), " for targets of shape ",
        targets.sizes());
  return (predictions.to(at::kDouble) - targets.to(at::kDouble)).pow(2).mean().item<double>();
}

W2S_ENGINE_INLINE double roc_auc(const at::Tensor& scores, const at::Tensor& labels) {
  const auto s = scores.to(at::kDouble).contiguous();
  const auto y = labels.to(at::kLong).contiguous();
  const int64_t n = s.size(0);
  const auto order = s.argsort();
  const auto* sv = s.data_ptr<double>();
  const auto* ov = order.data_ptr<int64_t>();
  const auto* yv = y.data_ptr<int64_t>();
  double rank_sum = 0;
  int64_t pos = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j + 1 < n && sv[ov[j + 1]] == sv[ov[i]]) ++j;
    const double mid = 0.5 * double(i + j) + 1.0;  // 1-based mid-rank of the tie group
    for (int64_t k = i; k <= j; ++k)
      if (yv[ov[k]] == 1) rank_sum += mid, ++pos;
    i = j + 1;
  }
  const int64_t neg = n - pos;
  if (pos == 0 || neg == 0) return NAN;
  return (rank_sum - double(pos) * double(pos + 1) / 2.0) / (double(pos) * double(neg));
}

W2S_ENGINE_INLINE std::optional<double> binary_auc(const at::Tensor& probs, const at::Tensor& labels) {
  if (probs.size(1) != 2 || is_regression(labels)) return std::nullopt;
  return roc_auc(probs.select(1, 1), labels);
}

W2S_ENGINE_INLINE Agreement agreement(const at::Tensor& student_probs, const at::Tensor& weak_probs,
                                      const at::Tensor& labels) {
  const auto s = student_probs.argmax(1), w = weak_probs.argmax(1);
  const auto same = s.eq(w).to(at::kDouble);
  const auto right = w.eq(labels);
  const auto mean_where = [&](const at::Tensor& mask) {
    const auto count = mask.sum().item<int64_t>();
    return count == 0 ? NAN : same.masked_select(mask).mean().item<double>();
  };
  return {same.mean().item<double>(), mean_where(right), mean_where(right.logical_not())};
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s::metrics
