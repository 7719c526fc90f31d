// Must NOT compile: a student that reads the transfer half's ground truth without asking for it
// by type (needs_transfer_ground_truth). The test checks that the error is transfer_ground_truth's
// static_assert, naming the declaration that is missing.
#include <w2s.hpp>

struct Peeking {
  static constexpr std::string_view name = "peeking";
  template <class L>
  w2s::Fitted fit(const w2s::StudentContext& c, const w2s::StudentData& d, const L& loss) const {
    (void)w2s::transfer_ground_truth<Peeking>(d);
    return w2s::FineTune{}.fit(c, d, loss);
  }
};
using Broken = w2s::Experiment<w2s::WeakLabels<>, w2s::CrossEntropy, Peeking>;
int main(int argc, char** argv) { return w2s::run<Broken>("broken", argc, argv); }
