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
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/io/gguf.hpp"

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
  /// x: N×T×H; cos, sin: T×d; allowed: bool N×1×T×T, true where query t may see key s.
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                       const at::Tensor& allowed);
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
                                       const at::Tensor& allowed);
  LlamaAttention self_attn{nullptr};
  LlamaMlp mlp{nullptr};
  LlamaRmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaLayer);

/// HF's LlamaModel: embed_tokens, layers, norm. Dropout-free (Llama has none at inference).
class LlamaModelImpl : public torch::nn::Module {
 public:
  W2S_ENGINE_INLINE explicit LlamaModelImpl(LlamaConfig c);
  /// ids: N×T token ids, right-padded; mask: N×T, 1 at real tokens (positions count from 0 at
  /// the first token of each row). Returns the final norm's output, N×T×H (HF's
  /// last_hidden_state; rows at padding are whatever the model computes there).
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask);
  /// Next-token logits N×T×vocab from `hidden` (the tied embeddings, or lm_head when the file has one).
  W2S_ENGINE_INLINE at::Tensor logits(const at::Tensor& hidden);
  [[nodiscard]] const LlamaConfig& config() const { return config_; }

  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers;
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

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINITIONS
W2S_ENGINE_INLINE void LlamaConfig::validate(const std::string& where) const {
  check(vocab_size > 0 && hidden_size > 0 && intermediate_size > 0 && num_hidden_layers > 0 &&
            num_attention_heads > 0 && num_key_value_heads > 0 && max_position_embeddings > 0,
        where, ": every size must be positive");
  check(hidden_size % num_attention_heads == 0, where, ": hidden_size ", hidden_size,
        " is not a multiple of num_attention_heads ", num_attention_heads);
  check(num_attention_heads % num_key_value_heads == 0, where, ": num_attention_heads ", num_attention_heads,
        " is not a multiple of num_key_value_heads ", num_key_value_heads);
  check(head_dim() % 2 == 0, where, ": a head of ", head_dim(), " dimensions cannot rotate in pairs");
  check(rms_norm_eps > 0 && rope_theta > 0, where, ": rms_norm_eps and rope_theta must be positive");
}

W2S_ENGINE_INLINE LlamaConfig LlamaConfig::from_gguf(const gguf::File& file) {
  const std::string where = file.path().string();
  const auto& arch = file.string("general.architecture");
  check(arch == "llama", where, ": general.architecture is \"", arch, "\"; expected \"llama\"");
  LlamaConfig c;
  c.hidden_size = int64_t(file.uint("llama.embedding_length"));
  c.intermediate_size = int64_t(file.uint("llama.feed_forward_length"));
  c.num_hidden_layers = int64_t(file.uint("llama.block_count"));
  c.num_attention_heads = int64_t(file.uint("llama.attention.head_count"));
  c.num_key_value_heads = file.has("llama.attention.head_count_kv")
                              ? int64_t(file.uint("llama.attention.head_count_kv"))
                              : c.num_attention_heads;
  c.max_position_embeddings = int64_t(file.uint("llama.context_length"));
  c.rms_norm_eps = file.number("llama.attention.layer_norm_rms_epsilon");
  if (file.has("llama.rope.freq_base")) c.rope_theta = file.number("llama.rope.freq_base");
  c.vocab_size = file.has("llama.vocab_size") ? int64_t(file.uint("llama.vocab_size"))
                                              : int64_t(file.strings("tokenizer.ggml.tokens").size());
  if (file.has("llama.rope.dimension_count"))
    check(
        int64_t(file.uint("llama.rope.dimension_count")) == c.hidden_size / std::max<int64_t>(1, c.num_attention_heads),
        where, ": llama.rope.dimension_count ", file.uint("llama.rope.dimension_count"),
        " rotates part of each head; only whole heads are implemented");
  check(!file.has("llama.rope.scaling.type") || file.string("llama.rope.scaling.type") == "none", where,
        ": llama.rope.scaling.type is set; rotary scaling is not implemented");
  if (file.has("tokenizer.ggml.bos_token_id")) c.bos_token_id = int64_t(file.uint("tokenizer.ggml.bos_token_id"));
  if (file.has("tokenizer.ggml.eos_token_id")) c.eos_token_id = int64_t(file.uint("tokenizer.ggml.eos_token_id"));
  if (file.has("tokenizer.ggml.padding_token_id"))
    c.pad_token_id = int64_t(file.uint("tokenizer.ggml.padding_token_id"));
  c.tie_word_embeddings = file.find("output.weight") == nullptr;
  c.validate(where);
  return c;
}

