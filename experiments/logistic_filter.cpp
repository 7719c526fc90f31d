// A logistic-regression probe as a filter (issue 22, EleutherAI probe.py): fitted to the weak
// labels on the strong model's frozen features (L2 --probe-l2, Newton to convergence); the
// --contamination share where it disagrees most with the weak label dropped.
#include <w2s.hpp>

using LogisticFiltered =
    w2s::Experiment<w2s::Filtered<w2s::WeakLabels<w2s::Soft>, w2s::ProbeFilter<w2s::LogisticProbe>>, w2s::CrossEntropy,
                    w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<LogisticFiltered>("logistic_filter", argc, argv); }
