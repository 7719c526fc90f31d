// Issue 22, EleutherAI probe.py: the strong student is a knn probe on its frozen features: each
// point's prediction is the mean soft label of its --probe-k nearest transfer points.
// Compare with naive_finetune on the same setting (a head trained by gradient steps).
#include <w2s.hpp>

using Probe = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::CrossEntropy, w2s::KnnProbeStudent>;

int main(int argc, char** argv) { return w2s::run<Probe>("knn_probe", argc, argv); }
