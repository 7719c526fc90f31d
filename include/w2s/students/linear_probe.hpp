#pragma once
/// \file
/// Linear probe: only the head trains, on frozen pretrained features computed
/// once (paper §5; the openai vision setting trains a probe on frozen features).
#include "w2s/core/engine.hpp"
#include "w2s/students/student.hpp"

namespace w2s {

/// Trains a zero-initialised bias-free head on `c.backbone`'s frozen features (the
/// FeatureCache's) with `cfg`; predictions go through the cached features too. Compiled once
/// for every loss (core/engine.hpp).
W2S_ENGINE_INLINE Fitted fit_linear_probe(const StudentContext& c, const StudentData& data, const LossMaker& loss,
                                          const TrainConfig& cfg);

/// fit_linear_probe with a Loss policy.
template <class L>
Fitted fit_probe(const StudentContext& c, const StudentData& data, const L& loss, const TrainConfig& cfg) {
  return fit_linear_probe(c, data, loss_maker(loss), cfg);
}

/// `--val-fraction`, the honest early stopping of train/trainer.hpp, as a student option.
W2S_ENGINE_INLINE void add_val_fraction_option(po::options_description& o, double& val_fraction);
W2S_ENGINE_INLINE void check_val_fraction(double val_fraction);

struct LinearProbe {
  static constexpr std::string_view name = "linear_probe";
  /// Cheap steps on cached features: the openai vision probe's 10 epochs.
  static constexpr int64_t default_epochs = 10;
  static constexpr double default_lr = 1e-3;
  double val_fraction = 0;

  template <class L>
  Fitted fit(const StudentContext& c, const StudentData& data, const L& loss) const {
    TrainConfig cfg = c.config;
    cfg.val_fraction = val_fraction;
    return fit_probe(c, data, loss, cfg);
  }
  void add_options(po::options_description& o) { add_val_fraction_option(o, val_fraction); }
  void validate() const { check_val_fraction(val_fraction); }
  [[nodiscard]] nlohmann::json describe() const {  // defaults describe as before: old cache keys stay valid
    return val_fraction > 0 ? nlohmann::json{{"val_fraction", val_fraction}} : nlohmann::json::object();
  }
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE Fitted fit_linear_probe(const StudentContext& c, const StudentData& data, const LossMaker& loss,
                                          const TrainConfig& cfg) {
  torch::manual_seed(cfg.seed);
  Classifier model(c.backbone.make(example_shape(data.train)), data.outputs());
  const auto train = c.features.get(c.backbone, data.train, cfg.device);
  const auto test = c.features.get(c.backbone, data.test, cfg.device);
  auto& head = model->head();
  auto result = train_loop(
      *head, [&](const at::Tensor& f) { return head->forward(f); }, {train, data.targets}, loss, cfg,
      {test, data.test.targets}, c.observers());
  auto predict = [head, &cache = c.features, &backbone = c.backbone, device = cfg.device](const Dataset& d) mutable {
    head->eval();
    return predict_probs([&](const at::Tensor& f) { return head->forward(f); }, cache.get(backbone, d, device), device,
                         d.regression());
  };
  return {model, std::move(result), predict};
}

W2S_ENGINE_INLINE void add_val_fraction_option(po::options_description& o, double& val_fraction) {
  o.add_options()("val-fraction", po::value(&val_fraction)->default_value(val_fraction),
                  "early stopping: hold out this share of the student's own training rows, score them against its "
                  "targets (the weak labels: no ground truth, no test data) and keep the best weights; 0 = off");
}

W2S_ENGINE_INLINE void check_val_fraction(double val_fraction) {
  check(val_fraction >= 0 && val_fraction <= 0.5, "--val-fraction: expected 0..0.5, got ", val_fraction);
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
