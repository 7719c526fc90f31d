#pragma once
/// \file
/// Self time per ATen operator on the calling thread, as PyTorch's profiler reports it for
/// Python (`key_averages()`'s self CPU time), so a forward pass of ours and transformers' can
/// be compared operator by operator (tools/encode.cpp `--profile`, bench/op_profile.py).
/// It listens to LibTorch's RecordFunction callbacks (ATen/record_function.h, the hook the
/// profilers use, in LibTorch 1.13 and 2.x alike): an operator's self time is its wall time
/// less that of the operators it called. Only the thread that creates the profile is
/// recorded; the work an operator hands to its OpenMP threads counts as its own, as in
/// PyTorch's profile. Each operator pays about a microsecond more while a profile listens.
#include <ATen/record_function.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "w2s/core/error.hpp"

namespace w2s {

class OpProfile {
 public:
  /// One operator's totals.
  struct Row {
    std::string name;
    int64_t calls = 0;
    double self_seconds = 0, total_seconds = 0;
  };

  /// Starts listening (one profile at a time in a process).
  OpProfile() {
    check(state().owner == std::thread::id(), "OpProfile: another profile is already listening");
    state() = State{};
    state().owner = std::this_thread::get_id();
    handle_ = at::addGlobalCallback(
        at::RecordFunctionCallback(&OpProfile::on_start, &OpProfile::on_end).scopes({at::RecordScope::FUNCTION}));
  }
  ~OpProfile() { stop(); }
  OpProfile(const OpProfile&) = delete;
  OpProfile& operator=(const OpProfile&) = delete;

  /// Stops listening; the rows stay readable.
  void stop() {
    if (stopped_) return;
    at::removeCallback(handle_);
    rows_ = state().rows;
    state() = State{};
    stopped_ = true;
  }

  /// Every operator seen, most self time first.
  [[nodiscard]] std::vector<Row> rows() {
    stop();
    std::vector<Row> out;
    for (const auto& [name, row] : rows_) out.push_back(row);
    std::sort(out.begin(), out.end(), [](const Row& a, const Row& b) { return a.self_seconds > b.self_seconds; });
    return out;
  }

  /// A markdown table: each operator's share of the self time, its milliseconds and calls per
  /// batch (`batches` forward passes were profiled), for every operator with at least `min_share`
  /// of the time; the others in one row, then the total.
  [[nodiscard]] std::string table(int64_t batches, double min_share = 0.005) {
    check(batches >= 1, "OpProfile::table: batches must be >= 1");
    const auto all = rows();
    double total = 0;
    for (const auto& r : all) total += r.self_seconds;
    std::ostringstream out;
    out << std::fixed << "| operator | share of self time | ms per batch | calls per batch |\n|---|---:|---:|---:|\n";
    double rest = 0;
    for (const auto& r : all) {
      if (total <= 0 || r.self_seconds < min_share * total) {
        rest += r.self_seconds;
        continue;
      }
      out << "| `" << r.name << "` | " << std::setprecision(1) << 100 * r.self_seconds / total << "% | "
          << std::setprecision(2) << 1e3 * r.self_seconds / batches << " | " << r.calls / batches << " |\n";
    }
    if (rest > 0)
      out << "| everything else | " << std::setprecision(1) << 100 * rest / total << "% | " << std::setprecision(2)
          << 1e3 * rest / batches << " | |\n";
    out << "| all operators | 100% | " << std::setprecision(2) << 1e3 * total / batches << " | |\n";
    return out.str();
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Frame : at::ObserverContext {
    Clock::time_point start;
    double children = 0;  ///< seconds spent in the operators this one called
  };
  struct State {
    std::thread::id owner;
    std::vector<Frame*> stack;
    std::map<std::string, Row> rows;
  };
  static State& state() {
    static State s;
    return s;
  }

  static std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
    if (std::this_thread::get_id() != state().owner) return nullptr;
    auto frame = std::make_unique<Frame>();
    state().stack.push_back(frame.get());
    (void)fn;
    frame->start = Clock::now();
    return frame;
  }

  static void on_end(const at::RecordFunction& fn, at::ObserverContext* context) {
    const auto now = Clock::now();
    auto* frame = static_cast<Frame*>(context);
    auto& s = state();
    if (frame == nullptr || s.stack.empty() || s.stack.back() != frame) return;
    s.stack.pop_back();
    const double seconds = std::chrono::duration<double>(now - frame->start).count();
    auto& row = s.rows[fn.name()];
    if (row.name.empty()) row.name = fn.name();
    row.calls += 1;
    row.total_seconds += seconds;
    row.self_seconds += seconds - frame->children;
    if (!s.stack.empty()) s.stack.back()->children += seconds;
  }

  at::CallbackHandle handle_{};
  bool stopped_ = false;
  std::map<std::string, Row> rows_;
};

}  // namespace w2s
