// w2s_clean: the label-cleaning methods of labels/cleaning.hpp (issue 22) on features and soft
// labels from a file, for the parity test against EleutherAI's formulas (tests/parity/check_cleaning.py)
// and for anyone who wants to clean a label file with them.
//   w2s_clean --in IN.safetensors --out OUT.json [--k-cc 5] [--k-zeta 5] [--contamination 0.1]
//             [--probe-k 20] [--probe-l2 1e-3] [--probe-k-cc 20] [--probe-k-zeta 20] [--zeta-k 0]
//             [--relabel-k 20]
// IN.safetensors: `x` (N × D), `y` (N soft labels of class 1 in [0, 1]), F64 or F32; optional
// `x_test` (M × D) for the probes' predictions on other points, and `truth` (N, 0/1) for the oracle.
// OUT.json: each method's kept indices (ascending) or predictions.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "w2s/core/atomic_file.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/guarded_main.hpp"
#include "w2s/core/runtime.hpp"
#include "w2s/io/safetensors.hpp"
#include "w2s/labels/cleaned.hpp"

namespace po = boost::program_options;

namespace {

at::Tensor read(const w2s::safetensors::File& file, const std::string& name, const std::string& where) {
  const auto& t = file.at(name);
  const auto dtype = t.dtype == w2s::safetensors::DType::F64   ? at::kDouble
                     : t.dtype == w2s::safetensors::DType::F32 ? at::kFloat
                     : t.dtype == w2s::safetensors::DType::I64 ? at::kLong
                                                               : at::ScalarType::Undefined;
  w2s::check(dtype != at::ScalarType::Undefined, where, ": tensor '", name, "' is ",
             w2s::safetensors::to_string(t.dtype), ", expected F64, F32 or I64");
  auto out = at::empty(t.shape, at::TensorOptions().dtype(dtype));
  std::memcpy(out.data_ptr(), t.data, t.nbytes);
  return out.to(at::kDouble);
}

std::vector<int64_t> list(const at::Tensor& indices) {
  const auto c = indices.to(at::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

std::vector<double> values(const at::Tensor& v) {
  const auto c = v.to(at::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

}  // namespace

int main(int argc, char** argv) {
  w2s::runtime::ensure_passive_openmp(argv);
  return w2s::guarded_main("w2s_clean", [&] {
    std::string in, out;
    w2s::TopoFilter topo;
    w2s::KnnProbe knn;
    w2s::LogisticProbe logistic;
    w2s::TopoProbe topo_probe;
    double contamination = 0.1;
    int64_t zeta_k = 0, relabel_k = 20;
    po::options_description o("w2s_clean: EleutherAI's label-cleaning methods on features and soft labels");
    o.add_options()("help,h", "print this help")("in", po::value(&in), "IN.safetensors: x, y [, x_test, truth]")(
        "out", po::value(&out), "OUT.json: each method's kept indices or predictions")(
        "contamination", po::value(&contamination)->default_value(contamination), "share removed by each filter")(
        "k-cc", po::value(&topo.k_cc)->default_value(topo.k_cc), "TopoCC neighbours (TopoFilter)")(
        "k-zeta", po::value(&topo.k_zeta)->default_value(topo.k_zeta), "zeta neighbours (TopoFilter)")(
        "probe-k", po::value(&knn.k)->default_value(knn.k), "kNN probe neighbours")(
        "probe-l2", po::value(&logistic.l2)->default_value(logistic.l2), "logistic probe L2 penalty")(
        "probe-k-cc", po::value(&topo_probe.k_cc)->default_value(topo_probe.k_cc), "topological probe: TopoCC")(
        "probe-k-zeta", po::value(&topo_probe.k_zeta)->default_value(topo_probe.k_zeta),
        "topological probe: neighbours averaged")("zeta-k", po::value(&zeta_k)->default_value(zeta_k),
                                                  "zeta filter: neighbours (0: leave-one-out Brier)")(
        "relabel-k", po::value(&relabel_k)->default_value(relabel_k), "zeta relabelling: neighbours");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, o), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << o;
      return 0;
    }
    w2s::check(!in.empty() && !out.empty(), "w2s_clean: --in and --out are required (--help)");
    w2s::check(contamination > 0 && contamination < 1, "--contamination: expected a share in (0, 1), got ",
               contamination);
    topo.contamination = contamination;
    const w2s::safetensors::File file(in);
    const auto x = read(file, "x", in), y = read(file, "y", in);
    w2s::check(x.dim() == 2 && y.dim() == 1 && x.size(0) == y.size(0), in, ": x ", x.sizes(), " and y ", y.sizes(),
               ", expected N × D and N");
    w2s::check(y.ge(0).all().item<bool>() && y.le(1).all().item<bool>(), in, ": y holds values outside [0, 1]");
    w2s::CleaningInput input{x, y, 0, nullptr};
    nlohmann::json j;
    j["topo_cc"] = list(w2s::cleaning::topo_cc(x, y, topo.k_cc).nonzero().squeeze(1));
    j["topo_filter"] = list(topo.keep(input));
    const auto knn_fn = knn.fit(x, y);
    const auto knn_fit = knn_fn(x);
    j["knn_probe"] = values(knn_fit);
    j["knn_filter"] = list(w2s::cleaning::probe_filter(knn_fit, y, contamination));
    const auto fitted = w2s::cleaning::fit_logistic(x, y, logistic.l2);
    j["logistic_probe"] = values(fitted.predict(x));
    j["logistic_iterations"] = fitted.iterations;
    j["logistic_filter"] = list(w2s::cleaning::probe_filter(fitted.predict(x), y, contamination));
    const auto topo_fn = topo_probe.fit(x, y);
    const auto topo_fit = topo_fn(x);
    j["topo_probe"] = values(topo_fit);
    j["topo_probe_filter"] = list(w2s::cleaning::probe_filter(topo_fit, y, contamination));
    if (file.contains("x_test")) {
      const auto xt = read(file, "x_test", in);
      j["knn_probe_test"] = values(knn_fn(xt));
      j["logistic_probe_test"] = values(fitted.predict(xt));
      j["topo_probe_test"] = values(topo_fn(xt));
    }
    int64_t chosen = 0;
    j["zeta_filter"] = list(w2s::cleaning::zeta_filter(x, y, zeta_k, 1 - contamination, &chosen));
    j["zeta_filter_k"] = chosen;
    using w2s::cleaning::ZetaMode;
    j["zeta_relabel"] = values(w2s::cleaning::zeta_relabel(x, y, relabel_k, ZetaMode::all, contamination));
    j["zeta_disagree_relabel"] =
        values(w2s::cleaning::zeta_relabel(x, y, relabel_k, ZetaMode::disagree, contamination));
    j["zeta_worst_relabel"] = values(w2s::cleaning::zeta_relabel(x, y, relabel_k, ZetaMode::worst, contamination));
    if (file.contains("truth")) {
      w2s::OracleFilter oracle;
      oracle.contamination = contamination;
      w2s::Dataset rows;
      rows.name = "w2s_clean";
      rows.targets = read(file, "truth", in).to(at::kLong);
      w2s::CleaningInput with_truth{x, y, 0, &rows};
      j["oracle_filter"] = list(oracle.keep(with_truth));
    }
    w2s::atomic_write_text(out, j.dump() + "\n");
    return 0;
  });
}
