// Paper appendix, Fig. 26: ground truth with errors placed uniformly at random, at
// exactly the weak supervisor's error rate and mean confidence ("unsimulable" noise).
// Compare its PGR with naive_finetune's, where the errors are the supervisor's own.
#include <w2s.hpp>

using RandomNoiseStudent = w2s::Experiment<w2s::RandomNoise<w2s::Soft>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<RandomNoiseStudent>("random_noise_vs_weak_labels", argc, argv); }
