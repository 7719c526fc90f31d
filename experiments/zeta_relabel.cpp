// EleutherAI's zeta relabelling (issue 22): each weak label replaced by the mean weak label of its
// --zeta-k nearest neighbours on the strong model's frozen features (--relabel all), only where
// the hard labels disagree (disagree), or for the --contamination farthest from it (worst).
#include <w2s.hpp>

using ZetaRelabelled =
    w2s::Experiment<w2s::Relabelled<w2s::WeakLabels<w2s::Soft>, w2s::ZetaRelabel>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<ZetaRelabelled>("zeta_relabel", argc, argv); }
