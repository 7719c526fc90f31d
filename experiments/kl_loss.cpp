// EleutherAI w2s: KL(weak labels ‖ student) instead of cross entropy: the same gradient,
// so the same result is expected; a check that the loss slot works as a policy.
#include <w2s.hpp>

using KlLoss = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::KL, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<KlLoss>("kl_loss", argc, argv); }
