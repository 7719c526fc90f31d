// BERT in LibTorch: HF-named checkpoints written here from random values load back by
// name and value (plain and `bert.`-prefixed with a pooler); padding does not change
// real tokens' states; the split into frozen lower and trainable upper layers gives
// the whole forward; sentence-transformers pooling by hand; and the one-line errors
// for checkpoint folders with a missing file, a wrong config, a truncated weight file
// or a vocabulary that does not match the embedding table. Parity with Hugging Face
// transformers on the real MiniLM checkpoint is tests/parity (it needs Python).
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <tuple>

#include "w2s/core/op_profile.hpp"
#include "w2s/models/bert.hpp"
#include "w2s/models/bert_backbone.hpp"
#include "w2s/models/hf_ops.hpp"
#include "w2s/models/mpnet.hpp"
#include "w2s/models/top_layers.hpp"
#include "w2s/students/student.hpp"

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
  for (int64_t i = 5; i < n; ++i) v += 'w' + std::to_string(i) + '\n';
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
  BertBackbone backbone(std::move(c), TokenColumns{.begin = 2});
  auto rows = at::zeros({70, 2 + 8}, at::kLong);
  for (int64_t i = 0; i < 70; ++i) {
    const int64_t len = 2 + i % 6;
    rows[i].slice(0, 2, 2 + len).copy_(at::randint(5, 40, {len}, at::kLong));
  }
  const auto pooled = backbone.forward(rows);
  CHECK(at::allclose(pooled[5], backbone.forward(rows.slice(0, 5, 6))[0], 1e-5, 1e-6));
  for (int64_t from : {0, 1, 3}) CHECK(at::allclose(backbone.upper(backbone.lower(rows, from), from), pooled, 1e-5, 1e-6));

  // Slices of one dataset run apart (fine_tune.hpp runs lower() 512 rows at a time) pad to
  // the whole dataset's longest row when told it, so they concatenate; each alone is cut to
  // its own longest row, which is what broke --train-layers k >= 1 on Brown.
  const auto short_rows = rows.slice(0, 0, 4);  // lengths 2..5 of at most 7
  REQUIRE(backbone.lower(short_rows, 1).size(1) == 5);
  const int64_t longest = backbone.longest(rows);
  REQUIRE(longest == 7);
  const auto joined =
      at::cat({backbone.lower(short_rows, 1, longest), backbone.lower(rows.slice(0, 4), 1, longest)});
  REQUIRE(joined.size(1) == 7);
  REQUIRE(at::allclose(backbone.upper(joined, 1), pooled, 1e-5, 1e-6));
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

  {  // a weight that is NaN: refused at load, naming the file and the tensor (not a divergence at step 1)
    auto bad = saved_tiny(t.path / "nan");
    at::NoGradGuard no_grad;
    bad->named_parameters()["embeddings.word_embeddings.weight"][7][3] = NAN;
    save_bert(*bad, t.path / "nan");
    CHECK_THAT(error_of([&] { load_bert(t.path / "nan"); }),
               Catch::Contains((t.path / "nan" / "model.safetensors").string()) &&
                   Catch::Contains("tensor 'embeddings.word_embeddings.weight' [40, 8] has 1 non-finite weights") &&
                   Catch::Contains("element 59"));
  }

  const auto weights = dir / "model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) - 100);
  CHECK_THAT(load(), Catch::Contains(weights.string()));
  fs::remove(weights);
  write_text(dir / "pytorch_model.bin", "pickle");
  CHECK_THAT(load(), Catch::Contains(weights.string() + ": missing (only pytorch_model.bin is there"));
}

