// Charikar, Pabbaraju & Shiragur (2024): in regression with frozen representations
// and least-squares heads, is the student's gain over its weak supervisor at least
// its misfit to the weak labels? Per task: gain = err_weak − err_w2s, misfit =
// E(f_sw∘h_s − f_w∘h_w)² (record metrics.tasks). Run on --dataset charikar.
#include <w2s.hpp>

using GainVsMisfit = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::SquaredError, w2s::LeastSquares>;

int main(int argc, char** argv) { return w2s::run<GainVsMisfit>("gain_vs_misfit", argc, argv); }
