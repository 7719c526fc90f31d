#pragma once
/// \file
/// Few-shot prompting (paper §5.x, Fig. 9): no gradient step, k labelled
/// demonstrations per class. A GPT-2 checkpoint is prompted for real
/// (students/lm_prompting.hpp: the demonstrations in its context, the label words'
/// likelihood; --shots 0 is zero-shot). Models that are not language models get
/// the nearest class mean: each input goes to the class whose demonstrations'
/// mean frozen feature is nearest in cosine similarity.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <chrono>

#include "w2s/core/seeds.hpp"
#include "w2s/core/engine.hpp"
#include "w2s/models/model_kind.hpp"
#include "w2s/students/lm_prompting.hpp"
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
    return fit_demonstrations(c, data);
  }

  /// The student for any loss (none is used), compiled once (core/engine.hpp): a language
  /// model is prompted (fit_language_model), any other backbone gets the nearest class mean.
  W2S_ENGINE_INLINE Fitted fit_demonstrations(const StudentContext& c, const StudentData& data) const;

  /// `shots` demonstrations per class, drawn with the seed, in a shuffled order.
  W2S_ENGINE_INLINE Fitted fit_language_model(const StudentContext& c, const StudentData& data) const;

  W2S_ENGINE_INLINE void add_options(po::options_description& o);
  W2S_ENGINE_INLINE void validate() const;
  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json describe() const;
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE void FewShotPrompting::add_options(po::options_description& o) {
  o.add_options()("shots", po::value(&shots)->default_value(shots), "labelled demonstrations per class");
}
W2S_ENGINE_INLINE void FewShotPrompting::validate() const { check(shots >= 0, "--shots: expected >= 0, got ", shots); }
W2S_ENGINE_INLINE nlohmann::json FewShotPrompting::describe() const { return {{"shots", shots}, {"scale", scale}}; }

W2S_ENGINE_INLINE Fitted FewShotPrompting::fit_demonstrations(const StudentContext& c, const StudentData& data) const {
  require_classes(data.train, name);
  if (model_kind(c.backbone.size.backbone.kind).language_model) return fit_language_model(c, data);
  check(shots >= 1, "--shots: the nearest class mean needs at least 1 demonstration per class (0 = zero-shot is ",
        "for language models)");
  const auto start = std::chrono::steady_clock::now();
  const int64_t k = data.train.classes;
  const auto feats = c.features.get(c.backbone, data.train, c.config.device).to(at::kCPU);
  const auto labels = data.targets.argmax(1);
  auto gen = stream_generator(c.config.seed, Stream::demonstrations);
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
r.test_probs = predict(data.test);
r.curve.steps = {0};
r.curve.score = {r.test_probs.argmax(1).eq(data.test.targets).to(at::kDouble).mean().item<double>()};
r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
c.log(c.config.label, ": ", shots, "-shot nearest class mean, test acc ", r.curve.score[0]);
return {Classifier{nullptr}, std::move(r), predict};
}

W2S_ENGINE_INLINE Fitted FewShotPrompting::fit_language_model(const StudentContext& c, const StudentData& data) const {
  const auto start = std::chrono::steady_clock::now();
  auto backbone = c.backbone.make();
  auto* lm = language_model(*backbone);
  check(lm != nullptr, "few_shot: backbone '", c.backbone.size.name, "' is not a language model");
  backbone->to(c.config.device);
  backbone->eval();
  const auto train_ids = lm->token_ids(data.train.inputs);
  const auto labels = data.targets.argmax(1);
  auto gen = stream_generator(c.config.seed, Stream::demonstrations);
  const auto order = at::randperm(labels.size(0), gen, at::kLong);
  std::vector<int64_t> picked;
  for (int64_t cls = 0; cls < data.train.classes; ++cls) {
    const auto of_class = order.masked_select(labels.index_select(0, order).eq(cls)).slice(0, 0, shots);
    for (int64_t i = 0; i < of_class.size(0); ++i) picked.push_back(of_class[i].item<int64_t>());
}
const auto mix = at::randperm(static_cast<int64_t>(picked.size()), gen, at::kLong);
std::vector<std::pair<std::vector<int64_t>, int64_t>> demos;
for (int64_t i = 0; i < mix.size(0); ++i) {
  const auto j = picked[mix[i].item<int64_t>()];
  demos.emplace_back(row_ids(train_ids, j), labels[j].item<int64_t>());
}
const auto prompt = make_lm_prompt(lm_encoder(*data.train.vocab, *lm), data.train.class_names, demos);
auto predict = [backbone, lm, prompt, device = c.config.device](const Dataset& d) {
  return lm_prompt_probs(*lm, prompt, lm->token_ids(d.inputs), device);
};
FitResult r;
r.test_probs = predict(data.test);
r.curve.steps = {0};
r.curve.score = {metrics::accuracy(r.test_probs, data.test.targets)};
r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
c.log(c.config.label, ": ", demos.size(), "-demonstration prompt (", prompt.prefix.size(),
      " tokens), test acc ", r.curve.score[0]);
return {Classifier{nullptr}, std::move(r), predict};
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
