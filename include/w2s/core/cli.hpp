#pragma once
/// \file
/// The one command line of every experiment binary (Boost.Program_Options):
/// common options, the policies' own options, `--config FILE`, `--help`.
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <thread>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "w2s/core/engine.hpp"
#include "w2s/core/config.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/policy.hpp"

namespace w2s::cli {

/// The most seeds one run takes: each is a whole protocol and a record.
inline constexpr uint64_t max_seeds = 1000;

/// "0,1,2", "0-4" or a mix ("0-2,7") → seeds, in order, without duplicates.
W2S_ENGINE_INLINE std::vector<uint64_t> parse_seeds(const std::string& text);

/// Refuses words that belong to no option (`--seeds 0 1 2` would otherwise run seed 0
/// alone): Boost keeps them as nameless options and ignores them.
W2S_ENGINE_INLINE void check_no_stray_words(const po::parsed_options& parsed);

/// Every real-valued option, the policies' included, must be a finite number.
W2S_ENGINE_INLINE void check_finite_numbers(const po::variables_map& vm);

/// Reads a config file for a binary whose policies are named `policies` (core/policy.hpp's
/// policy_names), checking it line by line so that an unknown or malformed line is reported
/// with its file and line number, and returns the `option = value` lines that apply.
/// Lines before any section apply to every binary. A section `[NAME]` holds the options of
/// the policy NAME (e.g. `[finetune]` with `train-layers = 0`): they apply to a binary that
/// uses that policy, and a binary that does not skips the section with one note on `notes`.
/// So one file serves every experiment on a dataset, and a typo is still an error.
W2S_ENGINE_INLINE std::string read_config_file(const std::string& path, const po::options_description& all,
                                               const std::vector<std::string>& policies, std::ostream* notes);

/// Parses the command line into `cfg`. `policy_options` holds the policies'
/// own options (already bound to them). Returns false when --help was printed.
/// The command line of a tool that is not an experiment (w2s_report, misfit_theorem,
/// make_tiny_gpt2): its own `options`, and `positional` arguments if it takes any. A
/// malformed or unknown option is one w2s::Error pointing at --help.
W2S_ENGINE_INLINE po::variables_map parse_tool(int argc, char** argv, const po::options_description& options,
                                               const po::positional_options_description& positional = {});

/// `policies`: the names of the binary's policies (policy_names), which choose the sections
/// of a config file that apply (read_config_file).
W2S_ENGINE_INLINE bool parse(int argc, char** argv, RunConfig& cfg, const po::options_description& policy_options,
                             std::ostream& help_out = std::cout, const std::vector<std::string>& policies = {});

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE std::vector<uint64_t> parse_seeds(const std::string& text) {
  std::vector<uint64_t> seeds;
  std::stringstream in(text);
  std::string item;
  const auto number = [&](const std::string& s) -> uint64_t {
    check(!s.empty() && s.find_first_not_of("0123456789") == std::string::npos, "--seeds: expected numbers like 0,1,2 or 0-4, got '",
          text, "'");
    check(s.size() <= 18, "--seeds: seed '", s, "' is too large (expected at most 18 digits)");
    return std::stoull(s);
  };
  while (std::getline(in, item, ',')) {
    if (const auto dash = item.find('-'); dash != std::string::npos) {
      const auto a = number(item.substr(0, dash)), b = number(item.substr(dash + 1));
      check(a <= b, "--seeds: range '", item, "' runs backwards");
      check(b - a < max_seeds, "--seeds: range '", item, "' has ", b - a + 1, " seeds; at most ", max_seeds,
            " per run (split a larger sweep into several runs)");
      for (auto s = a; s <= b; ++s) seeds.push_back(s);
    } else {
      seeds.push_back(number(item));
    }
    check(seeds.size() <= max_seeds, "--seeds: more than ", max_seeds,
          " seeds in one run (split a larger sweep into several runs)");
  }
  check(!seeds.empty(), "--seeds: expected at least one seed, got '", text, "'");
  std::set<uint64_t> seen;
  std::vector<uint64_t> unique;
  for (auto s : seeds)
    if (seen.insert(s).second) unique.push_back(s);
  return unique;
}

W2S_ENGINE_INLINE void check_no_stray_words(const po::parsed_options& parsed) {
  for (const auto& o : parsed.options)
    if (o.string_key.empty() && !o.value.empty())
      fail("unexpected word '", o.value.front(), "' on the command line: every value belongs to an option, and ",
           "lists are written with commas (e.g. --seeds 0,1,2)");
}

W2S_ENGINE_INLINE void check_finite_numbers(const po::variables_map& vm) {
  for (const auto& [name, v] : vm) {
    if (v.empty()) continue;
    if (v.value().type() == typeid(double))
      check(std::isfinite(v.as<double>()), "--", name, ": expected a finite number, got ", v.as<double>());
    if (v.value().type() == typeid(float))
      check(std::isfinite(v.as<float>()), "--", name, ": expected a finite number, got ", v.as<float>());
  }
}

W2S_ENGINE_INLINE std::string read_config_file(const std::string& path, const po::options_description& all,
                                               const std::vector<std::string>& policies, std::ostream* notes) {
  std::ifstream in(path);
  check(in.good(), "--config: cannot open '", path, "'");
  std::string line, kept, section;
  bool skipping = false;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#' || line[first] == ';') continue;
    if (line[first] == '[') {
      const auto close = line.find(']', first);
      check(close != std::string::npos && line.find_first_not_of(" \t\r", close + 1) == std::string::npos, path, ":",
            number, ": expected a section '[policy name]', got '", line, "'");
      section = line.substr(first + 1, close - first - 1);
      check(!section.empty() && section.find_first_of(" \t.=") == std::string::npos, path, ":", number,
            ": a section names one policy (e.g. [finetune]), got '", line, "'");
      skipping = std::find(policies.begin(), policies.end(), section) == policies.end();
      if (skipping && notes) {
        std::string mine;
        for (const auto& p : policies) mine += (mine.empty() ? "" : ", ") + p;
        *notes << path << ":" << number << ": note: section [" << section << "] skipped: "
               << (mine.empty() ? "this binary has no policies" : "this binary's policies are " + mine) << std::endl;
      }
      continue;
    }
    const auto eq = line.find('=');
    check(eq != std::string::npos, path, ":", number, ": expected 'option = value', got '", line, "'");
    auto key = line.substr(first, eq - first);
    key.erase(key.find_last_not_of(" \t") + 1);
    check(key != "config" && key != "help", path, ":", number, ": '", key, "' cannot be set in a config file");
    if (skipping) continue;
    check(all.find_nothrow(key, false) != nullptr, path, ":", number, ": unknown option '", key, "'",
          section.empty() ? std::string(" (see --help for the options; a policy's own options may go in a section "
                                        "named after it, e.g. [finetune], which binaries without it skip)")
                          : " in section [" + section + "] (see --help for the options)");
    kept += line.substr(first) + "\n";
  }
  return kept;
}

