#pragma once
/// \file
/// From result records to the paper's numbers: per (experiment, dataset, weak,
/// strong), accuracies averaged over seeds, PGR of the averages (openai's order:
/// average each model over seeds first), and a bootstrap confidence interval over
/// seeds. No LibTorch here: the report tool builds in seconds.
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
};

/// One (experiment, dataset, weak, strong) over its seeds.
/// One transfer task of a regression record (Charikar et al.'s gain vs misfit).
struct TaskRow {
  uint64_t seed;
  std::string split;
  int64_t task;
  double err_weak, err_w2s, err_ceiling, misfit, gain;
};

struct Group {
  std::string experiment, dataset, weak, strong;
  std::vector<SeedRow> seeds;
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

/// Percentile bootstrap over seeds: resample the seeds with replacement
/// `resamples` times, take the PGR of means of each resample, and return the
/// (1−level)/2 and (1+level)/2 quantiles. Deterministic (fixed generator seed).
inline std::pair<double, double> bootstrap_pgr_ci(const std::vector<SeedRow>& rows, double level = 0.95,
                                                  int resamples = 10000, double SeedRow::*student = &SeedRow::student) {
  std::mt19937_64 gen(20231214);
  std::uniform_int_distribution<size_t> pick(0, rows.size() - 1);
  std::vector<double> stats;
  std::vector<SeedRow> sample(rows.size());
  for (int b = 0; b < resamples; ++b) {
    for (auto& s : sample) s = rows[pick(gen)];
    if (auto p = pgr_of_means(sample, student)) stats.push_back(*p);
  }
  if (stats.empty()) return {NAN, NAN};
  ranges::sort(stats);
  const auto at = [&](double q) { return stats[static_cast<size_t>(std::floor(q * double(stats.size() - 1)))]; };
  return {at((1 - level) / 2), at((1 + level) / 2)};
}

inline double number(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : NAN; }

/// Reads every `*.jsonl` under `paths` (files or directories, recursively); skips smoke runs unless asked.
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
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Group> groups;
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
      if (r.contains("diverged")) {  // --on-divergence record: no metrics, counted where its group is
        try {
          const auto key = std::make_tuple(r.at("experiment").get<std::string>(), r.at("dataset").get<std::string>(),
                                           r.at("weak").get<std::string>(), r.at("strong").get<std::string>());
          auto& g = groups[key];
          std::tie(g.experiment, g.dataset, g.weak, g.strong) = key;
          g.diverged.push_back(r.at("seed").get<uint64_t>());
        } catch (const nlohmann::json::exception& e) {
          fail(f.string(), ":", n, ": diverged record lacks a field (", e.what(), ")");
        }
        continue;
      }
      if (!r.contains("metrics")) continue;  // other tools' records
      try {
        const auto& m = r.at("metrics");
        const auto key = std::make_tuple(r.at("experiment").get<std::string>(), r.at("dataset").get<std::string>(),
                                         r.at("weak").get<std::string>(), r.at("strong").get<std::string>());
        auto& g = groups[key];
        std::tie(g.experiment, g.dataset, g.weak, g.strong) = key;
        // score: accuracy, or −MSE for regression records (which have no agreement)
        const auto score = [&](const char* model) {
          const auto& x = m.at(model);
          return number(x.contains("score") ? x.at("score") : x.at("accuracy"));
        };
        const auto& st = m.at("student");
        const double best = st.contains("best_mse") ? -number(st.at("best_mse"))
                                                     : number(st.value("best_accuracy", nlohmann::json()));
        g.seeds.push_back({r.at("seed").get<uint64_t>(), score("weak"), score("ceiling"), score("student"), best,
                           m.contains("agreement") ? number(m.at("agreement").at("supervisor_wrong")) : NAN});
        for (const auto& split : {"test", "transfer"})
          if (m.contains("tasks"))
            for (size_t t = 0; t < m.at("tasks").at(split).size(); ++t) {
              const auto& x = m.at("tasks").at(split).at(t);
              g.tasks.push_back({r.at("seed").get<uint64_t>(), split, static_cast<int64_t>(t),
                                 number(x.at("err_weak")), number(x.at("err_w2s")), number(x.at("err_ceiling")),
                                 number(x.at("misfit")), number(x.at("gain"))});
            }
      } catch (const nlohmann::json::exception& e) {
        fail(f.string(), ":", n, ": record lacks a field (", e.what(), ")");
      }
    }
  }
  std::vector<Group> out;
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  return out;
}

}  // namespace w2s::report
