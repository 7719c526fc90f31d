#pragma once
/// \file
/// The Llama architecture (Touvron et al. 2023) as a LibTorch module with the parameter names
/// of Hugging Face's LlamaModel, read from a GGUF file (io/gguf.hpp): SmolLM2-135M-Instruct,
/// the decoder rung of the ladder (issue 20). Its tokenizer, in the same file's metadata, is
/// ingestion's (datasets/include/w2s/ingest/text/gguf_bpe.hpp).
///
/// Architecture facts used (HF modeling_llama, eager attention): token embeddings, no position
/// embeddings; pre-norm blocks x + attn(input_layernorm(x)), then + mlp(post_attention_layernorm(·));
/// RMSNorm x·rsqrt(mean(x²) + eps)·weight, computed in float32; rotary position embeddings on q and
/// k with inv_freq_i = base^(−2i/d) over the head's d dimensions, applied as
/// x·cos + rotate_half(x)·sin, rotate_half(x) = (−x₂, x₁) for the halves x₁, x₂ of the head;
/// grouped-query attention: each key/value head serves num_attention_heads / num_key_value_heads
/// consecutive query heads; causal scores scaled by 1/√d, softmax in float32; the MLP
/// down(silu(gate(x)) · up(x)); no biases; a final RMSNorm `norm`; the LM head tied to the
/// embeddings when the file has no `output.weight`.
///
/// GGUF names map to HF's (llama.cpp's convert_hf_to_gguf.py in reverse): token_embd →
/// embed_tokens, blk.N.attn_{q,k,v,output} → layers.N.self_attn.{q,k,v,o}_proj,
/// blk.N.ffn_{gate,up,down} → layers.N.mlp.{gate,up,down}_proj, blk.N.attn_norm →
/// input_layernorm, blk.N.ffn_norm → post_attention_layernorm, output_norm → norm, output →
/// lm_head. The converter permuted the rows of q and k for ggml's rotary layout (pairs of
/// adjacent dimensions); they are permuted back (rows of each head: the even ones first, then
/// the odd ones), so HF's rotate_half applies.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/data/dataset.hpp"
#include "w2s/io/file_memo.hpp"
#include "w2s/io/gguf.hpp"
#include "w2s/models/bert_backbone.hpp"  // EncoderBackbone
#include "w2s/models/hf_ops.hpp"
#include "w2s/models/model_kind.hpp"
#include "w2s/models/text_encoder.hpp"

namespace w2s {

/// The hyper-parameters of a Llama model, with the names of HF's LlamaConfig.
struct LlamaConfig {
  int64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0, num_hidden_layers = 0;
  int64_t num_attention_heads = 0, num_key_value_heads = 0, max_position_embeddings = 0;
  double rms_norm_eps = 1e-5, rope_theta = 10000.0;
  int64_t bos_token_id = -1, eos_token_id = -1, pad_token_id = -1;
  bool tie_word_embeddings = true;

  [[nodiscard]] int64_t head_dim() const { return hidden_size / num_attention_heads; }
  /// Throws w2s::Error (prefixed with `where`) unless the sizes are positive and divide.
  W2S_ENGINE_INLINE void validate(const std::string& where) const;
  /// From a GGUF file's `llama.*` metadata (general.architecture must be "llama").
  W2S_ENGINE_INLINE static LlamaConfig from_gguf(const gguf::File& file);
  /// As HF writes a LlamaConfig (model_type "llama").
  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json to_json() const;
};

namespace llama_detail {
inline torch::nn::Linear linear(int64_t in, int64_t out) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
}
/// (−x₂, x₁) for the halves of the last dimension.
inline at::Tensor rotate_half(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
}
/// Undoes llama.cpp's permutation of the rows of q or k (heads × d rows): within each head,
/// the rows were interleaved (row 2i from the first half, 2i+1 from the second); HF's
/// reverse_permute_weights reads them back as reshape(heads, d/2, 2, in).transpose(1, 2).
inline at::Tensor unpermute(const at::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0), in = w.size(1);
  return w.reshape({heads, rows / heads / 2, 2, in}).transpose(1, 2).reshape({rows, in}).contiguous();
}

