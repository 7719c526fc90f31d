// Paper Figs. 7 and 13: students overfit weak labels; report each model at its best test
// accuracy during training (a ground-truth oracle for when to stop), 10 evaluations an epoch.
#include <w2s.hpp>

using EarlyStoppingOracle = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::CrossEntropy, w2s::OracleStopping<w2s::FineTune>>;

int main(int argc, char** argv) { return w2s::run<EarlyStoppingOracle>("early_stopping_oracle", argc, argv); }