W2S_ENGINE_INLINE nlohmann::json LlamaConfig::to_json() const {
  nlohmann::json j = {{"model_type", "llama"},
                      {"architectures", {"LlamaForCausalLM"}},
                      {"vocab_size", vocab_size},
                      {"hidden_size", hidden_size},
                      {"intermediate_size", intermediate_size},
                      {"num_hidden_layers", num_hidden_layers},
                      {"num_attention_heads", num_attention_heads},
                      {"num_key_value_heads", num_key_value_heads},
                      {"head_dim", head_dim()},
                      {"max_position_embeddings", max_position_embeddings},
                      {"rms_norm_eps", rms_norm_eps},
                      {"rope_theta", rope_theta},
                      {"hidden_act", "silu"},
                      {"attention_bias", false},
                      {"mlp_bias", false},
                      {"tie_word_embeddings", tie_word_embeddings},
                      {"torch_dtype", "float32"}};
  if (bos_token_id >= 0) j["bos_token_id"] = bos_token_id;
  if (eos_token_id >= 0) j["eos_token_id"] = eos_token_id;
  if (pad_token_id >= 0) j["pad_token_id"] = pad_token_id;
  return j;
}

W2S_ENGINE_INLINE at::Tensor LlamaRmsNormImpl::forward(const at::Tensor& x) {
  const auto x32 = x.to(at::kFloat);
  const auto normed = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  return weight * normed.to(x.scalar_type());
}

W2S_ENGINE_INLINE LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig& c)
    : heads_(c.num_attention_heads), kv_heads_(c.num_key_value_heads), head_dim_(c.head_dim()) {
  q_proj = register_module("q_proj", llama_detail::linear(c.hidden_size, heads_ * head_dim_));
  k_proj = register_module("k_proj", llama_detail::linear(c.hidden_size, kv_heads_ * head_dim_));
  v_proj = register_module("v_proj", llama_detail::linear(c.hidden_size, kv_heads_ * head_dim_));
  o_proj = register_module("o_proj", llama_detail::linear(heads_ * head_dim_, c.hidden_size));
}

W2S_ENGINE_INLINE at::Tensor LlamaAttentionImpl::forward(const at::Tensor& x, const at::Tensor& cos,
                                                         const at::Tensor& sin, const at::Tensor& allowed) {
  const int64_t n = x.size(0), t = x.size(1);
  const auto heads = [&](const at::Tensor& y, int64_t h) { return y.view({n, t, h, head_dim_}).transpose(1, 2); };
  auto q = heads(q_proj(x), heads_), k = heads(k_proj(x), kv_heads_), v = heads(v_proj(x), kv_heads_);
  q = q * cos + llama_detail::rotate_half(q) * sin;  // cos, sin: T×d, broadcast over N and heads
  k = k * cos + llama_detail::rotate_half(k) * sin;
  if (kv_heads_ != heads_) {  // each key/value head serves heads_/kv_heads_ consecutive query heads
    k = k.repeat_interleave(heads_ / kv_heads_, 1);
    v = v.repeat_interleave(heads_ / kv_heads_, 1);
  }
  auto scores = at::matmul(q, k.transpose(2, 3)) * std::pow(double(head_dim_), -0.5);  // as HF: times d^-1/2
  scores = scores.masked_fill(allowed.logical_not(), std::numeric_limits<float>::lowest());
  const auto weights = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  return o_proj(at::matmul(weights, v).transpose(1, 2).reshape({n, t, heads_ * head_dim_}));
}

W2S_ENGINE_INLINE LlamaMlpImpl::LlamaMlpImpl(const LlamaConfig& c) {
  gate_proj = register_module("gate_proj", llama_detail::linear(c.hidden_size, c.intermediate_size));
  up_proj = register_module("up_proj", llama_detail::linear(c.hidden_size, c.intermediate_size));
  down_proj = register_module("down_proj", llama_detail::linear(c.intermediate_size, c.hidden_size));
}

W2S_ENGINE_INLINE at::Tensor LlamaMlpImpl::forward(const at::Tensor& x) {
  return down_proj(at::silu(gate_proj(x)) * up_proj(x));
}

W2S_ENGINE_INLINE LlamaLayerImpl::LlamaLayerImpl(const LlamaConfig& c) {
  self_attn = register_module("self_attn", LlamaAttention(c));
  mlp = register_module("mlp", LlamaMlp(c));
  input_layernorm = register_module("input_layernorm", LlamaRmsNorm(c.hidden_size, c.rms_norm_eps));
  post_attention_layernorm = register_module("post_attention_layernorm", LlamaRmsNorm(c.hidden_size, c.rms_norm_eps));
}

W2S_ENGINE_INLINE at::Tensor LlamaLayerImpl::forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                                     const at::Tensor& allowed) {
  const auto h = x + self_attn(input_layernorm(x), cos, sin, allowed);
  return h + mlp(post_attention_layernorm(h));
}

