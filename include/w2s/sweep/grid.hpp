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
/// weak = xs, s                      # with a ladder: only these as weak (strong = likewise)
/// seeds = 0-2
/// threads = 1                       # per run; part of each run's identity
/// [options]                         # every combination of these lists is a run
/// epochs = 3, 10
/// [options.aux_confidence_loss]     # lists for one experiment only
/// aux-alpha = 0.5, 0.75
/// [weak.xs]                         # options of the runs whose weak model is xs (its own budget)
/// weak-epochs = 10
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

  /// The data by name: a dataset's name, a config file's stem, or "" (the experiment's default).
  [[nodiscard]] std::string data_name() const {
    return data_option == "--config" ? std::filesystem::path(data_value).stem().string() : data_value;
  }

  /// One line for progress and status: "naive_finetune fashion-mnist xs→l aux-alpha=0.5 seed 2".
  [[nodiscard]] std::string label() const {
    std::string s = experiment + " " + (data_option.empty() ? "(default data)" : data_name());
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
  /// Option lists of the runs whose weak model is the named one ([weak.NAME]), replacing the
  /// lists of the same name above: each weak size trained at its own budget.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::vector<std::string>>>>> weak_options;

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
      if (section.rfind("weak.", 0) == 0) {
        const std::string weak = section.substr(5);
        check(!weak.empty(), where, ": [weak.] names no weak model");
        for (const auto& [name, axes] : g.weak_options) check(name != weak, where, ": [", section, "] given twice");
        g.weak_options.push_back({weak, {}});
        continue;
      }
      check(section == "options" || section.rfind("options.", 0) == 0, where, ": unknown section [", section,
            "] (expected [options], [options.EXPERIMENT] or [weak.NAME])");
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
      check(key != "weak" && key != "strong" && key != "seeds" && key != "threads", where, ": '", key,
            "' is a grid key, not an option of a section");
      auto& axes = section.rfind("weak.", 0) == 0 ? g.weak_options.back().second : g.options.back().second;
      for (const auto& [name, values] : axes)
        check(name != key, where, ": option '", key, "' given twice in [", section, "]");
      axes.push_back({key, detail::split_list(value, where)});
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
  for (const auto* list : {&g.weak, &g.strong})
    for (const auto& name : *list) {
      bool on_ladder = g.ladder.empty();
      for (const auto& l : g.ladder) on_ladder = on_ladder || l == name;
      check(on_ladder, file, ": '", name, "' is not on the ladder (", g.ladder.size(),
            " sizes); with a ladder, weak and strong choose among its sizes");
    }
  for (const auto& [weak, axes] : g.weak_options) {
    bool known = false;
    for (const auto& w : g.weak.empty() ? g.ladder : g.weak) known = known || w == weak;
    check(known, file, ": [weak.", weak, "]: '", weak, "' is not among the weak models");
  }
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
  const auto among = [](const std::vector<std::string>& list, const std::string& name) {
    if (list.empty()) return true;
    for (const auto& l : list)
      if (l == name) return true;
    return false;
  };
  if (!ladder.empty()) {  // every pair weak < strong, each side restricted by weak / strong if given
    for (size_t s = 1; s < ladder.size(); ++s)
      for (size_t w = 0; w < s; ++w)
        if (among(weak, ladder[w]) && among(strong, ladder[s])) pairs.emplace_back(ladder[w], ladder[s]);
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
      for (const auto& [w, s] : pairs) {
        auto pair_axes = axes;  // [weak.W] replaces the lists of the same name
        for (const auto& [name, list] : weak_options)
          if (name == w)
            for (const auto& axis : list) {
              bool present = false;
              for (auto& a : pair_axes)
                if (a.first == axis.first) a.second = axis.second, present = true;
              if (!present) pair_axes.push_back(axis);
            }
        for (const auto& combination : detail::product(pair_axes))
          for (const auto seed : seeds) {
            Run r{e, option, value, w, s, combination, seed};
            out.push_back(std::move(r));
          }
      }
  }
  return out;
}

}  // namespace w2s::sweep
