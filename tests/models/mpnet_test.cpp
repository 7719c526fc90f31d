// MPNet in LibTorch (models/mpnet.hpp): the relative-position buckets against the table HF's
// MPNetEncoder.relative_position_bucket gives (32 buckets, max distance 128); BERT uncased ids
// mapped to MPNet's; padding does not change real tokens' states (positions count real tokens,
// the bias covers the padded length); the lower/upper split gives the whole forward through
// the shared encoder backbone; and checkpoint folders with a wrong config or vocabulary are
// refused by name. Parity with transformers' MPNetModel on all-mpnet-base-v2 is tests/parity.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "w2s/models/mpnet.hpp"

using namespace w2s;
namespace fs = std::filesystem;

TEST_CASE("mpnet: relative position buckets as HF's", "[models][mpnet]") {
  // key − query → bucket (from transformers 4.49's relative_position_bucket on the same range)
  const std::vector<std::pair<int64_t, int64_t>> table = {
      {0, 0},     {-1, 1},   {-7, 7},   {-8, 8},   {-11, 8},  {-12, 9},  {-15, 9},  {-16, 10}, {-22, 10},
      {-23, 11},  {-31, 11}, {-32, 12}, {-45, 12}, {-46, 13}, {-63, 13}, {-64, 14}, {-90, 14}, {-91, 15},
      {-500, 15}, {1, 17},   {7, 23},   {8, 24},   {11, 24},  {12, 25},  {16, 26},  {23, 27},  {31, 27},
      {32, 28},   {46, 29},  {63, 29},  {64, 30},  {90, 30},  {91, 31},  {500, 31}};
  std::vector<int64_t> relative, expected;
  for (const auto& [r, b] : table) relative.push_back(r), expected.push_back(b);
  const auto got = mpnet_bucket(at::tensor(relative, at::kLong));
  REQUIRE(got.equal(at::tensor(expected, at::kLong)));
}

TEST_CASE("mpnet: BERT uncased ids as MPNet's", "[models][mpnet]") {
  // [CLS] hello world [SEP] [PAD] → <s> … </s> <pad>; [UNK] 100 → 104 (MPNet's [UNK] line)
  const auto bert = at::tensor({101, 7592, 2088, 100, 102, 0}, at::kLong);
  REQUIRE(mpnet_ids_from_bert(bert).equal(at::tensor({0, 7596, 2092, 104, 2, 1}, at::kLong)));
}

TEST_CASE("mpnet: padding and the lower/upper split do not change real tokens", "[models][mpnet]") {
  torch::manual_seed(3);
  MpnetConfig c;
  c.vocab_size = 50, c.hidden_size = 16, c.num_hidden_layers = 3, c.num_attention_heads = 2, c.intermediate_size = 32;
  c.max_position_embeddings = 40;
  MpnetModel m(c);
  m->eval();
  at::NoGradGuard no_grad;
  const auto ids = at::tensor({0, 7, 9, 11, 2}, at::kLong).unsqueeze(0);
  const auto alone = m->forward(ids, at::ones_like(ids));
  // the same text padded to 9 beside a longer one
  auto batch = at::full({2, 9}, 1, at::kLong);
  batch[0].slice(0, 0, 5).copy_(ids[0]);
  batch[1].copy_(at::tensor({0, 5, 6, 7, 8, 9, 10, 11, 2}, at::kLong));
  auto mask = at::ones({2, 9}, at::kLong);
  mask[0].slice(0, 5).fill_(0);
  const auto padded = m->forward(batch, mask);
  REQUIRE(at::allclose(padded[0].slice(0, 0, 5), alone[0], 1e-5, 1e-5));
  // lower (1 layer) then upper (the other 2) = the whole forward
  const auto low = m->run_layers(m->embed(batch, mask), mask, 0, 1);
  REQUIRE(at::allclose(m->run_layers(low, mask, 1, 3), padded, 1e-5, 1e-5));
  // the relative bias is read: another table changes the output
  m->relative_attention_bias->weight.add_(1.0 * at::arange(32 * 2, at::kFloat).view({32, 2}) / 10.0);
  REQUIRE_FALSE(at::allclose(m->forward(ids, at::ones_like(ids)), alone, 1e-3, 1e-3));
}

TEST_CASE("mpnet: folders with a wrong config or vocabulary are refused by name", "[models][mpnet]") {
  const auto dir = fs::temp_directory_path() / ("w2s_mpnet_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << R"({"model_type": "bert", "vocab_size": 10})";
  REQUIRE_THROWS_WITH(MpnetConfig::from_json_file(dir / "config.json"), Catch::Contains("is not \"mpnet\""));
  std::ofstream(dir / "config.json") << R"({"model_type": "mpnet", "vocab_size": 10, "hidden_size": 8,
    "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 20,
    "relative_attention_num_buckets": 16})";
  REQUIRE_THROWS_WITH(MpnetConfig::from_json_file(dir / "config.json"),
                      Catch::Contains("relative_attention_num_buckets 16"));
  std::ofstream(dir / "vocab.txt") << "[PAD]\n[UNK]\n<mask>\n";
  REQUIRE_THROWS_WITH(mpnet_bert_vocab_hash(dir / "vocab.txt"),
                      Catch::Contains("expected <s>, <pad>, </s>, <unk> first"));
  REQUIRE_THROWS_WITH(load_mpnet(dir / "missing"), Catch::Contains("not a folder"));
  fs::remove_all(dir);
}
