// Paper appendix, Fig. 26: the supervisor's error rate, with the errors on the longest
// inputs (most ink, for images): easy-to-simulate errors, imitated more?
#include <w2s.hpp>

using LongestErrors = w2s::Experiment<w2s::StructuredNoise<w2s::Longest>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<LongestErrors>("errors_on_longest_inputs", argc, argv); }
