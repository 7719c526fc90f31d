#pragma once
/// \file
/// The weak label shown to the student in its input (paper §5 discussion: "I
/// think this is {weak_label}. What do you think?" appended to every prompt),
/// which makes simulating the supervisor trivial.
#include "w2s/labels/label_source.hpp"
#include "w2s/labels/weak_labels.hpp"

namespace w2s {

/// Writes the one-hot weak label into the first `classes` values of each
/// image's top row (a "label stripe" in the blank border), for training and test
/// inputs alike; the targets come from `Inner`. Images only for now: text gets
/// the literal sentence, tables an appended feature, with those datasets.
template <class Inner = WeakLabels<Soft>>
struct WeakLabelInInput {
  static constexpr std::string_view name = "weak_label_in_input";
  Inner inner{};

  /// `inputs` with the argmax of `probs` shown in their first row.
  static at::Tensor with_label_stripe(const at::Tensor& inputs, const at::Tensor& probs) {
    const int64_t k = probs.size(1);
    check(inputs.dim() == 4 && inputs.size(3) >= k, "weak label in the input: expected N×C×H×W images at least ", k,
          " pixels wide");
    auto out = inputs.clone();
    out.select(1, 0).select(1, 0).slice(1, 0, k).copy_(one_hot_targets(probs.argmax(1), k));
    return out;
  }

  StudentData make(const LabelContext& c) const {
    check(c.splits.transfer_half.modality == Modality::image, "weak label in the input: dataset '",
          c.splits.transfer_half.name, "' is ", to_string(c.splits.transfer_half.modality),
          " data; only images are supported so far");
    StudentData d = inner.make(c);
    d.train.inputs = with_label_stripe(d.train.inputs, c.weak_transfer_probs);
    d.train.part += "+weak_label";
    d.test.inputs = with_label_stripe(d.test.inputs, c.weak_test_probs);
    d.test.part += "+weak_label";
    return d;
  }
  [[nodiscard]] nlohmann::json describe() const { return {{"inner", describe_policy(inner)}, {"shown_as", "label stripe"}}; }
};

}  // namespace w2s
