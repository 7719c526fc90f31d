#pragma once
/// \file
/// A labelled dataset as tensors, and the protocol's three-way split.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/hash.hpp"

namespace w2s {

/// What kind of inputs a dataset holds; ladders and label sources dispatch on it.
enum class Modality { image, text, table, regression };

inline std::string to_string(Modality m) {
  switch (m) {
    case Modality::image: return "image";
    case Modality::text: return "text";
    case Modality::table: return "table";
    case Modality::regression: return "regression";
  }
  return "?";
}

/// A second tokenisation of a text dataset's texts, for a pretrained model that reads its own
/// tokens (models/bert_backbone.hpp, models/llama.hpp): columns [begin, end) of `inputs` hold
/// each text's ids, right-padded with `pad`.
struct TokenSegment {
  std::string tokenizer;  ///< what made the ids: "wordpiece", "gguf-bpe"
  std::string vocab;      ///< a hash of the tokenizer's vocabulary (a backbone checks it)
  int64_t begin = 0, end = 0;
  int64_t pad = 0;
  /// A text's ids as the model reads a text alone, with the tokenizer's own special tokens
  /// ([CLS] … [SEP] for WordPiece; none for SmolLM2's BPE).
  std::function<std::vector<int64_t>(std::string_view)> encode;
  int64_t opening = 0;  ///< ids encode() puts before a text ([CLS]: 1)
  int64_t closing = 0;  ///< ids encode() puts after it ([SEP]: 1); appended text goes before them
  /// What a continuation of a text is spelled after ("" for WordPiece, " " for byte-level BPE,
  /// whose words carry their leading space).
  std::string continuation;
};

/// How a text dataset's token ids read. Two kinds:
///  - word vocabularies (GloVe tasks): id i is `words[i]`; id 0 pads, id 1 is
///    every word outside the vocabulary, and `glove` holds each id's pretrained
///    vector (rows × dims float; zeros for padding and unknown words), which
///    GloVe-backed backbones embed with and weak ones ignore (docs/text.md);
///  - subword tokenizers (GPT-2 BPE): `words` is empty, padding is −1.
/// `encode` turns new text into ids (WeakLabelInInput spells its sentence with it).
struct Vocabulary {
  static constexpr int64_t pad = 0, unknown = 1;  ///< of word vocabularies
  std::vector<std::string> words;
  std::unordered_map<std::string, int64_t> index;  ///< word → id
  at::Tensor glove;
  int64_t pad_id = pad;  ///< the id right-padding uses in `inputs`
  std::function<std::vector<int64_t>(std::string_view)> encode;
  /// Word-vocabulary texts may carry further tokenisations for pretrained models, each in
  /// columns of its own after the word ids (TokenSegment); word ids stay in columns
  /// [0, subword_begin). 0 = none. The first segment, when there is one, is WordPiece.
  int64_t subword_begin = 0;
  std::vector<TokenSegment> segments;
  [[nodiscard]] int64_t size() const { return static_cast<int64_t>(words.size()); }
  /// The word-id columns of text inputs `x` (N×T): all of them unless a subword segment follows.
  [[nodiscard]] at::Tensor word_ids(const at::Tensor& x) const { return subword_begin > 0 ? x.slice(1, 0, subword_begin) : x; }
  /// The segment made by `tokenizer`, or null.
  [[nodiscard]] const TokenSegment* segment(std::string_view tokenizer) const {
    for (const auto& s : segments)
      if (s.tokenizer == tokenizer) return &s;
    return nullptr;
  }
  /// The id of `word`, or `unknown`.
  [[nodiscard]] int64_t id(const std::string& word) const {
    const auto it = index.find(word);
    return it == index.end() ? unknown : it->second;
  }
};

/// N examples as tensors. Classification targets are int64 class ids in
/// [0, classes); regression datasets (classes == 0) hold float targets.
/// `length` is an optional per-example size (ink for images, tokens for text)
/// used by the structured-noise ablations; undefined when the data has none.
struct Dataset {
  std::string name;  ///< registry name, e.g. "fashion-mnist"
  std::string part;  ///< which part, e.g. "test" or "seed0/transfer"; names memoised features
  /// Checksum of the loaded bundle's content (fingerprint_bundle): a cache entry made
  /// from other data never matches. Empty for data built in code (tests).
  std::string fingerprint;
  Modality modality = Modality::image;
  at::Tensor inputs;   ///< N × ... (float images in [0,1], int64 token ids, float features)
  at::Tensor targets;  ///< N int64 class ids, or N × k float for regression
  at::Tensor length;   ///< optional N float
  /// Optional N int64: examples that share a source (Brown: the file a sentence comes from),
  /// which the test split keeps together; validation_bundle holds out whole groups as well.
  at::Tensor group;
  int64_t classes = 0;
  std::vector<std::string> class_names;
  /// Text: the vocabulary `inputs` index (N × T token ids, 0-padded on the right).
  std::shared_ptr<const Vocabulary> vocab;
  /// Regression pools: targets of other tasks, for supervised representation learning (N × h).
  at::Tensor pretrain_targets;

