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
/// right-padded to the longest result. With subword segments (Vocabulary::segments) the
/// sentence also goes into each segment, spelled by its tokenizer as a continuation, before
/// the ids that close a text ([SEP]); every segment keeps its columns: make_text_bundle left
/// room for it.
inline at::Tensor append_weak_label_sentences(const Dataset& d, const at::Tensor& labels) {
  check(d.vocab != nullptr && d.vocab->encode, "weak label in the input: text dataset '", d.name,
        "' has no tokenizer to spell the sentence with");
  check(d.inputs.dim() == 2, "weak label in the input: expected N×T token ids, got ", d.inputs.sizes());
  const auto& v = *d.vocab;
  const int64_t pad = v.pad_id;
  std::vector<std::vector<int64_t>> sentence;
  std::vector<std::vector<std::vector<int64_t>>> pieces(v.segments.size());  // [segment][class]
  int64_t longest = 0;
  for (const auto& c : d.class_names) {
    // Subword tokenizers see the sentence as a continuation: after a space. (Appended, not
    // `"literal" + string`: GCC 12 warns falsely on that at -O2, its bug 105651.)
    std::string text = v.words.empty() ? " " : "";
    text += weak_label_sentence_for(c);
    sentence.push_back(v.encode(text));
    longest = std::max<int64_t>(longest, static_cast<int64_t>(sentence.back().size()));
    for (size_t k = 0; k < v.segments.size(); ++k) {
      const auto& g = v.segments[k];
      auto p = g.encode(g.continuation + weak_label_sentence_for(c));
      pieces[k].emplace_back(p.begin() + g.opening, p.end());  // without [CLS], with [SEP]
    }
  }
  const auto in = d.inputs.contiguous();
  const int64_t n = in.size(0), t = in.size(1);
  const bool segmented = v.subword_begin > 0;
  const int64_t words_end = segmented ? v.subword_begin : t;
  const int64_t width = segmented ? t : t + longest;
  auto out = segmented ? in.clone() : at::full({n, width}, pad, at::kLong);
  const auto* src = in.data_ptr<int64_t>();
  auto* dst = out.data_ptr<int64_t>();
  const auto lab = labels.to(at::kLong).contiguous();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = lab.data_ptr<int64_t>()[i];
    int64_t used = 0;
    while (used < words_end && src[i * t + used] != pad) ++used;
    const auto& s = sentence.at(k);
    check(!segmented || used + static_cast<int64_t>(s.size()) <= words_end, "weak label in the input: ",
          "no room for the sentence in row ", i, " of ", d.id());
    std::copy_n(src + i * t, used, dst + i * width);
    std::copy(s.begin(), s.end(), dst + i * width + used);
    for (size_t g = 0; g < v.segments.size(); ++g) {
      const auto& seg = v.segments[g];
      const int64_t last = seg.end > 0 ? seg.end : t;
      int64_t end = seg.begin;  // one past the text's last id
      while (end < last && src[i * t + end] != seg.pad) ++end;
      const auto& p = pieces[g].at(k);
      check(end - seg.closing + static_cast<int64_t>(p.size()) <= last, "weak label in the input: no room for the ",
            "sentence's ", seg.tokenizer, " ids in row ", i, " of ", d.id());
      std::copy(p.begin(), p.end(), dst + i * width + end - seg.closing);  // over the old [SEP]
    }
  }
  return out;
}

}  // namespace w2s
