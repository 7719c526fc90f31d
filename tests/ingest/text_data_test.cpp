// Text as token ids over GloVe rows, the weak label shown in text and table
// inputs, text backbones' padding invariance, and widened table backbones.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <cctype>

#include "w2s/ingest/text_data.hpp"
#include "w2s/labels/weak_label_in_input.hpp"
#include "w2s/models/pretrain.hpp"

using namespace w2s;

namespace {
/// A 3-d GloVe of a handful of words, written by hand.
text::Glove tiny_glove() {
  text::Glove g;
  g.dims = 3;
  const std::vector<std::string> words = {"i", "think", "this", "is", "spam", "ham", ".", "what", "do",
                                          "you", "?", "buy", "now", "hello"};
  for (size_t i = 0; i < words.size(); ++i) {
    g.words.push_back(words[i]);
    g.index[words[i]] = static_cast<int64_t>(i);
    for (int k = 0; k < 3; ++k) g.vectors.push_back(static_cast<float>(i) + 0.1f * float(k));
  }
  return g;
}
DataBundle tiny_text() {
  return make_text_bundle("tiny", {{"Buy now, zorglub!", 1}, {"Hello", 0}}, {{"hello hello hello", 0}},
                          {"ham", "spam"}, tiny_glove(), 3);
}
}  // namespace

TEST_CASE("text becomes GloVe word ids; unknown words share one id", "[data][text]") {
  const auto b = tiny_text();
  const auto& v = *b.train.vocab;
  REQUIRE(v.words[0] == "<pad>");
  REQUIRE(v.words[1] == "<unk>");
  // "buy now , zorglub !": 5 words, the first 3 kept; "," is not in this GloVe → unknown
  REQUIRE(b.train.inputs.size(1) == 3);
  REQUIRE(b.train.inputs[0][0].item<int64_t>() == v.id("buy"));
  REQUIRE(b.train.inputs[0][2].item<int64_t>() == Vocabulary::unknown);
  REQUIRE(b.train.length[0].item<float>() == 5);
  // "hello" then padding
  REQUIRE(b.train.inputs[1][1].item<int64_t>() == Vocabulary::pad);
  // each id's row is its GloVe vector; padding and unknown are zero
  const auto row = v.glove[v.id("buy")];
  REQUIRE(row[0].item<float>() == Approx(11));
  REQUIRE(row[2].item<float>() == Approx(11.2));
  REQUIRE(v.glove[Vocabulary::unknown].abs().sum().item<float>() == 0);
  REQUIRE(b.test.vocab == b.train.vocab);
}

TEST_CASE("weak label in the input: text gets the paper's sentence", "[labels][text]") {
  const auto b = tiny_text();
  const auto out = append_weak_label_sentences(b.train, at::tensor({0, 1}, at::kLong));
  const auto& v = *b.train.vocab;
  const auto spell = [&](int64_t row) {
    std::string s;
    for (int64_t j = 0; j < out.size(1); ++j)
      if (const auto id = out[row][j].item<int64_t>(); id != Vocabulary::pad) s += v.words[id] + " ";
    return s;
  };
  REQUIRE(spell(0) == "buy now <unk> i think this is ham . what do you think ? ");
  REQUIRE(spell(1) == "hello i think this is spam . what do you think ? ");
  REQUIRE(weak_label_sentence_for("spam") == "I think this is spam. What do you think?");
}

TEST_CASE("weak label in the input: tables get one-hot features, images a stripe", "[labels]") {
  Dataset t;
  t.name = "tab";
  t.modality = Modality::table;
  t.classes = 3;
  t.inputs = at::ones({2, 4});
  t.targets = at::tensor({0, 1}, at::kLong);
  const auto probs = at::tensor({.1f, .2f, .7f, .6f, .3f, .1f}).view({2, 3});
  const auto shown = WeakLabelInInput<>::with_label(t, probs);
  REQUIRE(shown.inputs.sizes() == at::IntArrayRef{2, 7});
  REQUIRE(at::equal(shown.inputs.slice(1, 4), at::tensor({0.f, 0.f, 1.f, 1.f, 0.f, 0.f}).view({2, 3})));
  REQUIRE(shown.part.rfind("+weak_label/", 0) == 0);
  // other labels, another part name: memoised features never mix seeds
  REQUIRE(WeakLabelInInput<>::with_label(t, probs.flip(1)).part != shown.part);
}

