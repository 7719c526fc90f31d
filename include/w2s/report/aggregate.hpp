#pragma once
/// \file
/// From result records to the paper's numbers: per configuration (the record's run
/// identity without the seed, experiment/identity.hpp), accuracies averaged over seeds,
/// PGR of the averages (openai's order: average each model over seeds first), PGR of the
/// averaged ROC AUCs for binary tasks, a bootstrap confidence interval over seeds and test
/// examples, and
/// the median PGR over (weak, strong) pairs. Records of different configurations are
/// never pooled: two groups that share experiment, dataset and sizes are told apart by
/// `Group::variant`, the fields in which they differ. No LibTorch here: the report tool
/// builds in seconds. Reading records into groups: report/read_records.hpp.
#include <nlohmann/json.hpp>
#include <range/v3/algorithm/sort.hpp>
#include <range/v3/numeric/accumulate.hpp>
#include <range/v3/view/transform.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "w2s/core/error.hpp"

namespace w2s::report {

/// One seed's numbers, as read from a record.
struct SeedRow {
  uint64_t seed = 0;
  double weak = NAN, ceiling = NAN, student = NAN, student_best = NAN;
  double agree_wrong = NAN;
  double weak_auc = NAN, ceiling_auc = NAN, student_auc = NAN;  ///< binary tasks only
  double weak_best = NAN, ceiling_best = NAN;  ///< each model's best evaluation step on test
  /// The label-free control's test accuracy (metrics.label_free: k-means, and the first principal
  /// component's sign for two classes, clusters named by the weak labels); NaN where not recorded.
  double label_free_kmeans = NAN, label_free_pca = NAN;
  /// The noise control's test accuracy (metrics.noise_control, --noise-control): the same student on
  /// ground truth with the supervisor's error count flipped at random; NaN where not recorded.
  double noise_control = NAN;
  /// The weak supervisor's soft labels on the transfer half: mean max-probability − 1/classes
  /// (for two classes, mean |p − 0.5|); NaN in records made before it was recorded.
  double weak_margin = NAN;
  /// A cleaning label source's metrics.cleaning (issue 22): rows kept of the transfer half, the share
  /// of the supervisor's errors and of its correct labels removed, the error rate of the student's
  /// hard targets; NaN where the labels were not cleaned.
  double kept_share = NAN, errors_removed = NAN, correct_removed = NAN, target_error_rate = NAN, weak_error_rate = NAN;
  /// Per test example, 1 where the model's argmax is right (classification records that
  /// carry `test_correct`; empty otherwise): the two-level bootstrap resamples these.
  std::vector<uint8_t> weak_ok, ceiling_ok, student_ok;
};

/// `metrics.MODEL.test_correct` of a record: hexadecimal digits, 4 examples each, the first
/// example in the digit's highest bit (experiment/task.hpp writes it), and `n` examples.
inline std::vector<uint8_t> decode_correct(const std::string& hex, int64_t n) {
  check(n >= 0 && static_cast<int64_t>(hex.size()) == (n + 3) / 4, "test_correct: ", hex.size(), " digits for ", n,
        " examples, expected ", (n + 3) / 4);
  std::vector<uint8_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const char c = hex[static_cast<size_t>(i / 4)];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    check(digit >= 0, "test_correct: '", c, "' is not a hexadecimal digit");
    out[static_cast<size_t>(i)] = static_cast<uint8_t>((digit >> (3 - i % 4)) & 1);
  }
  return out;
}

/// One transfer task of a regression record (Charikar et al.'s gain vs misfit).
struct TaskRow {
  uint64_t seed;
  std::string split;
  int64_t task;
  double err_weak, err_w2s, err_ceiling, misfit, gain;
};

/// One configuration over its seeds.
struct Group {
  std::string experiment, dataset, weak, strong;
  std::string identity;      ///< the records' identity.group (older records: a hash of their configuration)
  nlohmann::json fields;     ///< what the identity holds (older records: experiment, sizes, policies, config)
  std::string variant;       ///< how this group differs from others of the same experiment, dataset and sizes ("" if none)
  std::vector<SeedRow> seeds;  ///< one per distinct seed
  std::vector<uint64_t> repeated;  ///< seeds found again in another record of this identity (the first one counts)
  std::vector<uint64_t> diverged;  ///< seeds whose record is marked diverged: left out of the numbers, counted
  std::vector<TaskRow> tasks;  ///< regression records only
  [[nodiscard]] double mean(double SeedRow::*field) const {
    auto values = seeds | ranges::views::transform([&](const SeedRow& r) { return r.*field; });
    return ranges::accumulate(values, 0.0) / static_cast<double>(seeds.size());
  }
};

/// PGR of the seed-averaged accuracies; nullopt when the ceiling is not above the weak model.
inline std::optional<double> pgr_of_means(const std::vector<SeedRow>& rows, double SeedRow::*student = &SeedRow::student) {
  double w = 0, s = 0, c = 0;
  for (const auto& r : rows) w += r.weak, s += r.*student, c += r.ceiling;
  if (!(c > w)) return std::nullopt;
  return (s - w) / (c - w);
}

