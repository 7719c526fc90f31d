// Issue 22, EleutherAI probe.py: the strong student is a topo probe on its frozen features: each
// point's prediction is the mean soft label of its nearest points within the transfer half's TopoCC components.
// Compare with naive_finetune on the same setting (a head trained by gradient steps).
#include <w2s.hpp>

using Probe = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::CrossEntropy, w2s::TopoProbeStudent>;

int main(int argc, char** argv) { return w2s::run<Probe>("topo_probe", argc, argv); }
