// Must NOT compile: a Loss without operator(). The test checks that the error is
// the composition site's static_assert, naming the role, the member and the doc.
#include <w2s.hpp>

struct NotALoss {
  static constexpr std::string_view name = "not_a_loss";
};
using Broken = w2s::Experiment<w2s::WeakLabels<>, NotALoss, w2s::FineTune>;
int main(int argc, char** argv) { return w2s::run<Broken>("broken", argc, argv); }
