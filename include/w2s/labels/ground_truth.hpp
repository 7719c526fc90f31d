#pragma once
/// \file
/// Ground-truth labels: the transfer half's true classes (the sanity-check
/// student, and the ceiling's labels).
#include "w2s/labels/label_source.hpp"

namespace w2s {

/// Targets = one-hot ground truth of the transfer half (its real targets for regression).
struct GroundTruth {
  static constexpr std::string_view name = "ground_truth";
  StudentData make(const LabelContext& c) const {
    const auto& t = c.splits.transfer_half;
    return {t, ground_truth_targets(t), c.splits.test};
  }
};

}  // namespace w2s
