#pragma once
/// \file
/// The saliency check (paper §5): adapt as `Inner` does on the targets (e.g.
/// fine-tune on weak labels), then train a linear probe on the resulting frozen
/// features against the transfer half's *ground truth*. If weak fine-tuning made
/// the concept linearly represented, ft(weak) then lp(gt) ≈ ft(gt). The one student
/// that needs that ground truth: it asks for it by type (needs_transfer_ground_truth),
/// and the record says it was handed over (`student_capabilities`).
#include <torch/nn/modules/linear.h>

#include "w2s/students/fine_tune.hpp"
#include "w2s/students/linear_probe.hpp"

namespace w2s {

template <class Inner = FineTune>
struct ProbeAfter {
  static constexpr std::string_view name = "probe_after";
  static constexpr int64_t default_epochs = student_default_epochs<Inner>();
  static constexpr double default_lr = student_default_lr<Inner>();
  static constexpr bool needs_transfer_ground_truth = true;
  Inner inner{};
  int64_t probe_epochs = LinearProbe::default_epochs;

  template <class L>
  Fitted fit(const StudentContext& c, const StudentData& data, const L& loss) const {
    require_classes(data.train, name);
    const at::Tensor& truth = transfer_ground_truth<ProbeAfter>(data);
    Fitted tuned = inner.fit(c, data, loss);
    check(!tuned.model.is_empty(), "probe_after: the inner student has no model to probe");
    Classifier model = tuned.model;
    model->eval();
    const auto features = [&](const Dataset& d) {
      return forward_in_batches([&](const at::Tensor& x) { return model->features(x); }, d.inputs, c.config.device);
    };
    torch::nn::Linear probe(torch::nn::LinearOptions(model->backbone().features(), data.train.classes).bias(false));
    {
      torch::NoGradGuard no_grad;
      probe->weight.zero_();
    }
    TrainConfig cfg = c.config;
    cfg.epochs = probe_epochs;
    cfg.lr = LinearProbe::default_lr;
    cfg.label += " probe";
    cfg.lr_option = "the probe's learning rate (LinearProbe::default_lr)";
    // Its progress lines, not the inner student's callbacks (an oracle's BestStep watches the inner student alone).
    auto result = train_module(
        *probe, [&](const at::Tensor& f) { return probe->forward(f); },
        {features(data.train), one_hot_targets(truth, data.train.classes)}, CrossEntropy{}, cfg,
        {features(data.test), data.test.targets}, TrainObservers{&c.log});
    model->head()->weight.data().copy_(probe->weight.data());  // the model now predicts with the probe
    result.seconds += tuned.result.seconds;
    return {model, std::move(result), classifier_predict(model, c.config.device)};
  }
  void add_options(po::options_description& o) {
    add_policy_options(inner, o);
    o.add_options()("probe-epochs", po::value(&probe_epochs)->default_value(probe_epochs), "epochs of the ground-truth probe");
  }
  [[nodiscard]] nlohmann::json describe() const {
    return {{"inner", describe_policy(inner)}, {"probe_epochs", probe_epochs}};
  }
};

}  // namespace w2s
