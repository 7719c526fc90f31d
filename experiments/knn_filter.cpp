// A kNN probe as a filter (issue 22, EleutherAI probe.py): the mean weak label of each point's
// --probe-k nearest points on the strong model's frozen features; the --contamination share whose
// weak label disagrees most with it dropped before the student trains.
#include <w2s.hpp>

using KnnFiltered = w2s::Experiment<w2s::Filtered<w2s::WeakLabels<w2s::Soft>, w2s::ProbeFilter<w2s::KnnProbe>>,
                                    w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<KnnFiltered>("knn_filter", argc, argv); }
