#pragma once
/// \file
/// The definitions of experiment/driver.hpp's functions (experiment_main, run_protocol, one seed,
/// the controls): inline in a header-only build, compiled once into w2s::engine otherwise
/// (core/engine.hpp): in a compiled build this file is empty except in src/engine.cpp.
#include "w2s/experiment/driver.hpp"

#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
#include <torch/cuda.h>

namespace w2s {

W2S_ENGINE_INLINE int experiment_main(std::string_view name, int argc, char** argv, ProtocolPolicies& p) {
  RunConfig cfg;
  cfg.experiment = std::string(name);
  cfg.epochs = p.default_epochs();
  cfg.lr = p.default_lr();
  if (p.regression()) cfg.dataset = std::string(Regression::default_dataset);
  po::options_description policy_options(
      detail::concat("Policy options (", p.label_source_name(), ", ", p.loss_name(), ", ", p.student_name(), ")"));
  p.add_options(policy_options);
  if (!cli::parse(argc, argv, cfg, policy_options, std::cout, p.section_names())) return 0;
  p.validate();
  check(!p.needs_held_out_ceiling() || cfg.ceiling_half == "weak", p.label_source_name(),
        ": ranks the transfer half by the strong ceiling's confidence, which must be held out; with --ceiling-half ",
        "transfer the ceiling trains on those very rows. Use --ceiling-half weak");
  run_protocol(std::move(cfg), p);
  return 0;
}

W2S_ENGINE_INLINE void run_protocol(RunConfig cfg, const ProtocolPolicies& p) {
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
  const DataBundle bundle =
      entry.load({cfg.data_dir, cfg.max_tokens, cfg.quiet, token_files_for({cfg.weak, cfg.strong}, cfg.data_dir)});
  // The dataset chooses the task (classes or values); the loss must fit it.
  if (p.regression())
    check(bundle.train.regression(), p.loss_name(), ": dataset '", bundle.train.name,
          "' has classes; this loss fits real-valued targets (regression datasets: ", Regression::default_dataset, ")");
  else
    check(!bundle.train.regression(), p.loss_name(), ": dataset '", bundle.train.name,
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
  auto weak_bb = pretrain(weak_size, bundle.pretrain_pool(), cache, cfg.smoke, device, log);
  auto strong_bb = pretrain(strong_size, bundle.pretrain_pool(), cache, cfg.smoke, device, log);
  weak_bb.count_parameters();  // sizes.*.parameters in the records
  strong_bb.count_parameters();
  FeatureCache features(&cache);
  const RunIdentity identity = run_identity(
      cfg, p.policies(), threads,
      {{"dataset", bundle.train.id()}, {"backbones", {{"weak", weak_bb.key}, {"strong", strong_bb.key}}}});
  const detail::SeedRun run{cfg, threads, start, bundle, weak_bb, strong_bb, cache, log, features, device, identity};
  nlohmann::json done = nlohmann::json::array();  // --marker: each seed's record
  for (const auto seed : cfg.seeds) {
    const auto path = identity.record_path(cfg.out, seed);
    if (cfg.skip_existing && identity.recorded_at(path, seed)) {
      std::cout << cfg.experiment << " seed " << seed << ": recorded already (--skip-existing)  -> " << path.string()
                << std::endl;
    } else {
      try {
        detail::run_seed(run, seed, p, path);
      } catch (const Diverged& d) {
        if (cfg.on_divergence != "record") throw;
        write_record(path, diverged_record(cfg, seed, threads, identity.to_json(seed), d, p.policies()));
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

W2S_ENGINE_INLINE void detail::run_seed(const SeedRun& r, uint64_t seed, const ProtocolPolicies& p,
                                        const std::filesystem::path& path) {
  const auto& cfg = r.cfg;
  const auto seed_start = std::chrono::steady_clock::now();
  // 1. Split: weak half | transfer half | test.
  const Splits splits = make_splits(r.bundle, seed, cfg.train_size, cfg.test_size);
  // Sizes without pretraining of their own start from this seed's initialisation (for_seed).
  const PretrainedBackbone weak_seeded = r.weak_bb.for_seed(seed), strong_seeded = r.strong_bb.for_seed(seed);
  const SeedState s{cfg,   seed,       splits,   weak_seeded, strong_seeded, r.cache,
                    r.log, r.features, r.device, r.bundle.pretrain_pool()};
  // 2–3. The weak supervisor on ground truth of the weak half; its predictions on the transfer half.
  const StageResult weak = p.weak_supervisor(s);
  // 5. The strong ceiling on ground truth (its transfer predictions also place errors, Fig. 26).
  const StageResult ceiling = p.strong_ceiling(s);
  // 4. The student's targets from the label source (directly, or bootstrapped), then the student.
  // The strong model's frozen features, for label sources that clean on them (labels/cleaned.hpp).
  const auto strong_features = [&s, &r](const Dataset& d) {
    check(!d.language_model_tokens(), "label cleaning: the strong model ", r.strong_bb.size.name, " reads '", d.name,
          "' as a language model's tokens and has no frozen features to clean labels on (choose an encoder or a "
          "ladder size with features)");
    return s.features.get(s.strong_backbone, d, s.device).cpu();
  };
  const LabelContext label_context{splits,
                                   weak.transfer_probs,
                                   weak.test_probs,
                                   seed,
                                   ceiling.transfer_probs,
                                   /*ceiling_trained_on_transfer=*/cfg.ceiling_half == "transfer",
                                   strong_features};
  nlohmann::json method_record = nlohmann::json::object();
  const StudentData labelled = p.student_data(s, label_context, method_record);
  check(labelled.targets.dim() == 2 && labelled.targets.size(0) == labelled.train.size() &&
            labelled.targets.size(1) == labelled.train.outputs(),
        p.label_source_name(), ": targets of shape ", labelled.targets.sizes(), ", expected ", labelled.train.size(),
        "×", labelled.train.outputs());
  r.log("student ", r.strong_bb.size.name, " seed ", seed, ": ", p.student_name(), " with ", p.loss_name(), " on ",
        p.label_source_name(), " labels");
  const StudentContext ctx{strong_seeded, s.train_config(false, "student " + r.strong_bb.size.name), r.log, r.features};
  const Fitted fitted = p.fit_student(ctx, labelled);
  // 6. Evaluate all three on test, into one record.
  const RecordParts parts{cfg, seed, r.threads, splits, r.weak_bb, r.strong_bb, weak, ceiling, fitted.result,
                          runtime::seconds_since(seed_start), runtime::seconds_since(r.start), p.policies(),
                          p.needs_transfer_ground_truth()};
  auto record = p.regression() ? seed_record<Regression>(parts) : seed_record<Classification>(parts);
  const SeedOutcome outcome{splits, weak, ceiling, fitted};
  if (p.regression()) {
    Regression::add_fields(record["metrics"], outcome);
  } else {
    Classification::add_fields(record["metrics"], outcome);
    record["metrics"]["label_free"] = label_free_control(s, weak, record["metrics"]);
  }
  if (!labelled.cleaned.empty()) record["metrics"]["cleaning"] = cleaning_metrics(label_context, labelled);
  if (!p.regression()) {
    // The supervisor's soft labels where the student reads them: on the transfer half.
    const auto cal = metrics::calibration(weak.transfer_probs, splits.transfer_half.targets);
    record["metrics"]["weak"]["transfer_calibration"] = {
        {"mean_confidence", cal.mean_confidence}, {"mean_margin", cal.mean_margin}, {"ece", cal.ece}};
  }
  if (cfg.noise_control) {
    check(!p.regression(), "--noise-control: regression datasets have no label errors to place (classes only)");
    r.log("noise control ", r.strong_bb.size.name, " seed ", seed, ": ", p.student_name(), " with ", p.loss_name(),
          " on ground truth with the supervisor's error count flipped at random");
    const StudentContext noise_ctx{strong_seeded, s.train_config(false, "noise control " + r.strong_bb.size.name),
                                   r.log, r.features};
    record["metrics"]["noise_control"] = noise_control(p, noise_ctx, label_context, labelled, record["metrics"]);
  }
  record["identity"] = r.identity.to_json(seed);
  if (!method_record.empty()) record["method"] = method_record;
  write_record(path, record);
  const auto& m = record.at("metrics");
  std::cout << cfg.experiment << " seed " << seed << ": "
            << (p.regression() ? Regression::summary(m) : Classification::summary(m)) << "  -> " << path.string()
            << std::endl;
}
W2S_ENGINE_INLINE nlohmann::json label_free_control(const SeedState& s, const StageResult& weak,
                                                    const nlohmann::json& metrics) {
  const auto& transfer = s.splits.transfer_half;
  const auto& test = s.splits.test;
  if (transfer.language_model_tokens()) return nullptr;
  const auto features = [&](const Dataset& d) { return s.features.get(s.strong_backbone, d, s.device).cpu(); };
  const auto weak_labels = weak.transfer_probs.argmax(1);
  const double w = metrics.at("weak").at("accuracy").get<double>();
  const double c = metrics.at("ceiling").at("accuracy").get<double>();
  const auto x = features(transfer), t = features(test);
  const auto scored = [&](const metrics::LabelFreePrediction& p) {
    const double a = metrics::accuracy(p.test_probs, test.targets);
    nlohmann::json j = {
        {"accuracy", a}, {"pgr", number_or_null(metrics::pgr(w, a, c))}, {"clusters_named", p.clusters_named}};
    j["accuracy_majority_naming"] = metrics::accuracy(p.test_probs_majority, test.targets);
    return j;
  };
  nlohmann::json out = {
      {"features", s.strong_backbone.key},
      {"named_by",
       "the weak labels of the transfer half, one class per cluster (the assignment agreeing with most weak labels; "
       "accuracy_majority_naming: each cluster's majority weak label); never ground truth"},
      {"kmeans", scored(metrics::kmeans_baseline(x, weak_labels, t, transfer.classes, s.seed))}};
  if (transfer.classes == 2) out["pca_sign"] = scored(metrics::pca_sign_baseline(x, weak_labels, t));
  return out;
}

W2S_ENGINE_INLINE nlohmann::json cleaning_metrics(const LabelContext& c, const StudentData& labelled) {
  const auto& transfer = c.splits.transfer_half;
  const int64_t n = transfer.size();
  const auto weak_wrong = c.weak_transfer_probs.argmax(1).ne(transfer.targets);
  auto removed = at::full({n}, labelled.kept.defined(), at::kBool);  // relabelled: none removed
  if (labelled.kept.defined()) removed.index_put_({labelled.kept}, false);
  const auto share = [](const at::Tensor& part, const at::Tensor& of) {
    const auto total = of.sum().item<int64_t>();
    return total == 0 ? nlohmann::json(nullptr)
                      : nlohmann::json(static_cast<double>(part.logical_and(of).sum().item<int64_t>()) /
                                       static_cast<double>(total));
  };
  // What the student trains on, against the truth of the same rows (labelled.train.targets).
  const auto target_wrong = labelled.targets.argmax(1).ne(labelled.train.targets);
  return {{"method", labelled.cleaned},
          {"kept", labelled.train.size()},
          {"of", n},
          {"weak_error_rate", weak_wrong.to(at::kDouble).mean().item<double>()},
          {"weak_errors_removed", share(removed, weak_wrong)},
          {"correct_labels_removed", share(removed, weak_wrong.logical_not())},
          {"target_error_rate", target_wrong.to(at::kDouble).mean().item<double>()}};
}

W2S_ENGINE_INLINE nlohmann::json noise_control(const ProtocolPolicies& p, const StudentContext& ctx,
                                               const LabelContext& c, const StudentData& labelled,
                                               const nlohmann::json& metrics) {
  const auto& transfer = c.splits.transfer_half;
  if (transfer.language_model_tokens()) return nullptr;  // a second LM student per seed: not run
  const bool hard = labelled.targets.amax(1).eq(1).all().item<bool>();
  const StudentData noisy = hard ? RandomNoise<Hard>{}.make(c) : RandomNoise<Soft>{}.make(c);
  const Fitted fitted = p.fit_student(ctx, noisy);
  const double a = metrics::accuracy(fitted.result.test_probs, c.splits.test.targets);
  const double w = metrics.at("weak").at("accuracy").get<double>();
  const double ceiling = metrics.at("ceiling").at("accuracy").get<double>();
  const int64_t errors = weak_error_count(c);
  return {{"labels", hard ? RandomNoise<Hard>::name : RandomNoise<Soft>::name},
          {"errors", errors},
          {"error_rate", static_cast<double>(errors) / static_cast<double>(transfer.size())},
          {"accuracy", a},
          {"pgr", number_or_null(metrics::pgr(w, a, ceiling))}};
}

}  // namespace w2s
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
