// The GGUF reader (io/gguf.hpp): a file written byte by byte here with every metadata type and
// the four tensor types, dequantised values against hand-computed ones, one test per structural
// defect, and every truncation of a valid file ending in a w2s::Error (never a crash). Also the
// Llama pieces that need no checkpoint (models/llama.hpp): the q/k permutation undone, the GGUF
// names mapped, RMSNorm and the rotary embedding against their formulas, and causality.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/io/gguf.hpp"
#include "w2s/io/safetensors.hpp"
#include "w2s/models/llama.hpp"
#include "w2s/models/top_layers.hpp"

namespace fs = std::filesystem;
using w2s::gguf::File;

namespace {
const fs::path root = fs::temp_directory_path() / ("w2s_gguf_test_" + std::to_string(::getpid()));
const struct Cleanup {
  ~Cleanup() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }
} cleanup;

/// Builds a GGUF file's bytes field by field.
struct Writer {
  std::string bytes;
  template <class T>
  Writer& raw(T v) {
    bytes.append(reinterpret_cast<const char*>(&v), sizeof(T));
    return *this;
  }
  Writer& str(const std::string& s) {
    raw<uint64_t>(s.size());
    bytes += s;
    return *this;
  }
  Writer& key(const std::string& k, uint32_t type) { return str(k).raw<uint32_t>(type); }
  void pad(size_t alignment = 32) {
    while (bytes.size() % alignment) bytes.push_back('\0');
  }
};

uint16_t f16(float x) { return w2s::safetensors::detail::float_to_f16(x); }

struct Tensor {
  std::string name;
  std::vector<uint64_t> ne;
  uint32_t type;
  std::string data;
};

/// A whole file: header, `kv` (already-encoded metadata entries, `n_kv` of them), tensor infos,
/// padding, data (each tensor aligned to 32).
std::string gguf_file(const std::string& kv, uint64_t n_kv, const std::vector<Tensor>& tensors) {
  Writer w;
  w.raw<uint32_t>(0x46554747u).raw<uint32_t>(3).raw<uint64_t>(tensors.size()).raw<uint64_t>(n_kv);
  w.bytes += kv;
  uint64_t offset = 0;
  std::vector<uint64_t> offsets;
  for (const auto& t : tensors) {
    offsets.push_back(offset);
    offset += (t.data.size() + 31) / 32 * 32;
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    w.str(tensors[i].name).raw<uint32_t>(uint32_t(tensors[i].ne.size()));
    for (auto d : tensors[i].ne) w.raw<uint64_t>(d);
    w.raw<uint32_t>(tensors[i].type).raw<uint64_t>(offsets[i]);
  }
  w.pad();
  for (const auto& t : tensors) {
    w.bytes += t.data;
    w.pad();
  }
  return w.bytes;
}

fs::path write(const std::string& name, const std::string& bytes) {
  fs::create_directories(root);
  const auto p = root / name;
  std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  return p;
}

/// Metadata with one entry of every kind.
std::string every_kind(uint64_t& n) {
  Writer w;
  w.key("u8", 0).raw<uint8_t>(200);
  w.key("i8", 1).raw<int8_t>(-5);
  w.key("u16", 2).raw<uint16_t>(60000);
  w.key("i16", 3).raw<int16_t>(-300);
  w.key("u32", 4).raw<uint32_t>(4000000000u);
  w.key("i32", 5).raw<int32_t>(-7);
  w.key("f32", 6).raw<float>(0.25f);
  w.key("bool", 7).raw<uint8_t>(1);
  w.key("string", 8).str("héllo");
  w.key("strings", 9).raw<uint32_t>(8).raw<uint64_t>(2).str("a b").str("");
  w.key("ints", 9).raw<uint32_t>(5).raw<uint64_t>(3).raw<int32_t>(1).raw<int32_t>(-2).raw<int32_t>(3);
  w.key("u64", 10).raw<uint64_t>(1ull << 40);
  w.key("i64", 11).raw<int64_t>(-(1ll << 40));
  w.key("f64", 12).raw<double>(1e-5);
  n = 14;
  return w.bytes;
}