  [[nodiscard]] int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }
  /// Whether this is a regression task: the one place that decides it. A loaded dataset's
  /// targets follow it (fingerprint_bundle checks: real-valued N × k targets without classes,
  /// int64 class ids in [0, classes) with them), so code that sees only a target tensor
  /// (metrics::is_regression, the trainer's curves) reads the same answer from its dtype, and an
  /// experiment's Task (TaskFor, from its loss) is checked against it before any stage runs.
  [[nodiscard]] bool regression() const { return classes == 0; }
  /// Subword tokens for language models (GPT-2 BPE), whose "ladder" is checkpoint folders.
  [[nodiscard]] bool language_model_tokens() const { return vocab && vocab->words.empty(); }
  /// Width of a model's output: the classes, or the regression targets per example.
  [[nodiscard]] int64_t outputs() const {
    check(classes > 0 || targets.defined(), "dataset '", name, "' (", part, "): no targets to take the output width from");
    return classes > 0 ? classes : targets.size(1);
  }
  /// Names the data in cache keys: the registry name, the content's fingerprint, the part.
  [[nodiscard]] std::string id() const { return name + (fingerprint.empty() ? "" : "@" + fingerprint) + ":" + part; }

  /// The examples at `index` (an int64 tensor), as a new dataset named `new_part`.
  [[nodiscard]] W2S_ENGINE_INLINE Dataset subset(const at::Tensor& index, std::string new_part) const;
};

/// A fixed shuffle (seed 20231214, as the tables' split and the text datasets'; validation_bundle) of 0..n-1.
W2S_ENGINE_INLINE std::vector<int64_t> fixed_order(int64_t n);

/// What loading may depend on besides the dataset's name.
struct DataOptions {
  std::filesystem::path dir = "data";  ///< --data-dir
  int64_t max_tokens = 0;  ///< --max-tokens; 0 = the dataset's default (language-model jsonl 1024, WordPiece 128)
  bool quiet = false;                  ///< --quiet: no loading statistics on stderr
  /// Checkpoint files whose own tokenizer a model of the run reads (a GGUF file: SmolLM2): text
  /// datasets add a segment of their ids (TokenSegment). Only what a run names is tokenised.
  std::vector<std::filesystem::path> token_files;
};

/// A dataset as shipped: a training pool and a held-out test set, and where a
/// setting has one, a separate pool the ladder's representations are learned on
/// (otherwise they pretrain on `train`'s inputs without labels).
struct DataBundle {
  Dataset train;
  Dataset test;
  Dataset pretrain;
  [[nodiscard]] const Dataset& pretrain_pool() const { return pretrain.size() > 0 ? pretrain : train; }
};

namespace detail {
/// Adds `t`'s dtype, shape and bytes to `sum`.
W2S_ENGINE_INLINE void add_tensor(Checksum& sum, const at::Tensor& t);

/// Fails, naming the dataset, part, row and column, at the first non-finite value of `t`.
W2S_ENGINE_INLINE void check_finite(const Dataset& d, const at::Tensor& t, const char* what);

/// Fails, naming the dataset and part, unless `d`'s targets (if any) agree with `d.regression()`:
/// N × k real values without classes; N int64 class ids in [0, classes) with them.
W2S_ENGINE_INLINE void check_targets(const Dataset& d);
}  // namespace detail

/// Sets the fingerprint of `train`, `test` and `pretrain` to one checksum of their
/// inputs, targets, lengths, vocabulary and class names (a few GB/s: tenths of a second
/// for Fashion-MNIST), after checking that no value is NaN or infinite and that the targets
/// are what the dataset's task says (detail::check_targets).
W2S_ENGINE_INLINE void fingerprint_bundle(DataBundle& bundle);

/// The protocol's split (paper-facts.md, step 1): the training pool shuffled
/// with the seed, cut into the weak supervisor's half and the transfer half;
/// the test set is the same for every seed so that seeds are comparable.
struct Splits {
  Dataset weak_half;
  Dataset transfer_half;
  Dataset test;
};

/// Shuffles `bundle.train` with `seed`, keeps `train_size` examples (0 = all) and
/// halves them; keeps the first `test_size` test examples (0 = all).
W2S_ENGINE_INLINE Splits make_splits(const DataBundle& bundle, uint64_t seed, int64_t train_size, int64_t test_size);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE Dataset Dataset::subset(const at::Tensor& index, std::string new_part) const {
  Dataset d = *this;
  d.part = std::move(new_part);
  d.inputs = inputs.index_select(0, index);
  if (targets.defined()) d.targets = targets.index_select(0, index);  // a student's view has none
  if (length.defined()) d.length = length.index_select(0, index);
  if (group.defined()) d.group = group.index_select(0, index);
  if (pretrain_targets.defined()) d.pretrain_targets = pretrain_targets.index_select(0, index);
  return d;
}

W2S_ENGINE_INLINE std::vector<int64_t> fixed_order(int64_t n) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(20231214);
  const auto p = at::randperm(n, gen, at::kLong);
  return {p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + n};
}

