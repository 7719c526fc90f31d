#pragma once
/// \file
/// The regression setting of Charikar, Pabbaraju & Shiragur (2024) as a dataset
/// (paper-facts.md; theory/misfit.hpp has the same setting as a standalone
/// tool): x ~ N(0, 500² I₈), a random frozen 5-layer ReLU MLP h* (8→16→…→16),
/// and 20 random linear heads, one per transfer task: targets are N × 20, so one
/// run fits all 20 tasks at once (heads on fixed features are fitted per output).
/// The ladder's representations (models/ladder.hpp, "d2" weak and "d8" strong)
/// learn on a separate pool of 20,000 inputs labelled with 10 other random
/// heads, then stay frozen. Inputs are stored divided by 500 (a fixed input
/// scaling, part of the architecture); targets share one global scale that
/// makes them O(1). Generated from fixed seeds: no files.
#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>

#include "w2s/data/dataset.hpp"
#include "w2s/theory/misfit.hpp"

namespace w2s::data {

struct CharikarDataOptions {
  int64_t tasks = 20, pretrain_heads = 10;
  int64_t n_pretrain = 20000, n_train = 4000, n_test = 10000;  ///< train = weak half + transfer half
  uint64_t seed = 20240601;
};

inline DataBundle load_charikar(const std::filesystem::path& /*data_dir*/, CharikarDataOptions o = {}) {
  const theory::CharikarOptions setting;  // dimensions of the paper's setting
  torch::manual_seed(o.seed);
  auto target = theory::relu_mlp(setting.input_dim, setting.width, setting.target_depth);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const auto x = [&](int64_t n) { return at::randn({n, setting.input_dim}, gen, at::kFloat) * setting.input_std; };
  const auto x_pretrain = x(o.n_pretrain), x_train = x(o.n_train), x_test = x(o.n_test);
  const auto task_heads = at::randn({setting.width, o.tasks}, gen, at::kFloat);
  const auto pretrain_heads = at::randn({setting.width, o.pretrain_heads}, gen, at::kFloat);
  at::NoGradGuard no_grad;
  const double scale = target->forward(x_pretrain).std().item<double>();
  const auto h = [&](const at::Tensor& xs) { return target->forward(xs) / scale; };
  const auto make = [&](const std::string& part, const at::Tensor& xs, const at::Tensor& heads) {
    Dataset d;
    d.name = "charikar";
    d.part = part;
    d.modality = Modality::regression;
    d.inputs = xs / setting.input_std;
    d.targets = h(xs).matmul(heads);
    d.classes = 0;
    return d;
  };
  DataBundle b{make("train", x_train, task_heads), make("test", x_test, task_heads),
               make("pretrain", x_pretrain, task_heads)};
  b.pretrain.pretrain_targets = h(x_pretrain).matmul(pretrain_heads);
  return b;
}

}  // namespace w2s::data
