#pragma once
/// \file
/// The definitions of models/llama.hpp's functions: inline in a header-only build, compiled
/// once into w2s::engine otherwise (core/engine.hpp): in a compiled build this file is empty except
/// in src/engine_models.cpp.
#include "w2s/models/llama.hpp"

#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
namespace w2s {

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
                                                         const at::Tensor& sin, const at::Tensor& mask_bias) {
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
  scores = scores + mask_bias;
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
                                                     const at::Tensor& mask_bias) {
  const auto h = x + self_attn(input_layernorm(x), cos, sin, mask_bias);
  return h + mlp(post_attention_layernorm(h));
}

W2S_ENGINE_INLINE LlamaModelImpl::LlamaModelImpl(LlamaConfig c) : config_(std::move(c)) {
  config_.validate("LlamaModel");
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(config_.vocab_size, config_.hidden_size));
  blocks = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) blocks->push_back(LlamaLayer(config_));
  norm = register_module("norm", LlamaRmsNorm(config_.hidden_size, config_.rms_norm_eps));
  // HF: 1 / base^(arange(0, d, 2) / d), in float32.
  const int64_t d = config_.head_dim();
  inv_freq_ = 1.0 / at::pow(config_.rope_theta, at::arange(0, d, 2, at::kLong).to(at::kFloat) / double(d));
  inv_freq_ = inv_freq_.to(at::kFloat);
}

W2S_ENGINE_INLINE at::Tensor LlamaModelImpl::forward(const at::Tensor& ids, const at::Tensor& mask) {
  check(ids.dim() == 2 && ids.size(1) > 0, "llama: expected N×T token ids, got ", ids.sizes());
  return run_layers(embed(ids, mask), mask, 0, layers());
}

W2S_ENGINE_INLINE at::Tensor LlamaModelImpl::embed(const at::Tensor& ids, const at::Tensor&) {
  return embed_tokens(ids.to(embed_tokens->weight.device()));
}

