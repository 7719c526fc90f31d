#pragma once
/// \file
/// The Student role (docs/roles.md#student): how a pretrained model is adapted
/// to a StudentData under a Loss.
#include <concepts>
#include <functional>

#include "w2s/core/engine.hpp"
#include "w2s/core/log.hpp"
#include "w2s/core/policy.hpp"
#include "w2s/labels/label_source.hpp"
#include "w2s/losses/cross_entropy.hpp"
#include "w2s/models/classifier.hpp"
#include "w2s/models/feature_store.hpp"
#include "w2s/models/pretrain.hpp"
#include "w2s/train/trainer.hpp"

namespace w2s {

/// What a student is given besides its data and loss: the backbone, the trainer's options,
/// where progress goes, the feature cache, and the callbacks that watch the student's own
/// training (a wrapper student adds them for its inner student; nothing else trained inside
/// the student, such as ProbeAfter's probe, inherits them).
struct StudentContext {
  const PretrainedBackbone& backbone;
  TrainConfig config;
  const Log& log;
  FeatureCache& features;
  std::vector<std::shared_ptr<Callback>> callbacks = {};
  /// What watches the student's training: its progress lines and `callbacks`.
  [[nodiscard]] TrainObservers observers() const { return {&log, callbacks}; }
};

/// A trained student: its model (backbone + head; null for students without
/// one, e.g. few-shot), how its training went, and its predictions on any dataset
/// part (softmax probabilities, N×C, on the CPU).
struct Fitted {
  Classifier model{nullptr};
  FitResult result;
  std::function<at::Tensor(const Dataset&)> predict;
};

/// `predict` of a plain classifier: softmax of its forward pass, in batches.
W2S_ENGINE_INLINE std::function<at::Tensor(const Dataset&)> classifier_predict(Classifier model, torch::Device device);

template <class S>
concept StudentFit = requires(const S& student, const StudentContext& context, const StudentData& data,
                              const CrossEntropy& loss) {
  { student.fit(context, data, loss) } -> std::same_as<Fitted>;
};

/// A Student: `name`, and `template <Loss L> Fitted fit(const StudentContext&,
/// const StudentData&, const L&) const` (checked with CrossEntropy as the archetype).
template <class S>
concept Student = Named<S> && StudentFit<S>;

/// The student's default strong-side epochs and learning rate, if it declares them.
template <class S>
constexpr int64_t student_default_epochs() {
  if constexpr (requires { S::default_epochs; }) return S::default_epochs;
  return 3;
}
template <class S>
constexpr double student_default_lr() {
  if constexpr (requires { S::default_lr; }) return S::default_lr;
  return 1e-3;
}

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE std::function<at::Tensor(const Dataset&)> classifier_predict(Classifier model, torch::Device device) {
  return [model, device](const Dataset& d) mutable {
    model->eval();
    return predict_probs([&](const at::Tensor& x) { return model->forward(x); }, d.inputs, device, d.regression());
  };
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
