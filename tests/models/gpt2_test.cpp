// GPT-2 in LibTorch: HF-named checkpoints written here from random values load by
// name and value (plain, `transformer.`-prefixed with buffers, F16); the Conv1D layout;
// the forward pass against an independent per-head reference; causal masking; the
// classifier's padding invariance and zero head; gelu_new at hand-computed points; and
// the errors for bad checkpoints and configs.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "w2s/models/gpt2.hpp"
#include "w2s/models/gpt2_classifier.hpp"

using namespace w2s;
namespace fs = std::filesystem;
namespace st = w2s::safetensors;

namespace {
/// A fresh folder under the per-process test folder, removed (with the parent, if empty) at the end.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("w2s_gpt2_test_" + std::to_string(::getpid())) / name) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
    fs::remove(path.parent_path(), ignored);  // only succeeds once empty
  }
};

Gpt2Config tiny() {
  Gpt2Config c;
  c.vocab_size = 50, c.n_positions = 32, c.n_embd = 16, c.n_layer = 2, c.n_head = 2;
  return c;
}

/// An HF-style config.json (GPT-2 small's keys, tiny sizes); `drop` removes a key, `set` overrides.
std::string config_text(const std::string& drop = "", const nlohmann::json& set = nlohmann::json::object()) {
  nlohmann::json j = {{"activation_function", "gelu_new"}, {"architectures", {"GPT2LMHeadModel"}},
                      {"attn_pdrop", 0.1}, {"bos_token_id", 49}, {"embd_pdrop", 0.1}, {"eos_token_id", 49},
                      {"initializer_range", 0.02}, {"layer_norm_epsilon", 1e-5}, {"model_type", "gpt2"},
                      {"n_ctx", 32}, {"n_embd", 16}, {"n_head", 2}, {"n_layer", 2}, {"n_positions", 32},
                      {"resid_pdrop", 0.1}, {"vocab_size", 50}};
  j.erase(drop);
  j.update(set);
  return j.dump(2);
}

/// The GPT2Model parameter names and shapes, written out from the HF layout (not read off the module).
std::vector<std::pair<std::string, std::vector<int64_t>>> hf_shapes(const Gpt2Config& c) {
  const int64_t e = c.n_embd;
  std::vector<std::pair<std::string, std::vector<int64_t>>> out = {{"wte.weight", {c.vocab_size, e}},
                                                                    {"wpe.weight", {c.n_positions, e}}};
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string p = "h." + std::to_string(i) + ".";
    out.insert(out.end(), {{p + "ln_1.weight", {e}}, {p + "ln_1.bias", {e}},
                           {p + "attn.c_attn.weight", {e, 3 * e}}, {p + "attn.c_attn.bias", {3 * e}},
                           {p + "attn.c_proj.weight", {e, e}}, {p + "attn.c_proj.bias", {e}},
                           {p + "ln_2.weight", {e}}, {p + "ln_2.bias", {e}},
                           {p + "mlp.c_fc.weight", {e, 4 * e}}, {p + "mlp.c_fc.bias", {4 * e}},
                           {p + "mlp.c_proj.weight", {4 * e, e}}, {p + "mlp.c_proj.bias", {e}}});
  }
  out.insert(out.end(), {{"ln_f.weight", {e}}, {"ln_f.bias", {e}}});
  return out;
}

using Weights = std::map<std::string, at::Tensor>;

Weights random_weights(const Gpt2Config& c, uint64_t seed) {
  at::manual_seed(seed);
  Weights w;
  for (const auto& [name, shape] : hf_shapes(c)) {
    const bool norm_gain = name.ends_with("ln_1.weight") || name.ends_with("ln_2.weight") || name == "ln_f.weight";
    w[name] = norm_gain ? 1 + 0.1 * at::randn(shape) : 0.3 * at::randn(shape);
  }
  return w;
}