W2S_ENGINE_INLINE void detail::add_tensor(Checksum& sum, const at::Tensor& t) {
  if (!t.defined()) {
    sum.add("undefined;");
    return;
  }
  const auto c = t.contiguous();
  sum.add(std::string(c.dtype().name()) + "[");
  for (const auto d : c.sizes()) sum.add(std::to_string(d) + ",");
  sum.add("]");
  sum.add(c.data_ptr(), c.numel() * c.element_size());
}

W2S_ENGINE_INLINE void detail::check_finite(const Dataset& d, const at::Tensor& t, const char* what) {
  if (!t.defined() || !at::isFloatingType(t.scalar_type())) return;
  const auto bad = t.isfinite().logical_not().reshape({t.size(0), -1});
  if (!bad.any().item<bool>()) return;
  const auto where = bad.nonzero()[0];
  const auto row = where[0].item<int64_t>(), col = where[1].item<int64_t>();
  fail("dataset '", d.name, "' (", d.part, "): ", what, " row ", row, ", column ", col, " is ",
       t.reshape({t.size(0), -1})[row][col].item<double>(), "; expected a finite number");
}

W2S_ENGINE_INLINE void detail::check_targets(const Dataset& d) {
  const auto& t = d.targets;
  if (!t.defined()) return;
  const auto where = [&] { return "dataset '" + d.name + "' (" + d.part + "): "; };
  check(t.dim() >= 1 && t.size(0) == d.size(), where(), t.sizes(), " targets for ", d.size(), " examples");
  if (d.regression()) {
    check(at::isFloatingType(t.scalar_type()) && t.dim() == 2, where(),
          "a dataset without classes is regression data and needs real-valued N × k targets, got ", t.scalar_type(),
          " ", t.sizes());
    return;
  }
  check(t.scalar_type() == at::kLong && t.dim() == 1, where(), d.classes, " classes need N int64 class ids, got ",
        t.scalar_type(), " ", t.sizes());
  if (t.numel() == 0) return;
  const auto lo = t.min().item<int64_t>(), hi = t.max().item<int64_t>();
  check(lo >= 0 && hi < d.classes, where(), "class id ", lo < 0 ? lo : hi, " out of range, expected 0..",
        d.classes - 1);
}

W2S_ENGINE_INLINE void fingerprint_bundle(DataBundle& bundle) {
  Checksum sum;
  for (Dataset* d : {&bundle.train, &bundle.test, &bundle.pretrain}) {
    sum.add(d->name + ":" + d->part + ":" + std::to_string(d->classes) + ";");
    for (const auto& c : d->class_names) sum.add(c + "\n");
    detail::check_finite(*d, d->inputs, "input");
    detail::check_finite(*d, d->targets, "target");
    detail::check_finite(*d, d->pretrain_targets, "pretraining target");
    detail::check_targets(*d);
    for (const auto* t : {&d->inputs, &d->targets, &d->length, &d->pretrain_targets}) detail::add_tensor(sum, *t);
    if (d->vocab) {
      for (const auto& w : d->vocab->words) sum.add(w + "\n");
      // As before segments other than WordPiece existed: a WordPiece-only bundle keeps its fingerprint.
      const auto& segs = d->vocab->segments;
      sum.add((segs.empty() ? std::string() : segs[0].vocab) + ";" + std::to_string(d->vocab->subword_begin));
      for (size_t i = 1; i < segs.size(); ++i)
        sum.add(segs[i].tokenizer + ":" + segs[i].vocab + ":" + std::to_string(segs[i].begin) + "-" +
                std::to_string(segs[i].end) + ";");
      detail::add_tensor(sum, d->vocab->glove);
    }
  }
  const auto hex = sum.hex();
  for (Dataset* d : {&bundle.train, &bundle.test, &bundle.pretrain}) d->fingerprint = hex;
}

W2S_ENGINE_INLINE Splits make_splits(const DataBundle& bundle, uint64_t seed, int64_t train_size, int64_t test_size) {
  const int64_t n = bundle.train.size();
  const int64_t keep = train_size > 0 ? train_size : n;
  check(keep >= 4 && keep <= n, "--train-size: expected 4..", n, " for dataset '",
        bundle.train.name, "', got ", keep);
  const int64_t n_test = test_size > 0 ? test_size : bundle.test.size();
  check(n_test >= 1 && n_test <= bundle.test.size(), "--test-size: expected 1..",
        bundle.test.size(), " for dataset '", bundle.test.name, "', got ", n_test);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto perm = at::randperm(n, gen, at::kLong).slice(0, 0, keep);
  const int64_t half = keep / 2;
  // Parts other than plain "train"/"test" (e.g. "train/max1024": long inputs dropped) stay in the names.
  const std::string from = bundle.train.part == "train" ? "" : bundle.train.part + "/";
  const std::string s = from + "seed" + std::to_string(seed) + "/n" + std::to_string(keep);
  Splits out;
  out.weak_half = bundle.train.subset(perm.slice(0, 0, half), s + "/weak_half");
  out.transfer_half = bundle.train.subset(perm.slice(0, half, keep), s + "/transfer_half");
  out.test = bundle.test.subset(at::arange(n_test, at::kLong), bundle.test.part + "/n" + std::to_string(n_test));
  return out;
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
