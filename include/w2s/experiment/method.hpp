#pragma once
/// \file
/// How the student's labels are produced from the weak supervisor: directly
/// (the paper's default), or by bootstrapping through the intermediate ladder
/// sizes (paper §4.3.1, Fig. 4): weak → m₁ → m₂ → … → strong, each step training
/// the next size, with the experiment's label source, loss and student, on the
/// previous step's predictions.
#include <ATen/CPUGeneratorImpl.h>

#include <nlohmann/json.hpp>

#include <concepts>
#include <functional>

#include "w2s/core/seeds.hpp"
#include "w2s/core/engine.hpp"
#include "w2s/core/policy.hpp"
#include "w2s/experiment/protocol.hpp"
#include "w2s/labels/label_source.hpp"
#include "w2s/models/model_kind.hpp"
#include "w2s/models/pretrain.hpp"

namespace w2s {

/// The weak supervisor's labels go straight to the strong student.
struct Direct {
  static constexpr std::string_view name = "direct";
  template <class L, class Lo, class S>
  StudentData student_data(const SeedState&, const L& source, const Lo&, const S&, const LabelContext& c,
                           nlohmann::json&) const {
    return source.make(c);
  }
};

/// Two-fold cross-fitting of one bootstrapping step over `n` rows: the rows are shuffled
/// with (`seed`, `step`) and halved; `fit_and_predict(train_rows, held_rows)` trains on one
/// half and returns its predictions (rows × C) on the other. Each row's label thus comes
/// from a model that never trained on it. Returns all n predictions in row order.
W2S_ENGINE_INLINE at::Tensor cross_fit(
    int64_t n, uint64_t seed, uint64_t step,
    const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& fit_and_predict);

/// The student one bootstrapping step trains on `size`: the experiment's, except that a
/// layer split (`--train-layers k >= 0`) belongs to pretrained encoders; an intermediate size
/// without layers to freeze (a GloVe or bag-of-words model between a weak model and an
/// encoder) is fine-tuned whole, and `step` records that it was.
template <class S>
S student_for_size(const S& student, const LadderSize& size, nlohmann::json& step) {
  S out = student;
  if constexpr (requires { out.train_layers; })
    if (out.train_layers >= 0 && !model_kind(size.backbone.kind).layered) {
      out.train_layers = -1;
      step["train_layers"] = -1;
    }
  return out;
}

/// Chains the weak labels through every ladder size strictly between --weak and --strong
/// (paper §4.3.1: each model is fine-tuned on the previous one's labels and labels for the
/// next; the paper does not say on which examples). Here each intermediate step is
/// cross-fitted (cross_fit): two models of that size, each trained on half the transfer
/// set, label the half they did not see, so no label comes from a model that trained on
/// that example; their test predictions are averaged. The strong student then trains on
/// the whole transfer set with the last step's labels (docs/roles.md#method).
struct Bootstrap {
  static constexpr std::string_view name = "bootstrap";
  template <class L, class Lo, class S>
  StudentData student_data(const SeedState& s, const L& source, const Lo& loss, const S& student, LabelContext c,
                           nlohmann::json& record) const {
    check(!s.splits.transfer_half.language_model_tokens(), "bootstrap: needs a ladder of named sizes; dataset '",
          s.splits.transfer_half.name, "' takes checkpoint folders");
    const auto& sizes = ladder(s.splits.transfer_half.modality);
    const auto index = [&](const std::string& name) {
      for (size_t i = 0; i < sizes.size(); ++i)
        if (sizes[i].name == name) return i;
      fail("bootstrap: size '", name, "' is not on the ladder");
    };
    const size_t from = index(s.weak_backbone.size.name), to = index(s.strong_backbone.size.name);
    check(from < to, "bootstrap: --weak (", sizes[from].name, ") must be smaller than --strong (", sizes[to].name, ")");
    record["steps"] = nlohmann::json::array();
    record["scheme"] = "two-fold cross-fitting: each intermediate label comes from a model that did not train on it";
    for (size_t i = from + 1; i < to; ++i) {
      // a checkpoint size (minilm-l3 between the GloVe sizes and minilm-l6) resolved to its folder under --data-dir
      const auto size = find_size_for(s.splits.transfer_half, sizes[i].name, false, "bootstrap", s.config.data_dir);
      const auto bb = pretrain(size, s.pretrain_pool, s.cache, s.config.smoke, s.device, s.log).for_seed(s.seed);
      nlohmann::json step = {{"size", sizes[i].name}};
      const S step_student = student_for_size(student, sizes[i], step);
      s.log("bootstrap ", sizes[i].name, " seed ", s.seed, ": ", S::name, " with ", Lo::name,
            " on the previous step's labels, two folds");
      const StudentData data = source.make(c);  // the transfer half, labelled by the previous step
      at::Tensor test_sum;
      double seconds = 0;
      int fold = 0;
      c.weak_transfer_probs = cross_fit(data.train.size(), s.seed, i, [&](const at::Tensor& train, const at::Tensor& held) {
        const std::string tag = "/bootstrap-" + sizes[i].name + "-fold" + std::to_string(fold);
        const StudentData part{data.train.subset(train, data.train.part + tag), data.targets.index_select(0, train),
                               data.test};
        const StudentContext ctx{bb, s.train_config(false, "bootstrap " + sizes[i].name + " fold " + std::to_string(fold)),
                                 s.log, s.features};
        const Fitted fitted = step_student.fit(ctx, for_student<S>(part), loss);
        test_sum = test_sum.defined() ? test_sum + fitted.result.test_probs : fitted.result.test_probs;
        seconds += fitted.result.seconds;
        ++fold;
        return fitted.predict(data.train.subset(held, data.train.part + tag + "-held"));
      });
      c.weak_test_probs = test_sum / 2.0;
      step["score"] = metrics::score(c.weak_test_probs, s.splits.test.targets);
      step["seconds"] = seconds;
      record["steps"].push_back(step);
    }
    return source.make(c);
  }
};

/// A Method's step: `student_data(seed state, label source, loss, student, label context,
/// record)` gives the student's targets (checked for the experiment's own policies).
template <class M, class L, class Lo, class S>
concept MethodStep = requires(const M& method, const SeedState& s, const L& source, const Lo& loss, const S& student,
                              const LabelContext& c, nlohmann::json& record) {
  { method.student_data(s, source, loss, student, c, record) } -> std::same_as<StudentData>;
};

/// A Method (docs/roles.md#method): `name`, and the step for label source `L`, loss `Lo` and student `S`.
template <class M, class L, class Lo, class S>
concept Method = Named<M> && MethodStep<M, L, Lo, S>;

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE at::Tensor cross_fit(
    int64_t n, uint64_t seed, uint64_t step,
    const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& fit_and_predict) {
  check(n >= 4, "bootstrap: ", n, " transfer rows are too few for two folds");
  auto gen = stream_generator(seed, Stream::cross_fit_folds, step);
  const auto perm = at::randperm(n, gen, at::kLong);
  const at::Tensor folds[2] = {perm.slice(0, 0, n / 2), perm.slice(0, n / 2)};
  at::Tensor out;
  for (int k = 0; k < 2; ++k) {
    const auto& held = folds[1 - k];
    const auto probs = fit_and_predict(folds[k], held);
    check(probs.dim() == 2 && probs.size(0) == held.size(0), "bootstrap: predictions of shape ", probs.sizes(), " for ",
          held.size(0), " held-out rows");
    if (!out.defined()) out = at::zeros({n, probs.size(1)}, probs.options());
    out.index_copy_(0, held, probs);
  }
  return out;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
