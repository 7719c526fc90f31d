// Paper §4.3.2, Fig. 5: does the auxiliary confidence loss (the student's own
// hardened predictions mixed into its targets, weight α warmed up over 20% of
// training) recover more of the gap than naive fine-tuning?
#include <w2s.hpp>

using AuxConfidenceLoss = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::AuxConfidence, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<AuxConfidenceLoss>("aux_confidence_loss", argc, argv); }
