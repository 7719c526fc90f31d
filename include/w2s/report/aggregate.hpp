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
/// builds in seconds.
#include <nlohmann/json.hpp>
#include <range/v3/algorithm/sort.hpp>
#include <range/v3/numeric/accumulate.hpp>
#include <range/v3/view/transform.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/hash.hpp"
#include "w2s/core/placement.hpp"

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

inline double number(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : NAN; }

/// The configuration a record belongs to: its identity's group and fields; for records
/// made before run identities, a hash of what they hold (experiment, dataset, sizes,
/// policies, configuration but seeds and placement).
inline std::pair<std::string, nlohmann::json> record_identity(const nlohmann::json& r) {
  if (r.contains("identity")) return {r.at("identity").at("group").get<std::string>(), r.at("identity").at("fields")};
  nlohmann::json config = r.value("config", nlohmann::json::object());
  for (const auto& k : placement_keys()) config.erase(k);
  nlohmann::json fields = {{"experiment", r.at("experiment")}, {"dataset", r.at("dataset")}, {"weak", r.at("weak")},
                           {"strong", r.at("strong")}, {"policies", r.value("policies", nlohmann::json())},
                           {"config", config}};
  return {"legacy-" + stable_hash(fields.dump()), fields};
}

/// `j` flattened to "a.b.c" → scalar text.
inline void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out[prefix] = j.is_string() ? j.get<std::string>() : j.dump();
  }
}

/// Sets `variant` of each of `members` (groups of one experiment, dataset and sizes) to the
/// fields whose values differ among them, as "name=value" (the path's last part; hashes cut
/// to 8 digits), at most four; the identity's first digits where nothing readable differs.
inline void label_by_difference(const std::vector<Group*>& members) {
  std::vector<std::map<std::string, std::string>> flat(members.size());
  std::set<std::string> paths;
  for (size_t i = 0; i < members.size(); ++i) {
    flatten(members[i]->fields, "", flat[i]);
    for (const auto& [k, v] : flat[i]) paths.insert(k);
  }
  std::vector<std::string> differing;
  for (const auto& path : paths)
    for (size_t i = 1; i < flat.size(); ++i)
      if (flat[i].count(path) != flat[0].count(path) || (flat[i].count(path) && flat[i].at(path) != flat[0].at(path))) {
        differing.push_back(path);
        break;
      }
  for (size_t i = 0; i < members.size(); ++i) {
    std::string label;
    size_t shown = 0;
    for (const auto& path : differing) {
      if (shown == 4) {
        label += ", …";
        break;
      }
      const auto dot = path.rfind('.');
      std::string value = flat[i].count(path) ? flat[i].at(path) : "-";
      if (value.size() > 12 && value.find_first_not_of("0123456789abcdef") == std::string::npos) value.resize(8);
      label += (shown++ ? ", " : "") + path.substr(dot == std::string::npos ? 0 : dot + 1) + "=" + value;
    }
    members[i]->variant = label.empty() ? members[i]->identity.substr(0, 8) : label;
  }
}

/// Labels the groups that share experiment, dataset and sizes (a group alone in its cell
/// keeps ""): records made before run identities as such, the others by what differs
/// among them (label_by_difference).
inline void label_variants(std::vector<Group>& groups) {
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::vector<Group*>> cells;
  for (auto& g : groups) cells[{g.experiment, g.dataset, g.weak, g.strong}].push_back(&g);
  for (auto& [cell, members] : cells) {
    if (members.size() < 2) continue;
    std::vector<Group*> legacy, current;
    for (auto* g : members) (g->identity.rfind("legacy-", 0) == 0 ? legacy : current).push_back(g);
    if (current.size() > 1) label_by_difference(current);
    if (legacy.size() > 1) label_by_difference(legacy);
    for (auto* g : legacy) g->variant = "recorded before run identities" + (g->variant.empty() ? "" : ", " + g->variant);
  }
}

