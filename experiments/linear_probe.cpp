// Paper §5 (Fig. 9 and the vision setting): a linear probe on the strong model's
// frozen pretrained features, trained on weak labels; the ceiling is a probe
// trained on ground truth. Does probing generalise "about as well" as fine-tuning?
#include <w2s.hpp>

using LinearProbeStudent = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::CrossEntropy, w2s::LinearProbe>;

int main(int argc, char** argv) { return w2s::run<LinearProbeStudent>("linear_probe", argc, argv); }
