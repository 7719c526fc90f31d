// Paper §4.3.1, Fig. 4: bootstrapping: the weak labels train the next ladder size, whose
// labels train the next, up to the strong student (xs → s → m → l by default).
#include <w2s.hpp>

using Bootstrapped = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::CrossEntropy, w2s::FineTune, w2s::Bootstrap>;

int main(int argc, char** argv) { return w2s::run<Bootstrapped>("bootstrapping", argc, argv); }