/// The HF name of a GGUF tensor name, or "" when it names none.
inline std::string hf_name(const std::string& g) {
  if (g == "token_embd.weight") return "embed_tokens.weight";
  if (g == "output_norm.weight") return "norm.weight";
  if (g == "output.weight") return "lm_head.weight";
  if (!g.starts_with("blk.")) return "";
  const size_t dot = g.find('.', 4);
  if (dot == std::string::npos) return "";
  const std::string layer = g.substr(4, dot - 4), rest = g.substr(dot + 1);
  if (layer.empty() || layer.find_first_not_of("0123456789") != std::string::npos) return "";
  static const std::pair<const char*, const char*> parts[] = {
      {"attn_q.weight", "self_attn.q_proj.weight"},          {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},          {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},           {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},           {"attn_norm.weight", "input_layernorm.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"}};
  for (const auto& [from, to] : parts)
    if (rest == from) return "layers." + layer + "." + to;
  return "";
}
}  // namespace llama_detail

/// RMSNorm with HF's name `weight`.
class LlamaRmsNormImpl : public torch::nn::Module {
 public:
  LlamaRmsNormImpl(int64_t width, double eps) : weight(register_parameter("weight", at::ones({width}))), eps_(eps) {}
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x);
  at::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(LlamaRmsNorm);

/// Grouped-query self-attention with rotary positions: q_proj, k_proj, v_proj, o_proj.
class LlamaAttentionImpl : public torch::nn::Module {
 public:
  W2S_ENGINE_INLINE explicit LlamaAttentionImpl(const LlamaConfig& c);
  /// x: N×T×H; cos, sin: T×d; mask_bias: N×1×T×T added to the scores, 0 where query t may see
  /// key s and the most negative float elsewhere (additive_mask, models/hf_ops.hpp).
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                       const at::Tensor& mask_bias);
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  int64_t heads_, kv_heads_, head_dim_;
};
TORCH_MODULE(LlamaAttention);

/// The SwiGLU MLP: down_proj(silu(gate_proj(x)) · up_proj(x)).
class LlamaMlpImpl : public torch::nn::Module {
 public:
  W2S_ENGINE_INLINE explicit LlamaMlpImpl(const LlamaConfig& c);
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x);
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(LlamaMlp);

/// One pre-norm block: self_attn, mlp, input_layernorm, post_attention_layernorm.
class LlamaLayerImpl : public torch::nn::Module {
 public:
  W2S_ENGINE_INLINE explicit LlamaLayerImpl(const LlamaConfig& c);
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                       const at::Tensor& mask_bias);
  LlamaAttention self_attn{nullptr};
  LlamaMlp mlp{nullptr};
  LlamaRmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaLayer);

