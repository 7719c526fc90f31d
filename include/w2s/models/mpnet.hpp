#pragma once
/// \file
/// MPNet (Song et al. 2020), the encoder of sentence-transformers' all-mpnet-base-v2, as a
/// LibTorch module with the parameter names of Hugging Face's MPNetModel, its checkpoint
/// reader and its ladder kind `mpnet` (one file: a model kind joins the registry here).
/// Architecture facts used (HF modeling_mpnet): word + learned position embeddings (no token
/// types), LayerNorm; positions count real tokens from padding_idx + 1 = 2 (padding takes
/// position 1); post-LN layers as BERT's, attention scores scaled by 1/√d_head plus a
/// relative position bias shared by all layers: a table of 32 buckets × heads looked up by
/// T5's bidirectional bucketing of (key index − query index), exact up to 7 apart on either
/// side and logarithmic up to 128; LayerNorm eps from config.json (1e-5). Dropout is left out.
///
/// Its vocabulary is BERT uncased's with four tokens before it (<s> 0, <pad> 1, </s> 2,
/// <unk> 3) and <mask> after: BERT id i is MPNet id i + 4, and a text is framed <s> … </s>.
/// So the backbone reads the text datasets' BERT WordPiece columns through
/// `mpnet_ids_from_bert`, and checks the vocabulary line by line at load.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/hash.hpp"
#include "w2s/models/backbone.hpp"
#include "w2s/models/bert.hpp"
#include "w2s/models/bert_backbone.hpp"
#include "w2s/models/hf_ops.hpp"
#include "w2s/models/model_kind.hpp"
#include "w2s/models/text_encoder.hpp"

namespace w2s {

/// The hyper-parameters of an MPNet encoder, with the names of HF's MPNetConfig.
struct MpnetConfig {
  int64_t vocab_size = 30527, hidden_size = 768, num_hidden_layers = 12, num_attention_heads = 12;
  int64_t intermediate_size = 3072, max_position_embeddings = 514, relative_attention_num_buckets = 32;
  int64_t pad_token_id = 1;
  double layer_norm_eps = 1e-5;

  /// Reads an HF config.json (model_type "mpnet"); every size is required, hidden_act must be gelu.
  W2S_ENGINE_INLINE static MpnetConfig from_json_file(const std::filesystem::path& config_json);
};

/// T5's bidirectional relative-position bucket of `relative` = key index − query index (any
/// integer tensor), with HF MPNet's 32 buckets and max distance 128: 0 for the same position,
/// 1–15 for keys before the query, 17–31 for keys after it (bucket 16 is never used).
W2S_ENGINE_INLINE at::Tensor mpnet_bucket(const at::Tensor& relative, int64_t buckets = 32, int64_t max_distance = 128);

/// BERT uncased WordPiece ids (as the text datasets hold them: [CLS] 101 … [SEP] 102, 0 =
/// padding) as MPNet's: <s> 0 … </s> 2, padding <pad> 1, every other id + 4.
W2S_ENGINE_INLINE at::Tensor mpnet_ids_from_bert(const at::Tensor& bert_ids);

/// One post-LN layer with HF's names: attention.attn.{q,k,v,o}, attention.LayerNorm,
/// intermediate.dense, output.{dense,LayerNorm}.
class MpnetLayerImpl : public torch::nn::Module {
 public:
  W2S_ENGINE_INLINE explicit MpnetLayerImpl(const MpnetConfig& c);
  /// x: N×T×H; bias: N×heads×T×T added to the attention scores, the relative position bias plus
  /// the padding mask (key_mask_bias, models/hf_ops.hpp).
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& x, const at::Tensor& bias);

  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  torch::nn::Linear intermediate_dense{nullptr}, output_dense{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};

 private:
  int64_t heads_;
};
TORCH_MODULE(MpnetLayer);

