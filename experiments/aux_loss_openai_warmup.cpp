// Paper §4.3.2 vs the openai code: the aux confidence loss with the code's warm-up (the
// weight ramps only to α·w, then jumps to α) instead of the linear one (aux_confidence_loss).
#include <w2s.hpp>

using AuxOpenaiWarmup = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::AuxConfidenceOpenaiWarmup, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<AuxOpenaiWarmup>("aux_loss_openai_warmup", argc, argv); }
