#pragma once
/// \file
/// A GPT-2 checkpoint as a ladder backbone: features are the final hidden state of
/// each input's last non-padding token, which with models/classifier.hpp's head
/// (Linear(hidden, classes, bias=false), zero-initialised) is the openai code's
/// classifier; a linear probe trains that head on these features, detached. Inputs
/// are GPT-2 BPE ids right-padded with −1 (data/openai_jsonl.hpp). Dropout is off,
/// as in the openai code.
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/models/backbone.hpp"
#include "w2s/core/hash.hpp"
#include "w2s/models/gpt2.hpp"
#include "w2s/models/model_kind.hpp"

namespace w2s {

class Gpt2Backbone : public BackboneImpl, public LanguageModel {
 public:
  W2S_ENGINE_INLINE explicit Gpt2Backbone(Gpt2Model model);
  /// ids: N × T, −1 = padding on the right.
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& ids) override;
  /// Next-token log-probabilities at each input's last real token (N × vocab), for prompting.
  W2S_ENGINE_INLINE at::Tensor next_token_log_probs(const at::Tensor& ids) override;
  [[nodiscard]] int64_t context() const override { return model_->config().n_positions; }
  [[nodiscard]] Gpt2ModelImpl& model() { return *model_; }

 private:
  /// `f` of the last real token's hidden state. Padding columns no row uses are
  /// cut first; without gradients (evaluation, frozen features) rows go through
  /// in chunks of 16, since a batch of 1,000 long sequences would not fit in memory.
  template <class F>
  at::Tensor in_chunks(const at::Tensor& ids, const F& f) {
    check(ids.dim() == 2 && ids.size(0) > 0, "gpt2: expected N×T token ids, got ", ids.sizes());
    const auto lengths = ids.ge(0).sum(1);
    const auto shortest_longest = at::stack({lengths.min(), lengths.max()}).cpu();  // one device sync per batch
    check(shortest_longest[0].item<int64_t>() >= 1,
          "gpt2: expected at least one real (non-padding) token per row");
    const int64_t used = shortest_longest[1].item<int64_t>();
    check(used <= model_->config().n_positions, "gpt2: an input of ", used, " tokens is longer than the checkpoint's ",
          "context (n_positions ", model_->config().n_positions, "); lower --max-tokens (the weak-label sentence adds ",
          "about 12 tokens)");
    const auto run = [&](const at::Tensor& x) {
      const auto mask = x.ge(0);
      const auto hidden = model_->forward(x.clamp_min(0), mask);
      const auto last = mask.sum(1).sub(1).clamp_min(0);
      return f(hidden.index({at::arange(x.size(0), x.options()), last}), mask);
    };
    const auto trimmed = ids.slice(1, 0, used);
    if (at::GradMode::is_enabled() || trimmed.size(0) <= 16) return run(trimmed);
    std::vector<at::Tensor> parts;
    for (int64_t i = 0; i < trimmed.size(0); i += 16) parts.push_back(run(trimmed.slice(0, i, std::min(trimmed.size(0), i + 16))));
    return at::cat(parts);
  }

  Gpt2Model model_;
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE Gpt2Backbone::Gpt2Backbone(Gpt2Model model)
    : model_(register_module("transformer", std::move(model))) {
  features_ = model_->config().n_embd;
  const auto& c = model_->config();
  // One example = one token here (lengths vary): 2 × 12·n_layer·n_embd² multiply-adds, attention excluded.
  flops_ = 2.0 * double(c.n_layer) * 12.0 * double(c.n_embd) * double(c.n_embd);
}

W2S_ENGINE_INLINE at::Tensor Gpt2Backbone::forward(const at::Tensor& ids) {
  return in_chunks(ids, [&](const at::Tensor& hidden, const at::Tensor&) { return hidden; });
}

W2S_ENGINE_INLINE at::Tensor Gpt2Backbone::next_token_log_probs(const at::Tensor& ids) {
  return in_chunks(ids, [&](const at::Tensor& hidden, const at::Tensor&) {
    return at::log_softmax(model_->lm_logits(hidden).to(at::kFloat), 1);
  });
}
inline const bool gpt2_kind_registered = register_model_kind(
    {.name = "gpt2",
     .description = "a GPT-2 checkpoint folder (config.json, model.safetensors): last-token features, next-token "
                    "log-probabilities",
     .make = [](const BackboneSpec& spec, const std::vector<int64_t>&,
                const Vocabulary*) -> std::shared_ptr<BackboneImpl> {
       return std::make_shared<Gpt2Backbone>(load_gpt2(spec.checkpoint, /*dropout=*/false));
     },
     .checkpoint = true,
     .checkpoint_id =
         [](const std::filesystem::path& dir) {
           std::string id;
           for (const auto* f : {"config.json", "model.safetensors"}) {
             check(std::filesystem::exists(dir / f), (dir / f).string(), ": missing (a GPT-2 checkpoint folder has ",
                   "config.json and model.safetensors)");
             id += std::string("|") + f + ":" + file_checksum(dir / f);
           }
           return id;
         },
     .language_model = true,
     .model_types = {"gpt2"},
     .open =
         [](const std::filesystem::path& dir) {
           const auto model = load_gpt2(dir, /*dropout=*/false).ptr();
           const auto& config = model->config();
           OpenedCheckpoint c;
           c.last_hidden = [model](const at::Tensor& ids, const at::Tensor& mask) { return model->forward(ids, mask); };
           c.width = config.n_embd;
           const double h = double(config.n_embd);  // per layer: 4·H² (attention) + 8·H² (feed-forward 4H)
           c.flops_per_token = 2.0 * double(config.n_layer) * (4.0 * h * h + 8.0 * h * h);
           return c;
         },
     .text = CheckpointText::bpe_folder});
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