W2S_ENGINE_INLINE LlamaModelImpl::LlamaModelImpl(LlamaConfig c) : config_(std::move(c)) {
  config_.validate("LlamaModel");
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(config_.vocab_size, config_.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) layers->push_back(LlamaLayer(config_));
  norm = register_module("norm", LlamaRmsNorm(config_.hidden_size, config_.rms_norm_eps));
  // HF: 1 / base^(arange(0, d, 2) / d), in float32.
  const int64_t d = config_.head_dim();
  inv_freq_ = 1.0 / at::pow(config_.rope_theta, at::arange(0, d, 2, at::kLong).to(at::kFloat) / double(d));
  inv_freq_ = inv_freq_.to(at::kFloat);
}

W2S_ENGINE_INLINE at::Tensor LlamaModelImpl::forward(const at::Tensor& ids, const at::Tensor& mask) {
  check(ids.dim() == 2 && ids.size(1) > 0, "llama: expected N×T token ids, got ", ids.sizes());
  check(ids.size(1) <= config_.max_position_embeddings, "llama: ", ids.size(1),
        " tokens are more than the model's context of ", config_.max_position_embeddings);
  const int64_t t = ids.size(1);
  const auto device = embed_tokens->weight.device();
  auto x = embed_tokens(ids.to(device));
  // Rotary tables for positions 0..T-1, float32 as HF computes them.
  const auto positions = at::arange(t, at::TensorOptions().dtype(at::kFloat).device(device));
  const auto freqs = positions.unsqueeze(1) * inv_freq_.to(device).unsqueeze(0);  // T×d/2
  const auto emb = at::cat({freqs, freqs}, -1);
  const auto cos = emb.cos().to(x.scalar_type()), sin = emb.sin().to(x.scalar_type());
  const auto causal =
      at::ones({t, t}, at::TensorOptions().dtype(at::kBool).device(device)).tril().unsqueeze(0).unsqueeze(0);
  const auto keys = mask.to(device).to(at::kBool).unsqueeze(1).unsqueeze(2);  // N×1×1×T
  const auto allowed = causal.logical_and(keys);
  for (const auto& layer : *layers) x = layer->as<LlamaLayer>()->forward(x, cos, sin, allowed);
  return norm(x);
}

W2S_ENGINE_INLINE at::Tensor LlamaModelImpl::logits(const at::Tensor& hidden) {
  return at::matmul(hidden, (lm_head.defined() ? lm_head : embed_tokens->weight).t());
}

W2S_ENGINE_INLINE std::vector<std::pair<std::string, at::Tensor>> llama_tensors(const gguf::File& file,
                                                                                const LlamaConfig& config) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& t : file.tensors()) {
    const std::string name = llama_detail::hf_name(t.name);
    check(!name.empty(), file.path().string(), ": tensor '", t.name, "' is no part of a Llama model known here");
    auto w = file.to_float(t.name);
    if (t.name.ends_with("attn_q.weight")) w = llama_detail::unpermute(w, config.num_attention_heads);
    if (t.name.ends_with("attn_k.weight")) w = llama_detail::unpermute(w, config.num_key_value_heads);
    out.emplace_back(name, std::move(w));
  }
  return out;
}

W2S_ENGINE_INLINE LlamaModel load_llama(const std::filesystem::path& gguf_file) {
  const gguf::File file(gguf_file);
  const std::string where = gguf_file.string();
  const auto config = LlamaConfig::from_gguf(file);
  LlamaModel model(config);
  auto params = model->named_parameters(/*recurse=*/true);
  std::vector<std::string> loaded;
  at::NoGradGuard no_grad;
  for (auto& [name, w] : llama_tensors(file, config)) {
    if (name == "lm_head.weight") {
      check(w.sizes() == model->embed_tokens->weight.sizes(), where, ": output.weight has shape ", w.sizes(),
            "; expected ", model->embed_tokens->weight.sizes());
      model->lm_head = w;
      continue;
    }
    auto* p = params.find(name);
    check(p != nullptr, where, ": tensor for '", name, "' has no parameter in a ", config.num_hidden_layers,
          "-layer model");
    check(p->sizes() == w.sizes(), where, ": '", name, "' has shape ", w.sizes(), "; the model expects ", p->sizes());
    p->copy_(w);
    loaded.push_back(name);
  }
  check(loaded.size() == params.size(), where, ": ", params.size() - loaded.size(), " of ", params.size(),
        " parameters have no tensor in the file");
  model->eval();
  return model;
}
#endif  // W2S_ENGINE_DEFINITIONS

}  // namespace w2s
