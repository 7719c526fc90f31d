#pragma once
/// \file
/// Ground-truth labels: the transfer half's true classes (the sanity-check
/// student, and the ceiling's labels).
#include "w2s/labels/label_source.hpp"

namespace w2s {

/// Targets = one-hot ground truth of the transfer half.
struct GroundTruth {
  static constexpr std::string_view name = "ground_truth";
  StudentData make(const LabelContext& c) const {
    const auto& t = c.splits.transfer_half;
    return {t, one_hot_targets(t.targets, t.classes), c.splits.test};
  }
};

}  // namespace w2s
