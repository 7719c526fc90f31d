#pragma once
/// \file
/// Full fine-tuning: every backbone weight and the head train (paper §4).
#include "w2s/students/student.hpp"

namespace w2s {

struct FineTune {
  static constexpr std::string_view name = "finetune";
  static constexpr int64_t default_epochs = 3;
  static constexpr double default_lr = 1e-3;

  template <class L>
  Fitted fit(const StudentContext& c, const StudentData& data, const L& loss) const {
    torch::manual_seed(c.config.seed);
    Classifier model(c.backbone.make(example_shape(data.train)), data.train.outputs());
    auto result = fit_module(*model, [&](const at::Tensor& x) { return model->forward(x); }, data.train.inputs,
                             data.targets, data.test.inputs, data.test.targets, loss, c.config, c.log);
    return {model, std::move(result), classifier_predict(model, c.config.device)};
  }
};

}  // namespace w2s
