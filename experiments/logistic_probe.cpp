// Issue 22, EleutherAI probe.py: the strong student is a logistic probe on its frozen features: each
// point's prediction is a logistic regression fitted to the soft labels by Newton's method (L2 --probe-l2).
// Compare with naive_finetune on the same setting (a head trained by gradient steps).
#include <w2s.hpp>

using Probe = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::CrossEntropy, w2s::LogisticProbeStudent>;

int main(int argc, char** argv) { return w2s::run<Probe>("logistic_probe", argc, argv); }