/// HF's MPNetModel without its pooler: MPNet token ids → last hidden state N×T×H. Names:
/// embeddings.{word,position}_embeddings.weight, embeddings.LayerNorm.*, encoder.layer.{i}.…,
/// encoder.relative_attention_bias.weight.
class MpnetModelImpl : public torch::nn::Module, public TextEncoder {
 public:
  W2S_ENGINE_INLINE explicit MpnetModelImpl(MpnetConfig config);

  /// Embeddings of MPNet ids N×T with `mask` N×T (1 = real token): positions 2, 3, … at real
  /// tokens, 1 (the zero row) at padding.
  W2S_ENGINE_INLINE at::Tensor embed(const at::Tensor& ids, const at::Tensor& mask) override;
  W2S_ENGINE_INLINE at::Tensor run_layers(at::Tensor x, const at::Tensor& mask, int64_t from, int64_t to) override;
  /// Last hidden state N×T×H of MPNet ids (HF's framing <s> … </s>); mask N×T.
  W2S_ENGINE_INLINE at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask);

  [[nodiscard]] int64_t layers() const override { return config_.num_hidden_layers; }
  [[nodiscard]] int64_t width() const override { return config_.hidden_size; }
  [[nodiscard]] int64_t mlp_width() const override { return config_.intermediate_size; }
  [[nodiscard]] const MpnetConfig& config() const { return config_; }

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr};
  torch::nn::LayerNorm embedding_norm{nullptr};
  torch::nn::ModuleList layer{nullptr};
  torch::nn::Embedding relative_attention_bias{nullptr};

 private:
  MpnetConfig config_;
};
TORCH_MODULE(MpnetModel);

/// An MPNet sentence-transformers folder, loaded: the encoder (eval mode) and its pooling.
struct MpnetCheckpoint {
  MpnetModel model{nullptr};
  Pooling pooling;
  std::filesystem::path vocab;
};

/// Loads `dir` (config.json with model_type mpnet, model.safetensors, vocab.txt; modules.json
/// optional, as for BERT). Every missing or inconsistent file is one error naming it.
W2S_ENGINE_INLINE MpnetCheckpoint load_mpnet(const std::filesystem::path& dir);

/// Checks that `vocab_txt` is BERT uncased's vocabulary with MPNet's four tokens before it and
/// <mask> after it, and returns the hash of the BERT part as text::WordPiece::vocab_hash would
/// give for BERT's own vocab.txt (what a dataset's WordPiece columns were tokenised with).
W2S_ENGINE_INLINE std::string mpnet_bert_vocab_hash(const std::filesystem::path& vocab_txt);

/// The `mpnet` model kind's constructor: `spec.checkpoint` loaded, its vocabulary checked
/// against the one the dataset was tokenised with, the dataset's ids mapped to MPNet's.
W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make_mpnet_backbone(const BackboneSpec& spec, const Vocabulary* vocab);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE MpnetConfig MpnetConfig::from_json_file(const std::filesystem::path& config_json) {
  const std::string where = config_json.string();
  std::ifstream in(config_json);
  check(in.good(), where, ": cannot open (an MPNet checkpoint folder needs Hugging Face's config.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": not valid JSON (", e.what(), ")");
  }
  check(j.is_object() && j.value("model_type", "") == "mpnet", where, ": model_type ",
        j.is_object() ? j.value("model_type", nlohmann::json()).dump() : "?", " is not \"mpnet\"");
  const auto integer = [&](const char* key) -> int64_t {
    check(j.contains(key) && j[key].is_number_integer() && j[key].get<int64_t>() > 0, where, ": '", key,
          "' must be a positive integer, got ", j.contains(key) ? j[key].dump() : "nothing");
    return j[key].get<int64_t>();
  };
  MpnetConfig c;
  c.vocab_size = integer("vocab_size"), c.hidden_size = integer("hidden_size");
  c.num_hidden_layers = integer("num_hidden_layers"), c.num_attention_heads = integer("num_attention_heads");
  c.intermediate_size = integer("intermediate_size"), c.max_position_embeddings = integer("max_position_embeddings");
  if (j.contains("relative_attention_num_buckets"))
    c.relative_attention_num_buckets = integer("relative_attention_num_buckets");
  // HF's encoder buckets with 32 whatever the config says; a table of another size would not match.
  check(c.relative_attention_num_buckets == 32, where, ": relative_attention_num_buckets ",
        c.relative_attention_num_buckets, " is not supported (32, as HF's MPNetEncoder computes)");
  if (j.contains("pad_token_id") && j["pad_token_id"].is_number_integer()) c.pad_token_id = j["pad_token_id"];
  check(c.pad_token_id == 1, where, ": pad_token_id ", c.pad_token_id, " is not supported (1: positions start at 2)");
  if (j.contains("layer_norm_eps")) {
    check(j["layer_norm_eps"].is_number() && j["layer_norm_eps"].get<double>() > 0, where,
          ": 'layer_norm_eps' must be a positive number");
    c.layer_norm_eps = j["layer_norm_eps"];
  }
  check(j.value("hidden_act", "gelu") == "gelu", where, ": hidden_act ", j["hidden_act"].dump(),
        " is not supported (gelu)");
  check(c.hidden_size % c.num_attention_heads == 0, where, ": hidden_size (", c.hidden_size,
        ") is not divisible by num_attention_heads (", c.num_attention_heads, ")");
  return c;
}