std::vector<float> values_of(const at::Tensor& t) {
  const auto c = t.to(at::kFloat).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

/// config.json + model.safetensors, names prefixed by `prefix`, plus `extra` tensors.
void write_checkpoint(const fs::path& dir, const Weights& w, st::DType dtype = st::DType::F32,
                      const std::string& prefix = "", std::vector<st::TensorData> extra = {},
                      const std::string& config = config_text()) {
  std::ofstream(dir / "config.json") << config;
  std::vector<st::TensorData> tensors;
  for (const auto& [name, t] : w)
    tensors.push_back(st::from_float32(prefix + name, t.sizes().vec(), values_of(t), dtype));
  for (auto& t : extra) tensors.push_back(std::move(t));
  st::write(dir / "model.safetensors", tensors, {{"format", "pt"}});
}

/// Every HF name is a parameter of `model` with the expected value (exactly, or F16-rounded).
void require_weights(const Gpt2ModelImpl& model, const Weights& w, bool f16 = false) {
  const auto params = model.named_parameters();
  REQUIRE(params.size() == w.size());
  for (const auto& [name, expected] : w) {
    INFO(name);
    const auto* p = params.find(name);
    REQUIRE(p != nullptr);
    REQUIRE(p->sizes() == expected.sizes());
    if (f16) {
      REQUIRE(at::equal(*p, expected.to(at::kHalf).to(at::kFloat)));
      REQUIRE(at::allclose(*p, expected, 1e-3, 1e-6));
    } else {
      REQUIRE(at::equal(*p, expected));
    }
  }
}

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

/// GPT-2's forward pass for one unpadded sequence, written from the architecture (per-head
/// slices of q|k|v, explicit causal loops) rather than from the module's batched code.
at::Tensor reference_forward(Weights w, const Gpt2Config& c, const at::Tensor& ids) {
  const int64_t t = ids.size(0), e = c.n_embd, d = e / c.n_head;
  const auto ln = [&](const at::Tensor& x, const std::string& p) {
    const auto mean = x.mean(-1, true), var = (x - mean).pow(2).mean(-1, true);
    return (x - mean) / at::sqrt(var + c.layer_norm_epsilon) * w[p + ".weight"] + w[p + ".bias"];
  };
  const auto gelu = [](const at::Tensor& x) {
    return 0.5 * x * (1 + at::tanh(std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * at::pow(x, 3))));
  };
  auto x = w["wte.weight"].index_select(0, ids) + w["wpe.weight"].slice(0, 0, t);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    const auto qkv = ln(x, p + "ln_1").matmul(w[p + "attn.c_attn.weight"]) + w[p + "attn.c_attn.bias"];
    auto heads = at::zeros({t, e});
    for (int64_t hd = 0; hd < c.n_head; ++hd)
      for (int64_t q = 0; q < t; ++q) {
        const auto query = qkv[q].slice(0, hd * d, (hd + 1) * d);
        const auto keys = qkv.slice(0, 0, q + 1).slice(1, e + hd * d, e + (hd + 1) * d);
        const auto vals = qkv.slice(0, 0, q + 1).slice(1, 2 * e + hd * d, 2 * e + (hd + 1) * d);
        const auto probs = at::softmax(keys.matmul(query) / std::sqrt(double(d)), 0);
        heads[q].slice(0, hd * d, (hd + 1) * d).copy_(probs.matmul(vals));
      }
    x = x + heads.matmul(w[p + "attn.c_proj.weight"]) + w[p + "attn.c_proj.bias"];
    const auto m = gelu(ln(x, p + "ln_2").matmul(w[p + "mlp.c_fc.weight"]) + w[p + "mlp.c_fc.bias"]);
    x = x + m.matmul(w[p + "mlp.c_proj.weight"]) + w[p + "mlp.c_proj.bias"];
  }
  return ln(x, "ln_f");
}
}  // namespace

