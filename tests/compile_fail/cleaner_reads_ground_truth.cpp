// Must NOT compile: a label cleaner that reads the transfer half's ground truth without declaring
// it (reads_transfer_ground_truth, as the oracle filter does). The test checks that the error is
// oracle_truth's static_assert, naming the declaration that is missing.
#include <w2s.hpp>

struct PeekingFilter {
  static constexpr std::string_view name = "peeking_filter";
  at::Tensor keep(const w2s::CleaningInput& in) const {
    return w2s::oracle_truth<PeekingFilter>(in).eq(in.y.gt(0.5)).nonzero().squeeze(1);
  }
};
using Broken = w2s::Experiment<w2s::Filtered<w2s::WeakLabels<>, PeekingFilter>, w2s::CrossEntropy, w2s::FineTune>;
int main(int argc, char** argv) { return w2s::run<Broken>("broken", argc, argv); }
