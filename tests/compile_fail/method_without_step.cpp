// Must NOT compile: a Method with a name but no student_data step. The test checks that the error
// is the composition site's static_assert, naming the role, the member and the doc.
#include <w2s.hpp>

struct NotAMethod {
  static constexpr std::string_view name = "not_a_method";
};
using Broken = w2s::Experiment<w2s::WeakLabels<>, w2s::CrossEntropy, w2s::FineTune, NotAMethod>;
int main(int argc, char** argv) { return w2s::run<Broken>("broken", argc, argv); }