W2S_ENGINE_INLINE at::Tensor mpnet_bucket(const at::Tensor& relative, int64_t buckets, int64_t max_distance) {
  const int64_t half = buckets / 2;  // one half for each direction
  const int64_t exact = half / 2;
  const auto n = relative.neg();  // query index − key index: positive where the key comes first
  const auto after = n.lt(0).to(at::kLong) * half;
  const auto d = n.abs();
  // log-spaced buckets from `exact` up to max_distance, in float as HF computes them, truncated
  const auto far = (d.to(at::kFloat).clamp_min(1) / double(exact)).log() /
                   std::log(double(max_distance) / double(exact)) * double(half - exact);
  const auto large = (far.to(at::kLong) + exact).clamp_max(half - 1);
  return after + at::where(d.lt(exact), d, large);
}

W2S_ENGINE_INLINE at::Tensor mpnet_ids_from_bert(const at::Tensor& bert_ids) {
  return at::where(bert_ids.eq(101), at::zeros_like(bert_ids),
                   at::where(bert_ids.eq(102), at::full_like(bert_ids, 2),
                             at::where(bert_ids.eq(0), at::ones_like(bert_ids), bert_ids + 4)));
}

W2S_ENGINE_INLINE MpnetLayerImpl::MpnetLayerImpl(const MpnetConfig& c) : heads_(c.num_attention_heads) {
  const int64_t h = c.hidden_size;
  const auto ln = [&] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).eps(c.layer_norm_eps)); };
  auto attention = register_module("attention", std::make_shared<torch::nn::Module>());
  auto attn = attention->register_module("attn", std::make_shared<torch::nn::Module>());
  q = attn->register_module("q", torch::nn::Linear(h, h));
  k = attn->register_module("k", torch::nn::Linear(h, h));
  v = attn->register_module("v", torch::nn::Linear(h, h));
  o = attn->register_module("o", torch::nn::Linear(h, h));
  attention_norm = attention->register_module("LayerNorm", ln());
  auto intermediate = register_module("intermediate", std::make_shared<torch::nn::Module>());
  intermediate_dense = intermediate->register_module("dense", torch::nn::Linear(h, c.intermediate_size));
  auto output = register_module("output", std::make_shared<torch::nn::Module>());
  output_dense = output->register_module("dense", torch::nn::Linear(c.intermediate_size, h));
  output_norm = output->register_module("LayerNorm", ln());
}

