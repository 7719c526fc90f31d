// w2s_sweep: runs a grid of experiments (docs/sweeps.md), on this machine or as a Slurm job array.
//   w2s_sweep GRID [--jobs N] [--out DIR] [--cache-dir DIR]   run what is missing with a local pool
//   w2s_sweep GRID1 GRID2 ...                                 several grids in order, one count and estimate
//   w2s_sweep GRID --status                                   done / running / failed / to run
//   w2s_sweep GRID --slurm [--partition P --time T --mem M --chunk K]   submit what is missing
// A run is one process and one record. Its state lives under OUT/.sweep/runs/ as files named
// by the run's key (a hash of the binary's bytes and the run's arguments):
//   KEY.done     written by the experiment itself (--marker) after its record: the run is done
//                when this names a record that exists and carries the run's identity;
//   KEY.running  written when the run starts (host, pid, Slurm task), removed when it ends;
//   KEY.failed   the exit status and the log of a run that ended without its record.
// Records are written atomically by the experiments and named by the run's identity, so a sweep
// killed at any point (kill -9 included) and started again runs exactly what is missing.
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "w2s/core/atomic_file.hpp"
#include "w2s/core/cli.hpp"
#include "w2s/core/clock.hpp"
#include "w2s/core/guarded_main.hpp"
#include "w2s/core/hash.hpp"
#include "w2s/sweep/grid.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using w2s::check;
using w2s::fail;
using w2s::host_name;
using w2s::utc_now;
using w2s::sweep::Run;

