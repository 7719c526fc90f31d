#pragma once
/// \file
/// Linear probe: only the head trains, on frozen pretrained features computed
/// once (paper §5; the openai vision setting trains a probe on frozen features).
#include "w2s/students/student.hpp"

namespace w2s {

struct LinearProbe {
  static constexpr std::string_view name = "linear_probe";
  /// Cheap steps on cached features: the openai vision probe's 10 epochs.
  static constexpr int64_t default_epochs = 10;
  static constexpr double default_lr = 1e-3;

  template <class L>
  Fitted fit(const StudentContext& c, const StudentData& data, const L& loss) const {
    torch::manual_seed(c.config.seed);
    Classifier model(c.backbone.make(example_shape(data.train)), data.train.outputs());
    const auto train = c.features.get(c.backbone, data.train, c.config.device);
    const auto test = c.features.get(c.backbone, data.test, c.config.device);
    auto& head = model->head();
    auto result = fit_module(*head, [&](const at::Tensor& f) { return head->forward(f); }, train, data.targets,
                             test, data.test.targets, loss, c.config, c.log);
    // Predictions go through the cached features too.
    auto predict = [head, &cache = c.features, &backbone = c.backbone, device = c.config.device](const Dataset& d) mutable {
      head->eval();
      return predict_probs([&](const at::Tensor& f) { return head->forward(f); }, cache.get(backbone, d, device), device,
                           d.regression());
    };
    return {model, std::move(result), predict};
  }
};

}  // namespace w2s