/// PGR at each model's best test step: weak, ceiling and student each at the evaluation
/// step where its own test accuracy peaked (an oracle for all three alike, not only for
/// the student). nullopt when a record has no curve or the ceiling is not above the weak.
inline std::optional<double> pgr_best_of_means(const std::vector<SeedRow>& rows) {
  double w = 0, s = 0, c = 0;
  for (const auto& r : rows) w += r.weak_best, s += r.student_best, c += r.ceiling_best;
  if (!std::isfinite(w + s + c) || !(c > w)) return std::nullopt;
  return (s - w) / (c - w);
}

/// PGR of the seed-averaged ROC AUCs (binary tasks); nullopt when a record has no AUC or
/// the ceiling's is not above the weak model's.
inline std::optional<double> pgr_auc_of_means(const std::vector<SeedRow>& rows) {
  double w = 0, s = 0, c = 0;
  for (const auto& r : rows) w += r.weak_auc, s += r.student_auc, c += r.ceiling_auc;
  if (!std::isfinite(w + s + c) || !(c > w)) return std::nullopt;
  return (s - w) / (c - w);
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
inline double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  ranges::sort(values);
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// Which resampling an interval came from.
enum class Resampling { none, seeds, seeds_and_test };

struct Interval {
  double lo = NAN, hi = NAN;
  Resampling kind = Resampling::none;
};

/// The rows' per-example correctness, when every row has it for the same test set size.
inline bool has_test_examples(const std::vector<SeedRow>& rows) {
  if (rows.empty()) return false;
  const size_t n = rows.front().student_ok.size();
  for (const auto& r : rows)
    if (n == 0 || r.weak_ok.size() != n || r.ceiling_ok.size() != n || r.student_ok.size() != n) return false;
  return true;
}

/// Percentile bootstrap confidence interval of the PGR of means, at `level`.
/// Two-level where the records carry per-example correctness (has_test_examples): each
/// resample draws the test examples with replacement (one draw shared by every seed,
/// since all seeds score the same test set) and then the seeds with replacement, so the
/// interval covers both the training randomness and the finite test set. Otherwise over
/// seeds alone (regression records; records made before `test_correct`). Deterministic
/// (fixed generator seed). Not available (NaN, Resampling::none) for fewer than two seeds.
inline Interval bootstrap_pgr_ci(const std::vector<SeedRow>& rows, double level = 0.95, int resamples = 4000) {
  if (rows.size() < 2) return {};  // one seed: resampling it says nothing about the spread
  std::mt19937_64 gen(20231214);
  std::uniform_int_distribution<size_t> pick(0, rows.size() - 1);
  const bool two_level = has_test_examples(rows);
  const size_t n = two_level ? rows.front().student_ok.size() : 0;
  std::uniform_int_distribution<size_t> example(0, n ? n - 1 : 0);
  std::vector<uint32_t> count(n);
  std::vector<SeedRow> scored = rows, sample(rows.size());
  std::vector<double> stats;
  for (int b = 0; b < resamples; ++b) {
    if (two_level) {  // the test set, resampled: each seed's three accuracies on the same draw
      std::fill(count.begin(), count.end(), 0u);
      for (size_t i = 0; i < n; ++i) ++count[example(gen)];
      for (size_t k = 0; k < rows.size(); ++k) {
        uint64_t w = 0, c = 0, s = 0;
        for (size_t i = 0; i < n; ++i) {
          w += count[i] * rows[k].weak_ok[i];
          c += count[i] * rows[k].ceiling_ok[i];
          s += count[i] * rows[k].student_ok[i];
        }
        scored[k].weak = double(w) / double(n);
        scored[k].ceiling = double(c) / double(n);
        scored[k].student = double(s) / double(n);
      }
    }
    for (auto& s : sample) s = scored[pick(gen)];
    if (auto p = pgr_of_means(sample)) stats.push_back(*p);
  }
  if (stats.empty()) return {};
  ranges::sort(stats);
  const auto at = [&](double q) { return stats[static_cast<size_t>(std::floor(q * double(stats.size() - 1)))]; };
  return {at((1 - level) / 2), at((1 + level) / 2), two_level ? Resampling::seeds_and_test : Resampling::seeds};
}

/// The median PGR over the (weak, strong) pairs of one experiment, dataset and variant
/// (the paper's summary across model pairs).
struct PairSummary {
  std::string experiment, dataset, variant;
  size_t pairs = 0;
  double median_pgr = NAN;
};

inline std::vector<PairSummary> median_over_pairs(const std::vector<Group>& groups) {
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<double>> pgrs;
  for (const auto& g : groups) {
    if (g.seeds.empty()) continue;
    auto& v = pgrs[{g.experiment, g.dataset, g.variant}];
    v.push_back(pgr_of_means(g.seeds).value_or(NAN));
  }
  std::vector<PairSummary> out;
  for (auto& [key, values] : pgrs) {
    std::vector<double> finite;
    for (double v : values)
      if (std::isfinite(v)) finite.push_back(v);
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), values.size(), median(finite)});
  }
  return out;
}

}  // namespace w2s::report