/// Four tensors: F32 [3], F16 2×2 (ne {2, 2}), Q8_0 [32] and Q4_1 [32], with known values.
std::vector<Tensor> four_tensors() {
  Writer f32, f16w, q8, q4;
  for (float x : {1.5f, -2.0f, 3.25f}) f32.raw<float>(x);
  for (float x : {0.5f, -1.0f, 2.0f, 65504.0f}) f16w.raw<uint16_t>(f16(x));
  q8.raw<uint16_t>(f16(0.5f));  // d
  for (int j = 0; j < 32; ++j) q8.raw<int8_t>(int8_t(j - 16));
  q4.raw<uint16_t>(f16(0.25f)).raw<uint16_t>(f16(-1.0f));  // d, m
  for (int j = 0; j < 16; ++j) q4.raw<uint8_t>(uint8_t((j & 0x0F) | ((15 - j) << 4)));
  return {{"a.f32", {3}, 0, f32.bytes},
          {"b.f16", {2, 2}, 1, f16w.bytes},
          {"c.q8", {32}, 8, q8.bytes},
          {"d.q4", {32}, 3, q4.bytes}};
}

std::string valid_file() {
  uint64_t n = 0;
  const auto kv = every_kind(n);
  return gguf_file(kv, n, four_tensors());
}

void refused(const std::string& bytes, const std::string& expected) {
  const auto p = write("bad.gguf", bytes);
  REQUIRE_THROWS_WITH(File(p), Catch::Contains(expected));
}
}  // namespace

TEST_CASE("GGUF: every metadata type reads back", "[gguf]") {
  const File f(write("kinds.gguf", valid_file()));
  CHECK(f.version() == 3);
  CHECK(f.alignment() == 32);
  CHECK(f.uint("u8") == 200);
  CHECK(f.number("i8") == -5);
  CHECK(f.uint("u16") == 60000);
  CHECK(f.number("i16") == -300);
  CHECK(f.uint("u32") == 4000000000u);
  CHECK(f.number("f32") == 0.25);
  CHECK(f.boolean("bool"));
  CHECK(f.string("string") == "héllo");
  CHECK((f.strings("strings") == std::vector<std::string>{"a b", ""}));
  CHECK((f.integers("ints") == std::vector<int64_t>{1, -2, 3}));
  CHECK(f.uint("u64") == (1ull << 40));
  CHECK(f.number("i64") == -double(1ll << 40));
  CHECK(f.number("f64") == 1e-5);
  // Asked as the wrong kind, or missing: named.
  CHECK_THROWS_WITH(f.uint("i8"), Catch::Contains("metadata 'i8': expected a non-negative integer, got i8"));
  CHECK_THROWS_WITH(f.string("u8"), Catch::Contains("metadata 'u8': expected a string, got u8"));
  CHECK_THROWS_WITH(f.strings("ints"), Catch::Contains("expected an array of strings, got an array of i32"));
  CHECK_THROWS_WITH(f.boolean("nope"), Catch::Contains("no metadata 'nope'"));
}

TEST_CASE("GGUF: F32, F16, Q8_0 and Q4_1 dequantise to hand-computed values", "[gguf]") {
  const File f(write("tensors.gguf", valid_file()));
  REQUIRE(f.tensors().size() == 4);
  auto a = f.to_float("a.f32");
  CHECK(a.sizes().vec() == std::vector<int64_t>{3});
  CHECK(a[0].item<float>() == 1.5f);
  CHECK(a[2].item<float>() == 3.25f);
  auto b = f.to_float("b.f16");  // ne {2, 2}: 2×2 row-major, the first two values the first row
  CHECK((b.sizes().vec() == std::vector<int64_t>{2, 2}));
  CHECK(b[0][1].item<float>() == -1.0f);
  CHECK(b[1][1].item<float>() == 65504.0f);
  auto c = f.to_float("c.q8");  // x_j = 0.5 (j − 16)
  for (int j = 0; j < 32; ++j) CHECK(c[j].item<float>() == 0.5f * float(j - 16));
  auto d = f.to_float("d.q4");  // low nibble j for the first 16, high nibble 15 − j for the rest: x = 0.25 q − 1
  for (int j = 0; j < 16; ++j) {
    CHECK(d[j].item<float>() == 0.25f * float(j) - 1.0f);
    CHECK(d[j + 16].item<float>() == 0.25f * float(15 - j) - 1.0f);
  }
  CHECK_THROWS_WITH(f.at("e"), Catch::Contains("no tensor 'e'"));
}

