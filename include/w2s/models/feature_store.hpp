#pragma once
/// \file
/// The per-text feature store (docs/text.md): a backbone's frozen features, and an encoder's
/// frozen lower layers for top-k fine-tuning, computed once per text and kept in memory and on
/// disk, so that any part, seed or experiment binary reuses what any other computed.
#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "w2s/core/cache.hpp"
#include "w2s/core/engine.hpp"
#include "w2s/data/dataset.hpp"
#include "w2s/models/model_kind.hpp"
#include "w2s/models/pretrain.hpp"
#include "w2s/train/callback.hpp"
#include "w2s/train/predict.hpp"

namespace w2s {

/// Backbone features memoised per (backbone, dataset part): a linear probe
/// computes them once per run, not once per epoch or per seed of the test set.
/// A pretrained encoder's features (seconds per thousand texts) are also kept on disk,
/// per text: each row is named by a hash of its WordPiece ids, so any part, seed or
/// experiment binary reuses what any other computed (docs/text.md), and a binary built after an
/// edit outside the models' code (core/code.hpp's models_fingerprint) too.
class FeatureCache {
 public:
  explicit FeatureCache(const Cache* disk = nullptr) : disk_(disk) {}

  W2S_ENGINE_INLINE at::Tensor get(const PretrainedBackbone& backbone, const Dataset& data, torch::Device device);

  /// Each text's own rows of `run(inputs)` (N×T×C states, position by position: an encoder's
  /// frozen lower layers with the mask as the last channel, models/bert_backbone.hpp), kept per
  /// text in this process under `key`, so a text shared by parts or seeds (the test set, the
  /// halves of every seed) runs once. The part comes back N×T×C with T its longest text, zeros
  /// beyond each text (mask 0: what the upper layers ignore). Texts are read from `columns` (the
  /// backbone's own token ids); new ones run 512 at a time. Bounded by `memo_bytes`: past it, the least recently
  /// used half of the texts are dropped (and run again if asked for again).
  W2S_ENGINE_INLINE at::Tensor text_states(const std::string& key, const Dataset& data, const TokenColumns& columns,
                                           const std::function<at::Tensor(const at::Tensor&)>& run);
  /// Batches text_states() ran (at most 512 new texts each).
  [[nodiscard]] size_t text_runs() const { return text_runs_; }
  [[nodiscard]] size_t states_held() const { return states_held_; }

  /// The most bytes text_states() keeps (4 GiB: the frozen lower layers of every Brown sentence
  /// at their own lengths take about 0.4 GiB).
  size_t memo_bytes = size_t{4} << 30;
  /// How many times get() ran a backbone (or read the disk store) rather than its memory.
  [[nodiscard]] size_t computed() const { return computed_; }
  /// How many texts the per-text store had to encode (the rest it read from disk).
  [[nodiscard]] size_t encoded_texts() const { return encoded_; }

 private:
  /// Rows of `data` whose WordPiece ids the disk store has are read; the rest are computed and
  /// appended. The store is a folder of append-only segments (one artefact per append, written
  /// atomically with checksums: core/cache.hpp), so an append costs its own rows, not the whole
  /// store; under the store's lock a process first reads the segments other processes wrote
  /// since it last looked, so two runs appending at once keep each other's rows. A damaged
  /// segment is reported, removed and its texts recomputed.
  W2S_ENGINE_INLINE at::Tensor per_text(const PretrainedBackbone& backbone, const Dataset& data,
                                        const TokenColumns& columns, const ForwardFn& forward, torch::Device device);

  /// A hash of each row's ids in `columns` (trailing padding cut: parts pad to different widths).
  W2S_ENGINE_INLINE static std::vector<int64_t> text_hashes(const Dataset& data, const TokenColumns& columns);

  struct Store {
    std::set<std::string> seen;  ///< segments read (or written) by this process
    at::Tensor features;
    std::unordered_map<int64_t, int64_t> row;  ///< text hash → row of `features`
  };

  W2S_ENGINE_INLINE static void append_rows(Store& store, const at::Tensor& hashes, const at::Tensor& features);

  /// Reads the segments of `dir` that `store` has not seen, in name order (time of writing).
  W2S_ENGINE_INLINE void read_new_segments(const std::filesystem::path& dir, Store& store) const;