W2S_ENGINE_INLINE po::variables_map parse_tool(int argc, char** argv, const po::options_description& options,
                                               const po::positional_options_description& positional) {
  po::variables_map vm;
  try {
    const auto parsed = po::command_line_parser(argc, argv).options(options).positional(positional).run();
    check_no_stray_words(parsed);
    po::store(parsed, vm);
    po::notify(vm);
    check_finite_numbers(vm);
  } catch (const po::error& e) {
    fail(e.what(), " (see --help)");
  }
  return vm;
}

W2S_ENGINE_INLINE bool parse(int argc, char** argv, RunConfig& cfg, const po::options_description& policy_options,
                             std::ostream& help_out, const std::vector<std::string>& policies) {
  std::string seeds = "0";
  po::options_description common("Common options");
  // clang-format off
  common.add_options()
    ("help,h", "print this help and exit")
    ("dataset", po::value(&cfg.dataset)->default_value(cfg.dataset), "dataset name; an unknown name lists them all")
    ("weak", po::value(&cfg.weak)->default_value(""), "weak supervisor's ladder size (default: smallest)")
    ("strong", po::value(&cfg.strong)->default_value(""), "strong student's ladder size (default: the largest trained here; pretrained encoders by name, e.g. minilm-l6)")
    ("seeds", po::value(&seeds)->default_value(seeds), "seeds, e.g. 0,1,2 or 0-4: one run and record each")
    ("epochs", po::value(&cfg.epochs)->default_value(cfg.epochs), "strong ceiling and student epochs")
    ("batch-size", po::value(&cfg.batch_size)->default_value(cfg.batch_size), "batch size (loss over the whole batch)")
    ("minibatch", po::value(&cfg.minibatch)->default_value(cfg.minibatch),
       "examples per forward/backward pass, gradients accumulated over the batch (0 = whole batch)")
    ("max-tokens", po::value(&cfg.max_tokens)->default_value(cfg.max_tokens),
       "language-model datasets: drop examples longer than this many tokens (0 = 1024, as openai); text datasets: "
       "WordPiece ids each text keeps for the pretrained encoders (0 = 128)")
    ("amp", po::bool_switch(&cfg.amp), "cuda: mixed precision (autocast) for forward passes")
    ("noise-control", po::bool_switch(&cfg.noise_control),
       "classification: also train the student on ground truth with the weak supervisor's error count flipped at "
       "random, and record its accuracy and PGR beside the student's (metrics.noise_control; Fig. 26's control)")
    ("lr", po::value(&cfg.lr)->default_value(cfg.lr), "strong side Adam learning rate (cosine decay per batch)")
    ("weak-epochs", po::value(&cfg.weak_epochs)->default_value(cfg.weak_epochs), "weak supervisor epochs")
    ("weak-lr", po::value(&cfg.weak_lr)->default_value(cfg.weak_lr), "weak supervisor learning rate")
    ("ceiling-half", po::value(&cfg.ceiling_half)->default_value(cfg.ceiling_half),
       "half the strong ceiling trains on: weak (openai sweep) or transfer (openai's older script)")
    ("train-size", po::value(&cfg.train_size)->default_value(cfg.train_size), "training pool examples to use, 0 = all")
    ("test-size", po::value(&cfg.test_size)->default_value(cfg.test_size), "test examples to use, 0 = all")
    ("eval-points", po::value(&cfg.eval_points)->default_value(cfg.eval_points), "test evaluations during each training")
    ("device", po::value(&cfg.device)->default_value(cfg.device), "cpu or cuda")
    ("threads", po::value(&cfg.threads)->default_value(cfg.threads), "CPU threads, 0 = all cores")
    ("out", po::value<std::string>()->default_value(cfg.out.string()), "directory for result records (JSON Lines)")
    ("cache-dir", po::value<std::string>()->default_value(cfg.cache_dir.string()), "cache of backbones, weak labels, ceilings")
    ("data-dir", po::value<std::string>()->default_value(cfg.data_dir.string()), "where ./w2s.sh setup put the datasets")
    ("config", po::value(&cfg.config_file), "read options from an INI file (option = value); the command line wins")
    ("smoke", po::bool_switch(&cfg.smoke), "tiny data and budgets: a seconds-long check that everything runs")
    ("no-cache", po::bool_switch(&cfg.no_cache), "neither read nor write the cache")
    ("on-divergence", po::value(&cfg.on_divergence)->default_value(cfg.on_divergence),
       "when training diverges (non-finite loss, or the loss past 100x its start): error (stop, exit 1) or record "
       "(write a record marked diverged, which w2s_report leaves out and counts, and go on with the next seed)")
    ("skip-existing", po::bool_switch(&cfg.skip_existing),
       "do not rerun a seed whose record (same run identity: same code, data and configuration) exists")
    ("marker", po::value<std::string>(), "after the records, write FILE: one JSON line per seed naming its record "
       "(w2s_sweep uses it to know a run is done)")
    ("quiet,q", po::bool_switch(&cfg.quiet), "no progress lines");
  // clang-format on
  po::options_description all;
  all.add(common).add(policy_options);
  po::variables_map vm;
  try {
    const auto parsed = po::command_line_parser(argc, argv).options(all).run();
    check_no_stray_words(parsed);
    po::store(parsed, vm);
    if (vm.count("help")) {
      help_out << "usage: " << cfg.experiment << " [options]\n\n" << all << "\n";
      return false;
    }
    if (vm.count("config")) {
      const auto path = vm["config"].as<std::string>();
      const bool quiet = vm.count("quiet") && vm["quiet"].as<bool>();
      std::istringstream in(read_config_file(path, all, policies, quiet ? nullptr : &std::cerr));
      try {
        po::store(po::parse_config_file(in, all), vm);
      } catch (const po::error& e) {
        fail(path, ": ", e.what());
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    fail(e.what(), " (see --help)");
  }
  cfg.seeds = parse_seeds(seeds);
  cfg.out = vm["out"].as<std::string>();
  cfg.cache_dir = vm["cache-dir"].as<std::string>();
  cfg.data_dir = vm["data-dir"].as<std::string>();
  if (vm.count("marker")) cfg.marker = vm["marker"].as<std::string>();
  if (vm["data-dir"].defaulted())
    if (const char* env = std::getenv("W2S_DATA_DIR")) cfg.data_dir = env;
  if (cfg.smoke) {
    const auto unless_set = [&](const char* name, auto& field, auto value) {
      if (vm[name].defaulted()) field = value;
    };
    unless_set("train-size", cfg.train_size, int64_t{1000});
    unless_set("test-size", cfg.test_size, int64_t{500});
    cfg.train_size_is_cap = vm["train-size"].defaulted();
    cfg.test_size_is_cap = vm["test-size"].defaulted();
    unless_set("epochs", cfg.epochs, int64_t{1});
    unless_set("weak-epochs", cfg.weak_epochs, int64_t{1});
    unless_set("eval-points", cfg.eval_points, int64_t{2});
  }
  check_finite_numbers(vm);
  check(cfg.on_divergence == "error" || cfg.on_divergence == "record", "--on-divergence: expected error or record, got '",
        cfg.on_divergence, "'");
  check(cfg.ceiling_half == "weak" || cfg.ceiling_half == "transfer", "--ceiling-half: expected weak or transfer, got '",
        cfg.ceiling_half, "'");
  check(cfg.device == "cpu" || cfg.device == "cuda", "--device: expected cpu or cuda, got '", cfg.device, "'");
  check(cfg.epochs >= 1 && cfg.epochs <= 100000, "--epochs: expected 1..100000, got ", cfg.epochs);
  check(cfg.weak_epochs >= 1 && cfg.weak_epochs <= 100000, "--weak-epochs: expected 1..100000, got ", cfg.weak_epochs);
  check(cfg.batch_size >= 1 && cfg.batch_size <= 10000000, "--batch-size: expected 1..10000000, got ", cfg.batch_size);
  check(cfg.minibatch >= 0 && cfg.minibatch <= cfg.batch_size, "--minibatch: expected 0..", cfg.batch_size,
        " (the batch size), got ", cfg.minibatch);
  check(cfg.max_tokens >= 0 && cfg.max_tokens <= 1000000, "--max-tokens: expected 0..1000000 (0 = the dataset's default), got ",
        cfg.max_tokens);
  check(!cfg.amp || cfg.device == "cuda", "--amp: mixed precision needs --device cuda");
  check(cfg.lr > 0, "--lr: expected a number > 0, got ", cfg.lr);
  check(cfg.weak_lr > 0, "--weak-lr: expected a number > 0, got ", cfg.weak_lr);
  check(cfg.eval_points >= 1 && cfg.eval_points <= 1000000, "--eval-points: expected 1..1000000, got ", cfg.eval_points);
  check(cfg.threads >= 0, "--threads: expected >= 0 (0 = all cores), got ", cfg.threads);
  if (const int cores = static_cast<int>(std::thread::hardware_concurrency()); cores > 0 && cfg.threads > cores) {
    std::cerr << cfg.experiment << ": warning: --threads " << cfg.threads << ": this machine has " << cores
              << " cores; using " << cores << std::endl;
    cfg.threads = cores;
  }
  check(cfg.train_size >= 0 && cfg.test_size >= 0, "--train-size and --test-size: expected >= 0");
  return true;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s::cli
