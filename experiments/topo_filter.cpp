// EleutherAI's TopoFilter (issue 22): the weak labels cleaned on the strong model's frozen
// features before training: TopoCC keeps each class's largest strongly connected component of
// the kNN graph, then the points farthest from their neighbours' mean label go, until
// --contamination of them are removed. Compare with naive_finetune (no cleaning) and the controls
// random_filter and oracle_filter.
#include <w2s.hpp>

using TopoFiltered =
    w2s::Experiment<w2s::Filtered<w2s::WeakLabels<w2s::Soft>, w2s::TopoFilter>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<TopoFiltered>("topo_filter", argc, argv); }
