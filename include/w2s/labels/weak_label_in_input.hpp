#pragma once
/// \file
/// The weak label shown to the student in its input (paper §5 discussion: "I
/// think this is {weak_label}. What do you think?" appended to every prompt),
/// which makes simulating the supervisor trivial.
#include "w2s/core/cache.hpp"
#include "w2s/data/weak_label_sentence.hpp"
#include "w2s/labels/label_source.hpp"
#include "w2s/labels/weak_labels.hpp"

namespace w2s {

/// Shows the weak supervisor's argmax label in every training and test input,
/// in the form each modality allows; the targets come from `Inner`.
///  - text: the literal sentence "I think this is {class name}. What do you
///    think?" appended after each input's last token;
///  - tables: the one-hot label appended as C extra features (the pretrained
///    MLP is widened for them, models/pretrain.hpp);
///  - images: the one-hot label written into the first C pixels of the top row
///    (a "label stripe" in the blank border).
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

  /// `d` with the argmax of `probs` shown in each input, as its modality allows.
  static Dataset with_label(Dataset d, const at::Tensor& probs) {
    const auto labels = probs.argmax(1);
    switch (d.modality) {
      case Modality::image: d.inputs = with_label_stripe(d.inputs, probs); break;
      case Modality::table: d.inputs = at::cat({d.inputs, one_hot_targets(labels, d.classes)}, 1); break;
      case Modality::text: d.inputs = append_weak_label_sentences(d, labels); break;
      case Modality::regression: fail("weak label in the input: dataset '", d.name, "' is regression data");
    }
    // The part names the labels shown: memoised features of another seed's labels never match.
    const auto l = labels.to(at::kLong).contiguous();
    d.part += "+weak_label/" + stable_hash(std::string(reinterpret_cast<const char*>(l.data_ptr<int64_t>()),
                                                       static_cast<size_t>(l.numel()) * sizeof(int64_t)));
    return d;
  }

  StudentData make(const LabelContext& c) const {
    require_classes(c.splits.transfer_half, name);
    StudentData d = inner.make(c);
    d.train = with_label(std::move(d.train), c.weak_transfer_probs);
    d.test = with_label(std::move(d.test), c.weak_test_probs);
    return d;
  }
  [[nodiscard]] nlohmann::json describe() const {
    return {{"inner", describe_policy(inner)},
            {"shown_as", {{"image", "label stripe"}, {"table", "one-hot features"}, {"text", weak_label_sentence}}}};
  }
};

}  // namespace w2s
