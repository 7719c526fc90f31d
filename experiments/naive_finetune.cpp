// Paper Fig. 3: does a strong student fine-tuned naively on a weak supervisor's
// soft labels beat that supervisor? PGR = (student − weak) / (ceiling − weak).
#include <w2s.hpp>

using NaiveFinetune = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<NaiveFinetune>("naive_finetune", argc, argv); }
