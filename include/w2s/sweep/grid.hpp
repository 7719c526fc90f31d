#pragma once
/// \file
/// A sweep's grid file and the runs it expands to (docs/sweeps.md has the format).
/// No LibTorch here: w2s_sweep builds in seconds and the tests read grids directly.
///
/// \code{.ini}
/// experiments = naive_finetune,
///   aux_confidence_loss             # an indented line continues the one above
/// datasets = fashion-mnist          # or: configs = ../configs/wine.ini, ../configs/brown.ini
/// ladder = xs, s, m, l              # every pair weak < strong (the paper's Fig. 3); or weak = / strong =
/// seeds = 0-2
/// threads = 1                       # per run; part of each run's identity
/// [options]                         # every combination of these lists is a run
/// epochs = 3, 10
/// [options.aux_confidence_loss]     # lists for one experiment only
/// aux-alpha = 0.5, 0.75
/// \endcode
/// A run is (experiment, dataset or config file, weak, strong, option values, seed): one
/// process, one record. Runs are ordered experiment, data, pair, options, seed (seeds
/// innermost: the runs in flight at once share their cached weak models).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/cli.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/hash.hpp"

namespace w2s::sweep {

/// One run of a grid.
struct Run {
  std::string experiment;
  std::string data_option, data_value;  ///< "--dataset" with a name, "--config" with a file, or "" (the default)
  std::string weak, strong;             ///< "" = the experiment's default
  std::vector<std::pair<std::string, std::string>> options;  ///< option name (no dashes) → value
  uint64_t seed = 0;

  /// The experiment's arguments, without the placement ones (--out, --cache-dir, --marker) that w2s_sweep adds.
  [[nodiscard]] std::vector<std::string> arguments(int threads, const std::vector<std::string>& extra) const {
    std::vector<std::string> a;
    if (!data_option.empty()) a.insert(a.end(), {data_option, data_value});
    if (!weak.empty()) a.insert(a.end(), {"--weak", weak});
    if (!strong.empty()) a.insert(a.end(), {"--strong", strong});
    for (const auto& [name, value] : options) a.insert(a.end(), {"--" + name, value});
    a.insert(a.end(), {"--seeds", std::to_string(seed), "--threads", std::to_string(threads)});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  /// One line for progress and status: "naive_finetune fashion-mnist xs→l aux-alpha=0.5 seed 2".
  [[nodiscard]] std::string label() const {
    std::string data = data_option.empty() ? "(default data)" : data_value;
    if (data_option == "--config") data = std::filesystem::path(data_value).stem().string();
    std::string s = experiment + " " + data;
    if (!weak.empty() || !strong.empty()) s += " " + (weak.empty() ? "?" : weak) + "→" + (strong.empty() ? "?" : strong);
    for (const auto& [name, value] : options) s += " " + name + "=" + value;
    return s + " seed " + std::to_string(seed);
  }
};

/// A parsed grid file.
struct Grid {
  std::filesystem::path file;
  std::vector<std::string> experiments;
  std::vector<std::string> datasets, configs;  ///< exactly one of the two is non-empty
  std::vector<std::string> weak, strong, ladder;
  std::vector<uint64_t> seeds{0};
  int threads = 1;
  std::string out, cache_dir;  ///< "" = the command line's (or w2s_sweep's default)
  std::vector<std::string> args;  ///< extra arguments for every run
  /// Option lists: "" → every experiment, else that experiment's only; in file order.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::vector<std::string>>>>> options;

