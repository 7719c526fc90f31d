#pragma once
/// \file
/// The protocol without its policies: everything one experiment run does that no policy
/// decides (data, splits, ladder sizes, caches, identity, records, the seed loop), compiled
/// once into the engine (core/engine.hpp). `Experiment<...>` (experiment/experiment.hpp)
/// reaches it through the narrow, non-template interface `ProtocolPolicies`: one virtual
/// call per step its policies own, so an experiment file instantiates its policies and
/// nothing else (docs/architecture.md, "What is compiled, what stays a template").

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/cache.hpp"
#include "w2s/core/cli.hpp"
#include "w2s/core/config.hpp"
#include "w2s/core/engine.hpp"
#include "w2s/core/log.hpp"
#include "w2s/core/runtime.hpp"
#include "w2s/data/registry.hpp"
#include "w2s/experiment/identity.hpp"
#include "w2s/experiment/protocol.hpp"
#include "w2s/experiment/record.hpp"
#include "w2s/experiment/seed_record.hpp"
#include "w2s/experiment/task.hpp"
#include "w2s/labels/label_source.hpp"
#include "w2s/labels/noise.hpp"
#include "w2s/metrics/label_free.hpp"
#include "w2s/metrics/metrics.hpp"
#include "w2s/models/pretrain.hpp"
#include "w2s/students/student.hpp"

namespace w2s {

/// The steps of one seed that an experiment's policies own (the label source, loss, student
/// and method of `Experiment<...>`); the engine's run_protocol does the rest.
class ProtocolPolicies {
 public:
  virtual ~ProtocolPolicies() = default;
  /// The loss fits real-valued targets (Regression), not classes.
  [[nodiscard]] virtual bool regression() const = 0;
  [[nodiscard]] virtual std::string_view label_source_name() const = 0;
  [[nodiscard]] virtual std::string_view loss_name() const = 0;
  [[nodiscard]] virtual std::string_view student_name() const = 0;
  /// Each policy's name and options, as the run identity and records hold them.
  [[nodiscard]] virtual nlohmann::json policies() const = 0;
  /// The student reads the transfer half's ground truth (a declared oracle, e.g. ProbeAfter).
  [[nodiscard]] virtual bool needs_transfer_ground_truth() const = 0;
  /// Steps 2–3: the weak supervisor and its predictions (experiment/protocol.hpp).
  [[nodiscard]] virtual StageResult weak_supervisor(const SeedState& s) const = 0;
  /// Step 5: the strong ceiling.
  [[nodiscard]] virtual StageResult strong_ceiling(const SeedState& s) const = 0;
  /// Step 4's targets: the label source, directly or through the method (bootstrapping);
  /// the method adds what it did to `method_record`.
  [[nodiscard]] virtual StudentData student_data(const SeedState& s, const LabelContext& c,
                                                 nlohmann::json& method_record) const = 0;
  /// Step 4: the student fitted to `data` with the experiment's loss.
  [[nodiscard]] virtual Fitted fit_student(const StudentContext& ctx, const StudentData& data) const = 0;

  // What the command line needs of the policies (experiment_main).
  /// The student's default epochs and learning rate (`--epochs`, `--lr`).
  [[nodiscard]] virtual int64_t default_epochs() const = 0;
  [[nodiscard]] virtual double default_lr() const = 0;
  /// The policies' own options, bound to their members.
  virtual void add_options(po::options_description& options) = 0;
  /// The names of the policies and of those they wrap: the config file's sections that apply.
  [[nodiscard]] virtual std::vector<std::string> section_names() const = 0;
  /// Each policy's own check of its options (throws w2s::Error).
  virtual void validate() const = 0;
  /// The label source ranks the transfer half by the strong ceiling's confidence, so the
  /// ceiling must be held out from it (`--ceiling-half weak`).
  [[nodiscard]] virtual bool needs_held_out_ceiling() const = 0;
};

/// The whole of an experiment binary's work after process set-up: parses the command line
/// (the common options and `policies`' own), validates, and runs every seed with
/// run_protocol. Returns the exit status (0; `--help` prints and returns 0); throws
/// w2s::Error for bad configuration or data.
W2S_ENGINE_INLINE int experiment_main(std::string_view name, int argc, char** argv, ProtocolPolicies& policies);

/// Runs the protocol for every seed of `cfg` with `policies`' steps, writing one record per
/// seed (experiment/record.hpp); `cfg` is the parsed command line.
W2S_ENGINE_INLINE void run_protocol(RunConfig cfg, const ProtocolPolicies& policies);

namespace detail {
/// One seed of the protocol (paper-facts.md, "The protocol"), to its record at `path`.
struct SeedRun {
  const RunConfig& cfg;
  int threads;
  std::chrono::steady_clock::time_point start;
  const DataBundle& bundle;
  const PretrainedBackbone& weak_bb;
  const PretrainedBackbone& strong_bb;
  const Cache& cache;
  const Log& log;
  FeatureCache& features;
  torch::Device device;
  const RunIdentity& identity;
};
W2S_ENGINE_INLINE void run_seed(const SeedRun& r, uint64_t seed, const ProtocolPolicies& p,
                                const std::filesystem::path& path);
}  // namespace detail

/// The label-free control beside a seed's PGR (metrics/label_free.hpp): the strong model's frozen
/// features of the transfer half clustered (k-means, and the first principal component's sign
/// for two classes), the clusters named by the weak labels in them (one-to-one, and by each
/// cluster's majority), scored on test, with its PGR against the record's weak and ceiling
/// accuracies (`metrics`). Null for language-model datasets (their strong model's features cost
/// a forward pass of the LM).
W2S_ENGINE_INLINE nlohmann::json label_free_control(const SeedState& s, const StageResult& weak,
                                                    const nlohmann::json& metrics);

/// The noise control beside a seed's PGR (--noise-control; issue 21, the paper's Fig. 26): the
/// same student and loss, from the same initialisation, trained on the transfer half's ground
/// truth with errors at the weak supervisor's own error rate placed uniformly at random
/// (RandomNoise, labels/noise.hpp; hard labels where the student's own targets are one-hot,
/// else soft at the supervisor's mean confidence), scored on test, with its PGR. A student
/// that recovers less from the weak labels than from this noise met errors it could imitate.
W2S_ENGINE_INLINE nlohmann::json noise_control(const ProtocolPolicies& p, const StudentContext& ctx,
                                               const LabelContext& c, const StudentData& labelled,
                                               const nlohmann::json& metrics);

/// What a cleaning label source (labels/cleaned.hpp) did, scored against ground truth (which only
/// the oracle filter reads): rows kept of the transfer half, the share of the supervisor's errors it removed and
/// of its correct labels, the error rate of the student's hard targets on the kept rows.
W2S_ENGINE_INLINE nlohmann::json cleaning_metrics(const LabelContext& c, const StudentData& labelled);

}  // namespace w2s

#include "w2s/experiment/driver-inl.hpp"  // the definitions, where this build has them (core/engine.hpp)
