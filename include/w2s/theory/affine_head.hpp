#pragma once
/// \file
/// Affine heads fitted by least squares on fixed features: the head class of
/// Charikar, Pabbaraju & Shiragur (2024), shared by the theory tool
/// (theory/misfit.hpp) and the LeastSquares student.
#include <ATen/ATen.h>

namespace w2s::theory {

/// [features, 1] in double precision: affine heads by least squares.
inline at::Tensor with_bias(const at::Tensor& f) {
  const auto d = f.to(at::kDouble);
  return at::cat({d, at::ones({d.size(0), 1}, d.options())}, 1);
}
/// Least-squares affine head of `targets` (N, or N×k) on `features` (N×d): its weights ((d+1), or (d+1)×k).
inline at::Tensor fit_head(const at::Tensor& features, const at::Tensor& targets) {
  // Minimum-norm solution through the SVD pseudo-inverse: the exact orthogonal projection
  // even when ReLU features are rank deficient (dead units), which the identity needs.
  return at::linalg_pinv(with_bias(features)).matmul(targets.to(at::kDouble));
}
inline at::Tensor apply_head(const at::Tensor& features, const at::Tensor& head) { return with_bias(features).matmul(head); }

}  // namespace w2s::theory
