#pragma once
/// \file
/// The cached stages of the protocol (paper-facts.md, "The protocol"): the weak
/// supervisor (steps 2–3) and the strong ceiling (step 5). Each is stored under a
/// key of everything that determines it, so forty binaries on one dataset train
/// each weak model and ceiling once.
#include <nlohmann/json.hpp>

#include <string>

#include "w2s/core/engine.hpp"
#include "w2s/core/cache.hpp"
#include "w2s/core/config.hpp"
#include "w2s/labels/label_source.hpp"
#include "w2s/metrics/metrics.hpp"
#include "w2s/models/model_kind.hpp"
#include "w2s/students/fine_tune.hpp"
#include "w2s/students/oracle_stopping.hpp"
#include "w2s/students/student.hpp"

namespace w2s {

/// Everything one seed of one experiment shares between its stages.
struct SeedState {
  const RunConfig& config;
  uint64_t seed;
  const Splits& splits;
  const PretrainedBackbone& weak_backbone;
  const PretrainedBackbone& strong_backbone;
  const Cache& cache;
  const Log& log;
  FeatureCache& features;
  torch::Device device;
  const Dataset& pretrain_pool;  ///< unlabelled inputs other ladder sizes pretrain on (bootstrapping)

  [[nodiscard]] W2S_ENGINE_INLINE TrainConfig train_config(bool weak, const std::string& label) const;
};

/// A trained model's predictions and training record, as cached.
struct StageResult {
  at::Tensor transfer_probs;  ///< predictions on the transfer half (the weak labels, or the ceiling's confidence)
  at::Tensor test_probs;
  Curve curve;
  double seconds = 0;  ///< training time when it was computed
  bool cached = false;
  nlohmann::json early_stopping;  ///< FitResult::early_stopping(): null unless it held rows out
};

W2S_ENGINE_INLINE StageResult stage_from(const Artifact& a, bool cached);

/// Trains `student` with the Task's stage loss (cross entropy; squared error for regression) on
/// ground truth of `half`, or loads it from the cache. With `predict_transfer`, also returns its
/// predictions on the transfer half (the weak labels).
template <class Task, class S>
StageResult ground_truth_stage(const SeedState& s, const S& student, const PretrainedBackbone& backbone,
                               const Dataset& half, bool weak, const std::string& role, bool predict_transfer) {
  using Loss = typename Task::StageLoss;
  const auto cfg = s.train_config(weak, role + " " + backbone.size.name);
  const nlohmann::json key = {{"role", role},
                              {"student", describe_policy(student)},
                              {"loss", std::string(Loss::name)},
                              {"backbone", backbone.key},
                              {"train", half.id()},
                              {"transfer", predict_transfer ? s.splits.transfer_half.id() : ""},
                              {"test", s.splits.test.id()},
                              {"config", cfg.describe()},
                              {"seed", s.seed}};
  const auto base = s.cache.base(role, half.name + "-" + backbone.size.name, key);
  const auto held = s.cache.lock(base);  // a concurrent run of the same stage waits, then loads
  if (auto hit = s.cache.load(base)) {
    s.log(role, " ", backbone.size.name, " seed ", s.seed, ": cached (", base.filename().string(), ")");
    return stage_from(*hit, true);
  }
  s.log(role, " ", backbone.size.name, " seed ", s.seed, ": training ", std::string(S::name), " on ", half.size(),
        " ground-truth labels");
  const StudentContext ctx{backbone, cfg, s.log, s.features};
  const StudentData data = for_student<S>({half, ground_truth_targets(half), s.splits.test});
  const Fitted fitted = student.fit(ctx, data, Loss{});
  Artifact a;
  a.tensors.push_back(fitted.result.test_probs);
  if (predict_transfer) a.tensors.push_back(fitted.predict(s.splits.transfer_half));
  a.meta = {{"key", key},
            {"score", Task::score(fitted.result.test_probs, s.splits.test.targets)},
            {"curve", fitted.result.curve.to_json()},
            {"seconds", fitted.result.seconds},
            {"early_stopping", fitted.result.early_stopping()}};
  s.cache.store(base, a);
  return stage_from(a, false);
}

/// The student's honest early-stopping share (`--val-fraction`; a wrapper's inner student's), 0 if none.
template <class S>
double student_val_fraction(const S& s) {
  if constexpr (requires { s.val_fraction; })
    return s.val_fraction;
  else if constexpr (requires { s.inner; })
    return student_val_fraction(s.inner);
  else
    return 0;
}

/// How the weak supervisor is fine-tuned in an experiment whose student is `S`: with
/// FineTune (every weight: its backbone is a ladder size of its own), with the student's
/// honest early stopping (`--val-fraction`), so that the option moves all three models of
/// PGR alike and not its denominator alone; and an early-stopping oracle is applied to the
/// weak model as to the ceiling and the student (its test metrics are its best evaluation
/// step's).
template <class S>
struct WeakStudentFor {
  static FineTune make(const S& s) {
    FineTune weak;
    weak.val_fraction = student_val_fraction(s);
    return weak;
  }
};
template <class Inner>
struct WeakStudentFor<OracleStopping<Inner>> {
  static OracleStopping<FineTune> make(const OracleStopping<Inner>& s) {
    OracleStopping<FineTune> weak;
    weak.evaluations_per_epoch = s.evaluations_per_epoch;
    weak.inner.val_fraction = student_val_fraction(s);
    return weak;
  }
};

/// A pretrained encoder as the weak supervisor (minilm-l3 under mpnet-base) is fit the way the
/// student fits its encoder (the student's `train_layers`: a linear probe at 0, the top k layers
/// above), not fine-tuned whole: a weak model is weak by its size and pretraining, as the strong
/// one is adapted (issue 21). Other weak sizes, and students without `train_layers`, keep
/// WeakStudentFor's every-weight fine-tuning.
template <class W, class S>
void fit_encoder_like_student(W& weak, const S& student, const PretrainedBackbone& weak_backbone) {
  if (!model_kind(weak_backbone.size.backbone.kind).layered) return;
  if constexpr (requires { weak.train_layers = student.train_layers; })
    weak.train_layers = student.train_layers;
  else if constexpr (requires { weak.inner.train_layers = student.inner.train_layers; })
    weak.inner.train_layers = student.inner.train_layers;
}

/// Steps 2–3: the weak supervisor, trained on ground truth of the weak half as the Task says
/// (Task::weak_student: fine-tuned like the student's family for classes; for regression, as in
/// Charikar et al., a least-squares head on its frozen representation), and its soft
/// predictions on the transfer half. `student` is the experiment's.
template <class Task, class S>
StageResult weak_supervisor(const SeedState& s, const S& student) {
  auto weak = Task::weak_student(student);
  fit_encoder_like_student(weak, student, s.weak_backbone);
  return ground_truth_stage<Task>(s, weak, s.weak_backbone, s.splits.weak_half, true, "weak", true);
}

/// Step 5: the strong ceiling, adapted by the experiment's own Student on
/// ground truth of the half `--ceiling-half` names. Its predictions on the
/// transfer half say where the strong model is unconfident (paper Fig. 26).
template <class Task, class S>
StageResult strong_ceiling(const SeedState& s, const S& student) {
  const auto& half = s.config.ceiling_half == "weak" ? s.splits.weak_half : s.splits.transfer_half;
  return ground_truth_stage<Task>(s, student, s.strong_backbone, half, false, "ceiling", true);
}

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE TrainConfig SeedState::train_config(bool weak, const std::string& label) const {
  TrainConfig t;
  t.epochs = weak ? config.weak_epochs : config.epochs;
  t.lr = weak ? config.weak_lr : config.lr;
  t.batch_size = config.batch_size;
  t.minibatch = config.minibatch;
  t.amp = config.amp;
  t.eval_points = config.eval_points;
  t.seed = seed;
  t.device = device;
  t.label = label + " seed " + std::to_string(seed);
  t.lr_option = weak ? "--weak-lr" : "--lr";
  return t;
}

W2S_ENGINE_INLINE StageResult stage_from(const Artifact& a, bool cached) {
  StageResult r;
  r.test_probs = a.tensors.at(0);
  if (a.tensors.size() > 1) r.transfer_probs = a.tensors.at(1);
  r.curve = Curve::from_json(a.meta.at("curve"));
  r.seconds = a.meta.at("seconds").get<double>();
  r.early_stopping = a.meta.value("early_stopping", nlohmann::json());
  r.cached = cached;
  return r;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
