// Sanity check: the strong student trained on the transfer half's ground truth.
// It should land at the ceiling (PGR ≈ 1), and it agrees with the supervisor's
// mistakes only as often as an independent strong model would.
#include <w2s.hpp>

using GroundTruthStudent = w2s::Experiment<w2s::GroundTruth, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<GroundTruthStudent>("ground_truth_student", argc, argv); }
