// Control for the label-cleaning experiments (issue 22): a random --contamination share of the
// weak labels dropped. A cleaner that does no better than this removed no more errors than chance.
#include <w2s.hpp>

using RandomFiltered =
    w2s::Experiment<w2s::Filtered<w2s::WeakLabels<w2s::Soft>, w2s::RandomFilter>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<RandomFiltered>("random_filter", argc, argv); }