TEST_CASE("GPT-2 loads HF-named checkpoints by name and value", "[gpt2]") {
  const TempDir dir("load");
  const auto w = random_weights(tiny(), 1);
  SECTION("GPT2Model names, F32") {
    write_checkpoint(dir.path, w);
    auto model = load_gpt2(dir.path);
    require_weights(*model, w);
    REQUIRE_FALSE(model->is_training());  // eval mode, like HF's from_pretrained
    REQUIRE(model->config().n_layer == 2);
    REQUIRE(model->config().n_positions == 32);
  }
  SECTION("GPT2LMHeadModel names: transformer. prefix, attention buffers, tied lm_head") {
    std::vector<st::TensorData> extra;
    const auto mask = at::ones({32, 32}, at::kByte).tril();
    for (int i = 0; i < 2; ++i) {
      const std::string p = "transformer.h." + std::to_string(i) + ".attn.";
      std::vector<std::byte> bytes(32 * 32);
      std::memcpy(bytes.data(), mask.data_ptr(), bytes.size());
      extra.push_back({p + "bias", st::DType::U8, {1, 1, 32, 32}, std::move(bytes)});
      extra.push_back(st::from_float32(p + "masked_bias", {}, {-1e4f}));
    }
    extra.push_back(st::from_float32("lm_head.weight", {50, 16}, values_of(w.at("wte.weight"))));
    write_checkpoint(dir.path, w, st::DType::F32, "transformer.", std::move(extra));
    require_weights(*load_gpt2(dir.path), w);
  }
  SECTION("F16 data, into an F32 and a BF16 model") {
    write_checkpoint(dir.path, w, st::DType::F16);
    require_weights(*load_gpt2(dir.path), w, /*f16=*/true);
    Gpt2Model bf16(tiny());
    bf16->to(at::kBFloat16);
    load_gpt2_weights(*bf16, dir.path / "model.safetensors");
    REQUIRE(bf16->wte->weight.scalar_type() == at::kBFloat16);
    REQUIRE(at::allclose(bf16->wte->weight.to(at::kFloat), w.at("wte.weight"), 1e-2, 1e-3));
  }
}

TEST_CASE("GPT-2 saves a checkpoint that loads back", "[gpt2]") {
  const TempDir dir("save");
  auto c = tiny();
  c.activation_function = "relu", c.layer_norm_epsilon = 1e-6;
  Gpt2Model model(c);
  save_gpt2(*model, dir.path);
  const auto loaded = load_gpt2(dir.path);
  REQUIRE(loaded->config().to_json() == c.to_json());
  Weights w;
  for (const auto& p : model->named_parameters()) w[p.key()] = p.value().detach();
  require_weights(*loaded, w);
  save_gpt2(*model, dir.path, st::DType::F16);
  require_weights(*load_gpt2(dir.path), w, /*f16=*/true);
}

TEST_CASE("GPT-2 Conv1D computes x·W + b with W stored in×out", "[gpt2]") {
  Gpt2Conv1D conv(3, 2);
  {
    at::NoGradGuard no_grad;
    conv->weight.copy_(at::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).view({3, 2}));
    conv->bias.copy_(at::tensor({0.5f, -1.f}));
  }
  const auto x = at::tensor({1.f, 0.f, -1.f, 2.f, 1.f, 0.f}).view({1, 2, 3});
  // By hand: y[j] = sum_i x[i]·W[i][j] + b[j].
  const auto expected = at::tensor({-3.5f, -5.f, 5.5f, 7.f}).view({1, 2, 2});
  REQUIRE(at::equal(conv->forward(x), expected));

  // Inside a loaded model: c_attn of block 0 applies the stored [n_embd, 3·n_embd] matrix as is.
  const TempDir dir("conv");
  const auto w = random_weights(tiny(), 2);
  write_checkpoint(dir.path, w);
  auto model = load_gpt2(dir.path);
  auto& attn = *model->h->at<Gpt2BlockImpl>(0).attn;
  const auto input = at::randn({2, 3, 16});
  const auto by_hand = input.matmul(w.at("h.0.attn.c_attn.weight")) + w.at("h.0.attn.c_attn.bias");
  REQUIRE(max_diff(attn.c_attn->forward(input), by_hand) < 1e-6);
}

TEST_CASE("GPT-2 forward matches a per-head reference; LM head is tied to wte", "[gpt2]") {
  const TempDir dir("forward");
  const auto w = random_weights(tiny(), 3);
  write_checkpoint(dir.path, w);
  auto model = load_gpt2(dir.path);
  const auto ids = at::tensor({3, 14, 15, 9, 26, 5, 35, 8}, at::kLong);
  const auto hidden = model->forward(ids.view({1, 8}));
  REQUIRE(hidden.sizes() == at::IntArrayRef({1, 8, 16}));
  REQUIRE(max_diff(hidden[0], reference_forward(w, tiny(), ids)) < 1e-5);
  const auto logits = model->lm_logits(hidden);
  REQUIRE(logits.sizes() == at::IntArrayRef({1, 8, 50}));
  REQUIRE(max_diff(logits[0], hidden[0].matmul(w.at("wte.weight").t())) < 1e-5);

  // bf16: runs in bf16 and stays near the f32 result.
  model->to(at::kBFloat16);
  const auto low = model->forward(ids.view({1, 8}));
  REQUIRE(low.scalar_type() == at::kBFloat16);
  REQUIRE(max_diff(low, hidden) < 0.1);
}

