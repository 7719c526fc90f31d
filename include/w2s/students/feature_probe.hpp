#pragma once
/// \file
/// Probe students on the strong model's frozen features (issue 22, EleutherAI probe.py): a kNN
/// probe (the mean target of the k nearest training points), a logistic regression fitted by
/// Newton's method to convergence (L2 penalty), and the topological probe (kNN within the training
/// set's TopoCC components); beside the linear probe, which trains a head by gradient steps.
/// Two classes. Each fits its own objective to the soft targets it is handed, so it pairs with
/// CrossEntropy only (a loss it would ignore does not compile). Its curve is one point: the test
/// accuracy of the fitted probe.
#include <ATen/ATen.h>

#include <chrono>
#include <string_view>
#include <type_traits>

#include "w2s/labels/cleaned.hpp"
#include "w2s/losses/cross_entropy.hpp"
#include "w2s/metrics/metrics.hpp"
#include "w2s/students/student.hpp"

namespace w2s {

template <class Probe>
struct FeatureProbe {
  static constexpr std::string_view name = Probe::name == std::string_view("knn")        ? "knn_probe"
                                           : Probe::name == std::string_view("logistic") ? "logistic_probe"
                                                                                         : "topo_probe";
  Probe probe;

  template <class L>
  Fitted fit(const StudentContext& c, const StudentData& d, const L&) const {
    static_assert(std::is_same_v<L, CrossEntropy>,
                  "w2s::FeatureProbe: a probe student fits its own objective to the soft targets (kNN mean, "
                  "logistic regression); pair it with w2s::CrossEntropy, the loss it stands for");
    check(d.outputs() == 2 && d.train.classes == 2, name, ": dataset '", d.train.name, "' has ", d.train.classes,
          " classes; the probe students are defined for two");
    const auto start = std::chrono::steady_clock::now();
    // The cache and the backbone outlive the context (as the linear probe's predict assumes).
    const auto features = [&cache = c.features, &backbone = c.backbone, device = c.config.device](const Dataset& rows) {
      return cache.get(backbone, rows, device).cpu().to(at::kDouble);
    };
    const ProbeFn probe_fn = probe.fit(features(d.train), d.targets.select(1, 1).to(at::kDouble));
    Fitted out;
    out.predict = [probe_fn, features](const Dataset& rows) {
      const auto p = probe_fn(features(rows)).to(at::kFloat);
      return at::stack({1 - p, p}, 1);
    };
    out.result.test_probs = out.predict(d.test);
    out.result.curve.steps.push_back(0);
    out.result.curve.score.push_back(metrics::accuracy(out.result.test_probs, d.test.targets));
    out.result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
  }
  void add_options(po::options_description& o) { add_policy_options(probe, o); }
  void validate() const { validate_policy(probe); }
  [[nodiscard]] nlohmann::json describe() const { return describe_policy(probe).at("options"); }
};

using KnnProbeStudent = FeatureProbe<KnnProbe>;
using LogisticProbeStudent = FeatureProbe<LogisticProbe>;
using TopoProbeStudent = FeatureProbe<TopoProbe>;

}  // namespace w2s
