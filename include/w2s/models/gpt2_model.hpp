#pragma once
/// \file
/// GPT-2 (Radford et al. 2019, "Language Models are Unsupervised Multitask Learners")
/// as a LibTorch module whose parameter names and shapes are those of Hugging Face's
/// GPT2Model, so HF checkpoints load by name (w2s/models/gpt2.hpp) and saved weights
/// load back into HF. Architecture facts used (paper §2.3 and HF modeling_gpt2):
/// pre-layer-norm blocks (LN at the input of each sub-block) plus a final LN `ln_f`;
/// learned position embeddings; causal multi-head self-attention scaled by 1/√d_head;
/// an MLP of width 4·n_embd; the LM head tied to the token embedding `wte`.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"

namespace w2s {

/// The hyper-parameters of a GPT-2, with the names and defaults of HF's GPT2Config (GPT-2 small).
struct Gpt2Config {
  int64_t vocab_size = 50257, n_positions = 1024, n_embd = 768, n_layer = 12, n_head = 12;
  double layer_norm_epsilon = 1e-5;
  std::string activation_function = "gelu_new";  ///< "gelu_new" (tanh approximation), "gelu" (erf) or "relu"
  double resid_pdrop = 0.1, embd_pdrop = 0.1, attn_pdrop = 0.1;

  /// Throws w2s::Error (prefixed with `where`) unless the sizes are positive, n_embd is a
  /// multiple of n_head, the dropouts are in [0, 1) and the activation is supported.
  W2S_ENGINE_INLINE void validate(const std::string& where) const;

  /// Reads an HF config.json. Required: vocab_size, n_embd, n_layer, n_head and n_positions
  /// (or the older n_ctx); the rest default as in HF's GPT2Config. Options that change the
  /// computation and that this module does not implement are rejected rather than ignored.
  W2S_ENGINE_INLINE static Gpt2Config from_json_file(const std::filesystem::path& config_json);

  /// The config as HF writes it (GPT2LMHeadModel loads it; unknown keys are ignored there).
  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json to_json() const;
};

/// GELU, tanh approximation (Hendrycks & Gimpel 2016; HF's "gelu_new", the activation of
/// the released GPT-2): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
inline at::Tensor gelu_new(const at::Tensor& x) {
  const double k = std::sqrt(2.0 / std::numbers::pi);
  return 0.5 * x * (1.0 + at::tanh(k * (x + 0.044715 * x * x * x)));
}

/// HF's "Conv1D" of GPT-2 (a linear layer whose weight is stored in×out, the transpose of
/// nn.Linear's): y = x·W + b. Keeping that layout is what lets checkpoints load unchanged.
class Gpt2Conv1DImpl : public torch::nn::Module {
 public:
  /// Weights ~ N(0, init_std²), bias 0 (HF's GPT2PreTrainedModel._init_weights, initializer_range 0.02).
  Gpt2Conv1DImpl(int64_t in, int64_t out, double init_std = 0.02)
      : weight(register_parameter("weight", at::empty({in, out}))), bias(register_parameter("bias", at::zeros({out}))) {
    at::NoGradGuard no_grad;
    weight.normal_(0.0, init_std);
  }
  /// x: …×in → …×out.
  at::Tensor forward(const at::Tensor& x) {
    auto sizes = x.sizes().vec();
    sizes.back() = weight.size(1);
    return at::addmm(bias, x.reshape({-1, x.size(-1)}), weight).view(sizes);
  }
  at::Tensor weight, bias;
};
TORCH_MODULE(Gpt2Conv1D);

namespace gpt2_detail {
/// GPT-2 paper §2.3: residual-layer weights are scaled at initialisation by 1/√N, N the number of
/// residual layers (2 per block); HF applies it as std 0.02/√(2·n_layer) on every c_proj.weight.
inline double residual_std(const Gpt2Config& c) { return 0.02 / std::sqrt(2.0 * double(c.n_layer)); }
}  // namespace gpt2_detail

/// Causal multi-head self-attention: `c_attn` makes q, k, v (in that order along the last
/// dimension, each split into n_head heads of n_embd/n_head), `c_proj` mixes the heads.
class Gpt2AttentionImpl : public torch::nn::Module {
 public:
  explicit Gpt2AttentionImpl(const Gpt2Config& c)
      : c_attn(register_module("c_attn", Gpt2Conv1D(c.n_embd, 3 * c.n_embd))),
        c_proj(register_module("c_proj", Gpt2Conv1D(c.n_embd, c.n_embd, gpt2_detail::residual_std(c)))),
        attn_dropout(register_module("attn_dropout", torch::nn::Dropout(c.attn_pdrop))),
        resid_dropout(register_module("resid_dropout", torch::nn::Dropout(c.resid_pdrop))),
        n_head_(c.n_head) {}
  /// x: N×T×E; allowed: bool, broadcastable to N×1×T×T, true where query t may attend to key s.
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x, const at::Tensor& allowed);
  Gpt2Conv1D c_attn, c_proj;
  torch::nn::Dropout attn_dropout, resid_dropout;