namespace {

enum class State { done, running, failed, lost, todo };

const char* state_name(State s) {
  switch (s) {
    case State::done: return "done";
    case State::running: return "running";
    case State::failed: return "failed";
    case State::lost: return "lost";  // started, never ended: killed with its host, its task or its sweep
    case State::todo: return "to run";
  }
  return "?";
}

std::string duration(double seconds) {
  char buf[32];
  if (seconds < 90) std::snprintf(buf, sizeof buf, "%.0f s", seconds);
  else if (seconds < 5400) std::snprintf(buf, sizeof buf, "%.0f min", seconds / 60);
  else std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
  return buf;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

/// The first line of stdout of `command` run by the shell, "" on failure.
std::string shell_line(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[512];
    if (std::fgets(buf, sizeof buf, p)) out = buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// The last non-empty line of a log: what a failed run said last.
std::string last_line(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

/// The sweep: the grid, where its binaries are, and where its state lives.
struct Sweep {
  w2s::sweep::Grid grid;
  std::vector<Run> runs;
  std::vector<std::string> keys;  ///< runs[i]'s key
  fs::path bin_dir, out, cache_dir, state_dir;
  std::map<std::string, std::string> binary_sums;

  [[nodiscard]] fs::path binary(const Run& r) const { return bin_dir / r.experiment; }
  [[nodiscard]] fs::path file(const std::string& key, const char* ext) const { return state_dir / "runs" / (key + ext); }
  [[nodiscard]] fs::path log(const std::string& key) const { return state_dir / "logs" / (key + ".log"); }

  /// The command line of run `i`.
  [[nodiscard]] std::vector<std::string> command(size_t i) const {
    std::vector<std::string> argv{binary(runs[i]).string()};
    for (auto& a : runs[i].arguments(grid.threads, grid.args)) argv.push_back(std::move(a));
    for (const auto& a : {std::string("--out"), out.string(), std::string("--cache-dir"), cache_dir.string(),
                          std::string("--marker"), file(keys[i], ".done").string(), std::string("--skip-existing")})
      argv.push_back(a);
    return argv;
  }

  /// Whether run `key` is done: its marker names records that exist and carry the identity the marker names.
  [[nodiscard]] bool done(const std::string& key) const {
    std::ifstream marker(file(key, ".done"));
    if (!marker) return false;
    std::string line;
    bool any = false;
    while (std::getline(marker, line)) {
      const auto m = nlohmann::json::parse(line, nullptr, false);
      if (!m.is_object() || !m.contains("record") || !m.contains("run")) return false;
      std::ifstream rec(m["record"].get<std::string>());
      std::string first;
      if (!rec || !std::getline(rec, first)) return false;
      const auto r = nlohmann::json::parse(first, nullptr, false);
      if (!r.is_object() || !r.contains("identity") || r["identity"].value("run", "") != m["run"]) return false;
      any = true;
    }
    return any;
  }

  /// Whether the run `key` that left `KEY.running` is still going: its Slurm task is queued or
  /// running, or (run here) its process lives, is no zombie, and is this run (not a reused pid).
  [[nodiscard]] bool alive(const std::string& key, const nlohmann::json& running) const {
    const std::string job = running.value("slurm_task", "");
    if (!job.empty()) return !shell_line("squeue -h -o %i -j " + quoted(job) + " 2>/dev/null").empty();
    if (running.value("host", "") != host_name()) return true;  // another machine's: cannot tell, assume so
    const auto proc = fs::path("/proc") / std::to_string(running.value("pid", 0));
    const std::string stat = read_text(proc / "stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z') return false;
    return read_text(proc / "cmdline").find(key) != std::string::npos;
  }

  [[nodiscard]] State state(size_t i) const {
    const auto& key = keys[i];
    if (done(key)) return State::done;
    if (fs::exists(file(key, ".running"))) {
      const auto running = nlohmann::json::parse(read_text(file(key, ".running")), nullptr, false);
      return running.is_object() && alive(key, running) ? State::running : State::lost;
    }
    if (fs::exists(file(key, ".failed"))) return State::failed;
    return State::todo;
  }
};

Sweep load(const fs::path& grid_file, const fs::path& bin_dir, std::string out, std::string cache_dir) {
  Sweep s;
  s.grid = w2s::sweep::read_grid(grid_file);
  s.bin_dir = bin_dir;
  if (out.empty()) out = s.grid.out.empty() ? "results/" + grid_file.stem().string() : s.grid.out;
  if (cache_dir.empty()) cache_dir = s.grid.cache_dir.empty() ? "cache" : s.grid.cache_dir;
  s.out = fs::absolute(out).lexically_normal();
  s.cache_dir = fs::absolute(cache_dir).lexically_normal();
  s.state_dir = s.out / ".sweep";
  std::string missing;
  for (const auto& e : s.grid.experiments) {
    const auto bin = bin_dir / e;
    if (::access(bin.c_str(), X_OK) != 0) missing += " " + e;
    else s.binary_sums[e] = w2s::file_checksum(bin);
  }
  check(missing.empty(), grid_file.string(), ": no experiment binary in ", bin_dir.string(), " for:", missing,
        " (build them: cmake --build build --target", missing, "; or give --bin-dir)");
  s.runs = s.grid.runs();
  for (const auto& r : s.runs) {
    std::string text = s.binary_sums.at(r.experiment);
    for (const auto& a : r.arguments(s.grid.threads, s.grid.args)) text += "\n" + a;
    s.keys.push_back(w2s::stable_hash(text));
  }
  return s;
}

/// Run r's value of `field` for --only: experiment, data (a dataset's name or a config file's stem),
/// weak, strong ("" = the experiment's default), seed, or one of the grid's options; none if the run
/// has no such field.
std::optional<std::string> run_field(const Run& r, const std::string& field) {
  if (field == "experiment") return r.experiment;
  if (field == "data") return r.data_name();
  if (field == "weak") return r.weak;
  if (field == "strong") return r.strong;
  if (field == "seed") return std::to_string(r.seed);
  for (const auto& [name, value] : r.options)
    if (name == field) return value;
  return std::nullopt;
}

/// Keeps the runs that match every --only FIELD=VALUE (a slice of the grid: its keys, and so its
/// records and markers, are those of the whole grid's runs).
void keep_only(Sweep& s, const std::vector<std::string>& only, bool allow_empty) {
  for (const auto& f : only) {
    const auto eq = f.find('=');
    check(eq != std::string::npos && eq > 0, "--only '", f,
          "': expected FIELD=VALUE (FIELD: experiment, data, weak, strong, seed or an option of the grid)");
    const auto field = f.substr(0, eq), value = f.substr(eq + 1);
    std::vector<Run> runs;
    std::vector<std::string> keys;
    std::set<std::string> values;
    for (size_t i = 0; i < s.runs.size(); ++i) {
      const auto v = run_field(s.runs[i], field);
      if (!v) continue;
      values.insert(*v);
      if (*v != value) continue;
      runs.push_back(s.runs[i]);
      keys.push_back(s.keys[i]);
    }
    if (allow_empty && runs.empty()) {  // one of several grids: the others may hold the slice
      s.runs.clear();
      s.keys.clear();
      return;
    }
    check(!values.empty(), "--only ", f, ": the grid's runs have no field '", field,
          "' (expected experiment, data, weak, strong, seed or an option of the grid)");
    if (runs.empty()) {
      std::string listed;
      for (const auto& v : values) listed += (listed.empty() ? "" : ", ") + (v.empty() ? "(default)" : v);
      fail("--only ", f, ": none of the ", s.runs.size(), " runs has ", field, " '", value, "' (they have: ", listed,
           ")");
    }
    s.runs = std::move(runs);
    s.keys = std::move(keys);
  }
}

/// Starts run `i` in a child process whose output goes to its log; returns the child's pid.
pid_t start(const Sweep& s, size_t i, const std::string& slurm_task) {
  const auto argv_strings = s.command(i);
  const auto log = s.log(s.keys[i]);
  std::vector<char*> argv;
  for (const auto& a : argv_strings) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::error_code ignored;
  fs::remove(s.file(s.keys[i], ".failed"), ignored);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  check(pid >= 0, "cannot start a process: fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a sweep killed with -9 takes its runs with it: the rerun redoes them
    if (::getppid() != parent) ::_exit(127);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2), ::close(fd);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "w2s_sweep: cannot run %s\n", argv[0]);
    ::_exit(127);
  }
  w2s::atomic_write_text(s.file(s.keys[i], ".running"),
                         nlohmann::json{{"host", host_name()}, {"pid", pid}, {"slurm_task", slurm_task},
                                        {"started_at", utc_now()}, {"run", s.runs[i].label()}, {"log", log.string()}}
                                 .dump() +
                             "\n");
  return pid;
}

/// Records how run `i` ended; returns whether it is done.
bool finish(const Sweep& s, size_t i, int status, double seconds) {
  std::error_code ignored;
  fs::remove(s.file(s.keys[i], ".running"), ignored);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && s.done(s.keys[i])) return true;
  nlohmann::json failed = {{"run", s.runs[i].label()}, {"log", s.log(s.keys[i]).string()}, {"seconds", seconds},
                           {"finished_at", utc_now()}, {"host", host_name()}};
  if (WIFEXITED(status)) failed["exit"] = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) failed["signal"] = WTERMSIG(status);
  w2s::atomic_write_text(s.file(s.keys[i], ".failed"), failed.dump() + "\n");
  return false;
}

void make_state_dirs(const Sweep& s) {
  for (const char* sub : {"runs", "logs"}) fs::create_directories(s.state_dir / sub);
  w2s::check_writable_dir(s.state_dir / "runs", "--out");
}

/// One run of one of the sweeps: (sweep, run index).
using Job = std::pair<size_t, size_t>;

/// How long each sweep's runs took in this invocation: its first start to its last end.
struct Span {
  std::optional<std::chrono::steady_clock::time_point> first, last;
  [[nodiscard]] double seconds() const {
    return first && last ? std::chrono::duration<double>(*last - *first).count() : 0.0;
  }
};

/// Runs `todo` (of the grids `sweeps`, in order) with `jobs` processes at once, printing a line per
/// finished run with the count over every grid and an estimate of the time left, and, while no run
/// ends for a minute, which runs are going and for how long (a pretrained model's first run computes
/// its features: minutes). Returns the runs that failed; `spans` gets each sweep's wall time.
std::vector<Job> run_pool(const std::vector<Sweep>& sweeps, const std::vector<Job>& todo, int jobs, size_t already_done,
                          size_t total, std::vector<Span>& spans) {
  using clock = std::chrono::steady_clock;
  std::map<pid_t, std::pair<Job, clock::time_point>> active;
  std::vector<Job> failed;
  size_t next = 0, finished = 0;
  std::vector<double> took;  // seconds of each finished run: the median predicts the rest (the first
                             // runs pretrain the backbones or encode the texts that others then read)
  // The (cache, data, strong) triples no run has finished with yet: their first run may compute features.
  const auto model_of = [&](const Job& j) {
    const auto& r = sweeps[j.first].runs[j.second];
    return sweeps[j.first].cache_dir.string() + "|" + r.data_name() + "|" + r.strong;
  };
  std::set<std::string> reached;
  auto last_line_at = clock::now();
  while (next < todo.size() || !active.empty()) {
    while (next < todo.size() && static_cast<int>(active.size()) < jobs) {
      const auto j = todo[next++];
      const auto now = clock::now();
      active[start(sweeps[j.first], j.second, "")] = {j, now};
      if (!spans[j.first].first) spans[j.first].first = now;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0) {
      if (errno == EINTR) continue;
      fail("waitpid failed with ", active.size(), " runs in flight");
    }
    if (pid == 0) {  // none ended: after a quiet minute, say what is going
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const auto now = clock::now();
      if (now - last_line_at >= std::chrono::minutes(1)) {
        for (const auto& [p, job] : active)
          std::cout << "  ... running " << sweeps[job.first.first].runs[job.first.second].label() << " for "
                    << duration(std::chrono::duration<double>(now - job.second).count()) << std::endl;
        last_line_at = now;
      }
      continue;
    }
    const auto it = active.find(pid);
    if (it == active.end()) continue;
    const auto [j, started] = it->second;
    active.erase(it);
    const auto& s = sweeps[j.first];
    const auto i = j.second;
    const auto now = clock::now();
    spans[j.first].last = now;
    last_line_at = now;
    const double seconds = std::chrono::duration<double>(now - started).count();
    const bool ok = finish(s, i, status, seconds);
    if (!ok) failed.push_back(j);
    took.push_back(seconds);
    reached.insert(model_of(j));
    ++finished;
    const size_t left = todo.size() - finished;
    std::ostringstream line;
    line << "[" << already_done + finished - failed.size() << "/" << total << "] " << (ok ? "done   " : "FAILED ")
         << s.runs[i].label() << " (" << duration(seconds) << ")";
    if (!ok) line << ": " << last_line(s.log(s.keys[i])) << "  log: " << s.log(s.keys[i]).string();
    if (left > 0) {
      auto sorted = took;
      // The lower median: of an even count the shorter middle run, so that one slow first run (features
      // computed) does not stand for every run after it.
      const auto mid = sorted.begin() + (sorted.size() - 1) / 2;
      std::nth_element(sorted.begin(), mid, sorted.end());
      line << "  ·  " << left << " left, about " << duration(*mid * double(left) / double(jobs))
           << " to go";
      std::set<std::string> unreached;
      for (size_t k = next; k < todo.size(); ++k)
        if (!reached.count(model_of(todo[k]))) unreached.insert(model_of(todo[k]));
      for (const auto& [p, job] : active) unreached.erase(model_of(job.first));  // already on their way
      if (!unreached.empty())
        line << " (+ the features of " << unreached.size() << " strong model" << (unreached.size() > 1 ? "s" : "")
             << " on a dataset not reached yet, if not cached)";
    }
    std::cout << line.str() << std::endl;
  }
  return failed;
}

/// The per-state counts and the runs that need attention.
std::map<State, std::vector<size_t>> states(const Sweep& s) {
  std::map<State, std::vector<size_t>> by;
  for (size_t i = 0; i < s.runs.size(); ++i) by[s.state(i)].push_back(i);
  return by;
}

std::string status_text(const Sweep& s, const std::map<State, std::vector<size_t>>& by) {
  std::ostringstream o;
  o << s.grid.file.string() << ": " << s.runs.size() << " runs into " << s.out.string() << "\n";
  for (const auto st : {State::done, State::running, State::failed, State::lost, State::todo})
    o << "  " << state_name(st) << ": " << (by.count(st) ? by.at(st).size() : 0) << "\n";
  for (const auto st : {State::running, State::failed, State::lost})
    if (by.count(st))
      for (const auto i : by.at(st)) {
        o << "  " << state_name(st) << "  " << s.runs[i].label() << "  log: " << s.log(s.keys[i]).string();
        if (st == State::failed) o << "  (" << last_line(s.log(s.keys[i])) << ")";
        o << "\n";
      }
  return o.str();
}

/// One Markdown summary (counts, failures, the report's table) at OUT/sweep.md.
void write_summary(const Sweep& s, const fs::path& report, double seconds) {
  const auto by = states(s);
  std::ostringstream md;
  md << "# Sweep " << s.grid.file.filename().string() << "\n\nGrid `" << s.grid.file.string() << "`, finished "
     << utc_now() << " on " << host_name() << " (this invocation: " << duration(seconds) << ").\n\n```\n"
     << status_text(s, by) << "```\n";
  if (::access(report.c_str(), X_OK) == 0 && by.count(State::done)) {
    const auto table = s.out / "table.md";
    const std::string cmd = quoted(report.string()) + " " + quoted(s.out.string()) + " --markdown " +
                            quoted(table.string()) + " --csv " + quoted((s.out / "table.csv").string()) +
                            " >/dev/null 2>" + quoted((s.state_dir / "report.err").string());
    if (std::system(cmd.c_str()) == 0) md << "\n" << read_text(table);
    else md << "\nw2s_report failed: " << last_line(s.state_dir / "report.err") << "\n";
  }
  w2s::atomic_write_text(s.out / "sweep.md", md.str());
}

/// Submits the runs that are neither done nor running as one Slurm job array.
int submit(const Sweep& s, const fs::path& self, const po::variables_map& vm) {
  const auto by = states(s);
  std::vector<size_t> missing;
  for (const auto st : {State::todo, State::failed, State::lost})
    if (by.count(st)) missing.insert(missing.end(), by.at(st).begin(), by.at(st).end());
  std::sort(missing.begin(), missing.end());
  if (missing.empty()) {
    std::cout << status_text(s, by) << "nothing to submit\n";
    return 0;
  }
  const auto chunk = static_cast<size_t>(vm["chunk"].as<int>());
  std::string stamp = utc_now();
  stamp.erase(std::remove(stamp.begin(), stamp.end(), ':'), stamp.end());
  const auto dir = s.state_dir / "slurm" / stamp;
  fs::create_directories(dir);
  std::string list;
  size_t tasks = 0;
  for (size_t a = 0; a < missing.size(); a += chunk, ++tasks) {
    for (size_t j = a; j < std::min(missing.size(), a + chunk); ++j) list += (j > a ? " " : "") + s.keys[missing[j]];
    list += "\n";
  }
  w2s::atomic_write_text(dir / "tasks.txt", list);
  std::string script = "#!/bin/sh\n# One task of a w2s_sweep job array: the runs on line SLURM_ARRAY_TASK_ID of tasks.txt.\n";
  script += "export OMP_WAIT_POLICY=PASSIVE\nexec " + quoted(self.string()) + " " + quoted(fs::absolute(s.grid.file).string()) +
            " --bin-dir " + quoted(s.bin_dir.string()) + " --out " + quoted(s.out.string()) + " --cache-dir " +
            quoted(s.cache_dir.string()) + " --task-list " + quoted((dir / "tasks.txt").string()) +
            " --task-index \"$SLURM_ARRAY_TASK_ID\"\n";
  w2s::atomic_write_text(dir / "task.sh", script);
  fs::permissions(dir / "task.sh", fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  std::string cmd = "sbatch --parsable --job-name " + quoted("w2s-" + s.grid.file.stem().string()) + " --array=0-" +
                    std::to_string(tasks - 1) + " --cpus-per-task=" + std::to_string(s.grid.threads) + " --output " +
                    quoted((dir / "task_%a.log").string());
  for (const char* o : {"partition", "time", "mem"})
    if (vm.count(o)) cmd += std::string(" --") + o + " " + quoted(vm[o].as<std::string>());
  cmd += " " + quoted((dir / "task.sh").string()) + " 2>" + quoted((dir / "sbatch.err").string());
  const auto job = shell_line(cmd);
  check(!job.empty() && job.find_first_not_of("0123456789;") == std::string::npos, "sbatch failed: ",
        last_line(dir / "sbatch.err"), " (command: ", cmd, ")");
  w2s::atomic_write_text(dir / "job_id", job + "\n");
  std::cout << "submitted " << missing.size() << (missing.size() == 1 ? " run" : " runs") << " as job array " << job << " (" << tasks << " tasks of up to "
            << chunk << "); task logs in " << dir.string() << "\nprogress: " << self.filename().string() << " "
            << s.grid.file.string() << " --status" << (vm.count("out") ? " --out " + s.out.string() : "") << "\n";
  return 0;
}

/// A Slurm array task: runs the runs on line `index` of `list` one after another.
int run_task(const Sweep& s, const fs::path& list, int index) {
  std::ifstream in(list);
  check(in.good(), list.string(), ": cannot open the task list");
  std::string line;
  for (int n = 0; n <= index; ++n) check(static_cast<bool>(std::getline(in, line)), list.string(), ": no line ", index);
  std::map<std::string, size_t> by_key;
  for (size_t i = 0; i < s.keys.size(); ++i) by_key[s.keys[i]] = i;
  const char* job = std::getenv("SLURM_ARRAY_JOB_ID");
  const std::string task = job ? std::string(job) + "_" + std::to_string(index) : "";
  int failures = 0;
  std::istringstream words(line);
  for (std::string key; words >> key;) {
    const auto it = by_key.find(key);
    check(it != by_key.end(), list.string(), ": run ", key, " is not in ", s.grid.file.string(),
          " (edited since the submission? submit again)");
    const auto i = it->second;
    if (s.done(key)) continue;
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = start(s, i, task);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const bool ok = finish(s, i, status, seconds);
    failures += !ok;
    std::cout << (ok ? "done   " : "FAILED ") << s.runs[i].label() << " (" << duration(seconds) << ")  log: "
              << s.log(key).string() << std::endl;
  }
  return failures ? 1 : 0;
}

int sweep_main(int argc, char** argv) {
  std::string out, cache_dir, bin_dir, task_list;
  std::vector<std::string> grid_files, only;
  int jobs = 0, task_index = -1;
  po::options_description opts(
      "w2s_sweep: runs every run of a grid file that has no record yet (docs/sweeps.md)\n"
      "usage: w2s_sweep GRID [GRID...] [options]  (several grids: run in order, one count and one estimate "
      "of the time left over all of them, each into its own 'out')");
  // clang-format off
  opts.add_options()
    ("help,h", "print this help")
    ("out", po::value(&out), "records' folder (default: the grid's 'out', else results/GRID-NAME; one grid only)")
    ("cache-dir", po::value(&cache_dir), "the cache (default: the grid's 'cache-dir', else cache)")
    ("jobs,j", po::value(&jobs)->default_value(0),
     "runs at once (default: cores / the grid's threads per run; several grids: their most threads)")
    ("bin-dir", po::value(&bin_dir), "the experiment binaries (default: ../experiments beside w2s_sweep)")
    ("only", po::value(&only)->composing(),
     "FIELD=VALUE: only the runs whose FIELD (experiment, data, weak, strong, seed or an option of the grid) is "
     "VALUE; repeat to narrow further (e.g. --only strong=smollm2-135m --only seed=0)")
    ("status", "print how many runs are done, running, failed, lost (started, never ended) or to run; run nothing")
    ("dry-run", "print each run's state and command line; run nothing")
    ("slurm", "submit the runs that are not done or running as one sbatch job array, instead of running them here")
    ("partition", po::value<std::string>(), "--slurm: the partition (sbatch --partition)")
    ("time", po::value<std::string>(), "--slurm: each task's time limit (sbatch --time, e.g. 2:00:00)")
    ("mem", po::value<std::string>(), "--slurm: each task's memory (sbatch --mem, e.g. 8G)")
    ("chunk", po::value<int>()->default_value(1), "--slurm: runs per array task")
    ("task-list", po::value(&task_list), "(used by the Slurm job) the submitted runs, one task per line")
    ("task-index", po::value(&task_index), "(used by the Slurm job) which line of --task-list to run")
    ("grid", po::value(&grid_files), "the grid files");
  // clang-format on
  po::positional_options_description pos;
  pos.add("grid", -1);
  const auto vm = w2s::cli::parse_tool(argc, argv, opts, pos);
  if (vm.count("help") || grid_files.empty()) {
    std::cout << opts << "\n";
    return grid_files.empty() && !vm.count("help") ? 2 : 0;
  }
  check(vm["chunk"].as<int>() >= 1, "--chunk: expected >= 1, got ", vm["chunk"].as<int>());
  check(jobs >= 0, "--jobs: expected >= 0 (0 = cores / threads per run), got ", jobs);
  const bool several = grid_files.size() > 1;
  if (several) {
    check(out.empty(), "--out: one folder for ", grid_files.size(),
          " grids; give each grid its 'out' line, or run them one at a time");
    check(!vm.count("slurm") && task_index < 0, "--slurm: one grid at a time (got ", grid_files.size(), ")");
  }
  const fs::path self = fs::read_symlink("/proc/self/exe");
  std::vector<Sweep> sweeps;
  std::set<fs::path> outs;
  for (const auto& g : grid_files) {
    sweeps.push_back(load(g, bin_dir.empty() ? self.parent_path().parent_path() / "experiments" : fs::path(bin_dir), out,
                          cache_dir));
    check(outs.insert(sweeps.back().out).second, g, ": its records' folder ", sweeps.back().out.string(),
          " is another grid's of this command; give each grid its own 'out'");
    keep_only(sweeps.back(), only, several);
  }
  if (several && !only.empty()) {
    size_t kept = 0;
    for (const auto& s : sweeps) kept += s.runs.size();
    std::string filters;
    for (const auto& f : only) filters += " --only " + f;
    check(kept > 0, filters.substr(1), ": no run of the ", grid_files.size(), " grids matches");
  }
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 0);  // saves every experiment its re-execution (core/runtime.hpp)

  if (vm.count("status")) {
    for (const auto& s : sweeps) std::cout << status_text(s, states(s));
    return 0;
  }
  if (vm.count("dry-run")) {
    for (const auto& s : sweeps)
      for (size_t i = 0; i < s.runs.size(); ++i) {
        std::cout << state_name(s.state(i)) << "\t" << s.runs[i].label() << "\t";
        for (const auto& a : s.command(i)) std::cout << " " << a;
        std::cout << "\n";
      }
    return 0;
  }
  for (const auto& s : sweeps) make_state_dirs(s);
  if (task_index >= 0) {
    check(!task_list.empty(), "--task-index needs --task-list");
    return run_task(sweeps[0], task_list, task_index);
  }
  if (vm.count("slurm")) return submit(sweeps[0], self, vm);

  const auto start_time = std::chrono::steady_clock::now();
  std::vector<Job> todo;
  size_t done = 0, total = 0;
  int threads = 1;
  for (size_t k = 0; k < sweeps.size(); ++k) {
    const auto& s = sweeps[k];
    const auto by = states(s);
    std::vector<size_t> mine;
    for (const auto st : {State::todo, State::failed, State::lost})
      if (by.count(st)) mine.insert(mine.end(), by.at(st).begin(), by.at(st).end());
    std::sort(mine.begin(), mine.end());
    for (const auto i : mine) todo.emplace_back(k, i);
    const size_t d = by.count(State::done) ? by.at(State::done).size() : 0;
    const size_t elsewhere = by.count(State::running) ? by.at(State::running).size() : 0;
    done += d;
    total += s.runs.size();
    threads = std::max(threads, s.grid.threads);
    std::cout << s.grid.file.string() << ": " << s.runs.size() << " runs, " << d << " done already"
              << (elsewhere ? ", " + std::to_string(elsewhere) + " running elsewhere (left alone)" : "") << "; running "
              << mine.size() << " into " << s.out.string() << std::endl;
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (jobs == 0) jobs = std::max(1, cores / threads);
  std::cout << (several ? std::to_string(sweeps.size()) + " grids: " : "") << todo.size() << " runs to do, " << jobs
            << " at once × " << threads << " thread" << (threads > 1 ? "s" : "") << std::endl;
  std::vector<Span> spans(sweeps.size());
  const auto failed = run_pool(sweeps, todo, jobs, done, total, spans);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  for (size_t k = 0; k < sweeps.size(); ++k) {
    if (sweeps[k].runs.empty()) continue;  // --only left none of this grid: its summary stays as it was
    write_summary(sweeps[k], self.parent_path() / "w2s_report", several ? spans[k].seconds() : seconds);
    size_t ran = 0, bad = 0;
    for (const auto& j : todo) ran += j.first == k;
    for (const auto& j : failed) bad += j.first == k;
    std::cout << "summary: " << (sweeps[k].out / "sweep.md").string() << " (" << ran - bad << " runs done now, " << bad
              << " failed; " << duration(several ? spans[k].seconds() : seconds) << ")" << std::endl;
  }
  if (several)
    std::cout << "all " << sweeps.size() << " grids: " << todo.size() - failed.size() << " runs done now, "
              << failed.size() << " failed; " << duration(seconds) << std::endl;
  return failed.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return w2s::guarded_main("w2s_sweep", [&] { return sweep_main(argc, argv); });
}
