// Upper bound for the label-cleaning experiments (issue 22): the --contamination share of weak
// labels farthest from ground truth dropped. It reads the transfer half's ground truth (its
// cleaner declares reads_transfer_ground_truth), so it bounds the methods and is not one.
#include <w2s.hpp>

using OracleFiltered =
    w2s::Experiment<w2s::Filtered<w2s::WeakLabels<w2s::Soft>, w2s::OracleFilter>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<OracleFiltered>("oracle_filter", argc, argv); }