 private:
  int64_t n_head_;
};
TORCH_MODULE(Gpt2Attention);

/// The position-wise MLP: c_fc (n_embd → 4·n_embd), activation, c_proj (back to n_embd).
class Gpt2MlpImpl : public torch::nn::Module {
 public:
  explicit Gpt2MlpImpl(const Gpt2Config& c)
      : c_fc(register_module("c_fc", Gpt2Conv1D(c.n_embd, 4 * c.n_embd))),
        c_proj(register_module("c_proj", Gpt2Conv1D(4 * c.n_embd, c.n_embd, gpt2_detail::residual_std(c)))),
        dropout(register_module("dropout", torch::nn::Dropout(c.resid_pdrop))),
        activation_(c.activation_function == "relu"   ? +[](const at::Tensor& x) { return at::relu(x); }
                    : c.activation_function == "gelu" ? +[](const at::Tensor& x) { return at::gelu(x); }
                                                      : +[](const at::Tensor& x) { return gelu_new(x); }) {}
  at::Tensor forward(const at::Tensor& x) { return dropout(c_proj(activation_(c_fc(x)))); }
  Gpt2Conv1D c_fc, c_proj;
  torch::nn::Dropout dropout;

 private:
  at::Tensor (*activation_)(const at::Tensor&);
};
TORCH_MODULE(Gpt2Mlp);

/// One pre-LN transformer block: x + attn(ln_1(x)), then + mlp(ln_2(·)).
class Gpt2BlockImpl : public torch::nn::Module {
 public:
  explicit Gpt2BlockImpl(const Gpt2Config& c)
      : ln_1(register_module("ln_1", layer_norm(c))),
        attn(register_module("attn", Gpt2Attention(c))),
        ln_2(register_module("ln_2", layer_norm(c))),
        mlp(register_module("mlp", Gpt2Mlp(c))) {}
  at::Tensor forward(const at::Tensor& x, const at::Tensor& allowed) {
    const auto y = x + attn(ln_1(x), allowed);
    return y + mlp(ln_2(y));
  }
  static torch::nn::LayerNorm layer_norm(const Gpt2Config& c) {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.n_embd}).eps(c.layer_norm_epsilon));
  }
  torch::nn::LayerNorm ln_1;
  Gpt2Attention attn;
  torch::nn::LayerNorm ln_2;
  Gpt2Mlp mlp;
};
TORCH_MODULE(Gpt2Block);

/// HF's GPT2Model: token ids → final hidden states (after ln_f). Parameter names:
/// wte.weight, wpe.weight, h.{i}.{ln_1,attn.c_attn,attn.c_proj,ln_2,mlp.c_fc,mlp.c_proj}.{weight,bias},
/// ln_f.{weight,bias}. Dropout acts only in train mode (a new module is in train mode, as in torch).
class Gpt2ModelImpl : public torch::nn::Module {
 public:
  W2S_ENGINE_INLINE explicit Gpt2ModelImpl(Gpt2Config config);