TEST_CASE("text backbones give the same features with extra padding", "[models][text]") {
  const auto b = tiny_text();
  const auto ids = b.train.inputs;
  const auto padded = at::cat({ids, at::zeros({ids.size(0), 4}, at::kLong)}, 1);
  for (const auto& spec : std::vector<BackboneSpec>{{"bow", {4}}, {"glove-mlp", {8}}, {"glove-transformer", {8, 1, 2}}}) {
    torch::manual_seed(0);
    auto bb = make_backbone(spec, {ids.size(1)}, b.train.vocab.get());
    bb->eval();
    at::NoGradGuard g;
    INFO(spec.kind);
    REQUIRE(at::allclose(bb->forward(ids), bb->forward(padded), 1e-5, 1e-6));
    REQUIRE(bb->forward(ids).size(1) == bb->features());
  }
  // GloVe initialises the word vectors, which fine-tuning may adapt
  auto mlp = make_backbone({"glove-mlp", {8}}, {3}, b.train.vocab.get());
  REQUIRE(at::equal(mlp->named_parameters()["glove.weight"], b.train.vocab->glove));
  REQUIRE_THROWS_WITH(make_backbone({"glove-mlp", {8}}, {3}), Catch::Contains("needs a text dataset"));
}

TEST_CASE("a pretrained MLP widened for appended features keeps its weights", "[models]") {
  LadderSize size{"s", {"mlp", {5}}, {.objective = "none"}};
  torch::manual_seed(1);
  auto base = make_backbone(size.backbone, {4});
  PretrainedBackbone bb{size, {4}, {}, "k", {}, nullptr};
  for (auto& p : base->parameters()) bb.state.push_back(p.detach().clone());
  const auto wide = bb.make({7});
  const auto w = wide->parameters()[0];
  REQUIRE(w.sizes() == at::IntArrayRef{5, 7});
  REQUIRE(at::equal(w.slice(1, 0, 4), bb.state[0]));
  REQUIRE(w.slice(1, 4).abs().sum().item<float>() > 0);  // new inputs: fresh random weights, not zeros
  REQUIRE(at::equal(bb.make({4})->parameters()[0], bb.state[0]));
  // every widened copy reads the new inputs the same way (train, test, the student's model)
  REQUIRE(at::equal(bb.make({7})->parameters()[0], w));
}