TEST_CASE("the per-text feature store: segments keep every process's rows; every file the encoder reads is hashed",
          "[bert][cache]") {
  TempDir t("store");
  saved_tiny(t.path / "m", 5);
  std::ifstream in(t.path / "m" / "vocab.txt", std::ios::binary);
  const std::string vocab_text((std::istreambuf_iterator<char>(in)), {});
  auto vocab = std::make_shared<Vocabulary>();
  vocab->words = {"[PAD]", "[UNK]"};
  vocab->subword_begin = 2;
  vocab->segments = {{.tokenizer = "wordpiece", .vocab = stable_hash(vocab_text), .begin = 2}};
  Dataset all;
  all.name = "texts", all.part = "all", all.modality = Modality::text, all.classes = 2, all.vocab = vocab;
  all.inputs = at::zeros({30, 2 + 8}, at::kLong);
  for (int64_t i = 0; i < 30; ++i) {
    const int64_t len = 3 + i % 5;  // [CLS], 1 to 5 pieces, [SEP]; the first piece makes each text unique
    all.inputs[i].slice(0, 2, 2 + len).copy_(at::randint(5, 40, {len}, at::kLong));
    all.inputs[i][2] = 2, all.inputs[i][3] = 5 + i, all.inputs[i][2 + len - 1] = 3;
  }
  all.targets = at::zeros({30}, at::kLong);
  const auto part = [&](int64_t from, int64_t to, const std::string& name) {
    return all.subset(at::arange(from, to, at::kLong), name);
  };
  const Cache cache(t.path / "cache", true);
  const Log log("test", true);
  const LadderSize size{"tiny-bert", {"bert", {}, (t.path / "m").string()}, {.objective = "none"}};
  const auto bb = pretrain(size, all, cache, false, torch::kCPU, log);
  // Two processes: b has read the (empty) store before a appends rows 0..15; b then appends 10..25.
  FeatureCache a(&cache), b(&cache);
  b.get(bb, part(28, 30, "early"), torch::kCPU);
  a.get(bb, part(0, 15, "first"), torch::kCPU);
  b.get(bb, part(10, 25, "second"), torch::kCPU);
  REQUIRE(a.encoded_texts() == 15);
  REQUIRE(b.encoded_texts() == 2 + 10);  // rows 10..14 came from a's segment, read under the lock
  // A third process finds every row of both: nothing to encode, and the features are the encoder's.
  FeatureCache c(&cache);
  const auto got = c.get(bb, part(0, 30, "all"), torch::kCPU);
  REQUIRE(c.encoded_texts() == 3);  // rows 25..27, which no process had encoded
  auto encoder = bb.make();
  encoder->eval();
  at::NoGradGuard no_grad;
  REQUIRE(at::allclose(got, encoder->forward(all.inputs), 1e-5, 1e-6));
  size_t segments = 0;
  for (const auto& e : fs::recursive_directory_iterator(t.path / "cache" / "features"))
    segments += e.path().extension() == ".pt";
  REQUIRE(segments == 4);  // one per append, none rewritten

  // The key hashes every file the encoder reads: a pooling module in a folder of another name too.
  write_text(t.path / "m" / "modules.json",
             R"([{"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "path": "2_Pool", "type": "sentence_transformers.models.Pooling"}])");
  write_text(t.path / "m" / "2_Pool" / "config.json", R"({"pooling_mode_mean_tokens": true})");
  const auto files = bert_files(t.path / "m");
  REQUIRE(std::find(files.begin(), files.end(), t.path / "m" / "2_Pool" / "config.json") != files.end());
  const auto mean_key = pretrain(size, all, cache, false, torch::kCPU, log).key;
  write_text(t.path / "m" / "2_Pool" / "config.json", R"({"pooling_mode_cls_token": true})");
  REQUIRE(pretrain(size, all, cache, false, torch::kCPU, log).key != mean_key);
}

TEST_CASE("BERT upper: length-sorted chunks give the whole batch's outputs and gradients", "[bert]") {
  // A training step of the top-k student runs upper() with gradients in chunks of rows sorted by
  // length, each cut to its own longest row; padded as one batch instead, the result must agree.
  TempDir t("chunks");
  saved_tiny(t.path / "m", 3);
  BertBackbone backbone(load_bert(t.path / "m"), TokenColumns{.begin = 2});
  auto rows = at::zeros({45, 2 + 9}, at::kLong);
  for (int64_t i = 0; i < 45; ++i) {
    const int64_t len = 2 + (i * 7) % 8;  // lengths 2..9, mixed in order
    rows[i].slice(0, 2, 2 + len).copy_(at::randint(5, 40, {len}, at::kLong));
  }
  const auto packed = backbone.lower(rows, 1);
  const auto weights = at::randn({45, backbone.features()});
  const auto step = [&](int64_t chunk) {
    for (auto& p : backbone.parameters())
      if (p.grad().defined()) p.mutable_grad().zero_();
    const auto out = backbone.upper(packed, 1, chunk);
    (out * weights).sum().backward();
    std::vector<at::Tensor> grads{out.detach().clone()};
    for (auto& p : backbone.named_parameters())
      if (p.key().find("layer.2.") != std::string::npos) grads.push_back(p.value().grad().clone());
    return grads;
  };
  const auto chunked = step(8), whole = step(45);
  REQUIRE(chunked.size() == whole.size());
  REQUIRE(chunked.size() > 1);
  for (size_t i = 0; i < whole.size(); ++i) CHECK(at::allclose(chunked[i], whole[i], 1e-4, 1e-5));
  CHECK(!at::allclose(chunked[0], at::zeros_like(chunked[0])));
}