  /// ids: N×T integer token ids; attention_mask: N×T, 1 = real token, 0 = padding (padded keys
  /// are masked out), or undefined for no padding. Padding must be on the right: positions
  /// are 0..T-1 for every row, as for an unpadded sequence. Returns N×T×n_embd.
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& ids, const at::Tensor& attention_mask = {});

  /// Next-token logits N×T×vocab_size from hidden states: hidden · wteᵀ (the LM head is tied to wte).
  at::Tensor lm_logits(const at::Tensor& hidden) { return at::matmul(hidden, wte->weight.t()); }

  [[nodiscard]] const Gpt2Config& config() const { return config_; }

  torch::nn::Embedding wte{nullptr}, wpe{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::ModuleList h{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};

 private:
  Gpt2Config config_;
};
TORCH_MODULE(Gpt2Model);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE void Gpt2Config::validate(const std::string& where) const {
  const auto positive = [&](const char* key, int64_t v) {
    check(v > 0, where, ": ", key, " must be a positive integer, got ", v);
  };
  positive("vocab_size", vocab_size), positive("n_positions", n_positions), positive("n_embd", n_embd);
  positive("n_layer", n_layer), positive("n_head", n_head);
  check(n_embd % n_head == 0, where, ": n_embd (", n_embd, ") is not divisible by n_head (", n_head, ")");
  check(layer_norm_epsilon > 0, where, ": layer_norm_epsilon must be positive, got ", layer_norm_epsilon);
  using Named = std::pair<const char*, double>;
  for (const auto& [key, p] :
       {Named{"resid_pdrop", resid_pdrop}, Named{"embd_pdrop", embd_pdrop}, Named{"attn_pdrop", attn_pdrop}})
    check(p >= 0 && p < 1, where, ": ", key, " must be in [0, 1), got ", p);
  check(activation_function == "gelu_new" || activation_function == "gelu" || activation_function == "relu", where,
        ": activation_function '", activation_function, "' is not supported; expected one of: gelu_new, gelu, relu");
}

W2S_ENGINE_INLINE Gpt2Config Gpt2Config::from_json_file(const std::filesystem::path& config_json) {
  const std::string where = config_json.string();
  std::ifstream in(config_json);
  check(in.good(), where, ": cannot open the GPT-2 config (expected a Hugging Face config.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": not valid JSON (", e.what(), ")");
  }
  check(j.is_object(), where, ": expected a JSON object");
  const auto integer = [&](const char* key) -> int64_t {
    check(j.contains(key), where, ": missing key '", key, "' (expected a positive integer)");
    check(j[key].is_number_integer(), where, ": '", key, "' must be an integer, got ", j[key].dump());
    return j[key].get<int64_t>();
  };
  const auto real = [&](const char* key, double fallback) -> double {
    if (!j.contains(key)) return fallback;
    check(j[key].is_number(), where, ": '", key, "' must be a number, got ", j[key].dump());
    return j[key].get<double>();
  };
  if (j.contains("model_type"))
    check(j["model_type"] == "gpt2", where, ": model_type ", j["model_type"].dump(), " is not \"gpt2\"");
  Gpt2Config c;
  c.vocab_size = integer("vocab_size"), c.n_embd = integer("n_embd");
  c.n_layer = integer("n_layer"), c.n_head = integer("n_head");
  check(j.contains("n_positions") || j.contains("n_ctx"), where, ": missing key 'n_positions' (or 'n_ctx')");
  c.n_positions = integer(j.contains("n_positions") ? "n_positions" : "n_ctx");
  c.layer_norm_epsilon = real("layer_norm_epsilon", c.layer_norm_epsilon);
  c.resid_pdrop = real("resid_pdrop", c.resid_pdrop), c.embd_pdrop = real("embd_pdrop", c.embd_pdrop);
  c.attn_pdrop = real("attn_pdrop", c.attn_pdrop);
  if (j.contains("activation_function")) {
    check(j["activation_function"].is_string(), where, ": 'activation_function' must be a string");
    c.activation_function = j["activation_function"].get<std::string>();
  }
  if (j.contains("n_inner") && !j["n_inner"].is_null())
    check(j["n_inner"] == 4 * c.n_embd, where, ": n_inner ", j["n_inner"].dump(),
          " is not supported (expected null or 4*n_embd)");
  const auto flag = [&](const char* key, bool fallback) {
    if (!j.contains(key)) return fallback;
    check(j[key].is_boolean(), where, ": '", key, "' must be true or false, got ", j[key].dump());
    return j[key].get<bool>();
  };
  check(flag("scale_attn_weights", true), where, ": scale_attn_weights=false is not supported");
  check(flag("tie_word_embeddings", true), where,
        ": tie_word_embeddings=false is not supported (the language-model head is tied to wte)");
  check(!flag("scale_attn_by_inverse_layer_idx", false), where,
        ": scale_attn_by_inverse_layer_idx=true is not supported");
  c.validate(where);
  return c;
}

W2S_ENGINE_INLINE nlohmann::json Gpt2Config::to_json() const {
  return {{"model_type", "gpt2"},
          {"architectures", {"GPT2LMHeadModel"}},
          {"vocab_size", vocab_size},
          {"n_positions", n_positions},
          {"n_embd", n_embd},
          {"n_layer", n_layer},
          {"n_head", n_head},
          {"layer_norm_epsilon", layer_norm_epsilon},
          {"activation_function", activation_function},
          {"resid_pdrop", resid_pdrop},
          {"embd_pdrop", embd_pdrop},
          {"attn_pdrop", attn_pdrop}};
}

