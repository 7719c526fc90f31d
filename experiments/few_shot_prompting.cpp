// Paper §5.x, Fig. 9: a strong "prompting" student: no gradient step, k weak-labelled
// demonstrations per class, nearest class mean of frozen features. The ceiling uses
// ground-truth demonstrations. Prompting was competitive only for the largest models.
#include <w2s.hpp>

using FewShot = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::CrossEntropy, w2s::FewShotPrompting>;

int main(int argc, char** argv) { return w2s::run<FewShot>("few_shot_prompting", argc, argv); }