TEST_CASE("GPT-2 attention is causal", "[gpt2]") {
  Gpt2Model model(tiny());
  model->eval();
  const auto ids = at::randint(0, 50, {2, 10}, at::kLong);
  auto changed = ids.clone();
  changed.slice(1, 6).copy_((ids.slice(1, 6) + 7) % 50);  // tokens 6..9 differ
  const auto a = model->forward(ids), b = model->forward(changed);
  REQUIRE(max_diff(a.slice(1, 0, 6), b.slice(1, 0, 6)) < 1e-6);
  REQUIRE(max_diff(a.slice(1, 6), b.slice(1, 6)) > 1e-3);
}

TEST_CASE("GPT-2 classifier: zero head at init, logits invariant to right padding", "[gpt2]") {
  Gpt2Classifier clf(tiny(), 3);
  clf->eval();
  REQUIRE(clf->head()->weight.sizes() == at::IntArrayRef({3, 16}));
  REQUIRE(clf->head()->bias.defined() == false);
  const auto short_ids = at::tensor({4, 8, 15, 16, 23}, at::kLong).view({1, 5});
  const auto long_ids = at::tensor({42, 7, 1, 2, 3, 4, 5, 6}, at::kLong).view({1, 8});
  REQUIRE(at::equal(clf->forward(short_ids), at::zeros({1, 3})));

  {
    at::NoGradGuard no_grad;
    clf->head()->weight.normal_();
  }
  // Row 0: the short sequence padded with junk ids to length 8; row 1: the long sequence.
  const auto ids = at::cat({at::cat({short_ids, at::tensor({49, 0, 11}, at::kLong).view({1, 3})}, 1), long_ids});
  const auto mask = at::tensor({1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}, at::kLong).view({2, 8});
  const auto padded = clf->forward(ids, mask);
  REQUIRE(padded.sizes() == at::IntArrayRef({2, 3}));
  REQUIRE(max_diff(padded[0], clf->forward(short_ids)[0]) < 1e-5);
  REQUIRE(max_diff(padded[1], clf->forward(long_ids)[0]) < 1e-5);
  REQUIRE(max_diff(padded[0], padded[1]) > 1e-4);

  const auto features = clf->features(ids, mask);
  REQUIRE_FALSE(features.requires_grad());
  REQUIRE(max_diff(features[0], clf->transformer()->forward(short_ids)[0][4]) < 1e-5);
}

TEST_CASE("gelu_new matches the tanh formula at hand-computed points", "[gpt2]") {
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), evaluated in double by hand (Python math).
  const auto y = gelu_new(at::tensor({0.0, 1.0, -2.0, 3.0}, at::kDouble));
  const auto expected = at::tensor({0.0, 0.8411919906082768, -0.04540230591222494, 2.996362607918227}, at::kDouble);
  REQUIRE(max_diff(y, expected) < 1e-12);
}