/// Reads every `*.jsonl` under `paths` (files or directories, recursively, in path order);
/// skips smoke runs unless asked. One group per configuration (record_identity), one row
/// per distinct seed.
inline std::vector<Group> read_groups(const std::vector<std::filesystem::path>& paths, bool include_smoke = false) {
  std::vector<std::filesystem::path> files;
  for (const auto& p : paths) {
    check(std::filesystem::exists(p), p.string(), ": no such file or directory");
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p))
        if (e.is_regular_file() && e.path().extension() == ".jsonl") files.push_back(e.path());
    } else {
      files.push_back(p);
    }
  }
  ranges::sort(files);
  std::map<std::string, Group> groups;
  std::map<std::string, std::set<uint64_t>> seen;  // identity → seeds read
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      nlohmann::json r;
      try {
        r = nlohmann::json::parse(line);
      } catch (const std::exception& e) {
        fail(f.string(), ":", n, ": not a JSON record (", e.what(), ")");
      }
      if (!r.is_object()) continue;
      if (r.value("smoke", false) && !include_smoke) continue;
      const bool diverged = r.contains("diverged");  // --on-divergence record: no metrics, counted in its group
      if (!diverged && !r.contains("metrics")) continue;  // other tools' records
      try {
        auto [identity, fields] = record_identity(r);
        auto& g = groups[identity];
        if (g.identity.empty()) {
          g.identity = identity;
          g.fields = std::move(fields);
          g.experiment = r.at("experiment").get<std::string>();
          g.dataset = r.at("dataset").get<std::string>();
          g.weak = r.at("weak").get<std::string>();
          g.strong = r.at("strong").get<std::string>();
        }
        const auto seed = r.at("seed").get<uint64_t>();
        if (!seen[identity].insert(seed).second) {
          g.repeated.push_back(seed);
          continue;
        }
        if (diverged) {
          g.diverged.push_back(seed);
          continue;
        }
        const auto& m = r.at("metrics");
        // score: accuracy, or −MSE for regression records (which have no agreement)
        const auto score = [&](const char* model) {
          const auto& x = m.at(model);
          return number(x.contains("score") ? x.at("score") : x.at("accuracy"));
        };
        const auto auc = [&](const char* model) { return number(m.at(model).value("auc", nlohmann::json())); };
        const auto best = [&](const char* model) {
          const auto& x = m.at(model);
          return x.contains("best_mse") ? -number(x.at("best_mse")) : number(x.value("best_accuracy", nlohmann::json()));
        };
        SeedRow row{seed, score("weak"), score("ceiling"), score("student"), best("student"),
                    m.contains("agreement") ? number(m.at("agreement").at("supervisor_wrong")) : NAN,
                    auc("weak"), auc("ceiling"), auc("student"), best("weak"), best("ceiling")};
        if (m.contains("label_free") && m.at("label_free").is_object()) {
          const auto& lf = m.at("label_free");
          if (lf.contains("kmeans")) row.label_free_kmeans = number(lf.at("kmeans").at("accuracy"));
          if (lf.contains("pca_sign")) row.label_free_pca = number(lf.at("pca_sign").at("accuracy"));
        }
        if (m.contains("noise_control") && m.at("noise_control").is_object())
          row.noise_control = number(m.at("noise_control").at("accuracy"));
        if (m.contains("cleaning") && m.at("cleaning").is_object()) {
          const auto& c = m.at("cleaning");
          row.kept_share = number(c.at("kept")) / number(c.at("of"));
          row.errors_removed = number(c.at("weak_errors_removed"));
          row.correct_removed = number(c.at("correct_labels_removed"));
          row.target_error_rate = number(c.at("target_error_rate"));
          row.weak_error_rate = number(c.at("weak_error_rate"));
        }
        if (m.at("weak").contains("transfer_calibration"))
          row.weak_margin = number(m.at("weak").at("transfer_calibration").at("mean_margin"));
        if (m.at("student").contains("test_correct")) {
          const int64_t n_test = r.at("n").at("test").get<int64_t>();
          row.weak_ok = decode_correct(m.at("weak").at("test_correct").get<std::string>(), n_test);
          row.ceiling_ok = decode_correct(m.at("ceiling").at("test_correct").get<std::string>(), n_test);
          row.student_ok = decode_correct(m.at("student").at("test_correct").get<std::string>(), n_test);
        }
        g.seeds.push_back(std::move(row));
        for (const auto& split : {"test", "transfer"})
          if (m.contains("tasks"))
            for (size_t t = 0; t < m.at("tasks").at(split).size(); ++t) {
              const auto& x = m.at("tasks").at(split).at(t);
              g.tasks.push_back({seed, split, static_cast<int64_t>(t), number(x.at("err_weak")),
                                 number(x.at("err_w2s")), number(x.at("err_ceiling")), number(x.at("misfit")),
                                 number(x.at("gain"))});
            }
      } catch (const nlohmann::json::exception& e) {
        fail(f.string(), ":", n, ": ", diverged ? "diverged record" : "record", " lacks a field (", e.what(), ")");
      } catch (const Error& e) {
        fail(f.string(), ":", n, ": ", e.what());
      }
    }
  }
  std::vector<Group> out;
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  ranges::sort(out, [](const Group& a, const Group& b) {
    return std::tie(a.experiment, a.dataset, a.weak, a.strong, a.identity) <
           std::tie(b.experiment, b.dataset, b.weak, b.strong, b.identity);
  });
  label_variants(out);
  ranges::sort(out, [](const Group& a, const Group& b) {  // variants of one cell in the order of their labels
    return std::tie(a.experiment, a.dataset, a.weak, a.strong, a.variant, a.identity) <
           std::tie(b.experiment, b.dataset, b.weak, b.strong, b.variant, b.identity);
  });
  return out;
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
