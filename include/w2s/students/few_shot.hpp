#pragma once
/// \file
/// Few-shot "prompting" for a model that is not a language model (paper §5.x,
/// Fig. 9; the language-model form comes with GPT-2): no gradient step; k
/// labelled demonstrations per class, and each input goes to the class whose
/// demonstrations' mean frozen feature is nearest in cosine similarity.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <chrono>

#include "w2s/students/student.hpp"

namespace w2s {

/// The demonstrations' labels are the student's targets (argmax), so the label
/// source decides whether they are weak (WeakLabels) or ground truth
/// (GroundTruth); the loss is not used: nothing is trained.
struct FewShotPrompting {
  static constexpr std::string_view name = "few_shot";
  int64_t shots = 10;  ///< demonstrations per class
  double scale = 10;   ///< softmax temperature⁻¹ on cosine similarities (ranks, hence accuracy, do not depend on it)

  /// Probabilities of `features` against unit class means (N×C; classes without a demonstration get 0).
  static at::Tensor nearest_mean_probs(const at::Tensor& features, const at::Tensor& means, const at::Tensor& present,
                                       double scale) {
    const auto f = features / features.norm(2, 1, true).clamp_min(1e-12);
    auto logits = f.matmul(means.t()) * scale;
    logits = logits.masked_fill(present.logical_not().unsqueeze(0), -1e30);
    return at::softmax(logits, 1);
  }

  template <class L>
  Fitted fit(const StudentContext& c, const StudentData& data, const L&) const {
    const auto start = std::chrono::steady_clock::now();
    const int64_t k = data.train.classes;
    const auto feats = c.features.get(c.backbone, data.train, c.config.device).to(at::kCPU);
    const auto labels = data.targets.argmax(1);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(c.config.seed * 31337 + 11);
    const auto order = at::randperm(labels.size(0), gen, at::kLong);
    auto means = at::zeros({k, feats.size(1)});
    auto present = at::zeros({k}, at::kBool);
    for (int64_t cls = 0; cls < k; ++cls) {
      const auto of_class = order.masked_select(labels.index_select(0, order).eq(cls));
      if (of_class.numel() == 0) continue;  // e.g. the weak supervisor never predicts it
      const auto demo = feats.index_select(0, of_class.slice(0, 0, shots));
      const auto unit = demo / demo.norm(2, 1, true).clamp_min(1e-12);
      const auto m = unit.mean(0);
      means[cls] = m / m.norm().clamp_min(1e-12);
      present[cls] = true;
    }
    auto predict = [means, present, scale = scale, &cache = c.features, &backbone = c.backbone,
                    device = c.config.device](const Dataset& d) {
      return nearest_mean_probs(cache.get(backbone, d, device).to(at::kCPU), means, present, scale);
    };
    FitResult r;
    r.test_probs = r.best_test_probs = predict(data.test);
    r.curve.steps = {0};
    r.curve.accuracy = {r.test_probs.argmax(1).eq(data.test.targets).to(at::kDouble).mean().item<double>()};
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    c.log(c.config.label, ": ", shots, "-shot nearest class mean, test acc ", r.curve.accuracy[0]);
    return {Classifier{nullptr}, std::move(r), predict};
  }

  void add_options(po::options_description& o) {
    o.add_options()("shots", po::value(&shots)->default_value(shots), "labelled demonstrations per class");
  }
  void validate() const { check(shots >= 1, "--shots: expected >= 1, got ", shots); }
  [[nodiscard]] nlohmann::json describe() const { return {{"shots", shots}, {"scale", scale}}; }
};

}  // namespace w2s