  /// Every run, in order (see the file comment).
  [[nodiscard]] std::vector<Run> runs() const;
};

namespace detail {

inline std::string trim(std::string s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

/// "a, b ,c" → {a, b, c}; empty items are refused.
inline std::vector<std::string> split_list(const std::string& value, const std::string& where) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const auto comma = value.find(',', start);
    auto item = trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    check(!item.empty(), where, ": empty item in the list '", value, "'");
    out.push_back(std::move(item));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

/// "--quiet --epochs 3" → words (no quoting: grid arguments hold no spaces).
inline std::vector<std::string> split_words(const std::string& value) {
  std::vector<std::string> out;
  std::string word;
  for (const char c : value + " ") {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  return out;
}

/// The cartesian product of `axes` (name → values), in order, the last axis fastest.
inline std::vector<std::vector<std::pair<std::string, std::string>>> product(
    const std::vector<std::pair<std::string, std::vector<std::string>>>& axes) {
  std::vector<std::vector<std::pair<std::string, std::string>>> out{{}};
  for (const auto& [name, values] : axes) {
    std::vector<std::vector<std::pair<std::string, std::string>>> next;
    for (const auto& partial : out)
      for (const auto& v : values) {
        auto p = partial;
        p.emplace_back(name, v);
        next.push_back(std::move(p));
      }
    out = std::move(next);
  }
  return out;
}

}  // namespace detail

/// Reads the grid at `path`. A malformed line, an unknown key, a missing key or a bad
/// value is one w2s::Error naming the file and line.
inline Grid read_grid(const std::filesystem::path& path) {
  std::ifstream in(path);
  check(in.good(), path.string(), ": cannot open the grid file");
  Grid g;
  g.file = path;
  // Logical lines: comments (# or ;) dropped; an indented line continues the one above.
  std::vector<std::pair<int, std::string>> lines;
  std::string raw;
  for (int n = 1; std::getline(in, raw); ++n) {
    if (const auto hash = raw.find('#'); hash != std::string::npos) raw.resize(hash);
    const auto text = detail::trim(raw);
    if (text.empty() || text[0] == ';') continue;
    if ((raw[0] == ' ' || raw[0] == '\t') && !lines.empty()) lines.back().second += " " + text;
    else lines.emplace_back(n, text);
  }
  std::string section;
  std::set<std::string> seen;
  for (const auto& [n, line] : lines) {
    const std::string where = path.string() + ":" + std::to_string(n);
    if (line.front() == '[') {
      check(line.back() == ']', where, ": expected a section like [options] or [options.EXPERIMENT], got '", line, "'");
      section = detail::trim(line.substr(1, line.size() - 2));
      check(section == "options" || section.rfind("options.", 0) == 0, where,
            ": unknown section [", section, "] (expected [options] or [options.EXPERIMENT])");
      const std::string scope = section == "options" ? "" : section.substr(8);
      check(section == "options" || !scope.empty(), where, ": [options.] names no experiment");
      g.options.push_back({scope, {}});
      continue;
    }
    const auto eq = line.find('=');
    check(eq != std::string::npos, where, ": expected 'key = value', got '", line, "'");
    const auto key = detail::trim(line.substr(0, eq)), value = detail::trim(line.substr(eq + 1));
    check(!key.empty() && !value.empty(), where, ": expected 'key = value', got '", line, "'");
    if (!section.empty()) {
      if (key.rfind("--", 0) == 0) fail(where, ": write option names without dashes ('", key.substr(2), " = ...')");
      for (const auto& [name, values] : g.options.back().second)
        check(name != key, where, ": option '", key, "' given twice in [", section, "]");
      g.options.back().second.push_back({key, detail::split_list(value, where)});
      continue;
    }
    check(seen.insert(key).second, where, ": '", key, "' given twice");
    if (key == "experiments") {
      g.experiments = detail::split_list(value, where);
    } else if (key == "datasets") {
      g.datasets = detail::split_list(value, where);
    } else if (key == "configs") {
      for (const auto& c : detail::split_list(value, where)) {
        const auto file = std::filesystem::path(c).is_absolute() ? std::filesystem::path(c) : path.parent_path() / c;
        check(std::filesystem::exists(file), where, ": configs: no file ", file.string());
        g.configs.push_back(std::filesystem::absolute(file).lexically_normal().string());
      }
    } else if (key == "weak") {
      g.weak = detail::split_list(value, where);
    } else if (key == "strong") {
      g.strong = detail::split_list(value, where);
    } else if (key == "ladder") {
      g.ladder = detail::split_list(value, where);
      check(g.ladder.size() >= 2, where, ": ladder: expected at least two sizes, smallest first");
    } else if (key == "seeds") {
      try {
        g.seeds = cli::parse_seeds(value);
      } catch (const Error& e) {
        fail(where, ": ", e.what());
      }
    } else if (key == "threads") {
      check(value.find_first_not_of("0123456789") == std::string::npos && value.size() <= 4 && std::stoi(value) >= 1,
            where, ": threads: expected a whole number >= 1 (threads per run), got '", value, "'");
      g.threads = std::stoi(value);
    } else if (key == "out") {
      g.out = value;
    } else if (key == "cache-dir") {
      g.cache_dir = value;
    } else if (key == "args") {
      g.args = detail::split_words(value);
    } else {
      fail(where, ": unknown key '", key,
           "' (expected experiments, datasets, configs, weak, strong, ladder, seeds, threads, out, cache-dir, args, "
           "or a section [options])");
    }
  }
  const std::string file = path.string();
  check(!g.experiments.empty(), file, ": no 'experiments = ...' line");
  check(g.datasets.empty() || g.configs.empty(), file, ": give datasets or configs, not both");
  check(g.ladder.empty() || (g.weak.empty() && g.strong.empty()), file,
        ": give ladder (every pair weak < strong) or weak/strong lists, not both");
  for (const auto& [scope, axes] : g.options)
    if (!scope.empty()) {
      bool known = false;
      for (const auto& e : g.experiments) known = known || e == scope;
      check(known, file, ": [options.", scope, "]: '", scope, "' is not among the experiments");
    }
  for (const auto& a : g.args)
    check(a != "--seeds" && a != "--out" && a != "--cache-dir" && a != "--marker" && a != "--threads", file,
          ": args: ", a, " is set by the grid itself (seeds, threads, out, cache-dir keys)");
  return g;
}

inline std::vector<Run> Grid::runs() const {
  std::vector<std::pair<std::string, std::string>> data;  // (option, value)
  for (const auto& d : datasets) data.emplace_back("--dataset", d);
  for (const auto& c : configs) data.emplace_back("--config", c);
  if (data.empty()) data.emplace_back("", "");  // the experiment's default dataset
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!ladder.empty()) {
    for (size_t s = 1; s < ladder.size(); ++s)
      for (size_t w = 0; w < s; ++w) pairs.emplace_back(ladder[w], ladder[s]);
  } else {
    for (const auto& w : weak.empty() ? std::vector<std::string>{""} : weak)
      for (const auto& s : strong.empty() ? std::vector<std::string>{""} : strong) pairs.emplace_back(w, s);
  }
  std::vector<Run> out;
  for (const auto& e : experiments) {
    std::vector<std::pair<std::string, std::vector<std::string>>> axes;
    for (const auto& [scope, list] : options)
      if (scope.empty() || scope == e)
        for (const auto& axis : list) {
          for (auto& a : axes)  // an experiment's own list replaces the common one
            if (a.first == axis.first) a.second = axis.second;
          bool present = false;
          for (const auto& a : axes) present = present || a.first == axis.first;
          if (!present) axes.push_back(axis);
        }
    for (const auto& [option, value] : data)
      for (const auto& [w, s] : pairs)
        for (const auto& combination : detail::product(axes))
          for (const auto seed : seeds) {
            Run r{e, option, value, w, s, combination, seed};
            out.push_back(std::move(r));
          }
  }
  return out;
}

}  // namespace w2s::sweep
