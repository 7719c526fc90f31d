#pragma once
/// \file
/// The weak supervisor's predictions as labels (paper §3, step 3).
#include "w2s/labels/label_source.hpp"

namespace w2s {

struct Soft {};  ///< the weak model's probabilities (the paper's default)
struct Hard {};  ///< the weak model's argmax, one-hot

/// Targets = the weak supervisor's soft (or hard) predictions on the transfer half.
/// Example: `Experiment<WeakLabels<Hard>, CrossEntropy, FineTune>`.
template <class Kind = Soft>
struct WeakLabels {
  static_assert(std::is_same_v<Kind, Soft> || std::is_same_v<Kind, Hard>,
                "WeakLabels<Kind>: Kind must be w2s::Soft or w2s::Hard (docs/roles.md#labelsource)");
  static constexpr std::string_view name = std::is_same_v<Kind, Soft> ? "weak_soft" : "weak_hard";
  StudentData make(const LabelContext& c) const {
    const auto& t = c.splits.transfer_half;
    check(c.weak_transfer_probs.size(0) == t.size(), "weak labels: ", c.weak_transfer_probs.size(0),
          " predictions for ", t.size(), " transfer examples");
    if constexpr (std::is_same_v<Kind, Soft>) return {t, c.weak_transfer_probs, c.splits.test};  // regression: its outputs
    require_classes(t, name);
    return {t, one_hot_targets(c.weak_transfer_probs.argmax(1), t.classes), c.splits.test};
  }
};

}  // namespace w2s
