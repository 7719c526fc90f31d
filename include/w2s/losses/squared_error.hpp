#pragma once
/// \file
/// Squared error: the loss of the regression setting (Charikar et al. 2024), where
/// the student's outputs are real-valued predictions, not logits.
#include "w2s/losses/loss.hpp"

namespace w2s {

/// Mean over the batch and the outputs of (output − target)². For regression
/// datasets only (`regression = true`; the Experiment rejects it on class data).
/// Example: `Experiment<WeakLabels<>, SquaredError, LeastSquares>` on `--dataset charikar`.
struct SquaredError {
  static constexpr std::string_view name = "squared_error";
  static constexpr bool regression = true;
  at::Tensor operator()(const at::Tensor& outputs, const at::Tensor& targets, TrainProgress) const {
    return (outputs - targets).pow(2).mean();
  }
};

/// Whether loss `L` trains on real-valued targets (it declares `regression = true`).
template <class L>
constexpr bool is_regression_loss() {
  if constexpr (requires { L::regression; }) return L::regression;
  return false;
}

}  // namespace w2s
