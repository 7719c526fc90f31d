#pragma once
/// \file
/// The common configuration of every experiment binary (design.md, "Command line").
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "w2s/core/engine.hpp"

namespace w2s {

struct RunConfig {
  std::string experiment;
  std::string dataset = "fashion-mnist";
  std::string weak;    ///< "" = the ladder's smallest size
  std::string strong;  ///< "" = the ladder's largest size
  std::vector<uint64_t> seeds{0};
  int64_t epochs = 3;  ///< strong side (ceiling and student); default from the Student
  int64_t batch_size = 100;
  int64_t minibatch = 0;       ///< gradient accumulation: examples per pass (0 = the batch)
  int64_t max_tokens = 0;      ///< language-model datasets drop longer examples (0: 1024); text: WordPiece ids kept (0: 128)
  bool amp = false;            ///< cuda autocast
  /// classification: the student also trained on ground truth with random errors at the weak
  /// supervisor's rate, beside the record's PGR (metrics.noise_control)
  bool noise_control = false;
  double lr = 1e-3;
  int64_t weak_epochs = 3;
  double weak_lr = 1e-3;
  std::string ceiling_half = "weak";  ///< which half the ceiling trains on: weak (openai sweep) or transfer
  int64_t train_size = 0;             ///< training pool examples used (0 = all), split in halves
  int64_t test_size = 0;              ///< test examples used (0 = all)
  int64_t eval_points = 10;
  std::string device = "cpu";
  int threads = 0;  ///< 0 = all cores
  std::filesystem::path out = "results";
  std::filesystem::path cache_dir = "cache";
  std::filesystem::path data_dir = "data";
  std::string config_file;
  bool smoke = false;
  bool no_cache = false;
  bool quiet = false;
  std::filesystem::path marker;  ///< when set: after the records, one JSON line per seed naming its record (w2s_sweep)
  bool skip_existing = false;     ///< a seed whose record (same identity) exists is not run again
  std::string on_divergence = "error";  ///< error: stop with one line; record: write a record marked diverged
  /// --smoke's own sizes are caps (small tables have fewer rows); sizes a user gives are not.
  bool train_size_is_cap = false, test_size_is_cap = false;

  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json to_json() const;
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE nlohmann::json RunConfig::to_json() const {
  nlohmann::json j = {{"experiment", experiment},
                      {"dataset", dataset},
                      {"weak", weak},
                      {"strong", strong},
                      {"seeds", seeds},
                      {"epochs", epochs},
                      {"batch_size", batch_size},
                      {"minibatch", minibatch},
                      {"max_tokens", max_tokens},
                      {"amp", amp},
                      {"lr", lr},
                      {"weak_epochs", weak_epochs},
                      {"weak_lr", weak_lr},
                      {"ceiling_half", ceiling_half},
                      {"train_size", train_size},
                      {"test_size", test_size},
                      {"eval_points", eval_points},
                      {"device", device},
                      {"threads", threads},
                      {"out", out.string()},
                      {"cache_dir", cache_dir.string()},
                      {"data_dir", data_dir.string()},
                      {"config", config_file},
                      {"smoke", smoke},
                      {"no_cache", no_cache},
                      {"on_divergence", on_divergence}};
  // Only when on: the identities of runs without it stay what they were.
  if (noise_control) j["noise_control"] = true;
  return j;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
