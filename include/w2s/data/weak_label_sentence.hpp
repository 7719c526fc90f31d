#pragma once
/// \file
/// The weak label shown in a text input (paper §5 discussion): the sentence, and how it is
/// appended to token ids with the tokenizer the dataset carries (Vocabulary::encode). Core:
/// the label source (labels/weak_label_in_input.hpp) uses it at run time, and text loaders
/// (datasets/, outside the core) use the sentence to make sure its words are in the vocabulary.
#include <ATen/ATen.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/data/dataset.hpp"

namespace w2s {

/// The paper's sentence (§5 discussion), appended to text inputs by WeakLabelInInput.
inline constexpr std::string_view weak_label_sentence = "I think this is {weak_label}. What do you think?";

/// `weak_label_sentence` with `label` in place of {weak_label}.
inline std::string weak_label_sentence_for(const std::string& label) {
  std::string s(weak_label_sentence);
  const std::string_view slot = "{weak_label}";
  s.replace(s.find(slot), slot.size(), label);
  return s;
}

/// `d`'s token ids with the weak-label sentence for `labels` (N class ids) after
/// each input's last token, spelled by the dataset's own tokenizer; rows are
/// right-padded to the longest result. With WordPiece columns (Vocabulary::subword_begin)
/// the sentence also goes before each row's [SEP], and both segments keep their
/// widths: make_text_bundle left room for it.
inline at::Tensor append_weak_label_sentences(const Dataset& d, const at::Tensor& labels) {
  check(d.vocab != nullptr && d.vocab->encode, "weak label in the input: text dataset '", d.name,
        "' has no tokenizer to spell the sentence with");
  check(d.inputs.dim() == 2, "weak label in the input: expected N×T token ids, got ", d.inputs.sizes());
  const auto& v = *d.vocab;
  const int64_t pad = v.pad_id;
  std::vector<std::vector<int64_t>> sentence, pieces;
  int64_t longest = 0;
  for (const auto& c : d.class_names) {
    // Subword tokenizers see the sentence as a continuation: after a space.
    sentence.push_back(v.encode((v.words.empty() ? " " : "") + weak_label_sentence_for(c)));
    longest = std::max<int64_t>(longest, static_cast<int64_t>(sentence.back().size()));
    if (v.subword_begin > 0) {
      auto p = v.encode_subwords(weak_label_sentence_for(c));
      pieces.emplace_back(p.begin() + 1, p.end());  // without [CLS], with [SEP]
    }
  }
  const auto in = d.inputs.contiguous();
  const int64_t n = in.size(0), t = in.size(1);
  const int64_t words_end = v.subword_begin > 0 ? v.subword_begin : t;
  const int64_t width = v.subword_begin > 0 ? t : t + longest;
  auto out = v.subword_begin > 0 ? in.clone() : at::full({n, width}, pad, at::kLong);
  const auto* src = in.data_ptr<int64_t>();
  auto* dst = out.data_ptr<int64_t>();
  const auto lab = labels.to(at::kLong).contiguous();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = lab.data_ptr<int64_t>()[i];
    int64_t used = 0;
    while (used < words_end && src[i * t + used] != pad) ++used;
    const auto& s = sentence.at(k);
    check(v.subword_begin == 0 || used + static_cast<int64_t>(s.size()) <= words_end, "weak label in the input: ",
          "no room for the sentence in row ", i, " of ", d.id());
    std::copy_n(src + i * t, used, dst + i * width);
    std::copy(s.begin(), s.end(), dst + i * width + used);
    if (v.subword_begin == 0) continue;
    int64_t end = v.subword_begin;  // one past [SEP]
    while (end < t && src[i * t + end] != 0) ++end;
    const auto& p = pieces.at(k);
    check(end - 1 + static_cast<int64_t>(p.size()) <= t, "weak label in the input: no room for the sentence's ",
          "WordPiece ids in row ", i, " of ", d.id());
    std::copy(p.begin(), p.end(), dst + i * width + end - 1);  // over the old [SEP]
  }
  return out;
}

}  // namespace w2s
