// EleutherAI w2s: the student's own soft predictions mixed into its targets (weight
// warmed up), like the aux confidence loss without hardening.
#include <w2s.hpp>

using EntropyLoss = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::Entropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<EntropyLoss>("entropy_loss", argc, argv); }