W2S_ENGINE_INLINE at::Tensor Gpt2AttentionImpl::forward(const at::Tensor& x, const at::Tensor& allowed) {
  const int64_t n = x.size(0), t = x.size(1), e = x.size(2), d = e / n_head_;
  const auto qkv = c_attn(x).split(e, -1);
  const auto heads = [&](const at::Tensor& y) { return y.reshape({n, t, n_head_, d}).transpose(1, 2); };
  const auto q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
  auto scores = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(double(d));
  // Mask and softmax in at least float32, so bf16/f16 models keep a stable softmax; the most
  // negative finite value (as HF does) rather than -inf keeps a fully masked row finite.
  const auto wide = at::promote_types(scores.scalar_type(), at::kFloat);
  scores = scores.to(wide).masked_fill(allowed.logical_not(), std::numeric_limits<float>::lowest());
  const auto probs = attn_dropout(at::softmax(scores, -1).to(v.scalar_type()));
  return resid_dropout(c_proj(at::matmul(probs, v).transpose(1, 2).reshape({n, t, e})));
}

W2S_ENGINE_INLINE Gpt2ModelImpl::Gpt2ModelImpl(Gpt2Config config) : config_(std::move(config)) {
  config_.validate("Gpt2Config");
  wte = register_module("wte", torch::nn::Embedding(config_.vocab_size, config_.n_embd));
  wpe = register_module("wpe", torch::nn::Embedding(config_.n_positions, config_.n_embd));
  drop = register_module("drop", torch::nn::Dropout(config_.embd_pdrop));
  h = register_module("h", torch::nn::ModuleList());
  for (int64_t i = 0; i < config_.n_layer; ++i) h->push_back(Gpt2Block(config_));
  ln_f = register_module("ln_f", Gpt2BlockImpl::layer_norm(config_));
  at::NoGradGuard no_grad;  // HF's init: embeddings ~ N(0, 0.02²) (torch's default is N(0, 1))
  wte->weight.normal_(0.0, 0.02);
  wpe->weight.normal_(0.0, 0.02);
}

W2S_ENGINE_INLINE at::Tensor Gpt2ModelImpl::forward(const at::Tensor& ids, const at::Tensor& attention_mask) {
  check(ids.dim() == 2 && at::isIntegralType(ids.scalar_type(), /*includeBool=*/false),
        "gpt2: ids must be an N×T integer tensor, got ", ids.sizes(), " of ", ids.scalar_type());
  const int64_t n = ids.size(0), t = ids.size(1);
  check(t >= 1 && t <= config_.n_positions, "gpt2: sequence length ", t, " must be in 1..n_positions (",
        config_.n_positions, ")");
  check(n == 0 || (ids.min().item<int64_t>() >= 0 && ids.max().item<int64_t>() < config_.vocab_size),
        "gpt2: token ids must be in 0..", config_.vocab_size - 1);
  check(!(wte->weight.scalar_type() == at::kHalf && wte->weight.device().is_cpu()),
        "gpt2: float16 weights on the CPU: LibTorch 1.13 has no float16 CPU LayerNorm kernel; "
        "use at::kBFloat16 on the CPU (float16 works on CUDA)");
  const auto positions = at::arange(t, ids.options().dtype(at::kLong));
  auto allowed = (positions.view({t, 1}) >= positions.view({1, t})).view({1, 1, t, t});  // causal: key ≤ query
  if (attention_mask.defined()) {
    check(attention_mask.sizes() == ids.sizes(), "gpt2: attention_mask must have the shape of ids ", ids.sizes(),
          ", got ", attention_mask.sizes());
    const auto real = attention_mask.to(ids.device()).to(at::kBool);
    check(t == 1 || !(real.slice(1, 1).logical_and(real.slice(1, 0, t - 1).logical_not())).any().item<bool>(),
          "gpt2: attention_mask must be right padding (1s then 0s in every row)");
    allowed = allowed.logical_and(real.view({n, 1, 1, t}));
  }
  auto x = drop(wte(ids.to(at::kLong)) + wpe(positions));
  for (size_t i = 0; i < h->size(); ++i) x = h->at<Gpt2BlockImpl>(i).forward(x, allowed);
  return ln_f(x);
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