TEST_CASE("frozen lower layers per text: parts of more than 512 texts of varying length assemble", "[bert]") {
  // The top-k student's frozen layers (students/fine_tune.hpp). Before, each 512-row slice was
  // padded to its own longest text and the slices failed to concatenate ("Sizes of tensors must
  // match except in dimension 0"); now each text's states are kept at its own length.
  TempDir t("states");
  saved_tiny(t.path / "m", 6);
  BertBackbone backbone(load_bert(t.path / "m"), TokenColumns{.begin = 2});
  auto vocab = std::make_shared<Vocabulary>();
  vocab->subword_begin = 2;
  Dataset d;
  d.name = "texts", d.part = "train", d.modality = Modality::text, d.classes = 2, d.vocab = vocab;
  d.inputs = at::zeros({700, 2 + 8}, at::kLong);
  for (int64_t i = 0; i < 700; ++i) {
    const int64_t len = i < 600 ? 3 + i % 4 : 8;  // the longest texts only after row 512
    d.inputs[i].slice(0, 2, 2 + len).copy_(at::randint(5, 40, {len}, at::kLong));
  }
  FeatureCache cache;
  const auto run = [&](const at::Tensor& x) { return backbone.lower(x, 1); };
  const auto states = cache.text_states("tiny|lower1", d, backbone.columns(), run);
  REQUIRE(states.sizes() == at::IntArrayRef({700, 8, 9}));
  REQUIRE(cache.text_runs() == 2);  // 512 + 188 texts
  at::NoGradGuard no_grad;
  const auto whole = backbone.lower(d.inputs, 1);  // all at once: every row padded to 8
  const auto mask = whole.select(2, 8);
  REQUIRE(at::equal(states.select(2, 8), mask));  // the same real positions
  REQUIRE(at::allclose(states * mask.unsqueeze(2), whole * mask.unsqueeze(2), 1e-5, 1e-6));
  REQUIRE(at::allclose(backbone.upper(states, 1), backbone.forward(d.inputs), 1e-5, 1e-6));
  // Another part sharing 100 texts with the first runs only its 50 new ones, and comes back
  // padded to its own longest text.
  auto other = d.subset(at::arange(500, 650, at::kLong), "other");
  other.inputs.slice(0, 100).slice(1, 2).zero_();
  for (int64_t i = 100; i < 150; ++i)  // 50 new texts of 4 pieces
    other.inputs[i].slice(0, 2, 6).copy_(at::tensor(std::vector<int64_t>{6, 6, 5 + (i - 100) / 7, 5 + (i - 100) % 7}));
  const auto again = cache.text_states("tiny|lower1", other, backbone.columns(), run);
  REQUIRE(cache.text_runs() == 3);
  REQUIRE(again.size(1) == 6);  // its longest text: 6 pieces
  REQUIRE(at::allclose(again.slice(0, 0, 100), states.slice(0, 500, 600).slice(1, 0, 6)));
  // Bounded: past memo_bytes the least recently used texts go, and come back when asked for.
  cache.memo_bytes = cache.states_held() / 2;
  cache.text_states("tiny|lower1", other, backbone.columns(), run);
  REQUIRE(cache.states_held() <= cache.memo_bytes + size_t(150 * 8 * 9 * 4));
  REQUIRE(at::allclose(cache.text_states("tiny|lower1", d, backbone.columns(), run), states, 1e-5, 1e-6));
}