TEST_CASE("GGUF: an unsupported tensor type is named with its tensor", "[gguf]") {
  Writer q4k;
  for (int k = 0; k < 144; ++k) q4k.raw<uint8_t>(0);
  const File f(write("q4k.gguf", gguf_file("", 0, {{"blk.0.attn_q.weight", {256}, 12, q4k.bytes}})));
  CHECK(f.at("blk.0.attn_q.weight").nbytes == 144);
  CHECK_THROWS_WITH(f.to_float("blk.0.attn_q.weight"),
                    Catch::Contains("tensor 'blk.0.attn_q.weight'") && Catch::Contains("Q4_K is not supported"));
}

TEST_CASE("GGUF: each structural defect is an error naming it", "[gguf]") {
  const std::string good = valid_file();
  std::string bad = good;
  bad[0] = 'X';
  refused(bad, "does not start with \"GGUF\"");
  bad = good;
  bad[4] = 9;
  refused(bad, "GGUF version 9; expected 2 or 3");
  refused(good.substr(0, 10), "shorter than a GGUF header");
  // a duplicate key
  Writer dup;
  dup.key("k", 4).raw<uint32_t>(1).key("k", 4).raw<uint32_t>(2);
  refused(gguf_file(dup.bytes, 2, {}), "metadata key 'k' appears twice");
  // an unknown value type
  Writer unknown;
  unknown.key("k", 13).raw<uint32_t>(1);
  refused(gguf_file(unknown.bytes, 1, {}), "metadata 'k': unknown value type 13");
  // a bool that is not 0 or 1
  Writer boolean;
  boolean.key("b", 7).raw<uint8_t>(2);
  refused(gguf_file(boolean.bytes, 1, {}), "a bool must be 0 or 1, got 2");
  // a tensor past the end of the file
  auto t = four_tensors();
  const auto whole = gguf_file("", 0, t);
  refused(whole.substr(0, whole.size() - 40), "runs past the end of the file");
  // a row that is not whole blocks
  refused(gguf_file("", 0, {{"x", {16}, 8, std::string(34, '\0')}}),
          "a row of 16 values is not a whole number of Q8_0");
  // a misaligned offset, and two tensors on the same bytes
  Writer w;
  w.raw<uint32_t>(0x46554747u).raw<uint32_t>(3).raw<uint64_t>(1).raw<uint64_t>(0);
  w.str("x").raw<uint32_t>(1).raw<uint64_t>(1).raw<uint32_t>(0).raw<uint64_t>(4);
  w.pad();
  w.bytes += std::string(64, '\0');
  refused(w.bytes, "tensor 'x': offset 4 is not a multiple of the alignment 32");
  Writer overlap;
  overlap.raw<uint32_t>(0x46554747u).raw<uint32_t>(3).raw<uint64_t>(2).raw<uint64_t>(0);
  overlap.str("x").raw<uint32_t>(1).raw<uint64_t>(16).raw<uint32_t>(0).raw<uint64_t>(0);
  overlap.str("y").raw<uint32_t>(1).raw<uint64_t>(16).raw<uint32_t>(0).raw<uint64_t>(32);
  overlap.pad();
  overlap.bytes += std::string(128, '\0');
  refused(overlap.bytes, "tensors 'x' and 'y' overlap");
  // a huge count in the header
  Writer huge;
  huge.raw<uint32_t>(0x46554747u).raw<uint32_t>(3).raw<uint64_t>(0).raw<uint64_t>(1ull << 60);
  refused(huge.bytes + std::string(16, '\0'), "more than a");
}

TEST_CASE("GGUF: every truncation of a valid file is a w2s::Error", "[gguf]") {
  const std::string good = valid_file();
  for (size_t n = 0; n < good.size(); n += 7) {
    const auto p = write("cut.gguf", good.substr(0, n));
    try {
      File f(p);
      // a cut inside the last tensor's padding still reads: every tensor must then convert
      for (const auto& t : f.tensors()) (void)f.to_float(t.name);
    } catch (const w2s::Error&) {
    }
  }
}

