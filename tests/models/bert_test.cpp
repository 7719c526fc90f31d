// BERT in LibTorch: HF-named checkpoints written here from random values load back by
// name and value (plain and `bert.`-prefixed with a pooler); padding does not change
// real tokens' states; the split into frozen lower and trainable upper layers gives
// the whole forward; sentence-transformers pooling by hand; and the one-line errors
// for checkpoint folders with a missing file, a wrong config, a truncated weight file
// or a vocabulary that does not match the embedding table. Parity with Hugging Face
// transformers on the real MiniLM checkpoint is tests/parity (it needs Python).
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "w2s/models/bert.hpp"
#include "w2s/models/bert_backbone.hpp"

using namespace w2s;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("w2s_bert_test_" + std::to_string(::getpid())) / name) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
    fs::remove(path.parent_path(), ignored);
  }
};

BertConfig tiny() {
  BertConfig c;
  c.vocab_size = 40, c.hidden_size = 8, c.num_hidden_layers = 3, c.num_attention_heads = 2;
  c.intermediate_size = 16, c.max_position_embeddings = 16;
  return c;
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

/// A vocab.txt of `n` lines: the specials where BERT uncased has them relative to each other.
std::string vocab_lines(int64_t n) {
  std::string v = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (int64_t i = 5; i < n; ++i) v += "w" + std::to_string(i) + "\n";
  return v;
}

/// A random tiny BERT saved as a checkpoint folder (config.json, model.safetensors, vocab.txt).
BertModel saved_tiny(const fs::path& dir, uint64_t seed = 0) {
  torch::manual_seed(seed);
  BertModel m(tiny());
  {
    at::NoGradGuard no_grad;  // LayerNorm weights away from 1/0, so that loading them is visible
    for (auto& p : m->parameters()) p.uniform_(-0.5, 0.5);
  }
  save_bert(*m, dir);
  write_text(dir / "vocab.txt", vocab_lines(tiny().vocab_size));
  return m;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("BERT loads an HF-named checkpoint by name and value", "[bert]") {
  TempDir t("load");
  const auto saved = saved_tiny(t.path / "m");
  const auto loaded = load_bert(t.path / "m");
  CHECK(loaded.pooling.mode == "mean");  // no modules.json: a plain HF model, mean pooling
  CHECK_FALSE(loaded.pooling.normalize);
  const auto a = saved->named_parameters(), b = loaded.model->named_parameters();
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() == 5 + 3 * 16);  // 3 embedding tables + their LayerNorm (2); 16 per layer
  for (const auto& p : a) CHECK(at::equal(p.value(), b[p.key()]));
  CHECK(b.contains("encoder.layer.2.attention.self.query.weight"));
  CHECK(b.contains("embeddings.LayerNorm.bias"));

  // HF task models prefix `bert.` and carry a pooler and the position_ids buffer: all accepted.
  std::vector<safetensors::TensorData> prefixed;
  for (const auto& p : a) {
    const auto v = p.value().contiguous();
    prefixed.push_back(safetensors::from_float32("bert." + p.key(), v.sizes().vec(),
                                                 {v.data_ptr<float>(), v.data_ptr<float>() + v.numel()}));
  }
  prefixed.push_back(safetensors::from_float32("bert.pooler.dense.bias", {8}, std::vector<float>(8, 1.f)));
  safetensors::write(t.path / "m" / "model.safetensors", prefixed);
  const auto again = load_bert(t.path / "m");
  for (const auto& p : a) CHECK(at::equal(p.value(), again.model->named_parameters()[p.key()]));
}

TEST_CASE("BERT: right padding leaves real tokens' states unchanged; lower + upper = forward", "[bert]") {
  TempDir t("pad");
  saved_tiny(t.path / "m", 3);
  auto c = load_bert(t.path / "m");
  at::NoGradGuard no_grad;
  const auto ids = at::tensor({2, 7, 9, 11, 3}, at::kLong).view({1, 5});
  const auto alone = c.model->forward(ids, at::ones_like(ids));
  const auto padded_ids = at::cat({ids, at::zeros({1, 3}, at::kLong)}, 1);
  const auto padded = c.model->forward(padded_ids, padded_ids.ne(0).to(at::kLong));
  CHECK(at::allclose(padded.slice(1, 0, 5), alone, 1e-6, 1e-6));

  // Two rows of different length through the backbone's chunked path (no gradient, > 64 rows)
  // equal the rows one by one; and the frozen/trainable split reproduces the pooled output.
  BertBackbone backbone(std::move(c), /*first_column=*/2);
  auto rows = at::zeros({70, 2 + 8}, at::kLong);
  for (int64_t i = 0; i < 70; ++i) {
    const int64_t len = 2 + i % 6;
    rows[i].slice(0, 2, 2 + len).copy_(at::randint(5, 40, {len}, at::kLong));
  }
  const auto pooled = backbone.forward(rows);
  CHECK(at::allclose(pooled[5], backbone.forward(rows.slice(0, 5, 6))[0], 1e-5, 1e-6));
  for (int64_t from : {0, 1, 3}) CHECK(at::allclose(backbone.upper(backbone.lower(rows, from), from), pooled, 1e-5, 1e-6));
}

TEST_CASE("Sentence-transformers pooling: mean over real tokens, cls, max, normalisation", "[bert]") {
  // hidden: one row, 3 tokens of width 2, the last one padding.
  const auto h = at::tensor({1.f, 2.f, 3.f, 6.f, 100.f, -100.f}).view({1, 3, 2});
  const auto mask = at::tensor({1, 1, 0}, at::kLong).view({1, 3});
  CHECK(at::allclose(Pooling{"mean", false}.apply(h, mask), at::tensor({2.f, 4.f}).view({1, 2})));  // (1+3)/2, (2+6)/2
  CHECK(at::allclose(Pooling{"cls", false}.apply(h, mask), at::tensor({1.f, 2.f}).view({1, 2})));
  CHECK(at::allclose(Pooling{"max", false}.apply(h, mask), at::tensor({3.f, 6.f}).view({1, 2})));
  // [2, 4] / √20
  CHECK(at::allclose(Pooling{"mean", true}.apply(h, mask), at::tensor({0.4472136f, 0.8944272f}).view({1, 2})));

  TempDir t("pooling");
  write_text(t.path / "modules.json", R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
    {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
    {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}])");
  write_text(t.path / "1_Pooling" / "config.json", R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false})");
  const auto p = read_pooling(t.path);
  CHECK(p.mode == "cls");
  CHECK(p.normalize);
  write_text(t.path / "1_Pooling" / "config.json", R"({"pooling_mode_mean_sqrt_len_tokens": true})");
  CHECK_THAT(error_of([&] { read_pooling(t.path); }),
             Catch::Contains("1_Pooling/config.json: pooling_mode_mean_sqrt_len_tokens is not supported"));
}

