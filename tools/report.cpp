// w2s_report: result records → the paper's table (Markdown), and a CSV to plot.
//   w2s_report results/main [more dirs or .jsonl files] [--markdown FILE] [--csv FILE]
#include <boost/program_options.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "w2s/core/atomic_file.hpp"
#include "w2s/core/cli.hpp"
#include "w2s/core/guarded_main.hpp"
#include "w2s/report/read_records.hpp"

namespace po = boost::program_options;

namespace {
std::string fmt(double v, int digits = 3) {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

int report_main(int argc, char** argv) {
  std::vector<std::string> inputs;
  std::string markdown, csv, tasks_csv;
  bool smoke = false;
  po::options_description opts("w2s_report: result records -> table\nusage: w2s_report PATH... [options]");
  opts.add_options()("help,h", "print this help")("markdown", po::value(&markdown), "also write the table to FILE")(
      "csv", po::value(&csv), "write one row per group, with the per-seed values, to FILE")(
      "tasks", po::value(&tasks_csv), "regression records: write one row per (seed, split, task) with "
      "err_weak, err_w2s, err_ceiling, misfit, gain and the tolerance 2*sqrt(misfit*err_ceiling) to FILE")(
      "include-smoke", po::bool_switch(&smoke), "include --smoke runs")("input", po::value(&inputs), "record files or directories");
  po::positional_options_description pos;
  pos.add("input", -1);
  const auto vm = w2s::cli::parse_tool(argc, argv, opts, pos);
  if (vm.count("help") || inputs.empty()) {
    std::cout << opts << "\n";
    return inputs.empty() && !vm.count("help") ? 2 : 0;
  }
  std::vector<std::filesystem::path> paths(inputs.begin(), inputs.end());
  const auto groups = w2s::report::read_groups(paths, smoke);
  w2s::check(!groups.empty(), "no result records under the given paths");
  std::ostringstream md, rows, tasks;
  tasks.precision(17);  // the theorem check compares these to 1e-9
  tasks << "experiment,dataset,seed,split,task,err_weak,err_w2s,err_ceiling,misfit,gain,tolerance\n";
  for (const auto& g : groups)
    for (const auto& t : g.tasks)
      tasks << g.experiment << "," << g.dataset << "," << t.seed << "," << t.split << "," << t.task << ","
            << t.err_weak << "," << t.err_w2s << "," << t.err_ceiling << "," << t.misfit << "," << t.gain << ","
            << 2 * std::sqrt(t.misfit * t.err_ceiling) << "\n";
  md << "| experiment | dataset | weak → strong | seeds | weak acc | ceiling acc | student acc | PGR [95% CI] | "
        "label-free PGR: k-means, PC sign | noise-control PGR | weak margin | PGR of AUC | PGR at best step | "
        "agreement where weak is wrong |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  rows << "experiment,dataset,weak,strong,seeds,weak_acc,ceiling_acc,student_acc,pgr,pgr_lo,pgr_hi,pgr_best,agree_weak_"
          "wrong,"
          "diverged,variant,identity,pgr_auc,pgr_label_free_kmeans,pgr_label_free_pca,pgr_noise_control,weak_margin,"
          "cleaning_kept,cleaning_errors_removed,cleaning_correct_removed\n";
  bool label_free_as_much = false;  // some row's label-free PGR reaches its student's interval (‡)
  bool small_gap = false;           // some row's ceiling beats its supervisor by under 0.01 (§)
  std::string diverged_note, repeated_note;
  bool seeds_only = false;  // some interval resampled seeds alone (†)
  const auto seed_list = [](const std::vector<uint64_t>& seeds) {
    std::string s;
    for (size_t i = 0; i < seeds.size(); ++i) s += (i ? ", " : " ") + std::to_string(seeds[i]);
    return s;
  };
  for (const auto& g : groups) {
    using R = w2s::report::SeedRow;
    const std::string name = g.experiment + (g.variant.empty() ? "" : " (" + g.variant + ")");
    const std::string where = name + " " + g.dataset + " " + g.weak + " → " + g.strong;
    if (!g.diverged.empty()) diverged_note += "\n- " + where + ": seed" + seed_list(g.diverged);
    if (!g.repeated.empty()) repeated_note += "\n- " + where + ": seed" + seed_list(g.repeated);
    if (g.seeds.empty()) continue;  // every seed diverged: nothing to average
    const auto p = w2s::report::pgr_of_means(g.seeds);
    const auto ci = w2s::report::bootstrap_pgr_ci(g.seeds);
    const auto [lo, hi] = std::pair{ci.lo, ci.hi};
    const auto best = w2s::report::pgr_best_of_means(g.seeds);
    const auto auc = w2s::report::pgr_auc_of_means(g.seeds);
    using w2s::report::Resampling;
    if (ci.kind == Resampling::seeds) seeds_only = true;
    const std::string interval = g.seeds.size() < 2 ? "[n/a: 1 seed]"
                                 : "[" + fmt(lo, 2) + ", " + fmt(hi, 2) + "]" + (ci.kind == Resampling::seeds ? "†" : "");
    // The label-free control (metrics.label_free): PGR of its seed-averaged accuracy on the same weak and ceiling.
    const auto lf_kmeans = w2s::report::pgr_of_means(g.seeds, &R::label_free_kmeans);
    const auto lf_pca = w2s::report::pgr_of_means(g.seeds, &R::label_free_pca);
    const double lf_best = std::max(lf_kmeans.value_or(-INFINITY), lf_pca.value_or(-INFINITY));
    // A gap under 0.01 (accuracy) makes every PGR of it noise: marked §, and no ‡ drawn from it.
    const double gap = g.mean(&R::ceiling) - g.mean(&R::weak);
    const bool tiny_gap = p && g.tasks.empty() && gap < 0.01;  // classification (regression rows carry tasks)
    small_gap |= tiny_gap;
    const bool as_much = p && !tiny_gap && std::isfinite(lf_best) && g.seeds.size() >= 2 && lf_best >= lo;
    label_free_as_much |= as_much;
    const std::string label_free = !lf_kmeans && !lf_pca ? "not recorded"
                                                          : fmt(lf_kmeans.value_or(NAN), 2) + ", " +
                                                                fmt(lf_pca.value_or(NAN), 2) + (as_much ? " ‡" : "");
    // The noise control (metrics.noise_control): the same student on random errors at the supervisor's rate.
    const auto noise = w2s::report::pgr_of_means(g.seeds, &R::noise_control);
    const std::string noise_cell = noise && std::isfinite(*noise) ? fmt(*noise, 2) : "not run";
    md << "| " << name << " | " << g.dataset << " | " << g.weak << " → " << g.strong << " | " << g.seeds.size() << " | "
       << fmt(g.mean(&R::weak)) << " | " << fmt(g.mean(&R::ceiling)) << " | " << fmt(g.mean(&R::student)) << " | "
       << fmt(p.value_or(NAN), 2) << " " << interval << (tiny_gap ? " §" : "") << " | " << label_free << " | " << noise_cell << " | "
       << fmt(g.mean(&R::weak_margin), 2) << " | " << fmt(auc.value_or(NAN), 2) << " | " << fmt(best.value_or(NAN), 2)
       << " | " << fmt(g.mean(&R::agree_wrong)) << " |\n";
    rows << g.experiment << "," << g.dataset << "," << g.weak << "," << g.strong << "," << g.seeds.size() << ","
         << g.mean(&R::weak) << "," << g.mean(&R::ceiling) << "," << g.mean(&R::student) << "," << p.value_or(NAN)
         << "," << lo << "," << hi << "," << best.value_or(NAN) << "," << g.mean(&R::agree_wrong) << ","
         << g.diverged.size() << ",\"" << g.variant << "\"," << g.identity << "," << auc.value_or(NAN) << ","
         << lf_kmeans.value_or(NAN) << "," << lf_pca.value_or(NAN) << "," << noise.value_or(NAN) << ","
         << g.mean(&R::weak_margin) << "," << g.mean(&R::kept_share) << "," << g.mean(&R::errors_removed) << ","
         << g.mean(&R::correct_removed) << "\n";
  }
  md << "\nOne row per configuration (run identity without the seed); seeds = distinct seeds found. PGR = (student − "
        "weak) / (ceiling − weak) of the seed-averaged accuracies (regression datasets: of −MSE, shown as acc); "
        "interval: two-level percentile bootstrap (4,000 resamples, each drawing the test examples and then the seeds "
        "with replacement), not available from one seed; PGR of AUC: the same of the seed-averaged ROC AUCs (binary "
        "tasks); PGR at best step: weak, ceiling and student each at the evaluation step of its own best test "
        "accuracy (an oracle for all three).\n";
  md << "\nLabel-free PGR: the control beside every PGR (issue 21). The strong model's frozen features of the "
        "transfer half, clustered without labels (k-means with k = classes; the sign of the first principal "
        "component for two classes), the clusters named by the weak labels in them (one class per cluster, the "
        "assignment that agrees with most weak labels), scored on test: what the supervisor's labels were needed for "
        "is the student's PGR above this. Noise-control PGR (--noise-control): the same student and loss trained on "
        "ground truth with the supervisor's error count flipped at random (the paper's Fig. 26); a student that "
        "recovers less from the weak labels than from this noise learned the supervisor's errors. Weak margin: the "
        "supervisor's soft labels on the transfer half, mean max-probability − 1/classes (two classes: mean |p − "
        "0.5|); near 0, its labels carry little beyond their argmax.\n";
  if (std::any_of(groups.begin(), groups.end(), [](const auto& g) {
        return !g.seeds.empty() && std::isfinite(g.mean(&w2s::report::SeedRow::kept_share));
      })) {
    using R = w2s::report::SeedRow;
    md << "\nLabel cleaning (metrics.cleaning, issue 22): what each cleaner did to the supervisor's labels on the "
          "transfer half, scored against ground truth (which only oracle_filter reads) (seed means).\n\n"
          "| experiment | dataset | weak → strong | kept | supervisor's errors | of its errors removed | of its "
          "correct labels removed | errors in what the student trains on |\n|---|---|---|---|---|---|---|---|\n";
    for (const auto& g : groups) {
      if (g.seeds.empty() || !std::isfinite(g.mean(&R::kept_share))) continue;
      md << "| " << g.experiment << (g.variant.empty() ? "" : " (" + g.variant + ")") << " | " << g.dataset << " | "
         << g.weak << " → " << g.strong << " | " << fmt(g.mean(&R::kept_share)) << " | "
         << fmt(g.mean(&R::weak_error_rate)) << " | " << fmt(g.mean(&R::errors_removed)) << " | "
         << fmt(g.mean(&R::correct_removed)) << " | " << fmt(g.mean(&R::target_error_rate)) << " |\n";
    }
  }
  if (small_gap)
    md << "\n§ The ceiling beats the supervisor by less than 0.01: the PGR divides by noise (the figures leave "
          "such pairs out).\n";
  if (label_free_as_much)
    md << "\n‡ The unsupervised baseline recovers as much: its PGR reaches the lower end of the student's "
          "interval.\n";
  if (seeds_only)
    md << "\n† Interval over seeds alone: these records carry no per-example test results (regression, or made "
          "before they did), so the test set's own sampling error is not in it.\n";
  if (const auto pairs = w2s::report::median_over_pairs(groups);
      std::any_of(pairs.begin(), pairs.end(), [](const auto& s) { return s.pairs > 1; })) {
    md << "\n| experiment | dataset | (weak, strong) pairs | median PGR |\n|---|---|---|---|\n";
    for (const auto& s : pairs)
      md << "| " << s.experiment << (s.variant.empty() ? "" : " (" + s.variant + ")") << " | " << s.dataset << " | "
         << s.pairs << " | " << fmt(s.median_pgr, 2) << " |\n";
  }
  if (!repeated_note.empty())
    md << "\nSeeds found in more than one record of the same configuration (the first file in path order counts):"
       << repeated_note << "\n";
  if (!diverged_note.empty())
    md << "\nLeft out, marked diverged (--on-divergence record; each record says at which stage and step):"
       << diverged_note << "\n";
  std::cout << md.str();
  if (!markdown.empty()) w2s::atomic_write_text(markdown, md.str());
  if (!csv.empty()) w2s::atomic_write_text(csv, rows.str());
  if (!tasks_csv.empty()) w2s::atomic_write_text(tasks_csv, tasks.str());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  return w2s::guarded_main("w2s_report", [&] { return report_main(argc, argv); });
}
