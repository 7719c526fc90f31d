// Paper §5 (saliency): fine-tune on weak labels, then fit a linear probe on ground truth
// over the resulting frozen features; the ceiling is the same on ground truth. Does weak
// fine-tuning make the concept linearly represented, ft(weak) + lp(gt) ≈ ft(gt)?
#include <w2s.hpp>

using WeakThenProbe = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::CrossEntropy, w2s::ProbeAfter<w2s::FineTune>>;

int main(int argc, char** argv) { return w2s::run<WeakThenProbe>("weak_then_probe", argc, argv); }
