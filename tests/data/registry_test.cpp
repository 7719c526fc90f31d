// The open dataset registry (include/w2s/data/registry.hpp): a dataset registered by a file
// outside include/ (this one, as a user's would be) is found by name, loads through the
// fingerprinting wrapper, has a validation variant, and runs through the whole protocol of an
// unchanged experiment type; bad registrations are refused with a clear error.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "w2s/data/registry.hpp"
#include "w2s/experiment/experiment.hpp"
#include "w2s/labels/weak_labels.hpp"
#include "w2s/losses/cross_entropy.hpp"
#include "w2s/students/fine_tune.hpp"

using namespace w2s;
namespace fs = std::filesystem;

namespace {

/// "two-moons-test": points in the plane, class by which side of a curve they fall on.
DataBundle load_curve_data(const DataOptions&) {
  const auto part = [](const std::string& name, int64_t n, uint64_t seed) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    Dataset d;
    d.name = "curve-test";
    d.part = name;
    d.modality = Modality::table;
    d.inputs = at::rand({n, 2}, gen) * 4 - 2;
    d.targets = d.inputs.select(1, 1).gt(d.inputs.select(1, 0).pow(2) - 1).to(at::kLong);
    d.classes = 2;
    d.class_names = {"below", "above"};
    return d;
  };
  return {part("train", 400, 11), part("test", 200, 12), {}};
}

// The whole of registering a dataset: one static initialiser in any linked file.
const bool registered = data::register_dataset(
    {"curve-test", "400 points in [-2, 2]², above or below y = x² − 1 (tests/data/registry_test.cpp)", load_curve_data});

}  // namespace

TEST_CASE("a dataset registered outside include/ is found, fingerprinted and has a validation variant", "[data][registry]") {
  REQUIRE(registered);
  const auto all = data::datasets();
  REQUIRE(std::any_of(all.begin(), all.end(), [](const auto& e) { return e.name == "curve-test"; }));
  REQUIRE(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; }));
  const auto bundle = data::find_dataset("curve-test").load({});
  REQUIRE(bundle.train.size() == 400);
  REQUIRE_FALSE(bundle.train.fingerprint.empty());  // cache keys follow its content
  REQUIRE(bundle.train.fingerprint == data::find_dataset("curve-test").load({}).train.fingerprint);
  const auto val = data::find_dataset("curve-test-val").load({});
  REQUIRE(val.train.size() == 320);
  REQUIRE(val.test.size() == 80);
  REQUIRE(val.train.name == "curve-test-val");
  // The built-in datasets of the companion library are registered the same way.
  REQUIRE_NOTHROW(data::find_dataset("wine"));
  REQUIRE_THROWS_WITH(data::find_dataset("curve"), Catch::Contains("unknown dataset 'curve'") &&
                                                       Catch::Contains("curve-test") && Catch::Contains("wine"));
}

TEST_CASE("the validation split holds out whole groups where the data has them", "[data][registry]") {
  // 100 rows in groups of 1 to 7 rows (group k has k % 7 + 1, the last one cut): every group
  // lands whole on one side, at least a fifth of the rows are held out, and no row is lost.
  DataBundle b;
  std::vector<int64_t> g;
  for (int64_t k = 0; static_cast<int64_t>(g.size()) < 100; ++k)
    for (int64_t j = 0; j <= k % 7 && static_cast<int64_t>(g.size()) < 100; ++j) g.push_back(k);
  b.train.name = "grouped";
  b.train.part = "train";
  b.train.inputs = at::arange(100, at::kFloat).unsqueeze(1);
  b.train.targets = at::arange(100, at::kLong).remainder(2);
  b.train.classes = 2;
  b.train.group = at::tensor(g, at::kLong);
  const auto val = data::validation_bundle(b);
  const int64_t held = val.test.size(), rest = val.train.size();
  REQUIRE(held + rest == 100);
  REQUIRE(held >= 20);
  REQUIRE(held < 30);  // it stops at the group that reached a fifth (groups hold at most 7 rows)
  const auto held_groups = std::get<0>(at::_unique(val.test.group)),
             rest_groups = std::get<0>(at::_unique(val.train.group));
  REQUIRE(at::isin(held_groups, rest_groups).any().item<bool>() == false);
  // each row keeps its own group: the input is the row index
  REQUIRE(val.test.group.equal(b.train.group.index_select(0, val.test.inputs.squeeze(1).to(at::kLong))));
  REQUIRE(val.test.part == "train/val-by-group/held_out");
  // Without groups: rows, as before (80/20, the row-wise part names).
  b.train.group = at::Tensor();
  const auto rows = data::validation_bundle(b);
  REQUIRE(rows.test.size() == 20);
  REQUIRE(rows.test.part == "train/val/held_out");
}

