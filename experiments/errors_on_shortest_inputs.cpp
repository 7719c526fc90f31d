// Paper appendix, Fig. 26: the supervisor's error rate, with the errors on the shortest
// inputs (least ink, for images).
#include <w2s.hpp>

using ShortestErrors = w2s::Experiment<w2s::StructuredNoise<w2s::Shortest>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<ShortestErrors>("errors_on_shortest_inputs", argc, argv); }