/// HF's LlamaModel: embed_tokens, layers, norm. Dropout-free (Llama has none at inference).
/// As a TextEncoder (models/text_encoder.hpp) its layers split for top-k fine-tuning; the final
/// norm belongs to the last layer's run (run_layers up to layers() applies it).
class LlamaModelImpl : public torch::nn::Module, public TextEncoder {
 public:
  W2S_ENGINE_INLINE explicit LlamaModelImpl(LlamaConfig c);
  /// ids: N×T token ids, right-padded; mask: N×T, 1 at real tokens (positions count from 0 at
  /// the first token of each row). Returns the final norm's output, N×T×H (HF's
  /// last_hidden_state; rows at padding are whatever the model computes there).
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask);
  /// The token embeddings of `ids` (no positions: rotary ones apply in each layer).
  W2S_ENGINE_INLINE at::Tensor embed(const at::Tensor& ids, const at::Tensor& mask) override;
  /// Layers [from, to) on x (N×T×H), causal and masked; the final norm when `to` is the last.
  W2S_ENGINE_INLINE at::Tensor run_layers(at::Tensor x, const at::Tensor& mask, int64_t from, int64_t to) override;
  [[nodiscard]] int64_t layers() const override { return config_.num_hidden_layers; }
  [[nodiscard]] int64_t width() const override { return config_.hidden_size; }
  [[nodiscard]] int64_t mlp_width() const override { return config_.intermediate_size; }
  [[nodiscard]] std::string layer_prefix(int64_t i) const override { return "layers." + std::to_string(i) + "."; }
  /// q and o: H × heads·d each, k and v: H × kv_heads·d each, the SwiGLU's three H × I matrices.
  [[nodiscard]] double flops_per_token() const override {
    const double h = double(config_.hidden_size), d = double(config_.head_dim());
    const double q = double(config_.num_attention_heads) * d, kv = double(config_.num_key_value_heads) * d;
    return 2.0 * double(layers()) * (2.0 * h * q + 2.0 * h * kv + 3.0 * h * double(config_.intermediate_size));
  }
  /// Next-token logits N×T×vocab from `hidden` (the tied embeddings, or lm_head when the file has one).
  W2S_ENGINE_INLINE at::Tensor logits(const at::Tensor& hidden);
  [[nodiscard]] const LlamaConfig& config() const { return config_; }

  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList blocks;  ///< registered as "layers" (HF's name)
  LlamaRmsNorm norm{nullptr};
  at::Tensor lm_head;  ///< undefined when tied to embed_tokens

 private:
  LlamaConfig config_;
  at::Tensor inv_freq_;  ///< d/2 float32
};
TORCH_MODULE(LlamaModel);

/// A Llama GGUF file as HF-named float32 tensors (q and k permuted back; see the file comment),
/// in the file's order; every tensor of the file must map (an unknown name is an error).
W2S_ENGINE_INLINE std::vector<std::pair<std::string, at::Tensor>> llama_tensors(const gguf::File& file,
                                                                                const LlamaConfig& config);

/// A GGUF Llama checkpoint's model, in eval mode, every parameter loaded (a missing, extra or
/// misshapen tensor is an error). Its tokenizer is ingestion's: text::gguf_tokenizer
/// (datasets/include/w2s/ingest/text/gguf_bpe.hpp).
W2S_ENGINE_INLINE LlamaModel load_llama(const std::filesystem::path& gguf_file);

/// A Llama GGUF checkpoint as a ladder backbone (the `llama` model kind: SmolLM2-135M): features
/// are the final norm's state at each text's last real token (the openai classifier's input, as
/// for GPT-2), from the text dataset's segment of this file's own BPE ids (TokenSegment
/// "gguf-bpe", padding −1), or with `pooling` "mean" (the ladder's smollm2-135m-mean) the mean of
/// every real token's final state. Its layers split for top-k fine-tuning (LayeredBackbone), and
/// it is a language model for few-shot prompting.
class LlamaBackbone : public EncoderBackbone, public LanguageModel {
 public:
  /// `pooling`: "lasttoken" (the openai classifier's reading, the default) or "mean" (every real token).
  W2S_ENGINE_INLINE LlamaBackbone(LlamaModel model, TokenColumns columns, std::string tokenizer,
                                  const std::string& pooling = "lasttoken");
  W2S_ENGINE_INLINE at::Tensor next_token_log_probs(const at::Tensor& ids) override;
  [[nodiscard]] int64_t context() const override { return model_->config().max_position_embeddings; }
  [[nodiscard]] at::Tensor token_ids(const at::Tensor& inputs) const override { return pieces(inputs); }
  [[nodiscard]] std::string tokenizer() const override { return tokenizer_; }
  [[nodiscard]] LlamaModelImpl& model() { return *model_; }

 private:
  LlamaModel model_;
  std::string tokenizer_;
};

/// The `llama` model kind's constructor: the GGUF file `spec.checkpoint`, reading the dataset's
/// segment of that file's tokenizer (an error naming what to do when the dataset has none).
W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make_llama_backbone(const BackboneSpec& spec, const Vocabulary* vocab);

}  // namespace w2s

#include "w2s/models/llama-inl.hpp"  // the definitions, where this build has them (core/engine.hpp)
