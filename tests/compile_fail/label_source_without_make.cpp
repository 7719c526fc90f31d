// Must NOT compile: a LabelSource without make().
#include <w2s.hpp>

struct NoLabels {
  static constexpr std::string_view name = "no_labels";
};
using Broken = w2s::Experiment<NoLabels, w2s::CrossEntropy, w2s::FineTune>;
int main(int argc, char** argv) { return w2s::run<Broken>("broken", argc, argv); }
