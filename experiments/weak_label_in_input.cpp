// Paper §5 ("I think this is {weak_label}. What do you think?"): the supervisor's label is
// shown in the student's input (a label stripe in each image, test images too), which
// makes simulating the supervisor trivial. Does the w2s effect get worse?
#include <w2s.hpp>

using LabelInInput = w2s::Experiment<w2s::WeakLabelInInput<w2s::WeakLabels<w2s::Soft>>, w2s::CrossEntropy, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<LabelInInput>("weak_label_in_input", argc, argv); }
