// EleutherAI's zeta filter (issue 22): the weak labels farthest from the mean label of their
// nearest neighbours on the strong model's frozen features dropped (--contamination of them;
// --zeta-k 0 chooses the neighbour count by leave-one-out Brier score).
#include <w2s.hpp>

using ZetaFiltered =
    w2s::Experiment<w2s::Filtered<w2s::WeakLabels<w2s::Soft>, w2s::ZetaFilter>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<ZetaFiltered>("zeta_filter", argc, argv); }