TEST_CASE("BERT checkpoint folders with defects fail with one line naming the file", "[bert]") {
  TempDir t("bad");
  const auto dir = t.path / "m";
  saved_tiny(dir);
  const auto load = [&] { return error_of([&] { load_bert(dir); }); };

  fs::rename(dir / "vocab.txt", t.path / "vocab.keep");
  CHECK_THAT(load(), Catch::Contains((dir / "vocab.txt").string() + ": missing"));
  fs::rename(t.path / "vocab.keep", dir / "vocab.txt");

  write_text(dir / "vocab.txt", vocab_lines(39));  // one line short of the 40 embedding rows
  CHECK_THAT(load(), Catch::Contains((dir / "vocab.txt").string() + ": 39 tokens, but") &&
                         Catch::Contains("does not match the embedding table"));
  write_text(dir / "vocab.txt", vocab_lines(40));

  const auto config = (dir / "config.json");
  std::ifstream in(config);
  const std::string good((std::istreambuf_iterator<char>(in)), {});
  auto j = nlohmann::json::parse(good);
  j["model_type"] = "roberta";
  write_text(config, j.dump());
  CHECK_THAT(load(), Catch::Contains(config.string() + ": model_type \"roberta\" is not \"bert\""));
  j = nlohmann::json::parse(good);
  j["hidden_size"] = 16;  // weights are 8 wide
  j["intermediate_size"] = 16;
  write_text(config, j.dump());
  CHECK_THAT(load(), Catch::Contains("model.safetensors: ") && Catch::Contains("expected shape [40, 16]"));
  j = nlohmann::json::parse(good);
  j.erase("num_hidden_layers");
  write_text(config, j.dump());
  CHECK_THAT(load(), Catch::Contains(config.string() + ": 'num_hidden_layers' must be a positive integer"));
  write_text(config, good);

  const auto weights = dir / "model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) - 100);
  CHECK_THAT(load(), Catch::Contains(weights.string()));
  fs::remove(weights);
  write_text(dir / "pytorch_model.bin", "pickle");
  CHECK_THAT(load(), Catch::Contains(weights.string() + ": missing (only pytorch_model.bin is there"));
}