TEST_CASE("GPT-2 checkpoints and configs with defects fail with the name and what was expected", "[gpt2]") {
  const TempDir dir("errors");
  const auto w = random_weights(tiny(), 4);
  SECTION("missing parameter") {
    auto fewer = w;
    fewer.erase("h.1.mlp.c_fc.bias");
    write_checkpoint(dir.path, fewer);
    REQUIRE_THROWS_WITH(load_gpt2(dir.path),
                        Catch::Contains("model.safetensors: missing parameters: h.1.mlp.c_fc.bias"));
  }
  SECTION("unexpected name") {
    auto more = w;
    more["h.2.ln_1.weight"] = at::ones({16});
    more["h.0.attn.rotary.weight"] = at::ones({4});
    write_checkpoint(dir.path, more);
    REQUIRE_THROWS_WITH(load_gpt2(dir.path), Catch::Contains("unexpected tensor names") &&
                                                 Catch::Contains("h.0.attn.rotary.weight") &&
                                                 Catch::Contains("h.2.ln_1.weight"));
  }
  SECTION("shape mismatch: a Linear-layout (transposed) c_attn weight") {
    auto transposed = w;
    transposed["h.0.attn.c_attn.weight"] = w.at("h.0.attn.c_attn.weight").t().contiguous();
    write_checkpoint(dir.path, transposed);
    REQUIRE_THROWS_WITH(load_gpt2(dir.path),
                        Catch::Contains("h.0.attn.c_attn.weight: expected shape [16, 48], got [48, 16]") &&
                            Catch::Contains("in×out"));
  }
  SECTION("lm_head of another shape") {
    write_checkpoint(dir.path, w, st::DType::F32, "transformer.",
                     {st::from_float32("lm_head.weight", {2, 2}, {1, 2, 3, 4})});
    REQUIRE_THROWS_WITH(load_gpt2(dir.path), Catch::Contains("lm_head.weight: expected shape [50, 16]"));
  }
  SECTION("config sizes larger than the weights: refused before a model of the config's size is allocated") {
    write_checkpoint(dir.path, w, st::DType::F32, "", {}, config_text("", {{"n_layer", 100000}}));
    REQUIRE_THROWS_WITH(load_gpt2(dir.path), Catch::Contains("config.json: n_layer 100000 does not match") &&
                                                 Catch::Contains("model.safetensors, which holds 2 layers"));
    write_checkpoint(dir.path, w, st::DType::F32, "", {}, config_text("", {{"vocab_size", 1000000000}}));
    REQUIRE_THROWS_WITH(load_gpt2(dir.path), Catch::Contains("config.json: vocab_size and n_embd do not match") &&
                                                 Catch::Contains("wte.weight has shape [50, 16]"));
    write_checkpoint(dir.path, w, st::DType::F32, "", {}, config_text("", {{"n_embd", 65536}, {"n_head", 4}}));
    REQUIRE_THROWS_WITH(load_gpt2(dir.path), Catch::Contains("has shape [") && Catch::Contains(", 16], the config implies [") &&
                                                 Catch::Contains(", 65536]"));
  }
  SECTION("config.json missing a key") {
    write_checkpoint(dir.path, w, st::DType::F32, "", {}, config_text("n_head"));
    REQUIRE_THROWS_WITH(load_gpt2(dir.path), Catch::Contains("config.json: missing key 'n_head'"));
  }
  SECTION("n_embd not divisible by n_head") {
    write_checkpoint(dir.path, w, st::DType::F32, "", {}, config_text("", {{"n_head", 3}}));
    REQUIRE_THROWS_WITH(load_gpt2(dir.path),
                        Catch::Contains("config.json: n_embd (16) is not divisible by n_head (3)"));
  }
  SECTION("unknown activation") {
    write_checkpoint(dir.path, w, st::DType::F32, "", {}, config_text("", {{"activation_function", "swish"}}));
    REQUIRE_THROWS_WITH(load_gpt2(dir.path),
                        Catch::Contains("activation_function 'swish' is not supported") &&
                            Catch::Contains("expected one of: gelu_new, gelu, relu"));
  }
  SECTION("no model.safetensors") {
    std::ofstream(dir.path / "config.json") << config_text();
    REQUIRE_THROWS_WITH(load_gpt2(dir.path), Catch::Contains("model.safetensors: missing"));
  }
  SECTION("float16 on the CPU (LibTorch 1.13 has no float16 CPU LayerNorm)") {
    Gpt2Model model(tiny());
    model->to(at::kHalf);
    REQUIRE_THROWS_WITH(model->forward(at::zeros({1, 3}, at::kLong)), Catch::Contains("use at::kBFloat16 on the CPU"));
  }
  SECTION("left padding") {
    Gpt2Model model(tiny());
    const auto mask = at::tensor({0, 1, 1}, at::kLong).view({1, 3});
    REQUIRE_THROWS_WITH(model->forward(at::zeros({1, 3}, at::kLong), mask), Catch::Contains("right padding"));
  }
}
