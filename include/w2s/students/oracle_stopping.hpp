#pragma once
/// \file
/// The early-stopping oracle (paper Figs. 7 and 13): train as `Inner` does, but
/// report the test predictions of the evaluation step with the best test
/// accuracy, as a ground-truth oracle for when to stop would. It is a user of the
/// trainer's callbacks: it adds BestStep (train/callbacks.hpp) to the callbacks of the context
/// it hands `Inner`, and reports what BestStep saw.
#include <algorithm>
#include <memory>

#include "w2s/students/fine_tune.hpp"

namespace w2s {

template <class Inner = FineTune>
struct OracleStopping {
  static constexpr std::string_view name = "oracle_stopping";
  static constexpr int64_t default_epochs = student_default_epochs<Inner>();
  static constexpr double default_lr = student_default_lr<Inner>();
  static constexpr bool needs_transfer_ground_truth = w2s::needs_transfer_ground_truth<Inner>();
  Inner inner{};
  int64_t evaluations_per_epoch = 10;  ///< how finely the oracle looks

  template <class L>
  Fitted fit(const StudentContext& c, const StudentData& data, const L& loss) const {
    StudentContext fine = c;
    fine.config.eval_points = std::max(c.config.eval_points, c.config.epochs * evaluations_per_epoch);
    const auto best = std::make_shared<BestStep>();
    fine.callbacks.push_back(best);
    Fitted f = inner.fit(fine, data, loss);
    // Test metrics become the best step's; predictions on other data stay the final model's.
    // A student that never calls the trainer (few-shot) has one model: its final one.
    if (best->found()) f.result.test_probs = best->probs();
    return f;
  }
  void add_options(po::options_description& o) {
    add_policy_options(inner, o);
    o.add_options()("oracle-evaluations-per-epoch", po::value(&evaluations_per_epoch)->default_value(evaluations_per_epoch),
                    "test evaluations per epoch the oracle chooses among");
  }
  [[nodiscard]] nlohmann::json describe() const {
    return {{"inner", describe_policy(inner)}, {"evaluations_per_epoch", evaluations_per_epoch}};
  }
};

}  // namespace w2s