TEST_CASE("brown-val holds out whole files, as Brown's test split does", "[data][registry][text]") {
  const fs::path dir =
      std::getenv("W2S_DATA_DIR") ? fs::path(std::getenv("W2S_DATA_DIR")) : fs::path(W2S_SOURCE_DIR "/data");
  if (!fs::exists(dir / "text" / "brown" / "cats.txt")) {
    WARN("skipped: no Brown corpus under " << dir.string() << " (./w2s.sh setup)");
    return;
  }
  DataOptions o;
  o.dir = dir;
  o.quiet = true;
  const auto full = data::find_dataset("brown").load(o);
  const auto val = data::find_dataset("brown-val").load(o);
  REQUIRE(full.train.group.defined());
  REQUIRE(val.train.size() + val.test.size() == full.train.size());
  REQUIRE(5 * val.test.size() >= full.train.size());
  const auto held_files = std::get<0>(at::_unique(val.test.group));
  REQUIRE(held_files.size(0) >= 2);
  REQUIRE_FALSE(at::isin(val.train.group, held_files).any().item<bool>());  // no file on both sides
  // both classes among the held-out sentences
  REQUIRE(val.test.targets.eq(0).any().item<bool>());
  REQUIRE(val.test.targets.eq(1).any().item<bool>());
}

TEST_CASE("bad registrations are refused with the reason", "[data][registry]") {
  REQUIRE_THROWS_WITH(data::register_dataset({"curve-test", "again", load_curve_data}),
                      "register_dataset: a dataset named 'curve-test' is registered already");
  REQUIRE_THROWS_WITH(data::register_dataset({"x-val", "", load_curve_data}),
                      Catch::Contains("names ending in -val are the validation variants"));
  REQUIRE_THROWS_WITH(data::register_dataset({"", "", load_curve_data}), Catch::Contains("needs a name"));
  REQUIRE_THROWS_WITH(data::register_dataset({"no-loader", "", nullptr}), Catch::Contains("'no-loader' has no loader"));
}

TEST_CASE("a registered dataset runs through the whole protocol of an unchanged experiment", "[data][registry][e2e]") {
  const auto dir = fs::temp_directory_path() / ("w2s_registry_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Experiment<WeakLabels<>, CrossEntropy, FineTune> experiment;
  RunConfig cfg;
  cfg.experiment = "registry_test";
  cfg.dataset = "curve-test";
  cfg.weak = "xs";
  cfg.strong = "s";
  cfg.seeds = {0};
  cfg.epochs = 2;
  cfg.weak_epochs = 2;
  cfg.smoke = true;
  cfg.quiet = true;
  cfg.threads = 1;
  cfg.out = dir / "results";
  cfg.cache_dir = dir / "cache";
  experiment.run(cfg);
  std::vector<fs::path> records;
  for (const auto& e : fs::recursive_directory_iterator(cfg.out))
    if (e.path().extension() == ".jsonl") records.push_back(e.path());
  REQUIRE(records.size() == 1);
  REQUIRE(records[0].filename().string().starts_with("curve-test_xs_s_"));
  std::ifstream in(records[0]);
  std::string line;
  std::getline(in, line);
  const auto record = nlohmann::json::parse(line);
  REQUIRE(record.at("dataset") == "curve-test");
  REQUIRE(record.at("task") == "classification");
  REQUIRE(record.at("student_capabilities").at("transfer_ground_truth") == false);
  REQUIRE(record.at("n").at("test") == 200);
  const double weak = record.at("metrics").at("weak").at("accuracy");
  REQUIRE(weak > 0.6);  // a real model trained on it, not chance
  fs::remove_all(dir);
}