W2S_ENGINE_INLINE at::Tensor LlamaModelImpl::run_layers(at::Tensor x, const at::Tensor& mask, int64_t from,
                                                        int64_t to) {
  check(x.dim() == 3 && x.size(1) > 0, "llama: expected N×T×H states, got ", x.sizes());
  check(x.size(1) <= config_.max_position_embeddings, "llama: ", x.size(1),
        " tokens are more than the model's context of ", config_.max_position_embeddings);
  check(0 <= from && from <= to && to <= layers(), "llama: layers ", from, "..", to, " of ", layers());
  const int64_t t = x.size(1);
  const auto device = x.device();
  // Rotary tables for positions 0..T-1, float32 as HF computes them.
  const auto positions = at::arange(t, at::TensorOptions().dtype(at::kFloat).device(device));
  const auto freqs = positions.unsqueeze(1) * inv_freq_.to(device).unsqueeze(0);  // T×d/2
  const auto emb = at::cat({freqs, freqs}, -1);
  const auto cos = emb.cos().to(x.scalar_type()), sin = emb.sin().to(x.scalar_type());
  const auto causal =
      at::ones({t, t}, at::TensorOptions().dtype(at::kBool).device(device)).tril().unsqueeze(0).unsqueeze(0);
  const auto keys = mask.to(device).to(at::kBool).unsqueeze(1).unsqueeze(2);  // N×1×1×T
  // Made once, added in each block (it was a fill of every block's scores).
  const auto mask_bias = additive_mask(causal.logical_and(keys), x.scalar_type());
  for (int64_t i = from; i < to; ++i) x = blocks[i]->as<LlamaLayer>()->forward(x, cos, sin, mask_bias);
  return to == layers() ? norm(x) : x;
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
  const std::string where = gguf_file.string();
  // The configuration and the dequantised tensors, read once per process and file
  // (io/file_memo.hpp): the later makes of the same backbone in a run copy them.
  using Read = std::pair<LlamaConfig, std::vector<std::pair<std::string, at::Tensor>>>;
  const auto read = memo_by_file<Read>(gguf_file, "llama tensors", [&] {
    const gguf::File file(gguf_file);
    auto config = LlamaConfig::from_gguf(file);
    auto tensors = llama_tensors(file, config);
    return Read{std::move(config), std::move(tensors)};
  });
  const auto& config = read->first;
  LlamaModel model(config);
  auto params = model->named_parameters(/*recurse=*/true);
  std::vector<std::string> loaded;
  at::NoGradGuard no_grad;
  for (const auto& [name, w] : read->second) {
    if (name == "lm_head.weight") {
      check(w.sizes() == model->embed_tokens->weight.sizes(), where, ": output.weight has shape ", w.sizes(),
            "; expected ", model->embed_tokens->weight.sizes());
      model->lm_head = w.clone();  // its own copy: the memo's is shared
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

W2S_ENGINE_INLINE LlamaBackbone::LlamaBackbone(LlamaModel model, TokenColumns columns, std::string tokenizer,
                                               const std::string& pooling)
    : EncoderBackbone("llama", model.ptr(), *model, Pooling{.mode = pooling, .normalize = false}, columns),
      model_(std::move(model)),
      tokenizer_(std::move(tokenizer)) {}

W2S_ENGINE_INLINE at::Tensor LlamaBackbone::next_token_log_probs(const at::Tensor& ids) {
  check(ids.dim() == 2 && ids.size(0) > 0, "llama: expected N×T token ids, got ", ids.sizes());
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < ids.size(0); i += 16) {  // a long prompt per row: 16 rows at a time
    const auto rows = ids.slice(0, i, std::min(ids.size(0), i + 16));
    const auto mask = rows.ge(0);
    const int64_t used = mask.sum(1).max().item<int64_t>();
    check(mask.sum(1).min().item<int64_t>() >= 1, "llama: a row without tokens");
    const auto r = rows.slice(1, 0, used), m = mask.slice(1, 0, used);
    const auto hidden = model_->forward(r.clamp_min(0), m);
    const auto last = m.sum(1).sub(1).to(at::kLong);
    const auto at_last = hidden.index({at::arange(r.size(0), last.options()), last});
    out.push_back(at::log_softmax(model_->logits(at_last).to(at::kFloat), 1));
  }
  return at::cat(out);
}

W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make_llama_backbone(const BackboneSpec& spec, const Vocabulary* vocab) {
  const std::filesystem::path file = spec.checkpoint;
  std::string hash;
  {
    const gguf::File f(file);
    hash = gguf::tokenizer_hash(f);
  }
  const TokenSegment* seg = nullptr;
  if (vocab)
    for (const auto& s : vocab->segments)
      if (s.tokenizer == "gguf-bpe" && s.vocab == hash) seg = &s;
  check(seg != nullptr, "backbone '", file.string(), "' reads its own BPE ids: the dataset has none of this ",
        "file's tokenizer (text datasets add them when a run names the model in --weak or --strong)");
  return std::make_shared<LlamaBackbone>(load_llama(file), TokenColumns{seg->begin, seg->end, seg->pad}, hash,
                                         spec.pooling.empty() ? "lasttoken" : spec.pooling);
}

inline const bool llama_kind_registered = register_model_kind(
    {.name = "llama",
     .description = "a Llama GGUF file (SmolLM2): the last real token's final state; next-token log-probabilities",
     .make = [](const BackboneSpec& spec, const std::vector<int64_t>&,
                const Vocabulary* vocab) { return make_llama_backbone(spec, vocab); },
     .checkpoint = true,
     .checkpoint_id =
         [](const std::filesystem::path& file) {
           check(std::filesystem::is_regular_file(file), file.string(),
                 ": missing (a llama checkpoint is a GGUF file)");
           return file.filename().string() + ":" + file_checksum(file);
         },
     .layered = true,
     .per_text_features = true,
     .language_model = true,
     .file_extension = ".gguf",
     .poolings = {"lasttoken", "mean"},
     .open =
         [](const std::filesystem::path& file) {
           auto model = load_llama(file);  // its last layer ends with the final norm: HF's last_hidden_state
           const int64_t pad = std::max<int64_t>(0, model->config().pad_token_id);
           return opened_encoder(model.ptr(), pad);
         },
     .text = CheckpointText::own_file});

}  // namespace w2s
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
