// model_ladder: each ladder size's latent knowledge (linear-probe accuracy on
// frozen pretrained features) and fine-tuned accuracy, both trained on ground
// truth of the weak half and tested on the test set. Uses the same cache as the
// experiments (a size's ceilings are shared with them).
#include <w2s.hpp>

#include <algorithm>
#include <iomanip>

namespace {
int ladder_main(int argc, char** argv) {
  w2s::RunConfig cfg;
  cfg.experiment = "model_ladder";
  bool finetune = true;
  std::string objective;
  int64_t probe_epochs = w2s::LinearProbe::default_epochs;
  double probe_lr = w2s::LinearProbe::default_lr;
  int64_t finetune_layers = 1;
  std::string only;
  w2s::po::options_description extra("model_ladder options");
  extra.add_options()("sizes", w2s::po::value(&only),
                      "comma-separated sizes to run (default: every size of the dataset's ladder)")(
      "probe-only", w2s::po::bool_switch()->notifier([&](bool v) { finetune = !v; }),
                      "skip the fine-tuned accuracy")(
      "pretrain-objective", w2s::po::value(&objective),
      "pretrain every size with this objective instead of the ladder's (simclr or dae), to compare them")(
      "probe-epochs", w2s::po::value(&probe_epochs)->default_value(probe_epochs), "linear probe epochs")(
      "probe-lr", w2s::po::value(&probe_lr)->default_value(probe_lr),
      "linear probe learning rate (text features want about 0.1, docs/text.md)")(
      "finetune-layers", w2s::po::value(&finetune_layers)->default_value(finetune_layers),
      "pretrained encoders: fine-tune the top k layers and the head (-1 = every weight)");
  if (!w2s::cli::parse(argc, argv, cfg, extra)) return 0;
  w2s::runtime::tune_malloc();
  const int threads = w2s::runtime::set_threads(cfg.threads);
  const w2s::Log log(cfg.experiment, cfg.quiet);
  const auto& entry = w2s::data::find_dataset(cfg.dataset);
  std::vector<std::string> names;  // the sizes asked for, checked against the dataset's ladder below
  for (size_t at = 0; !only.empty() && at <= only.size();) {
    const auto comma = std::min(only.find(',', at), only.size());
    names.push_back(only.substr(at, comma - at));
    at = comma + 1;
  }
  std::vector<std::string> all_text;  // a text size may read a tokenizer of its own: tokenise only for those run
  for (const auto& s : w2s::ladder(w2s::Modality::text)) all_text.push_back(s.name);
  const auto bundle = entry.load(
      {cfg.data_dir, cfg.max_tokens, cfg.quiet, w2s::token_files_for(names.empty() ? all_text : names, cfg.data_dir)});
  std::vector<w2s::LadderSize> sizes;
  for (const auto& size : w2s::ladder(bundle.train.modality))
    if (names.empty() || std::find(names.begin(), names.end(), size.name) != names.end()) sizes.push_back(size);
  for (const auto& n : names)
    w2s::find_size(bundle.train.modality, n, false, "--sizes");  // an unknown name: an error listing the ladder
  if (cfg.smoke) {
    cfg.train_size = std::min(cfg.train_size, bundle.train.size());
    cfg.test_size = std::min(cfg.test_size, bundle.test.size());
  }
  const w2s::Cache cache(cfg.cache_dir, !cfg.no_cache, w2s::cache_environment(threads, cfg.device));
  w2s::FeatureCache features(&cache);
  std::string rows;
  std::cout << "| size | backbone | pretraining | pretrain s | linear probe acc | fine-tuned acc |\n|---|---|---|---|---|---|\n";
  for (auto size : sizes) {
    if (!objective.empty()) size.pretrain.objective = objective;
    size = w2s::find_size_for(bundle.train, size.name, false, "--size", cfg.data_dir);  // encoders: their folder
    const auto bb = w2s::pretrain(size, bundle.pretrain_pool(), cache, cfg.smoke, torch::kCPU, log);
    for (const auto seed : cfg.seeds) {
      const auto splits = w2s::make_splits(bundle, seed, cfg.train_size, cfg.test_size);
      auto c = cfg;
      c.epochs = probe_epochs;
      c.lr = probe_lr;
      const w2s::SeedState probe_state{c, seed, splits, bb, bb, cache, log, features, torch::kCPU, bundle.pretrain_pool()};
      const auto lp = w2s::strong_ceiling<w2s::Classification>(probe_state, w2s::LinearProbe{});
      const double lp_acc = w2s::metrics::score(lp.test_probs, splits.test.targets);
      double ft_acc = NAN;
      if (finetune) {
        const w2s::SeedState ft_state{cfg, seed, splits, bb, bb, cache, log, features, torch::kCPU, bundle.pretrain_pool()};
        w2s::FineTune ft;
        if (w2s::model_kind(size.backbone.kind).layered) ft.train_layers = finetune_layers;
        ft_acc = w2s::metrics::score(w2s::strong_ceiling<w2s::Classification>(ft_state, ft).test_probs, splits.test.targets);
      }
      std::cout << "| " << size.name << " | " << size.backbone.describe().dump() << " | " << size.pretrain.describe().dump()
                << " | " << std::fixed << std::setprecision(1) << bb.meta.value("seconds", 0.0) << " | "
                << std::setprecision(4) << lp_acc << " | " << ft_acc << " |" << std::endl;
      rows += nlohmann::json{{"tool", "model_ladder"}, {"dataset", cfg.dataset}, {"size", size.describe()},
                             {"seed", seed}, {"linear_probe_accuracy", lp_acc},
                             {"finetune_accuracy", w2s::number_or_null(ft_acc)},
                             {"pretrain_seconds", bb.meta.value("seconds", 0.0)}, {"threads", threads},
                             {"smoke", cfg.smoke}, {"code", w2s::code::fingerprint()}, {"revision", w2s::code::revision()}}
                  .dump() + "\n";
    }
  }
  w2s::atomic_write_text(cfg.out / "model_ladder" / (cfg.dataset + ".jsonl"), rows);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  w2s::runtime::ensure_passive_openmp(argv);
  return w2s::guarded_main("model_ladder", [&] { return ladder_main(argc, argv); });
}