TEST_CASE("Llama: GGUF names map to HF's and q/k rows are permuted back", "[llama]") {
  using w2s::llama_detail::hf_name;
  CHECK(hf_name("token_embd.weight") == "embed_tokens.weight");
  CHECK(hf_name("blk.12.attn_q.weight") == "layers.12.self_attn.q_proj.weight");
  CHECK(hf_name("blk.0.ffn_norm.weight") == "layers.0.post_attention_layernorm.weight");
  CHECK(hf_name("output_norm.weight") == "norm.weight");
  CHECK(hf_name("blk.x.attn_q.weight").empty());
  CHECK(hf_name("rope_freqs.weight").empty());
  // llama.cpp permutes each head's rows (d of them) as HF row r -> GGUF row: first half r -> 2r,
  // second half r -> 2(r − d/2) + 1. Undone, the GGUF rows 0..7 of one 8-row head read 0,2,4,6,1,3,5,7.
  const auto gguf_rows = at::arange(16, at::kFloat).reshape({16, 1});  // 2 heads of 8 rows
  const auto hf = w2s::llama_detail::unpermute(gguf_rows, 2).flatten();
  const std::vector<float> expected = {0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15};
  for (int r = 0; r < 16; ++r) CHECK(hf[r].item<float>() == expected[r]);
}

TEST_CASE("Llama: RMSNorm, rotary positions and causality", "[llama]") {
  w2s::LlamaConfig c;
  c.vocab_size = 11, c.hidden_size = 8, c.intermediate_size = 12, c.num_hidden_layers = 2;
  c.num_attention_heads = 2, c.num_key_value_heads = 1, c.max_position_embeddings = 16, c.rope_theta = 100.0;
  w2s::LlamaModel model(c);
  model->eval();
  // RMSNorm: x / sqrt(mean(x^2) + eps) * weight
  w2s::LlamaRmsNorm norm(4, 1e-5);
  const auto x = at::tensor({1.0f, -2.0f, 3.0f, 0.5f});
  const double rms = std::sqrt((1 + 4 + 9 + 0.25) / 4.0 + 1e-5);
  CHECK(norm(x)[2].item<float>() == Approx(3.0 / rms).epsilon(1e-6));
  // Causal: a later token does not change an earlier one's state; padding after a row does not either.
  at::NoGradGuard no_grad;
  const auto ids = at::tensor(std::vector<int64_t>{3, 5, 7, 2}).reshape({1, 4});
  const auto full = model->forward(ids, at::ones({1, 4}, at::kLong));
  const auto cut = model->forward(ids.slice(1, 0, 2), at::ones({1, 2}, at::kLong));
  CHECK(at::allclose(full.slice(1, 0, 2), cut, 1e-5, 1e-6));
  const auto padded = model->forward(ids, at::tensor(std::vector<int64_t>{1, 1, 0, 0}).reshape({1, 4}));
  CHECK(at::allclose(padded.slice(1, 0, 2), cut, 1e-5, 1e-6));
  // Rotary: without positions, attention is blind to the order of the keys, so the last token of
  // [5, 4, 4] and of [4, 5, 4] would get one state; the rotary embedding tells them apart ...
  const auto one =
      model->forward(at::tensor(std::vector<int64_t>{5, 4, 4}).reshape({1, 3}), at::ones({1, 3}, at::kLong));
  const auto other =
      model->forward(at::tensor(std::vector<int64_t>{4, 5, 4}).reshape({1, 3}), at::ones({1, 3}, at::kLong));
  CHECK_FALSE(at::allclose(one[0][2], other[0][2], 1e-4, 1e-5));
  // ... and rotate_half is (−x₂, x₁).
  const auto r = w2s::llama_detail::rotate_half(at::tensor({1.0f, 2.0f, 3.0f, 4.0f}));
  CHECK(at::equal(r, at::tensor({-3.0f, -4.0f, 1.0f, 2.0f})));
  CHECK((model->logits(full).sizes().vec() == std::vector<int64_t>{1, 4, 11}));
  // ... and a config that does not divide is refused.
  c.num_key_value_heads = 3;
  CHECK_THROWS_WITH(w2s::LlamaModel(c),
                    Catch::Contains("num_attention_heads 2 is not a multiple of num_key_value_heads 3"));
}