W2S_ENGINE_INLINE at::Tensor MpnetLayerImpl::forward(const at::Tensor& x, const at::Tensor& bias) {
  const int64_t n = x.size(0), t = x.size(1), e = x.size(2), d = e / heads_;
  const auto split = [&](const at::Tensor& y) { return y.view({n, t, heads_, d}).transpose(1, 2); };
  const auto scores =
      at::matmul(split(linear(q, x)), split(linear(k, x)).transpose(-1, -2)) / std::sqrt(double(d)) + bias;
  const auto context = at::matmul(at::softmax(scores, -1), split(linear(v, x))).transpose(1, 2).reshape({n, t, e});
  const auto y = attention_norm(x + linear(o, context));
  return output_norm(y + linear(output_dense, at::gelu(linear(intermediate_dense, y))));
}

W2S_ENGINE_INLINE MpnetModelImpl::MpnetModelImpl(MpnetConfig config) : config_(std::move(config)) {
  const auto& c = config_;
  auto embeddings = register_module("embeddings", std::make_shared<torch::nn::Module>());
  word_embeddings = embeddings->register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings = embeddings->register_module("position_embeddings",
                                                    torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  embedding_norm = embeddings->register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  layer = encoder->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(MpnetLayer(c));
  relative_attention_bias = encoder->register_module(
      "relative_attention_bias", torch::nn::Embedding(c.relative_attention_num_buckets, c.num_attention_heads));
}

W2S_ENGINE_INLINE at::Tensor MpnetModelImpl::embed(const at::Tensor& ids, const at::Tensor& mask) {
  check(ids.dim() == 2 && at::isIntegralType(ids.scalar_type(), /*includeBool=*/false),
        "mpnet: ids must be an N×T integer tensor, got ", ids.sizes(), " of ", ids.scalar_type());
  check(mask.sizes() == ids.sizes(), "mpnet: the mask must have the shape of ids ", ids.sizes(), ", got ",
        mask.sizes());
  check(ids.size(1) >= 1 && ids.size(1) + 2 <= config_.max_position_embeddings, "mpnet: sequence length ", ids.size(1),
        " must be in 1..", config_.max_position_embeddings - 2);
  const auto real = mask.to(at::kLong);
  const auto positions = real.cumsum(1) * real + config_.pad_token_id;
  return embedding_norm(word_embeddings(ids.to(at::kLong)) + position_embeddings(positions));
}

W2S_ENGINE_INLINE at::Tensor MpnetModelImpl::run_layers(at::Tensor x, const at::Tensor& mask, int64_t from,
                                                        int64_t to) {
  check(0 <= from && from <= to && to <= config_.num_hidden_layers, "mpnet: layers [", from, ", ", to, ") outside 0..",
        config_.num_hidden_layers);
  if (from == to) return x;
  const int64_t t = x.size(1);
  // The bias over the padded length's indices, as HF's compute_position_bias (without position ids).
  const auto index = at::arange(t, x.options().dtype(at::kLong));
  const auto bucket = mpnet_bucket(index.unsqueeze(0) - index.unsqueeze(1));  // [query][key]: key − query
  // HF adds the position bias and then the mask to each layer's scores; adding their sum is the
  // same number (the mask is 0 at real keys, and far below any score at padded ones).
  const auto bias = relative_attention_bias(bucket).permute({2, 0, 1}).unsqueeze(0) +
                    key_mask_bias(mask, x.scalar_type());
  for (int64_t i = from; i < to; ++i) x = layer->at<MpnetLayerImpl>(i).forward(x, bias);
  return x;
}

W2S_ENGINE_INLINE at::Tensor MpnetModelImpl::forward(const at::Tensor& ids, const at::Tensor& mask) {
  return run_layers(embed(ids, mask), mask, 0, config_.num_hidden_layers);
}

W2S_ENGINE_INLINE MpnetCheckpoint load_mpnet(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  check(fs::is_directory(dir), dir.string(),
        ": not a folder (expected an MPNet checkpoint: config.json, model.safetensors, vocab.txt)");
  const auto weights = dir / "model.safetensors";
  check(fs::exists(weights), weights.string(), ": missing (an MPNet checkpoint folder needs config.json, ",
        "model.safetensors and vocab.txt)");
  const auto config = MpnetConfig::from_json_file(dir / "config.json");
  MpnetCheckpoint c{MpnetModel(config), read_pooling(dir), dir / "vocab.txt"};
  const int64_t lines = count_vocab_lines(c.vocab);
  check(lines == config.vocab_size, c.vocab.string(), ": ", lines, " tokens, but ", (dir / "config.json").string(),
        " says vocab_size ", config.vocab_size);
  load_encoder_weights(*c.model, weights, "mpnet.",
                       "an MPNet with " + std::to_string(config.num_hidden_layers) + " layers");
  c.model->eval();
  return c;
}

W2S_ENGINE_INLINE std::string mpnet_bert_vocab_hash(const std::filesystem::path& vocab_txt) {
  std::ifstream in(vocab_txt, std::ios::binary);
  check(in.good(), vocab_txt.string(), ": cannot open the MPNet vocabulary");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const std::vector<std::string> head = {"<s>", "<pad>", "</s>", "<unk>"};
  check(
      lines.size() > head.size() + 1 && std::equal(head.begin(), head.end(), lines.begin()) && lines.back() == "<mask>",
      vocab_txt.string(), ": expected <s>, <pad>, </s>, <unk> first and <mask> last (MPNet's tokens around ",
      "BERT uncased's vocabulary)");
  std::string bert;
  for (size_t i = head.size(); i + 1 < lines.size(); ++i) bert += lines[i] + "\n";
  check(lines[head.size()] == "[PAD]" && lines[head.size() + 100] == "[UNK]" && lines[head.size() + 101] == "[CLS]" &&
            lines[head.size() + 102] == "[SEP]",
        vocab_txt.string(), ": lines 5, 105, 106, 107 must be [PAD], [UNK], [CLS], [SEP] (BERT uncased's ids + 4)");
  return stable_hash(bert);
}

W2S_ENGINE_INLINE std::shared_ptr<BackboneImpl> make_mpnet_backbone(const BackboneSpec& spec, const Vocabulary* vocab) {
  auto checkpoint = load_mpnet(spec.checkpoint);
  const auto columns = wordpiece_columns(vocab, spec.checkpoint, mpnet_bert_vocab_hash(checkpoint.vocab),
                                         "the BERT part of " + checkpoint.vocab.string());
  auto model = checkpoint.model;
  return std::make_shared<EncoderBackbone>("mpnet", model.ptr(), *model, checkpoint.pooling, columns,
                                           mpnet_ids_from_bert);
}

inline const bool mpnet_kind_registered = register_model_kind(
    {.name = "mpnet",
     .description = "an MPNet sentence-transformers checkpoint folder (config.json, model.safetensors, vocab.txt, "
                    "pooling), reading the datasets' BERT uncased WordPiece ids: pooled sentence vectors",
     .make = [](const BackboneSpec& spec, const std::vector<int64_t>&,
                const Vocabulary* vocab) { return make_mpnet_backbone(spec, vocab); },
     .checkpoint = true,
     .checkpoint_id =
         [](const std::filesystem::path& dir) {
           std::string id;
           for (const auto& f : bert_files(dir))  // the same files as a BERT folder's
             id += std::filesystem::relative(f, dir).string() + ":" + file_checksum(f) + "|";
           return id;
         },
     .layered = true,
     .per_text_features = true,
     .model_types = {"mpnet"},
     .open =
         [](const std::filesystem::path& dir) {
           auto c = load_mpnet(dir);
           return opened_sentence_encoder(c.model.ptr(), /*pad_id=*/1, c.pooling);  // <pad> = 1, as HF's tokenizer
         },
     .text = CheckpointText::wordpiece,
     .ids_from_wordpiece = mpnet_ids_from_bert});
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