TEST_CASE("LoRA on the top layers: starts at the pretrained model, trains A, B and the head only", "[bert][lora]") {
  TempDir t("lora");
  saved_tiny(t.path / "m", 4);
  auto rows = at::zeros({12, 2 + 6}, at::kLong);
  for (int64_t i = 0; i < 12; ++i) rows[i].slice(0, 2, 2 + 2 + i % 5).copy_(at::randint(5, 40, {2 + i % 5}, at::kLong));
  const auto backbone = [&] { return std::make_shared<BertBackbone>(load_bert(t.path / "m"), TokenColumns{.begin = 2}); };
  auto plain_encoder = backbone();
  const auto packed = plain_encoder->lower(rows, 1);
  TopLayersImpl plain(plain_encoder, 1, 2);
  LoraOptions lora;
  lora.rank = 2, lora.alpha = 4, lora.targets = {"query", "value"};
  TopLayersImpl adapted(backbone(), 1, 2, lora);
  // Only the adapters and the head train: 2 layers x {query, value} x {A, B} + the head.
  std::vector<std::string> trained;
  for (const auto& p : adapted.named_parameters())
    if (p.value().requires_grad()) trained.push_back(p.key());
  CHECK(trained.size() == 9);
  CHECK(std::count_if(trained.begin(), trained.end(), [](const std::string& n) { return n.starts_with("lora.A_"); }) ==
        4);
  CHECK(std::find(trained.begin(), trained.end(), "head.weight") != trained.end());
  // B starts at zero: the same outputs as the plain top layers (the head is zero in both, so compare the layers).
  at::NoGradGuard no_grad;
  const auto features = [&](TopLayersImpl& m, BertBackbone& b) {
    (void)m.forward(packed);  // applies the adapters
    return b.upper(packed, 1, 32);
  };
  auto adapted_encoder = backbone();
  TopLayersImpl again(adapted_encoder, 1, 2, lora);
  CHECK(at::allclose(features(again, *adapted_encoder), plain_encoder->upper(packed, 1, 32), 1e-6, 1e-7));
  // With B set, the adapted layer computes with W + (alpha / rank)·B·A, and its registered weight stays W.
  auto params = again.named_parameters();
  const auto w_before = adapted_encoder->named_parameters()["bert.encoder.layer.2.attention.self.query.weight"].clone();
  params["lora.B_2"].fill_(0.1);  // the third adapter: layer 2's query (layers 1, 2 x query, value in module order)
  again.forward(packed);
  const auto query = std::dynamic_pointer_cast<torch::nn::LinearImpl>(
      adapted_encoder->named_modules()["bert.encoder.layer.2.attention.self.query"]);
  REQUIRE(query != nullptr);
  CHECK(at::allclose(query->weight, w_before + 2.0 * at::mm(params["lora.B_2"], params["lora.A_2"]), 1e-6, 1e-7));
  CHECK(at::equal(adapted_encoder->named_parameters()["bert.encoder.layer.2.attention.self.query.weight"], w_before));
  // A target that matches nothing is an error naming what there was.
  LoraOptions none = lora;
  none.targets = {"nope"};
  CHECK_THROWS_WITH(TopLayersImpl(backbone(), 1, 2, none), Catch::Contains("--lora-targets: no linear layer matches") &&
                                                               Catch::Contains("encoder.layer.1.attention.self.query"));
}

TEST_CASE("BERT and MPNet layers run transformers' operators: one addmm per projection, the padding mask added",
          "[bert][profile]") {
  // The C++ frontend's torch::nn::Linear turns a batch of sequences into mm and a separate bias
  // add; Python's nn.Linear (at::linear) folds it into one addmm, as models/hf_ops.hpp's linear().
  const auto mask_bias = key_mask_bias(at::tensor({1, 1, 0}, at::kLong).view({1, 3}), at::kFloat);
  REQUIRE(mask_bias.sizes() == at::IntArrayRef({1, 1, 1, 3}));
  CHECK(mask_bias[0][0][0][0].item<float>() == 0.0f);
  CHECK(mask_bias[0][0][0][2].item<float>() == std::numeric_limits<float>::lowest());

  torch::manual_seed(5);
  BertModel bert(tiny());  // 3 layers
  MpnetConfig c;
  c.vocab_size = 50, c.hidden_size = 16, c.num_hidden_layers = 2, c.num_attention_heads = 2, c.intermediate_size = 32;
  c.max_position_embeddings = 40;
  MpnetModel mpnet(c);
  at::NoGradGuard no_grad;
  auto ids = at::randint(5, 40, {2, 6}, at::kLong);
  auto mask = at::ones({2, 6}, at::kLong);
  mask[1].slice(0, 4).fill_(0);
  using Case = std::tuple<std::string, int64_t, std::function<at::Tensor()>>;
  for (const auto& [name, layers, forward] : {Case{"bert", 3, [&] { return bert->forward(ids, mask); }},
                                               Case{"mpnet", 2, [&] { return mpnet->forward(ids, mask); }}}) {
    INFO(name);
    OpProfile profile;
    const auto h = forward();
    CHECK(at::isfinite(h).all().item<bool>());
    const auto rows = profile.rows();
    const auto calls = [&](const std::string& op) {
      const auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.name == op; });
      return it == rows.end() ? int64_t{0} : it->calls;
    };
    CHECK(calls("aten::addmm") == 6 * layers);  // query, key, value, output, intermediate, output dense
    CHECK(calls("aten::mm") == 0);
    CHECK(calls("aten::add_") == 0);
    CHECK(calls("aten::masked_fill_") == 0);
    CHECK(calls("aten::bmm") == 2 * layers);  // scores and context
  }
}