TEST_CASE("Llama as a backbone: last-token features, split layers, next-token log-probs", "[llama]") {
  w2s::LlamaConfig c;
  c.vocab_size = 13, c.hidden_size = 8, c.intermediate_size = 12, c.num_hidden_layers = 3;
  c.num_attention_heads = 2, c.num_key_value_heads = 1, c.max_position_embeddings = 16, c.rope_theta = 100.0;
  torch::manual_seed(3);
  w2s::LlamaModel model(c);
  model->eval();
  // Two word columns, then the model's ids padded with −1 (a text dataset's "gguf-bpe" segment).
  const auto x = at::tensor(std::vector<int64_t>{7, 7, 3, 5,  0,  2,  -1,  //
                                                 7, 7, 4, -1, -1, -1, -1,  //
                                                 7, 7, 9, 8,  1,  12, 6})
                     .reshape({3, 7});
  w2s::LlamaBackbone bb(model, w2s::TokenColumns{.begin = 2, .end = 0, .pad = -1}, "tok");
  CHECK(bb.columns().begin == 2);
  CHECK(bb.columns().pad == -1);
  CHECK(bb.layers() == 3);
  CHECK(bb.features() == 8);
  at::NoGradGuard no_grad;
  const auto features = bb.forward(x);
  REQUIRE(features.sizes() == at::IntArrayRef({3, 8}));
  // Each row alone, unpadded (token id 0 is a real token in row 0): the final state of its last token.
  const std::vector<std::vector<int64_t>> rows = {{3, 5, 0, 2}, {4}, {9, 8, 1, 12, 6}};
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto ids = at::tensor(rows[i]).reshape({1, -1});
    const auto h = model->forward(ids, at::ones_like(ids));
    CHECK(at::allclose(features[int64_t(i)], h[0][ids.size(1) - 1], 1e-5, 1e-6));
    const auto logp = at::log_softmax(model->logits(h[0][ids.size(1) - 1].unsqueeze(0)), 1);
    CHECK(
        at::allclose(bb.next_token_log_probs(bb.token_ids(x)).slice(0, int64_t(i), int64_t(i) + 1), logp, 1e-5, 1e-6));
  }
  // Mean pooling (smollm2-135m-mean): the average of each row's real tokens' final states.
  w2s::LlamaBackbone mean_bb(model, w2s::TokenColumns{.begin = 2, .end = 0, .pad = -1}, "tok", "mean");
  const auto mean_features = mean_bb.forward(x);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto ids = at::tensor(rows[i]).reshape({1, -1});
    CHECK(at::allclose(mean_features[int64_t(i)], model->forward(ids, at::ones_like(ids))[0].mean(0), 1e-5, 1e-6));
  }
  CHECK_FALSE(at::allclose(mean_features, features, 1e-3, 1e-3));
  // Frozen lower layers then the top ones (and the final norm) give the same features.
  CHECK(at::allclose(bb.upper(bb.lower(x, 2, 0), 2, 32), features, 1e-5, 1e-6));
  CHECK(at::allclose(bb.upper(bb.lower(x, 0, 0), 0, 32), features, 1e-5, 1e-6));
  // Top-k: only the last layer trains; its modules carry HF's names.
  bb.train_only_from(2);
  for (const auto& p : model->named_parameters()) CHECK(p.value().requires_grad() == p.key().starts_with("layers.2."));
  const auto modules = bb.layer_modules(2);
  REQUIRE_FALSE(modules.empty());
  for (const auto& [name, m] : modules) CHECK(name.starts_with("layers.2."));
  // The flops of a token: q, o of 8×8, k, v of 8×4, three 8×12 matrices, ×2, per layer.
  CHECK(bb.forward_flops() == Approx(2.0 * 3 * (2 * 64 + 2 * 32 + 3 * 96)));
  // LoRA on the top block: the adapters and the head train, nothing else.
  w2s::LoraOptions lora;
  lora.rank = 2, lora.alpha = 4, lora.targets = {"q_proj", "v_proj"};
  w2s::LlamaModel fresh(c);
  w2s::TopLayersImpl adapted(
      std::make_shared<w2s::LlamaBackbone>(fresh, w2s::TokenColumns{.begin = 2, .end = 0, .pad = -1}, "tok"), 2, 2,
      lora);
  std::vector<std::string> trained;
  for (const auto& p : adapted.named_parameters())
    if (p.value().requires_grad()) trained.push_back(p.key());
  CHECK(trained.size() == 5);  // layer 2 x {q_proj, v_proj} x {A, B} + the head
  // A row with no token of its own is refused.
  CHECK_THROWS_WITH(bb.forward(at::tensor(std::vector<int64_t>{7, 7, -1, -1}).reshape({1, 4})),
                    Catch::Contains("a row has no token ids in columns 2"));
}
