// Cache keys and atomic writes, the command line, the cosine schedule, and the
// training loop's NaN guard.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "w2s/core/cache.hpp"
#include "w2s/core/cli.hpp"
#include <torch/nn/modules/linear.h>
#include "w2s/losses/cross_entropy.hpp"
#include "w2s/train/trainer.hpp"

using namespace w2s;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("w2s_core_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> v;
  for (auto& a : args) v.push_back(a.data());
  return v;
}
}  // namespace

TEST_CASE("stable_hash is 64-bit FNV-1a", "[cache]") {
  // Reference values of FNV-1a 64 (Fowler–Noll–Vo test vectors): "" and "a".
  REQUIRE(stable_hash("") == "cbf29ce484222325");
  REQUIRE(stable_hash("a") == "af63dc4c8601ec8c");
}

TEST_CASE("the cache computes once, keys on everything, and reports corrupt entries", "[cache]") {
  const Cache cache(temp_dir("cache"), true);
  int made = 0;
  const auto make = [&] {
    ++made;
    return Artifact{{at::arange(3, at::kFloat)}, {{"seconds", 1.5}}};
  };
  const auto base = cache.base("weak", "toy", {{"seed", 0}});
  REQUIRE(base != cache.base("weak", "toy", {{"seed", 1}}));
  REQUIRE(at::equal(cache.get_or_make(base, make).tensors[0], at::arange(3, at::kFloat)));
  REQUIRE(at::equal(cache.get_or_make(base, make).tensors[0], at::arange(3, at::kFloat)));
  REQUIRE(made == 1);
  REQUIRE(cache.get_or_make(base, make).meta["seconds"] == 1.5);
  std::ofstream(fs::path(base.string() + ".pt")) << "garbage";
  REQUIRE_THROWS_WITH(cache.load(base), Catch::Contains("corrupt cache entry"));
  const Cache off(temp_dir("off"), false);
  off.get_or_make(off.base("weak", "toy", {}), make);
  off.get_or_make(off.base("weak", "toy", {}), make);
  REQUIRE(made == 3);
  REQUIRE(fs::is_empty(temp_dir("off")));
}

TEST_CASE("atomic_write leaves no file when the writer fails", "[cache]") {
  const auto p = temp_dir("atomic") / "record.jsonl";
  REQUIRE_THROWS(atomic_write(p, [](const fs::path& tmp) {
    std::ofstream(tmp) << "half";
    throw std::runtime_error("died");
  }));
  REQUIRE(fs::is_empty(p.parent_path()));
  atomic_write_text(p, "whole\n");
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  REQUIRE(s == "whole");
}

TEST_CASE("seeds: lists and ranges", "[cli]") {
  REQUIRE(cli::parse_seeds("0-2,7,1") == std::vector<uint64_t>{0, 1, 2, 7});
  REQUIRE(cli::parse_seeds("5") == std::vector<uint64_t>{5});
  REQUIRE_THROWS_WITH(cli::parse_seeds("a"), Catch::Contains("--seeds: expected numbers"));
  REQUIRE_THROWS_WITH(cli::parse_seeds("3-1"), Catch::Contains("bad range"));
}

