// The report: groups by configuration, distinct seeds, PGR of means and of AUC, medians over pairs.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <filesystem>
#include <cmath>
#include <fstream>

#include "w2s/report/read_records.hpp"

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
  for (const auto& r : records) std::ofstream(dir / (std::to_string(i++).insert(0, 1, 'r') + ".jsonl")) << r.dump() << "\n";
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
  const auto ci = report::bootstrap_pgr_ci(groups[1].seeds);  // one seed: no interval
  REQUIRE(std::isnan(ci.lo));
  REQUIRE(std::isnan(ci.hi));
  REQUIRE(ci.kind == report::Resampling::none);
}

TEST_CASE("report: per-example test results decode from the records' hexadecimal digits", "[report]") {
  // 4 examples a digit, the first in the highest bit: 1011 0110 10 -> "b", "6", "8"
  REQUIRE(report::decode_correct("b68", 10) == std::vector<uint8_t>{1, 0, 1, 1, 0, 1, 1, 0, 1, 0});
  REQUIRE(report::decode_correct("", 0).empty());
  REQUIRE_THROWS_WITH(report::decode_correct("b6", 10), Catch::Contains("2 digits for 10 examples, expected 3"));
  REQUIRE_THROWS_WITH(report::decode_correct("bx8", 10), Catch::Contains("'x' is not a hexadecimal digit"));
}

namespace {
/// A seed whose three models are right on the first `w`, `c` and `s` of `n` test examples.
report::SeedRow seed_row(uint64_t seed, size_t n, size_t w, size_t c, size_t s) {
  report::SeedRow r;
  r.seed = seed;
  r.weak = double(w) / double(n), r.ceiling = double(c) / double(n), r.student = double(s) / double(n);
  for (size_t i = 0; i < n; ++i) {
    r.weak_ok.push_back(i < w);
    r.ceiling_ok.push_back(i < c);
    r.student_ok.push_back(i < s);
  }
  return r;
}
}  // namespace

TEST_CASE("report: the interval resamples the test examples as well as the seeds", "[report]") {
  // Five seeds with identical results: resampling seeds alone sees no spread at all, but a test
  // set of 200 examples leaves real uncertainty, which the two-level bootstrap shows.
  std::vector<report::SeedRow> rows;
  for (uint64_t k = 0; k < 5; ++k) rows.push_back(seed_row(k, 200, 120, 170, 140));  // PGR (0.7-0.6)/(0.85-0.6) = 0.4
  REQUIRE(*report::pgr_of_means(rows) == Approx(0.4));
  const auto two = report::bootstrap_pgr_ci(rows);
  REQUIRE(two.kind == report::Resampling::seeds_and_test);
  REQUIRE(two.lo < 0.4);
  REQUIRE(two.hi > 0.4);
  // The student is right on a subset of the ceiling's examples and a superset of the weak model's,
  // so the resampled PGR is a share of the 50 examples between them: about 0.4 ± 1.96·sqrt(0.24/50).
  REQUIRE(two.hi - two.lo == Approx(2 * 1.96 * std::sqrt(0.4 * 0.6 / 50)).epsilon(0.25));
  auto without = rows;
  for (auto& r : without) r.weak_ok.clear(), r.ceiling_ok.clear(), r.student_ok.clear();
  const auto one = report::bootstrap_pgr_ci(without);
  REQUIRE(one.kind == report::Resampling::seeds);
  REQUIRE(one.lo == Approx(0.4));
  REQUIRE(one.hi == Approx(0.4));
}

TEST_CASE("report: PGR at best step takes every model at its own best step", "[report]") {
  // finals 0.6 / 0.8 / 0.7; best steps 0.65 / 0.85 / 0.80: (0.80 - 0.65) / (0.85 - 0.65) = 0.75,
  // where the student's best beside the others' finals would say (0.80 - 0.6) / (0.8 - 0.6) = 1.
  report::SeedRow r;
  r.weak = 0.6, r.ceiling = 0.8, r.student = 0.7;
  r.weak_best = 0.65, r.ceiling_best = 0.85, r.student_best = 0.80;
  REQUIRE(*report::pgr_best_of_means({r, r}) == Approx(0.75));
  r.weak_best = NAN;  // a record without a curve: no number, rather than a biased one
  REQUIRE_FALSE(report::pgr_best_of_means({r}).has_value());
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