  struct Memo {  ///< one text's states in text_states(), and when it was last used
    at::Tensor value;
    uint64_t used = 0;
  };
  const Cache* disk_;
  std::map<std::string, at::Tensor> cache_;
  uint64_t clock_ = 0;
  size_t computed_ = 0;
  size_t encoded_ = 0;
  std::map<std::string, std::unordered_map<int64_t, Memo>> states_;  ///< text_states: key → text → its states
  size_t states_held_ = 0;
  size_t text_runs_ = 0;
  std::map<std::string, Store> stores_;
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
W2S_ENGINE_INLINE at::Tensor FeatureCache::get(const PretrainedBackbone& backbone, const Dataset& data,
                                               torch::Device device) {
  const auto key = backbone.key + "|" + data.id() + "|" + std::to_string(data.size());
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  ++computed_;
  auto model = backbone.make(example_shape(data));
  model->to(device);
  model->eval();
  const auto forward = [&](const at::Tensor& x) { return model->forward(x); };
  if (disk_ && disk_->enabled() && model_kind(backbone.size.backbone.kind).per_text_features && data.vocab &&
      token_reader(*model))
    return cache_[key] = per_text(backbone, data, token_reader(*model)->columns(), forward, device);
  return cache_[key] = forward_in_batches(forward, data.inputs, device);
}

W2S_ENGINE_INLINE at::Tensor FeatureCache::text_states(const std::string& key, const Dataset& data,
                                                       const TokenColumns& columns,
                                                       const std::function<at::Tensor(const at::Tensor&)>& run) {
  check(data.vocab && data.vocab->subword_begin > 0, "text_states: dataset '", data.name, "' has no subword columns");
  auto& texts = states_[key];
  const auto hashes = text_hashes(data, columns);
  const auto lengths = columns.of(data.inputs).ne(columns.pad).sum(1).contiguous();
  std::vector<int64_t> missing;
  std::unordered_map<int64_t, int64_t> first;
  for (int64_t i = 0; i < static_cast<int64_t>(hashes.size()); ++i)
    if (!texts.count(hashes[i]) && first.emplace(hashes[i], i).second) missing.push_back(i);
  for (size_t b = 0; b < missing.size(); b += 512) {
    const std::vector<int64_t> batch(missing.begin() + b, missing.begin() + std::min(missing.size(), b + 512));
    const auto rows = at::tensor(batch, at::kLong);
    at::Tensor out;
    {
      torch::NoGradGuard no_grad;
      out = run(data.inputs.index_select(0, rows)).to(at::kCPU);
    }
    for (size_t j = 0; j < batch.size(); ++j) {
      const int64_t len = lengths.data_ptr<int64_t>()[batch[j]];
      check(len <= out.size(1), "text_states: ", out.size(1), " positions for a text of ", len);
      auto own = out[static_cast<int64_t>(j)].slice(0, 0, len).clone();
      states_held_ += static_cast<size_t>(own.numel()) * own.element_size();
      texts[hashes[batch[j]]] = {std::move(own), 0};
    }
    ++text_runs_;
  }
  const auto stamp = ++clock_;
  int64_t longest = 1, channels = 0;
  for (const auto h : hashes) {
    auto& e = texts.at(h);
    e.used = stamp;
    longest = std::max(longest, e.value.size(0));
    channels = e.value.size(1);
  }
  auto part = at::zeros({static_cast<int64_t>(hashes.size()), longest, channels});
  for (size_t i = 0; i < hashes.size(); ++i) {
    const auto& v = texts.at(hashes[i]).value;
    part[static_cast<int64_t>(i)].slice(0, 0, v.size(0)).copy_(v);
  }
  if (states_held_ > memo_bytes) {  // drop the least recently used half (never this part's texts)
    std::vector<uint64_t> stamps;
    for (const auto& [k, t] : states_)
      for (const auto& [h, e] : t) stamps.push_back(e.used);
    std::nth_element(stamps.begin(), stamps.begin() + stamps.size() / 2, stamps.end());
    const auto cut = std::min(stamps[stamps.size() / 2], stamp - 1);
    for (auto& [k, t] : states_)
      for (auto it = t.begin(); it != t.end();)
        if (it->second.used <= cut) {
          states_held_ -= static_cast<size_t>(it->second.value.numel()) * it->second.value.element_size();
          it = t.erase(it);
        } else {
          ++it;
        }
  }
  return part;
}

W2S_ENGINE_INLINE at::Tensor FeatureCache::per_text(const PretrainedBackbone& backbone, const Dataset& data,
                                                    const TokenColumns& columns, const ForwardFn& forward,
                                                    torch::Device device) {
  // One store per encoder, whatever the dataset: a text is named by its ids alone. Keyed by the
  // models' code, not the whole library's (core/code.hpp): an edit of a loss or a student keeps it.
  const auto dir =
      disk_->base("features", "texts-" + backbone.size.name, {{"backbone", backbone.key}}, code::models_fingerprint());
  std::filesystem::create_directories(dir);
  const auto held = disk_->lock(dir);  // a concurrent run encoding the same texts waits, then reads them
  auto& store = stores_[dir.string()];
  read_new_segments(dir, store);
  const auto hashes = text_hashes(data, columns);
  std::vector<int64_t> missing;  // the first row of each new text
  std::unordered_map<int64_t, int64_t> first;
  for (int64_t i = 0; i < static_cast<int64_t>(hashes.size()); ++i)
    if (!store.row.count(hashes[i]) && first.emplace(hashes[i], i).second) missing.push_back(i);  // texts repeat
  if (!missing.empty()) {
    const auto rows = at::tensor(missing, at::kLong);
    const auto fresh = forward_in_batches(forward, data.inputs.index_select(0, rows), device);
    encoded_ += missing.size();
    std::vector<int64_t> new_hashes;
    for (const auto i : missing) new_hashes.push_back(hashes[i]);
    Artifact a;
    a.tensors = {at::tensor(new_hashes, at::kLong), fresh};
    a.meta = {{"key", {{"backbone", backbone.key}}}, {"rows", new_hashes.size()}};
    const auto name = "seg-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "-" +
                      std::to_string(::getpid());
    disk_->store(dir / name, a);
    store.seen.insert(name);
    append_rows(store, a.tensors[0], fresh);
  }
  std::vector<int64_t> index(hashes.size());
  for (size_t i = 0; i < hashes.size(); ++i) index[i] = store.row.at(hashes[i]);
  return store.features.index_select(0, at::tensor(index, at::kLong));
}

W2S_ENGINE_INLINE std::vector<int64_t> FeatureCache::text_hashes(const Dataset& data, const TokenColumns& columns) {
  const auto ids = columns.of(data.inputs).contiguous();
  std::vector<int64_t> hashes(ids.size(0));
  for (int64_t i = 0; i < ids.size(0); ++i) {
    const auto* row = ids.data_ptr<int64_t>() + i * ids.size(1);
    int64_t used = ids.size(1);
    while (used > 0 && row[used - 1] == columns.pad) --used;
    hashes[i] = static_cast<int64_t>(
        std::stoull(stable_hash(std::string(reinterpret_cast<const char*>(row), used * sizeof(int64_t))), nullptr, 16));
  }
  return hashes;
}

W2S_ENGINE_INLINE void FeatureCache::append_rows(Store& store, const at::Tensor& hashes, const at::Tensor& features) {
  const auto h = hashes.contiguous();
  const int64_t before = store.features.defined() ? store.features.size(0) : 0;
  store.features = before ? at::cat({store.features, features}) : features;
  for (int64_t i = 0; i < h.size(0); ++i) store.row.emplace(h.data_ptr<int64_t>()[i], before + i);
}

W2S_ENGINE_INLINE void FeatureCache::read_new_segments(const std::filesystem::path& dir, Store& store) const {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json" && !store.seen.count(e.path().stem().string()))
      names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    store.seen.insert(name);
    auto hit = disk_->load(dir / name);
    if (!hit || hit->tensors.size() != 2 || hit->tensors[0].size(0) != hit->tensors[1].size(0)) {
      std::error_code ignored;  // reported by load(); its texts are computed again into a new segment
      std::filesystem::remove(dir / (name + ".json"), ignored);
      std::filesystem::remove(dir / (name + ".pt"), ignored);
      continue;
    }
    append_rows(store, hit->tensors[0], hit->tensors[1]);
  }
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)

}  // namespace w2s
