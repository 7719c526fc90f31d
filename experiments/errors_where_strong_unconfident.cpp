// Paper appendix, Fig. 26: the supervisor's error rate, with the errors where the strong
// ceiling (trained on ground truth) is least confident: errors the strong model finds plausible.
#include <w2s.hpp>

using UnconfidentErrors = w2s::Experiment<w2s::StructuredNoise<w2s::StrongUnconfident>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<UnconfidentErrors>("errors_where_strong_unconfident", argc, argv); }
