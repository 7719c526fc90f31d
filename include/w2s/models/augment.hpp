#pragma once
/// \file
/// Random image views for contrastive pretraining: one batched affine warp
/// (rotation, scale, shift, horizontal flip), brightness jitter and a cut-out.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "w2s/core/engine.hpp"

namespace w2s {

/// A random view of each image of `x` (N×C×H×W, values in [0,1]).
W2S_ENGINE_INLINE at::Tensor random_view(const at::Tensor& x, at::Generator& gen, bool cutout = false);

/// NT-Xent (SimCLR): rows i and i+N of `z` (2N×d) are views of one input; each
/// must pick its partner out of the other 2N−1 rows by cosine similarity / τ.
W2S_ENGINE_INLINE at::Tensor nt_xent(const at::Tensor& z, double temperature);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE at::Tensor random_view(const at::Tensor& x, at::Generator& gen, bool cutout) {
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  const auto opts = at::TensorOptions().dtype(at::kFloat);
  const auto u = [&](double lo, double hi) { return at::rand({n}, gen, opts) * (hi - lo) + lo; };
  const auto angle = u(-0.26, 0.26);  // ±15°
  const auto scale = u(0.85, 1.15);
  const auto flip = at::rand({n}, gen, opts).lt(0.5).to(at::kFloat) * 2 - 1;
  const auto tx = u(-0.2, 0.2), ty = u(-0.2, 0.2);
  const auto c = angle.cos() / scale, s = angle.sin() / scale;
  const auto theta = at::stack({at::stack({c * flip, -s, tx}, 1), at::stack({s * flip, c, ty}, 1)}, 1);
  const auto grid = at::affine_grid_generator(theta.to(x.device()), x.sizes(), false);
  auto v = at::grid_sampler(x, grid, 0, 0, false);
  v = v * u(0.6, 1.4).to(x.device()).view({n, 1, 1, 1});
  // cut-out: zero one random 8×8 box per image
  const auto cy = at::randint(h, {n, 1, 1, 1}, gen, at::TensorOptions().dtype(at::kLong)).to(x.device());
  const auto cx = at::randint(w, {n, 1, 1, 1}, gen, at::TensorOptions().dtype(at::kLong)).to(x.device());
  const auto ys = at::arange(h, at::TensorOptions().dtype(at::kLong).device(x.device())).view({1, 1, h, 1});
  const auto xs = at::arange(w, at::TensorOptions().dtype(at::kLong).device(x.device())).view({1, 1, 1, w});
  const auto box = (ys - cy).abs().lt(4).logical_and((xs - cx).abs().lt(4));
  if (cutout) v = v.masked_fill(box, 0);
  return v.clamp(0, 1);
}

W2S_ENGINE_INLINE at::Tensor nt_xent(const at::Tensor& z, double temperature) {
  const int64_t n2 = z.size(0), n = n2 / 2;
  const auto unit = z / z.norm(2, 1, true).clamp_min(1e-8);
  auto sim = unit.matmul(unit.t()) / temperature;
  sim = sim.masked_fill(at::eye(n2, at::TensorOptions().dtype(at::kBool).device(z.device())), -1e9);
  const auto idx = at::arange(n2, at::TensorOptions().dtype(at::kLong).device(z.device()));
  const auto partner = at::where(idx.lt(n), idx + n, idx - n);
  return at::cross_entropy_loss(sim, partner);
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
