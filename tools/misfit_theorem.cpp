// misfit_theorem: the regression setting of Charikar, Pabbaraju & Shiragur (2024)
// (include/w2s/theory/misfit.hpp). For each transfer task it prints the misfit
// and the gain (on the test split, and on the transfer split where the theorem's
// identity holds) and writes them to <out>/misfit_theorem/seed<k>.jsonl.
//   misfit_theorem [--tasks 20] [--seed 0] [--pretrain-epochs 30] [--out results] [--markdown FILE]
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "w2s/core/atomic_file.hpp"
#include "w2s/core/cli.hpp"
#include "w2s/core/code.hpp"
#include "w2s/core/guarded_main.hpp"
#include "w2s/core/runtime.hpp"
#include "w2s/theory/misfit.hpp"

namespace po = boost::program_options;

namespace {
int theorem_main(int argc, char** argv) {
  w2s::theory::CharikarOptions o;
  int64_t tasks = 20;
  int threads = 0;
  std::string out = "results", markdown;
  po::options_description opts("misfit_theorem options");
  opts.add_options()("help,h", "print this help")("tasks", po::value(&tasks)->default_value(tasks), "transfer tasks")(
      "seed", po::value(&o.seed)->default_value(o.seed), "seed of the whole setting")(
      "pretrain-epochs", po::value(&o.pretrain_epochs)->default_value(o.pretrain_epochs),
      "epochs learning the representations (20,000 samples, batch 256)")("threads", po::value(&threads)->default_value(0), "0 = all cores")(
      "out", po::value(&out)->default_value(out), "directory for the JSONL record")(
      "markdown", po::value(&markdown), "also write the table to FILE");
  const auto vm = w2s::cli::parse_tool(argc, argv, opts);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  w2s::check(tasks >= 2, "--tasks: expected at least 2");
  w2s::runtime::tune_malloc();
  threads = w2s::runtime::set_threads(threads);
  const w2s::Log log("misfit_theorem");
  w2s::theory::CharikarSetting setting(o, log);
  std::ostringstream md, lines;
  md << "| task | misfit (test) | gain (test) | misfit (transfer) | gain (transfer) | tolerance 2√(misfit·ε_s) | weak err | w2s err | ceiling err |\n"
        "|---|---|---|---|---|---|---|---|---|\n";
  std::vector<double> misfits, gains;
  int64_t holds = 0;
  for (int64_t t = 0; t < tasks; ++t) {
    const auto [tr, te] = setting.task();
    misfits.push_back(te.misfit);
    gains.push_back(te.gain());
    holds += tr.gain() >= tr.misfit - tr.tolerance() - 1e-9;
    char row[512];
    std::snprintf(row, sizeof row, "| %ld | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", long(t), te.misfit,
                  te.gain(), tr.misfit, tr.gain(), tr.tolerance(), te.err_weak, te.err_w2s, te.err_ceiling);
    md << row;
    lines << nlohmann::json{{"tool", "misfit_theorem"}, {"task", t}, {"seed", o.seed},
                            {"test", {{"misfit", te.misfit}, {"gain", te.gain()}, {"err_weak", te.err_weak},
                                      {"err_w2s", te.err_w2s}, {"err_ceiling", te.err_ceiling}}},
                            {"transfer", {{"misfit", tr.misfit}, {"gain", tr.gain()}, {"tolerance", tr.tolerance()},
                                          {"err_ceiling", tr.err_ceiling}}},
                            {"options", o.describe()}, {"pretraining", setting.pretraining()}, {"threads", threads},
                            {"code", w2s::code::fingerprint()}, {"revision", w2s::code::revision()}}
                 .dump()
          << "\n";
  }
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "\ngain >= misfit - tolerance on the transfer split: %ld of %ld tasks; correlation(misfit, gain) on the "
                "test split: %.4f\n",
                long(holds), long(tasks), w2s::theory::correlation(misfits, gains));
  md << summary;
  std::cout << md.str();
  w2s::atomic_write_text(std::filesystem::path(out) / "misfit_theorem" / ("seed" + std::to_string(o.seed) + ".jsonl"),
                         lines.str());
  if (!markdown.empty()) w2s::atomic_write_text(markdown, md.str());
  return holds == tasks ? 0 : 1;
}
}  // namespace

int main(int argc, char** argv) {
  w2s::runtime::ensure_passive_openmp(argv);
  return w2s::guarded_main("misfit_theorem", [&] { return theorem_main(argc, argv); });
}
