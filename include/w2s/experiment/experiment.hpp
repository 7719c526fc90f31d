#pragma once
/// \file
/// `Experiment<LabelSource, Loss, Student>`: the composition site. It checks each
/// policy's required members with a static_assert that names the role, the
/// member and the doc page, owns the command line, and runs the whole protocol
/// for every seed (docs/writing-an-ablation.md).
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "w2s/core/cli.hpp"
#include "w2s/core/guarded_main.hpp"
#include "w2s/core/runtime.hpp"
#include "w2s/experiment/driver.hpp"
#include "w2s/experiment/method.hpp"
#include "w2s/experiment/protocol.hpp"
#include "w2s/experiment/task.hpp"
#include "w2s/labels/label_source.hpp"
#include "w2s/losses/loss.hpp"
#include "w2s/losses/squared_error.hpp"
#include "w2s/students/student.hpp"

namespace w2s {

/// The composition site. `MethodT` is `Direct` (the default) or `Bootstrap`.
template <class LabelSourceT, class LossT, class StudentT, class MethodT = Direct>
class Experiment {
  static_assert(Named<LabelSourceT>,
                "w2s::Experiment: the LabelSource (1st parameter) needs `static constexpr std::string_view name` "
                "(see docs/roles.md#labelsource)");
  static_assert(LabelMaker<LabelSourceT>,
                "w2s::Experiment: the LabelSource (1st parameter) needs `w2s::StudentData make(const "
                "w2s::LabelContext&) const` (see docs/roles.md#labelsource)");
  static_assert(Named<LossT>,
                "w2s::Experiment: the Loss (2nd parameter) needs `static constexpr std::string_view name` "
                "(see docs/roles.md#loss)");
  static_assert(LossCallable<LossT>,
                "w2s::Experiment: the Loss (2nd parameter) needs `at::Tensor operator()(const at::Tensor& logits, "
                "const at::Tensor& targets, w2s::TrainProgress) const` (see docs/roles.md#loss)");
  static_assert(Named<StudentT>,
                "w2s::Experiment: the Student (3rd parameter) needs `static constexpr std::string_view name` "
                "(see docs/roles.md#student)");
  static_assert(StudentFit<StudentT>,
                "w2s::Experiment: the Student (3rd parameter) needs `template <class Loss> w2s::Fitted fit(const "
                "w2s::StudentContext&, const w2s::StudentData&, const Loss&) const` (see docs/roles.md#student)");
  static_assert(Named<MethodT>,
                "w2s::Experiment: the Method (4th parameter) needs `static constexpr std::string_view name`; use "
                "w2s::Direct or w2s::Bootstrap (see docs/roles.md#method)");
  static_assert(MethodStep<MethodT, LabelSourceT, LossT, StudentT>,
                "w2s::Experiment: the Method (4th parameter) needs `template <class L, class Loss, class S> "
                "w2s::StudentData student_data(const w2s::SeedState&, const L&, const Loss&, const S&, const "
                "w2s::LabelContext&, nlohmann::json& record) const` (see docs/roles.md#method)");

 public:
  using label_source_type = LabelSourceT;
  using loss_type = LossT;
  using student_type = StudentT;
  /// The task this experiment's loss fits (experiment/task.hpp); the dataset must ask for it.
  using Task = TaskFor<LossT>;

  LabelSourceT label_source{};
  LossT loss{};
  StudentT student{};
  MethodT method{};

  /// Parses the command line and runs every seed; returns the exit status.
  /// Throws w2s::Error for bad configuration or data (w2s::run prints it). The work is the
  /// engine's experiment_main (experiment/driver.hpp), with this experiment's policies.
  int main(std::string_view name, int argc, char** argv) {
    Steps steps(*this);
    return experiment_main(name, argc, argv, steps);
  }

  [[nodiscard]] nlohmann::json policies() const {
    return {{"label_source", describe_policy(label_source)},
            {"loss", describe_policy(loss)},
            {"student", describe_policy(student)},
            {"method", describe_policy(method)}};
  }

  /// Runs the protocol for every seed of `cfg`, writing one record per seed: the engine's
  /// run_protocol (experiment/driver.hpp) with this experiment's policies as its steps.
  void run(RunConfig cfg) const { run_protocol(std::move(cfg), Steps(*this)); }

 private:
  /// The steps of the protocol that the policies own: the only code of the protocol that an
  /// experiment file instantiates.
  class Steps final : public ProtocolPolicies {
   public:
    explicit Steps(const Experiment& e) : e_(e) {}
    /// Steps that may also bind the policies' options (experiment_main).
    explicit Steps(Experiment& e) : e_(e), options_(&e) {}
    [[nodiscard]] bool regression() const override { return std::is_same_v<Task, Regression>; }
    [[nodiscard]] std::string_view label_source_name() const override { return LabelSourceT::name; }
    [[nodiscard]] std::string_view loss_name() const override { return LossT::name; }
    [[nodiscard]] std::string_view student_name() const override { return StudentT::name; }
    [[nodiscard]] nlohmann::json policies() const override { return e_.policies(); }
    [[nodiscard]] bool needs_transfer_ground_truth() const override {
      return w2s::needs_transfer_ground_truth<StudentT>();
    }
    [[nodiscard]] StageResult weak_supervisor(const SeedState& s) const override {
      return w2s::weak_supervisor<Task>(s, e_.student);
    }
    [[nodiscard]] StageResult strong_ceiling(const SeedState& s) const override {
      return w2s::strong_ceiling<Task>(s, e_.student);
    }
    [[nodiscard]] StudentData student_data(const SeedState& s, const LabelContext& c,
                                           nlohmann::json& method_record) const override {
      return e_.method.student_data(s, e_.label_source, e_.loss, e_.student, c, method_record);
    }
    [[nodiscard]] Fitted fit_student(const StudentContext& ctx, const StudentData& data) const override {
      return e_.student.fit(ctx, for_student<StudentT>(data), e_.loss);
    }

    [[nodiscard]] int64_t default_epochs() const override { return student_default_epochs<StudentT>(); }
    [[nodiscard]] double default_lr() const override { return student_default_lr<StudentT>(); }
    void add_options(po::options_description& options) override {
      check(options_ != nullptr, "w2s::Experiment: options bound on a const experiment");
      add_policy_options(options_->label_source, options);
      add_policy_options(options_->loss, options);
      add_policy_options(options_->student, options);
      add_policy_options(options_->method, options);
    }
    [[nodiscard]] std::vector<std::string> section_names() const override {
      std::vector<std::string> names;
      policy_names(e_.label_source, names);
      policy_names(e_.loss, names);
      policy_names(e_.student, names);
      policy_names(e_.method, names);
      return names;
    }
    void validate() const override {
      validate_policy(e_.label_source);
      validate_policy(e_.loss);
      validate_policy(e_.student);
      validate_policy(e_.method);
    }
    [[nodiscard]] bool needs_held_out_ceiling() const override {
      return w2s::needs_held_out_ceiling<LabelSourceT>();
    }

   private:
    const Experiment& e_;
    Experiment* options_ = nullptr;  ///< where the options bind; null for run()
  };
};

/// The `main` of an experiment file: sets the process up, runs experiment `E`,
/// and turns any error into one line on stderr and exit status 1.
template <class E>
int run(std::string_view name, int argc, char** argv) {
  runtime::ensure_passive_openmp(argv);
  return guarded_main(name, [&] {
    E experiment;
    return experiment.main(name, argc, argv);
  });
}

}  // namespace w2s