TEST_CASE("subword segments: fixed columns but the last, weak-label sentence spelled in each", "[data][text]") {
  // Two made-up tokenizers: "wp" wraps ids in 1 … 2 ([CLS] … [SEP]) and pads with 0; "bpe" adds
  // nothing and pads with −1. Each id is a letter's position in the alphabet (+10); a space is 9.
  const auto letters = [](std::string_view t, int64_t max) {
    std::vector<int64_t> ids;
    for (char ch : t)
      if (ch == ' ') ids.push_back(9);
      else if (std::isalpha(static_cast<unsigned char>(ch))) ids.push_back(10 + std::tolower(ch) - 'a');
    if (max > 0 && static_cast<int64_t>(ids.size()) > max) ids.resize(max);
    return ids;
  };
  SubwordSegment wp{.tokenizer = "wp",
                    .vocab = "h1",
                    .encode =
                        [&](std::string_view t, int64_t max) {
                          auto ids = letters(t, max > 0 ? max - 2 : 0);
                          ids.insert(ids.begin(), 1);
                          ids.push_back(2);
                          return ids;
                        },
                    .max_tokens = 6,
                    .pad = 0,
                    .opening = 1,
                    .closing = 1,
                    .continuation = "",
                    .part = "/wp6"};
  SubwordSegment bpe{.tokenizer = "bpe",
                     .vocab = "h2",
                     .encode = letters,
                     .max_tokens = 5,
                     .pad = -1,
                     .continuation = " ",
                     .part = "/bpe5"};
  const auto b = make_text_bundle("tiny", {{"Buy now", 1}, {"Hello", 0}}, {{"hi", 0}}, {"ham", "spam"}, tiny_glove(),
                                  3, nullptr, {wp, bpe});
  const auto& v = *b.train.vocab;
  REQUIRE(v.segments.size() == 2);
  const auto& s0 = v.segments[0];
  const auto& s1 = v.segments[1];
  CHECK(b.train.part == "train/wp6/bpe5");
  CHECK(b.test.part == "test/wp6/bpe5");
  // "I think this is spam. What do you think?" is 31 letters and spaces: the room each segment keeps.
  const int64_t sentence = static_cast<int64_t>(letters(weak_label_sentence_for("spam"), 0).size());
  CHECK(s0.begin == v.subword_begin);
  CHECK(s0.end - s0.begin == 6 + sentence);  // the budget and room for the sentence
  CHECK(s1.begin == s0.end);
  CHECK(s1.end == 0);  // the last segment runs to the end of each part's rows
  CHECK(b.train.inputs.size(1) == s1.begin + 5 + sentence + 1);  // " Buy n" cut to 5, room for " " + sentence
  CHECK(b.test.inputs.size(1) == s1.begin + 2 + sentence + 1);   // the test part is as wide as "hi" needs
  const auto row = [&](const Dataset& d, int64_t i, int64_t from, int64_t to) {
    const auto r = d.inputs[i].slice(0, from, to).contiguous();
    return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
  };
  CHECK((row(b.train, 0, s0.begin, s0.begin + 6) == std::vector<int64_t>{1, 11, 30, 34, 9, 2}));  // [CLS] buy␣ [SEP]
  CHECK((row(b.train, 0, s1.begin, s1.begin + 6) == std::vector<int64_t>{11, 30, 34, 9, 23, -1}));
  CHECK(row(b.test, 0, s1.begin, b.test.inputs.size(1)).back() == -1);
  // The sentence goes before [SEP] in the first segment, after the text (with its space) in the last.
  const auto shown = append_weak_label_sentences(b.train, at::tensor(std::vector<int64_t>{1, 0}));
  REQUIRE(shown.sizes() == b.train.inputs.sizes());
  Dataset with = b.train;
  with.inputs = shown;
  auto expect = letters(weak_label_sentence_for("spam"), 0);
  std::vector<int64_t> first = {1, 11, 30, 34, 9};
  first.insert(first.end(), expect.begin(), expect.end());
  first.push_back(2);
  CHECK(row(with, 0, s0.begin, s0.begin + static_cast<int64_t>(first.size())) == first);
  std::vector<int64_t> last = {11, 30, 34, 9, 23, 9};
  last.insert(last.end(), expect.begin(), expect.end());
  CHECK(row(with, 0, s1.begin, s1.begin + static_cast<int64_t>(last.size())) == last);
  CHECK(row(with, 0, s1.begin + static_cast<int64_t>(last.size()), shown.size(1)) ==
        std::vector<int64_t>(shown.size(1) - s1.begin - static_cast<int64_t>(last.size()), -1));
  // The vocabulary keeps each segment's encoder, with its special tokens.
  CHECK((s0.encode("hi") == std::vector<int64_t>{1, 17, 18, 2}));
  CHECK((s1.encode("hi") == std::vector<int64_t>{17, 18}));
  CHECK(v.segment("bpe") == &s1);
  CHECK(v.segment("none") == nullptr);
}