TEST_CASE("the command line: defaults, --smoke, --help, errors", "[cli]") {
  po::options_description none;
  std::ostringstream help;
  {
    RunConfig cfg;
    std::vector<std::string> a = {"exp", "--seeds", "0-2", "--smoke", "--epochs", "4"};
    auto v = argv_of(a);
    REQUIRE(cli::parse(int(v.size()), v.data(), cfg, none, help));
    REQUIRE(cfg.seeds.size() == 3);
    REQUIRE(cfg.epochs == 4);       // given on the command line: --smoke keeps it
    REQUIRE(cfg.train_size == 1000);  // not given: --smoke shrinks it
  }
  {
    RunConfig cfg;
    std::vector<std::string> a = {"exp", "--help"};
    auto v = argv_of(a);
    REQUIRE_FALSE(cli::parse(int(v.size()), v.data(), cfg, none, help));
    REQUIRE_THAT(help.str(), Catch::Contains("--seeds") && Catch::Contains("(=0)"));
  }
  const auto error_of = [&](std::vector<std::string> a) {
    RunConfig cfg;
    auto v = argv_of(a);
    try {
      cli::parse(int(v.size()), v.data(), cfg, none, help);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  REQUIRE_THAT(error_of({"exp", "--bogus"}), Catch::Contains("unrecognised option '--bogus'"));
  REQUIRE_THAT(error_of({"exp", "--epochs", "two"}), Catch::Contains("epochs"));
  REQUIRE_THAT(error_of({"exp", "--device", "tpu"}), Catch::Contains("--device: expected cpu or cuda"));
  REQUIRE_THAT(error_of({"exp", "--ceiling-half", "both"}), Catch::Contains("--ceiling-half"));
  const auto dir = temp_dir("config");
  std::ofstream(dir / "good.ini") << "# comment\nepochs = 7\nseeds = 1,2\n";
  std::ofstream(dir / "bad.ini") << "epochs = 7\n\nlearning-rate = 3\n";
  std::ofstream(dir / "junk.ini") << "epochs 7\n";
  {
    RunConfig cfg;
    std::vector<std::string> a = {"exp", "--config", (dir / "good.ini").string(), "--seeds", "9"};
    auto v = argv_of(a);
    REQUIRE(cli::parse(int(v.size()), v.data(), cfg, none, help));
    REQUIRE(cfg.epochs == 7);
    REQUIRE(cfg.seeds == std::vector<uint64_t>{9});  // the command line wins
  }
  REQUIRE_THAT(error_of({"exp", "--config", (dir / "bad.ini").string()}),
               Catch::Contains("bad.ini:3: unknown option 'learning-rate'"));
  REQUIRE_THAT(error_of({"exp", "--config", (dir / "junk.ini").string()}),
               Catch::Contains("junk.ini:1: expected 'option = value'"));
  REQUIRE_THAT(error_of({"exp", "--config", (dir / "none.ini").string()}), Catch::Contains("cannot open"));
}

TEST_CASE("cosine learning rate per batch", "[train]") {
  // ½(1 + cos(π t/T)) at t = 0, T/4, T/2, T: 1, 0.853553, 0.5, 0
  REQUIRE(cosine_lr(1.0, 0, 8) == Approx(1.0));
  REQUIRE(cosine_lr(1.0, 2, 8) == Approx(0.8535534));
  REQUIRE(cosine_lr(1.0, 4, 8) == Approx(0.5));
  REQUIRE(cosine_lr(1.0, 8, 8) == Approx(0.0).margin(1e-12));
  auto w = at::zeros({1}).requires_grad_(true);
  torch::optim::Adam opt({w}, torch::optim::AdamOptions(0.1));
  CosineSchedule schedule(opt, 0.1, 8);
  for (int i = 0; i < 4; ++i) schedule.step();  // after 4 batches, the 5th runs at lr(4)
  REQUIRE(static_cast<torch::optim::AdamOptions&>(opt.param_groups()[0].options()).lr() == Approx(0.05));
}

TEST_CASE("training stops with a clear error on a NaN loss", "[train]") {
  torch::nn::Linear model(2, 2);
  const auto x = at::randn({8, 2});
  const auto t = at::full({8, 2}, 0.5);
  const auto y = at::zeros({8}, at::kLong);
  TrainConfig cfg;
  cfg.epochs = 1;
  cfg.batch_size = 4;
  cfg.label = "student l seed 3";
  const auto nan_loss = [](const at::Tensor& logits, const at::Tensor&, TrainProgress) { return logits.sum() * NAN; };
  REQUIRE_THROWS_WITH(fit_module(*model, [&](const at::Tensor& in) { return model->forward(in); }, x, t, x, y, nan_loss,
                                 cfg, Log("test", true)),
                      Catch::Contains("student l seed 3: loss is nan at step 1 of 2"));
  // and a normal run records one test accuracy per evaluation point
  cfg.eval_points = 2;
  const auto r = fit_module(*model, [&](const at::Tensor& in) { return model->forward(in); }, x, t, x, y,
                            CrossEntropy{}, cfg, Log("test", true));
  REQUIRE(r.curve.steps == std::vector<int64_t>{1, 2});
  REQUIRE(r.test_probs.sizes() == at::IntArrayRef({8, 2}));
}

TEST_CASE("honest early stopping keeps the weights of the best held-out score against the targets", "[train]") {
  // Targets that a linear model fits early and a large learning rate then overshoots:
  // whichever step scores best on the held-out rows is the one whose weights remain.
  torch::manual_seed(0);
  torch::nn::Linear model(4, 2);
  const auto x = at::randn({200, 4});
  const auto labels = x.select(1, 0).gt(0).to(at::kLong);
  const auto targets = at::one_hot(labels, 2).to(at::kFloat);
  TrainConfig cfg;
  cfg.epochs = 6, cfg.batch_size = 20, cfg.lr = 0.5, cfg.eval_points = 12, cfg.val_fraction = 0.25;
  const ForwardFn forward = [&](const at::Tensor& in) { return model->forward(in); };
  const auto r = fit_module(*model, forward, x, targets, x, labels, CrossEntropy{}, cfg, Log("test", true));
  REQUIRE(r.validation.steps == r.curve.steps);  // scored at every evaluation point
  REQUIRE(r.validation.score.size() == 12);
  const auto best = std::max_element(r.validation.score.begin(), r.validation.score.end());
  REQUIRE(r.stopped_step == r.validation.steps[best - r.validation.score.begin()]);  // the first best
  // The module ends with the kept weights, and the reported test predictions are theirs.
  model->eval();
  REQUIRE(at::allclose(predict_probs(forward, x, torch::kCPU), r.test_probs));
  REQUIRE(r.early_stopping().at("kept_step") == r.stopped_step);
  // 150 rows train: 8 batches of 20 per epoch, 48 steps in all.
  REQUIRE(r.steps == 48);
  cfg.val_fraction = 0;  // off: no held-out curve
  REQUIRE(fit_module(*model, forward, x, targets, x, labels, CrossEntropy{}, cfg, Log("test", true)).early_stopping().is_null());
}
