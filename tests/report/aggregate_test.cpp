// The report: groups by configuration, distinct seeds, PGR of means and of AUC, medians over pairs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "w2s/report/aggregate.hpp"

using namespace w2s;

namespace {
/// A record of `group` (identity) and seed with the given accuracies and AUCs.
nlohmann::json record(const std::string& group, double alpha, uint64_t seed, double w, double c, double s,
                      const std::string& weak = "xs", const std::string& strong = "l") {
  const nlohmann::json fields = {{"experiment", "aux"}, {"weak", weak}, {"strong", strong},
                                 {"policies", {{"loss", {{"options", {{"alpha", alpha}}}}}}}};
  const auto model = [](double acc) { return nlohmann::json{{"accuracy", acc}, {"score", acc}, {"auc", acc + 0.1}}; };
  return {{"experiment", "aux"}, {"dataset", "wine"}, {"weak", weak}, {"strong", strong}, {"seed", seed},
          {"identity", {{"group", group}, {"run", group + std::to_string(seed)}, {"fields", fields}}},
          {"metrics", {{"weak", model(w)}, {"ceiling", model(c)}, {"student", model(s)},
                       {"agreement", {{"supervisor_wrong", 0.5}}}}}};
}
std::filesystem::path folder(const std::vector<nlohmann::json>& records) {
  const auto dir = std::filesystem::temp_directory_path() / "w2s_aggregate_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  int i = 0;
  for (const auto& r : records) std::ofstream(dir / ("r" + std::to_string(i++) + ".jsonl")) << r.dump() << "\n";
  return dir;
}
}  // namespace

TEST_CASE("report: two configurations of one experiment are two groups, labelled by what differs", "[report]") {
  const auto dir = folder({record("g1", 0.5, 0, 0.6, 0.8, 0.7), record("g1", 0.5, 1, 0.6, 0.8, 0.7),
                           record("g2", 0.75, 0, 0.6, 0.8, 0.75), record("g1", 0.5, 1, 0.6, 0.8, 0.9)});
  const auto groups = report::read_groups({dir});
  REQUIRE(groups.size() == 2);
  REQUIRE(groups[0].variant == "alpha=0.5");
  REQUIRE(groups[1].variant == "alpha=0.75");
  REQUIRE(groups[0].seeds.size() == 2);  // seeds 0 and 1; the second seed-1 record is a repeat
  REQUIRE(groups[0].repeated == std::vector<uint64_t>{1});
  REQUIRE(groups[0].seeds[1].student == Approx(0.7));  // the first file in path order counts
  REQUIRE(*report::pgr_of_means(groups[0].seeds) == Approx(0.5));
  REQUIRE(*report::pgr_of_means(groups[1].seeds) == Approx(0.75));
  // AUCs 0.7, 0.9, 0.85: (0.85 - 0.7) / (0.9 - 0.7)
  REQUIRE(*report::pgr_auc_of_means(groups[1].seeds) == Approx(0.75));
  const auto [lo, hi] = report::bootstrap_pgr_ci(groups[1].seeds);  // one seed: no interval
  REQUIRE(std::isnan(lo));
  REQUIRE(std::isnan(hi));
}

TEST_CASE("report: the median PGR over (weak, strong) pairs", "[report]") {
  const auto dir = folder({record("a", 0.5, 0, 0.6, 0.8, 0.7, "xs", "s"), record("b", 0.5, 0, 0.6, 0.8, 0.62, "xs", "m"),
                           record("c", 0.5, 0, 0.6, 0.8, 0.8, "s", "m")});
  const auto pairs = report::median_over_pairs(report::read_groups({dir}));
  REQUIRE(pairs.size() == 1);
  REQUIRE(pairs[0].pairs == 3);
  REQUIRE(pairs[0].median_pgr == Approx(0.5));  // PGRs 0.5, 0.1, 1.0
  REQUIRE(report::median({0.1, 0.4, 0.3, 0.2}) == Approx(0.25));
  REQUIRE(std::isnan(report::median({})));
}

TEST_CASE("report: records made before run identities are their own group, labelled as such", "[report]") {
  auto legacy = record("unused", 0.5, 0, 0.6, 0.8, 0.7);
  legacy.erase("identity");
  legacy["policies"] = {{"loss", {{"options", {{"alpha", 0.5}}}}}};
  const auto dir = folder({legacy, record("g1", 0.5, 0, 0.6, 0.8, 0.7), record("g2", 0.75, 0, 0.6, 0.8, 0.75)});
  const auto groups = report::read_groups({dir});
  REQUIRE(groups.size() == 3);
  REQUIRE(groups[0].variant == "alpha=0.5");
  REQUIRE(groups[1].variant == "alpha=0.75");
  REQUIRE(groups[2].variant == "recorded before run identities");
}
