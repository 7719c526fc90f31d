// Grid files: parsing, their errors, and the runs they expand to.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "w2s/sweep/grid.hpp"

using namespace w2s;

namespace {
std::filesystem::path write_grid(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "w2s_grid_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST_CASE("grid: a ladder gives every pair weak < strong; seeds innermost", "[sweep]") {
  const auto g = sweep::read_grid(write_grid("ladder.ini", "experiments = naive_finetune\n"
                                                           "datasets = wine  # a comment\n"
                                                           "ladder = xs, s, m\nseeds = 0-1\n"));
  const auto runs = g.runs();
  REQUIRE(runs.size() == 3 * 2);
  const std::vector<std::pair<std::string, std::string>> pairs{{"xs", "s"}, {"xs", "m"}, {"s", "m"}};
  for (size_t i = 0; i < runs.size(); ++i) {
    REQUIRE(std::make_pair(runs[i].weak, runs[i].strong) == pairs[i / 2]);
    REQUIRE(runs[i].seed == i % 2);
  }
  REQUIRE(runs[0].arguments(1, {}) ==
          std::vector<std::string>{"--dataset", "wine", "--weak", "xs", "--strong", "s", "--seeds", "0", "--threads", "1"});
  REQUIRE(runs[0].label() == "naive_finetune wine xs→s seed 0");
}

TEST_CASE("grid: option lists multiply; an experiment's own list replaces the common one", "[sweep]") {
  const auto g = sweep::read_grid(write_grid("options.ini", "experiments = naive_finetune, aux_confidence_loss\n"
                                                            "threads = 2\nargs = --quiet --smoke\n"
                                                            "[options]\nepochs = 1, 2\n"
                                                            "[options.aux_confidence_loss]\naux-alpha = 0.5, 0.75\n"
                                                            "epochs = 3\n"));
  const auto runs = g.runs();
  REQUIRE(runs.size() == 2 + 2);  // naive: epochs 1, 2; aux: epochs 3 × alpha 0.5, 0.75
  REQUIRE(runs[1].options == std::vector<std::pair<std::string, std::string>>{{"epochs", "2"}});
  REQUIRE(runs[3].options == std::vector<std::pair<std::string, std::string>>{{"epochs", "3"}, {"aux-alpha", "0.75"}});
  REQUIRE(runs[3].data_option.empty());  // no datasets: the experiment's default
  const auto args = runs[3].arguments(g.threads, g.args);
  REQUIRE(args == std::vector<std::string>{"--epochs", "3", "--aux-alpha", "0.75", "--seeds", "0", "--threads", "2",
                                           "--quiet", "--smoke"});
}

TEST_CASE("grid: configs are found beside the grid file", "[sweep]") {
  write_grid("wine.ini", "dataset = wine\n");
  const auto g = sweep::read_grid(write_grid("configs.ini", "experiments = naive_finetune\nconfigs = wine.ini\n"));
  REQUIRE(g.runs().at(0).data_option == "--config");
  REQUIRE(std::filesystem::path(g.runs().at(0).data_value).filename() == "wine.ini");
  REQUIRE(g.runs().at(0).label() == "naive_finetune wine seed 0");
}

TEST_CASE("grid: errors name the file and line", "[sweep]") {
  using Catch::Contains;
  const auto bad = [](const std::string& text) { return sweep::read_grid(write_grid("bad.ini", text)); };
  REQUIRE_THROWS_WITH(bad("experiments = a\nmodels = x\n"), Contains("bad.ini:2: unknown key 'models'"));
  REQUIRE_THROWS_WITH(bad("experiments = a\nweak xs\n"), Contains("bad.ini:2: expected 'key = value'"));
  REQUIRE_THROWS_WITH(bad("experiments = a, , b\n"), Contains("bad.ini:1: empty item"));
  REQUIRE_THROWS_WITH(bad("experiments = a\nseeds = 3-1\n"), Contains("bad.ini:2: --seeds: range '3-1' runs backwards"));
  REQUIRE_THROWS_WITH(bad("experiments = a\n[optons]\n"), Contains("bad.ini:2: unknown section [optons]"));
  REQUIRE_THROWS_WITH(bad("experiments = a\n[options.b]\nx = 1\n"), Contains("[options.b]: 'b' is not among"));
  REQUIRE_THROWS_WITH(bad("experiments = a\n[options]\n--epochs = 1\n"), Contains("without dashes"));
  REQUIRE_THROWS_WITH(bad("datasets = wine\n"), Contains("no 'experiments = ...' line"));
  REQUIRE_THROWS_WITH(bad("experiments = a\nladder = xs\n"), Contains("at least two sizes"));
  REQUIRE_THROWS_WITH(bad("experiments = a\nladder = xs, s\nweak = m\n"), Contains("'m' is not on the ladder"));
  REQUIRE_THROWS_WITH(bad("experiments = a\nladder = xs, s\n[weak.m]\nepochs = 1\n"),
                      Contains("[weak.m]: 'm' is not among"));
  REQUIRE_THROWS_WITH(bad("experiments = a\n[weak.xs]\nepochs = 1\n"), Contains("[weak.xs]: 'xs' is not among"));
  REQUIRE_THROWS_WITH(bad("experiments = a\nweak = xs\n[weak.xs]\nseeds = 1\n"),
                      Contains("bad.ini:4: 'seeds' is a grid key"));
  REQUIRE_THROWS_WITH(bad("experiments = a\nweak = xs\n[weak.xs]\n[weak.xs]\n"),
                      Contains("bad.ini:4: [weak.xs] given twice"));
  REQUIRE_THROWS_WITH(bad("experiments = a\nargs = --out x\n"), Contains("--out is set by the grid itself"));
  REQUIRE_THROWS_WITH(bad("experiments = a\nthreads = 0\n"), Contains("bad.ini:2: threads: expected a whole number"));
  REQUIRE_THROWS_WITH(bad("experiments = a\nconfigs = nowhere.ini\n"), Contains("configs: no file"));
}

TEST_CASE("grid: a ladder restricted by weak and strong, and each weak model's own options", "[sweep]") {
  // The scaling study's shape: sizes in ladder order, only some as supervisors, only some as
  // students, each supervisor at its own budget ([weak.NAME] replaces the common list).
  const auto g = sweep::read_grid(write_grid("weak.ini",
                                             "experiments = naive_finetune\n"
                                             "ladder = xs, l, minilm-l3, mpnet-base\n"
                                             "weak = xs, minilm-l3\n"
                                             "strong = l, mpnet-base\n"
                                             "[options]\nweak-epochs = 3\nlr = 0.01\n"
                                             "[weak.xs]\nweak-epochs = 10, 30\nweak-lr = 0.01\n"));
  std::vector<std::string> labels;
  for (const auto& r : g.runs()) labels.push_back(r.label());
  REQUIRE(labels == std::vector<std::string>{
                        "naive_finetune (default data) xs→l weak-epochs=10 lr=0.01 weak-lr=0.01 seed 0",
                        "naive_finetune (default data) xs→l weak-epochs=30 lr=0.01 weak-lr=0.01 seed 0",
                        "naive_finetune (default data) xs→mpnet-base weak-epochs=10 lr=0.01 weak-lr=0.01 seed 0",
                        "naive_finetune (default data) xs→mpnet-base weak-epochs=30 lr=0.01 weak-lr=0.01 seed 0",
                        "naive_finetune (default data) minilm-l3→mpnet-base weak-epochs=3 lr=0.01 seed 0",
                    });
}

TEST_CASE("grid: an indented line continues the one above", "[sweep]") {
  const auto g = sweep::read_grid(write_grid("continued.ini", "experiments = a,\n  b,  # two more\n\tc\nseeds = 1\n"));
  REQUIRE(g.experiments == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(g.seeds == std::vector<uint64_t>{1});
}
