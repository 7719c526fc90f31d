#pragma once
/// \file
/// Label cleaning as label-source wrappers (issue 22, docs/roles.md#labelsource): a label
/// source's targets filtered or relabelled on the strong model's frozen features of the transfer
/// half, composed in the type:
///
///     Experiment<Filtered<WeakLabels<Soft>, TopoFilter>, CrossEntropy, FineTune>
///     Experiment<Relabelled<WeakLabels<Soft>, ZetaRelabel>, CrossEntropy, FineTune>
///
/// A cleaner sees the features and the labels it cleans, never ground truth; the oracle filter
/// reads it, declares so (`reads_transfer_ground_truth`), and gets it only through
/// `oracle_truth<C>`, which does not compile for a cleaner without the declaration. The record
/// says what was removed (metrics.cleaning: the share of the supervisor's errors and of its
/// correct labels each filter removed).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <functional>
#include <string>
#include <string_view>

#include "w2s/core/hash.hpp"
#include "w2s/core/policy.hpp"
#include "w2s/core/seeds.hpp"
#include "w2s/labels/cleaning.hpp"
#include "w2s/labels/label_source.hpp"

namespace w2s {

/// What a cleaner sees: the strong model's frozen features of the labelled rows (N × D, double),
/// the soft label of class 1 the wrapped source gave each row (N), the run's seed.
struct CleaningInput {
  at::Tensor x;
  at::Tensor y;
  uint64_t seed = 0;
  const Dataset* transfer = nullptr;  ///< the labelled rows; their ground truth only via oracle_truth<C>
};

/// Whether cleaner `C` reads the transfer half's ground truth (an oracle: an upper bound, never a method).
template <class C>
constexpr bool reads_transfer_ground_truth() {
  if constexpr (requires { C::reads_transfer_ground_truth; })
    return C::reads_transfer_ground_truth;
  else
    return false;
}

/// The labelled rows' ground truth, for a cleaner that declares
/// `static constexpr bool reads_transfer_ground_truth = true`; any other does not compile with it.
template <class C>
const at::Tensor& oracle_truth(const CleaningInput& in) {
  static_assert(reads_transfer_ground_truth<C>(),
                "w2s::oracle_truth<C>: C must declare `static constexpr bool reads_transfer_ground_truth = true`; "
                "only an oracle cleaner reads the transfer half's ground truth (docs/roles.md#labelsource)");
  check(in.transfer != nullptr && in.transfer->targets.defined(), C::name,
        ": the transfer half's ground truth is not at hand");
  return in.transfer->targets;
}

namespace detail {
inline void add_contamination(po::options_description& o, double* share, const char* what) {
  o.add_options()("contamination", po::value(share)->default_value(*share), what);
}
inline void check_share(double share, const char* option) {
  check(share > 0 && share < 1, "--", option, ": expected a share in (0, 1), got ", share);
}
}  // namespace detail

/// TopoFilter (EleutherAI topo.py): TopoCC with k_cc neighbours, then the points farthest from
/// their k_zeta kept neighbours' mean label, until `contamination` of all points are removed.
struct TopoFilter {
  static constexpr std::string_view name = "topo_filter";
  double contamination = 0.1;
  int64_t k_cc = 5, k_zeta = 5;
  void add_options(po::options_description& o) {
    detail::add_contamination(o, &contamination, "share of the labelled points removed in all");
    o.add_options()("k-cc", po::value(&k_cc)->default_value(k_cc), "TopoCC: neighbours in the kNN graph")(
        "k-zeta", po::value(&k_zeta)->default_value(k_zeta), "neighbours whose mean label a point is compared with");
  }
  void validate() const {
    detail::check_share(contamination, "contamination");
    check(k_cc >= 1 && k_zeta >= 1, "--k-cc, --k-zeta: expected >= 1, got ", k_cc, ", ", k_zeta);
  }
  [[nodiscard]] nlohmann::json describe() const {
    return {{"contamination", contamination}, {"k_cc", k_cc}, {"k_zeta", k_zeta}};
  }
  [[nodiscard]] at::Tensor keep(const CleaningInput& in) const {
    return cleaning::topo_filter(in.x, in.y, contamination, k_cc, k_zeta);
  }
};

/// Probes on frozen features (EleutherAI probe.py), for the probe filters below and the probe
/// students (students/feature_probe.hpp). A probe: `fit(x, y)` on N × D features and N soft
/// labels of class 1 returns the function from query features to predicted soft labels.
using ProbeFn = std::function<at::Tensor(const at::Tensor&)>;
struct KnnProbe {
  static constexpr std::string_view name = "knn";
  int64_t k = 20;
  void add_options(po::options_description& o) {
    o.add_options()("probe-k", po::value(&k)->default_value(k), "kNN probe: neighbours (itself among them)");
  }
  void validate() const { check(k >= 1, "--probe-k: expected >= 1, got ", k); }
  [[nodiscard]] nlohmann::json describe() const { return {{"k", k}}; }
  [[nodiscard]] ProbeFn fit(const at::Tensor& x, const at::Tensor& y) const {
    cleaning::check_inputs(x, y, k, "kNN probe (--probe-k)");
    return [x, y, k = k](const at::Tensor& q) { return cleaning::knn_probe(x, y, q, k); };
  }
};

struct LogisticProbe {
  static constexpr std::string_view name = "logistic";
  double l2 = 1e-3;
  void add_options(po::options_description& o) {
    o.add_options()("probe-l2", po::value(&l2)->default_value(l2), "logistic probe: L2 penalty on the weights");
  }
  void validate() const { check(l2 >= 0, "--probe-l2: expected >= 0, got ", l2); }
  [[nodiscard]] nlohmann::json describe() const { return {{"l2", l2}}; }
  [[nodiscard]] ProbeFn fit(const at::Tensor& x, const at::Tensor& y) const {
    const auto model = cleaning::fit_logistic(x, y, l2);
    return [model](const at::Tensor& q) { return model.predict(q.to(at::kDouble)); };
  }
};

struct TopoProbe {
  static constexpr std::string_view name = "topo";
  int64_t k_cc = 20, k_zeta = 20;
  void add_options(po::options_description& o) {
    o.add_options()("probe-k-cc", po::value(&k_cc)->default_value(k_cc), "topological probe: TopoCC neighbours")(
        "probe-k-zeta", po::value(&k_zeta)->default_value(k_zeta), "topological probe: neighbours averaged");
  }
  void validate() const { check(k_cc >= 1 && k_zeta >= 1, "--probe-k-cc, --probe-k-zeta: expected >= 1"); }
  [[nodiscard]] nlohmann::json describe() const { return {{"k_cc", k_cc}, {"k_zeta", k_zeta}}; }
  [[nodiscard]] ProbeFn fit(const at::Tensor& x, const at::Tensor& y) const {
    // The training set's TopoCC components, once; a query's mean label over its nearest kept points.
    cleaning::check_inputs(x, y, k_cc, "topological probe (--probe-k-cc)");
    const auto kept = cleaning::topo_cc(x, y, k_cc).nonzero().squeeze(1);
    check(k_zeta >= 1 && k_zeta <= kept.numel(), "topological probe: --probe-k-zeta ", k_zeta, " of the ", kept.numel(),
          " points TopoCC kept");
    return [xk = x.index_select(0, kept), yk = y.index_select(0, kept), k = k_zeta](const at::Tensor& q) {
      return cleaning::knn_probe(xk, yk, q, k);
    };
  }
};

/// A probe's filter: the probe fitted to the weak labels on the features, the `contamination`
/// share where its prediction disagrees most with the weak label dropped (int(contamination · N)).
template <class Probe>
struct ProbeFilter {
  static constexpr std::string_view name = Probe::name == std::string_view("knn")        ? "knn_filter"
                                           : Probe::name == std::string_view("logistic") ? "logistic_filter"
                                                                                         : "topo_probe_filter";
  Probe probe;
  double contamination = 0.1;
  void add_options(po::options_description& o) {
    detail::add_contamination(o, &contamination, "share of the labelled points dropped where the probe disagrees");
    add_policy_options(probe, o);
  }
  void validate() const {
    detail::check_share(contamination, "contamination");
    validate_policy(probe);
  }
  [[nodiscard]] nlohmann::json describe() const {
    return {{"contamination", contamination}, {"probe", describe_policy(probe)}};
  }
  [[nodiscard]] at::Tensor keep(const CleaningInput& in) const {
    return cleaning::probe_filter(probe.fit(in.x, in.y)(in.x), in.y, contamination);
  }
};

/// Control: a random round((1 − contamination) · N) rows kept (EleutherAI oraclefilter.py's random filter).
struct RandomFilter {
  static constexpr std::string_view name = "random_filter";
  double contamination = 0.1;
  void add_options(po::options_description& o) {
    detail::add_contamination(o, &contamination, "share of the labelled points dropped at random");
  }
  void validate() const { detail::check_share(contamination, "contamination"); }
  [[nodiscard]] nlohmann::json describe() const { return {{"contamination", contamination}}; }
  [[nodiscard]] at::Tensor keep(const CleaningInput& in) const {
    const int64_t n = in.y.size(0);
    auto gen = stream_generator(in.seed, Stream::label_cleaning);
    const auto kept = at::randperm(n, gen, at::kLong).slice(0, 0, cleaning::kept_count(1 - contamination, n));
    return std::get<0>(at::sort(kept));
  }
};

/// Upper bound, reads ground truth: keeps the round((1 − contamination) · N) rows whose weak labels
/// are closest to the truth (EleutherAI oraclefilter.py ranks by the cross-entropy of the logits
/// [1 − y, y] against the true class, a monotone function of |truth − y|).
struct OracleFilter {
  static constexpr std::string_view name = "oracle_filter";
  static constexpr bool reads_transfer_ground_truth = true;
  double contamination = 0.1;
  void add_options(po::options_description& o) {
    detail::add_contamination(o, &contamination, "share of the labelled points dropped, farthest from the truth");
  }
  void validate() const { detail::check_share(contamination, "contamination"); }
  [[nodiscard]] nlohmann::json describe() const {
    return {{"contamination", contamination}, {"reads_transfer_ground_truth", true}};
  }
  [[nodiscard]] at::Tensor keep(const CleaningInput& in) const {
    const auto truth = oracle_truth<OracleFilter>(in).to(at::kDouble);
    const auto kept = cleaning::smallest((truth - in.y).abs(), cleaning::kept_count(1 - contamination, in.y.size(0)));
    return std::get<0>(at::sort(kept));
  }
};

/// The zeta filter (EleutherAI knn.py): the round((1 − contamination) · N) rows closest to the
/// mean label of their --zeta-k nearest others kept; --zeta-k 0 chooses k by leave-one-out Brier score.
struct ZetaFilter {
  static constexpr std::string_view name = "zeta_filter";
  double contamination = 0.1;
  int64_t k = 0;
  void add_options(po::options_description& o) {
    detail::add_contamination(o, &contamination, "share of the labelled points dropped, farthest from their zeta");
    o.add_options()("zeta-k", po::value(&k)->default_value(k),
                    "neighbours averaged; 0: chosen by leave-one-out Brier score");
  }
  void validate() const {
    detail::check_share(contamination, "contamination");
    check(k >= 0, "--zeta-k: expected >= 0 (0: chosen by leave-one-out), got ", k);
  }
  [[nodiscard]] nlohmann::json describe() const { return {{"contamination", contamination}, {"k", k}}; }
  [[nodiscard]] at::Tensor keep(const CleaningInput& in) const {
    return cleaning::zeta_filter(in.x, in.y, k, 1 - contamination);
  }
};

/// Relabelling by zeta (EleutherAI relabel.py): each label replaced by the mean label of its
/// --zeta-k nearest others, everywhere (`all`), where the hard labels disagree (`disagree`), or for
/// the --contamination share farthest from it (`worst`).
struct ZetaRelabel {
  static constexpr std::string_view name = "zeta_relabel";
  std::string mode = "all";
  int64_t k = 20;
  double contamination = 0.1;
  void add_options(po::options_description& o) {
    o.add_options()("relabel", po::value(&mode)->default_value(mode), "where: all, disagree or worst")(
        "zeta-k", po::value(&k)->default_value(k), "neighbours averaged")(
        "contamination", po::value(&contamination)->default_value(contamination),
        "--relabel worst: share of the labels replaced");
  }
  void validate() const {
    check(mode == "all" || mode == "disagree" || mode == "worst", "--relabel: expected all, disagree or worst, got '",
          mode, "'");
    check(k >= 1, "--zeta-k: expected >= 1, got ", k);
    detail::check_share(contamination, "contamination");
  }
  [[nodiscard]] nlohmann::json describe() const {
    nlohmann::json j = {{"relabel", mode}, {"k", k}};
    if (mode == "worst") j["contamination"] = contamination;
    return j;
  }
  [[nodiscard]] at::Tensor relabel(const CleaningInput& in) const {
    const auto m = mode == "all"        ? cleaning::ZetaMode::all
                   : mode == "disagree" ? cleaning::ZetaMode::disagree
                                        : cleaning::ZetaMode::worst;
    return cleaning::zeta_relabel(in.x, in.y, k, m, contamination);
  }
};

namespace detail {
/// The cleaner's input for the rows `d.train` labelled with `targets`: their features from the
/// label context, and the soft label of class 1.
inline CleaningInput cleaning_input(const LabelContext& c, const StudentData& d, std::string_view who) {
  check(d.train.classes == 2, who, ": dataset '", d.train.name, "' has ", d.train.classes,
        " classes; label cleaning (EleutherAI's) is defined for two");
  check(static_cast<bool>(c.strong_features), who, ": no strong model features in this run");
  CleaningInput in;
  in.x = c.strong_features(d.train).to(at::kDouble);
  check(in.x.dim() == 2 && in.x.size(0) == d.train.size(), who, ": the strong model's features of the transfer half",
        " have shape ", in.x.sizes(), ", expected ", d.train.size(), " rows");
  in.y = d.targets.select(1, 1).to(at::kDouble);
  in.seed = c.seed;
  in.transfer = &d.train;
  return in;
}

/// What Filtered and Relabelled share: the wrapped label source and the cleaner, whose options
/// are both on the command line and in the record.
template <class Inner, class Cleaner>
struct CleaningSource {
  Inner inner;
  Cleaner cleaner;
  void add_options(po::options_description& o) {
    add_policy_options(inner, o);
    add_policy_options(cleaner, o);
  }
  void validate() const {
    validate_policy(inner);
    validate_policy(cleaner);
  }
  [[nodiscard]] nlohmann::json describe() const {
    nlohmann::json j = cleaner.describe();
    j["labels"] = describe_policy(inner);
    j["features"] = "the strong model's frozen features of the transfer half";
    return j;
  }
};
}  // namespace detail

/// A label source's rows filtered by `Cleaner` (`at::Tensor keep(const CleaningInput&) const`:
/// the kept row indices). Named by the cleaner; its options, and the wrapped source's, on the
/// command line.
template <class Inner, class Cleaner>
struct Filtered : detail::CleaningSource<Inner, Cleaner> {
  static constexpr std::string_view name = Cleaner::name;
  static constexpr bool reads_transfer_ground_truth = w2s::reads_transfer_ground_truth<Cleaner>();
  StudentData make(const LabelContext& c) const {
    StudentData d = this->inner.make(c);
    const auto in = detail::cleaning_input(c, d, name);
    const at::Tensor kept = this->cleaner.keep(in);
    check(kept.numel() > 0, name, ": every labelled point was removed");
    // The part names the kept rows (memoised features are keyed by it).
    const auto rows = kept.contiguous();
    const std::string_view bytes(reinterpret_cast<const char*>(rows.data_ptr<int64_t>()),
                                 rows.numel() * sizeof(int64_t));
    d.train = d.train.subset(kept, d.train.part + "/" + std::string(name) + "-" + stable_hash(bytes));
    d.targets = d.targets.index_select(0, kept);
    d.kept = kept;
    d.cleaned = name;
    return d;
  }
};

/// A label source's targets relabelled by `Relabeller` (`at::Tensor relabel(const CleaningInput&)
/// const`: the new soft label of class 1 of every row). Named by the relabeller.
template <class Inner, class Relabeller>
struct Relabelled : detail::CleaningSource<Inner, Relabeller> {
  static constexpr std::string_view name = Relabeller::name;
  StudentData make(const LabelContext& c) const {
    StudentData d = this->inner.make(c);
    const auto in = detail::cleaning_input(c, d, name);
    const auto y = this->cleaner.relabel(in).to(d.targets.scalar_type());
    check(y.dim() == 1 && y.size(0) == d.train.size(), name, ": ", y.sizes(), " new labels for ", d.train.size(),
          " rows");
    d.targets = at::stack({1 - y, y}, 1);
    d.cleaned = name;
    return d;
  }
};

}  // namespace w2s
