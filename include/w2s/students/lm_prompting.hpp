#pragma once
/// \file
/// Prompting a language model (paper §5.x, Fig. 9 with GPT-2): no gradient step.
/// Each input becomes `<k demonstrations> <input>\nAnswer:` where a demonstration
/// is `<text>\nAnswer: <label word>\n\n`; the prediction is the softmax over the
/// label words' (first) tokens of the model's next-token log-probabilities. The
/// label words are the dataset's class names (" false", " true" for the openai
/// jsonl tasks). A prompt longer than the model's context loses its oldest
/// demonstrations first, then the start of the input.
#include <ATen/ATen.h>

#include <functional>
#include <string_view>
#include <vector>

#include "w2s/data/dataset.hpp"
#include "w2s/models/backbone.hpp"
#include "w2s/train/trainer.hpp"

namespace w2s {

/// The real (non-padding) ids of row `i` of `inputs` (−1 pads).
inline std::vector<int64_t> row_ids(const at::Tensor& inputs, int64_t i) {
  const auto r = inputs[i].to(at::kLong).contiguous();
  const auto* p = r.data_ptr<int64_t>();
  std::vector<int64_t> out;
  for (int64_t j = 0; j < r.size(0) && p[j] >= 0; ++j) out.push_back(p[j]);
  return out;
}

struct LmPrompt {
  std::vector<int64_t> prefix;       ///< the demonstrations, concatenated
  std::vector<int64_t> answer_cue;   ///< "\nAnswer:"
  std::vector<int64_t> label_tokens; ///< first token of " <class name>" per class
};

using Encode = std::function<std::vector<int64_t>(std::string_view)>;

/// The tokenizer of `lm`'s own ids in a dataset of vocabulary `vocab`: the dataset's own (GPT-2
/// on language-model datasets), or the segment the model reads (SmolLM2 on text datasets).
inline const Encode& lm_encoder(const Vocabulary& vocab, const LanguageModel& lm) {
  if (lm.tokenizer().empty()) {
    check(static_cast<bool>(vocab.encode), "language-model prompting: the dataset has no tokenizer");
    return vocab.encode;
  }
  for (const auto& s : vocab.segments)
    if (s.vocab == lm.tokenizer()) return s.encode;
  fail("language-model prompting: the dataset carries no ids of the model's tokenizer");
}

/// Builds the demonstrations prefix from (ids, class) pairs with the model's tokenizer `encode`.
inline LmPrompt make_lm_prompt(const Encode& encode, const std::vector<std::string>& class_names,
                               const std::vector<std::pair<std::vector<int64_t>, int64_t>>& demos) {
  check(static_cast<bool>(encode), "language-model prompting: the dataset has no tokenizer");
  LmPrompt p;
  p.answer_cue = encode("\nAnswer:");
  const auto sep = encode("\n\n");
  for (const auto& c : class_names) {
    const auto t = encode(" " + c);
    check(!t.empty(), "language-model prompting: class name '", c, "' has no tokens");
    p.label_tokens.push_back(t.front());
  }
  for (const auto& [ids, cls] : demos) {
    p.prefix.insert(p.prefix.end(), ids.begin(), ids.end());
    p.prefix.insert(p.prefix.end(), p.answer_cue.begin(), p.answer_cue.end());
    p.prefix.push_back(p.label_tokens.at(cls));
    p.prefix.insert(p.prefix.end(), sep.begin(), sep.end());
  }
  return p;
}

/// Class probabilities (N × C, CPU) of every row of `inputs` (the model's own tokens, −1 pads)
/// under `prompt`.
inline at::Tensor lm_prompt_probs(LanguageModel& lm, const LmPrompt& prompt, const at::Tensor& inputs,
                                  torch::Device device, int64_t batch = 8) {
  const int64_t context = lm.context();
  const auto labels = at::tensor(prompt.label_tokens, at::kLong).to(device);
  std::vector<at::Tensor> out;
  at::NoGradGuard no_grad;
  for (int64_t b = 0; b < inputs.size(0); b += batch) {
    std::vector<std::vector<int64_t>> rows;
    int64_t width = 1;
    for (int64_t i = b; i < std::min(inputs.size(0), b + batch); ++i) {
      auto q = row_ids(inputs, i);
      q.insert(q.end(), prompt.answer_cue.begin(), prompt.answer_cue.end());
      std::vector<int64_t> ids(prompt.prefix);
      ids.insert(ids.end(), q.begin(), q.end());
      if (static_cast<int64_t>(ids.size()) > context) ids.erase(ids.begin(), ids.end() - context);  // oldest first
      width = std::max<int64_t>(width, static_cast<int64_t>(ids.size()));
      rows.push_back(std::move(ids));
    }
    auto t = at::full({static_cast<int64_t>(rows.size()), width}, -1, at::kLong);
    for (size_t r = 0; r < rows.size(); ++r)
      std::copy(rows[r].begin(), rows[r].end(), t.data_ptr<int64_t>() + static_cast<int64_t>(r) * width);
    const auto logp = lm.next_token_log_probs(t.to(device)).index_select(1, labels);
    out.push_back(at::softmax(logp, 1).to(at::kCPU));
  }
  return at::cat(out);
}

}  // namespace w2s
