#pragma once
/// \file
/// `Experiment<LabelSource, Loss, Student>`: the composition site. It checks each
/// policy's required members with a static_assert that names the role, the
/// member and the doc page, owns the command line, and runs the whole protocol
/// for every seed (docs/writing-an-ablation.md).
#include <torch/cuda.h>

#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "w2s/core/cli.hpp"
#include "w2s/core/guarded_main.hpp"
#include "w2s/core/runtime.hpp"
#include "w2s/data/registry.hpp"
#include "w2s/experiment/identity.hpp"
#include "w2s/experiment/method.hpp"
#include "w2s/experiment/protocol.hpp"
#include "w2s/experiment/record.hpp"
#include "w2s/experiment/seed_record.hpp"
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
  /// Throws w2s::Error for bad configuration or data (w2s::run prints it).
  int main(std::string_view name, int argc, char** argv) {
    RunConfig cfg;
    cfg.experiment = std::string(name);
    cfg.epochs = student_default_epochs<StudentT>();
    cfg.lr = student_default_lr<StudentT>();
    if constexpr (std::is_same_v<Task, Regression>) cfg.dataset = std::string(Regression::default_dataset);
    po::options_description policy_options("Policy options (" + std::string(LabelSourceT::name) + ", " +
                                           std::string(LossT::name) + ", " + std::string(StudentT::name) + ")");
    add_policy_options(label_source, policy_options);
    add_policy_options(loss, policy_options);
    add_policy_options(student, policy_options);
    add_policy_options(method, policy_options);
    std::vector<std::string> names;  // the config file's sections that apply here
    policy_names(label_source, names);
    policy_names(loss, names);
    policy_names(student, names);
    policy_names(method, names);
    if (!cli::parse(argc, argv, cfg, policy_options, std::cout, names)) return 0;
    validate_policy(label_source);
    validate_policy(loss);
    validate_policy(student);
    validate_policy(method);
    check(!needs_held_out_ceiling<LabelSourceT>() || cfg.ceiling_half == "weak", LabelSourceT::name,
          ": ranks the transfer half by the strong ceiling's confidence, which must be held out; with --ceiling-half ",
          "transfer the ceiling trains on those very rows. Use --ceiling-half weak");
    run(cfg);
    return 0;
  }

  [[nodiscard]] nlohmann::json policies() const {
    return {{"label_source", describe_policy(label_source)},
            {"loss", describe_policy(loss)},
            {"student", describe_policy(student)},
            {"method", describe_policy(method)}};
  }

  /// Runs the protocol for every seed of `cfg`, writing one record per seed.
  void run(RunConfig cfg) {
    runtime::tune_malloc();
    const int threads = runtime::set_threads(cfg.threads);
    check(cfg.device == "cpu" || torch::cuda::is_available(),
          "--device cuda: this LibTorch has no usable CUDA device (torch::cuda::is_available() is false)");
    const torch::Device device = cfg.device == "cuda" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    const Log log(cfg.experiment, cfg.quiet);
    const auto start = std::chrono::steady_clock::now();
    check_writable_dir(cfg.out, "--out");  // before any work, not after it
    if (!cfg.no_cache) check_writable_dir(cfg.cache_dir, "--cache-dir");
    const auto& entry = data::find_dataset(cfg.dataset);
    log("loading ", entry.name, " from ", cfg.data_dir.string(), " (", threads, " threads)");
    const DataBundle bundle = entry.load({cfg.data_dir, cfg.max_tokens, cfg.quiet});
    // The dataset chooses the task (classes or values); the loss must fit it.
    if constexpr (std::is_same_v<Task, Regression>)
      check(bundle.train.regression(), LossT::name, ": dataset '", bundle.train.name,
            "' has classes; this loss fits real-valued targets (regression datasets: ", Regression::default_dataset, ")");
    else
      check(!bundle.train.regression(), LossT::name, ": dataset '", bundle.train.name,
            "' is regression data (real-valued targets); use squared_error (experiments/gain_vs_misfit.cpp)");
    // --smoke's own sizes are caps (small tables have fewer rows); a size the user gives is checked by make_splits.
    if (cfg.train_size_is_cap) cfg.train_size = std::min(cfg.train_size, bundle.train.size());
    if (cfg.test_size_is_cap) cfg.test_size = std::min(cfg.test_size, bundle.test.size());
    make_splits(bundle, 0, cfg.train_size, cfg.test_size);  // refuses sizes the data lacks before any training
    const auto weak_size = find_size_for(bundle.train, cfg.weak, true, "--weak", cfg.data_dir);
    const auto strong_size = find_size_for(bundle.train, cfg.strong, false, "--strong", cfg.data_dir);
    cfg.weak = weak_size.name;
    cfg.strong = strong_size.name;
    const Cache cache(cfg.cache_dir, !cfg.no_cache, cache_environment(threads, cfg.device));
    const auto weak_bb = pretrain(weak_size, bundle.pretrain_pool(), cache, cfg.smoke, device, log);
    const auto strong_bb = pretrain(strong_size, bundle.pretrain_pool(), cache, cfg.smoke, device, log);
    FeatureCache features(&cache);
    const RunIdentity identity = run_identity(
        cfg, policies(), threads,
        {{"dataset", bundle.train.id()}, {"backbones", {{"weak", weak_bb.key}, {"strong", strong_bb.key}}}});
    nlohmann::json done = nlohmann::json::array();  // --marker: each seed's record
    for (const auto seed : cfg.seeds) {
      const auto path = identity.record_path(cfg.out, seed);
      if (cfg.skip_existing && identity.recorded_at(path, seed)) {
        std::cout << cfg.experiment << " seed " << seed << ": recorded already (--skip-existing)  -> " << path.string()
                  << std::endl;
      } else {
        try {
          run_seed(cfg, seed, threads, start, bundle, weak_bb, strong_bb, cache, log, features, device, identity, path);
        } catch (const Diverged& d) {
          if (cfg.on_divergence != "record") throw;
          write_record(path, diverged_record(cfg, seed, threads, identity.to_json(seed), d, policies()));
          std::cout << cfg.experiment << " seed " << seed << ": DIVERGED (" << d.what() << ")  -> " << path.string()
                    << std::endl;
        }
      }
      done.push_back({{"seed", seed}, {"record", path.string()}, {"run", identity.run(seed)}});
    }
    if (!cfg.marker.empty()) {
      std::string lines;
      for (const auto& d : done) lines += d.dump() + "\n";
      atomic_write_text(cfg.marker, lines);
    }
  }

 private:
  /// One seed of the protocol (paper-facts.md, "The protocol"), to its record.
  void run_seed(const RunConfig& cfg, uint64_t seed, int threads, std::chrono::steady_clock::time_point start,
                const DataBundle& bundle, const PretrainedBackbone& weak_bb, const PretrainedBackbone& strong_bb,
                const Cache& cache, const Log& log, FeatureCache& features, torch::Device device,
                const RunIdentity& identity, const std::filesystem::path& path) {
    const auto seed_start = std::chrono::steady_clock::now();
    // 1. Split: weak half | transfer half | test.
    const Splits splits = make_splits(bundle, seed, cfg.train_size, cfg.test_size);
    // Sizes without pretraining of their own start from this seed's initialisation (for_seed).
    const PretrainedBackbone weak_seeded = weak_bb.for_seed(seed), strong_seeded = strong_bb.for_seed(seed);
    const SeedState s{cfg, seed, splits, weak_seeded, strong_seeded, cache, log, features, device, bundle.pretrain_pool()};
    // 2–3. The weak supervisor on ground truth of the weak half; its predictions on the transfer half.
    const StageResult weak = weak_supervisor<Task>(s, student);
    // 5. The strong ceiling on ground truth (its transfer predictions also place errors, Fig. 26).
    const StageResult ceiling = strong_ceiling<Task>(s, student);
    // 4. The student's targets from the label source (directly, or bootstrapped), then the student.
    const LabelContext label_context{splits, weak.transfer_probs, weak.test_probs, seed, ceiling.transfer_probs,
                                     /*ceiling_trained_on_transfer=*/cfg.ceiling_half == "transfer"};
    nlohmann::json method_record = nlohmann::json::object();
    const StudentData labelled = method.student_data(s, label_source, loss, student, label_context, method_record);
    check(labelled.targets.dim() == 2 && labelled.targets.size(0) == labelled.train.size() &&
              labelled.targets.size(1) == labelled.train.outputs(),
          LabelSourceT::name, ": targets of shape ", labelled.targets.sizes(), ", expected ", labelled.train.size(), "×",
          labelled.train.outputs());
    log("student ", strong_bb.size.name, " seed ", seed, ": ", StudentT::name, " with ", LossT::name, " on ",
        LabelSourceT::name, " labels");
    const StudentContext ctx{strong_seeded, s.train_config(false, "student " + strong_bb.size.name), log, features};
    const Fitted fitted = student.fit(ctx, for_student<StudentT>(labelled), loss);
    // 6. Evaluate all three on test, into one record.
    auto record = seed_record<Task>({cfg, seed, threads, splits, weak_bb, strong_bb, weak, ceiling, fitted.result,
                                     runtime::seconds_since(seed_start), runtime::seconds_since(start), policies(),
                                     needs_transfer_ground_truth<StudentT>()});
    Task::add_fields(record["metrics"], {splits, weak, ceiling, fitted});
    record["identity"] = identity.to_json(seed);
    if (!method_record.empty()) record["method"] = method_record;
    write_record(path, record);
    std::cout << cfg.experiment << " seed " << seed << ": " << Task::summary(record.at("metrics")) << "  -> "
              << path.string() << std::endl;
  }
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
