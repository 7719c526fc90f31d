// EleutherAI w2s: cross entropy only where the student is unsure (max p < 0.5 + r,
// r = --window-radius, 0.15 or midweak), so confident disagreements are kept.
#include <w2s.hpp>

using WindowLoss = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::Window, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<WindowLoss>("window_loss", argc, argv); }
