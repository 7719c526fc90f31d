#pragma once
/// \file
/// The Student role (docs/roles.md#student): how a pretrained model is adapted
/// to a StudentData under a Loss.
#include <concepts>
#include <functional>
#include <map>
#include <unordered_map>
#include <vector>
#include <string>

#include "w2s/core/log.hpp"
#include "w2s/core/policy.hpp"
#include "w2s/labels/label_source.hpp"
#include "w2s/losses/cross_entropy.hpp"
#include "w2s/models/classifier.hpp"
#include "w2s/models/pretrain.hpp"
#include "w2s/train/trainer.hpp"

namespace w2s {

/// Backbone features memoised per (backbone, dataset part): a linear probe
/// computes them once per run, not once per epoch or per seed of the test set.
/// A pretrained encoder's features (seconds per thousand texts) are also kept on disk,
/// per text: each row is named by a hash of its WordPiece ids, so any part, seed or
/// experiment binary reuses what any other computed (docs/text.md).
class FeatureCache {
 public:
  explicit FeatureCache(const Cache* disk = nullptr) : disk_(disk) {}

  at::Tensor get(const PretrainedBackbone& backbone, const Dataset& data, torch::Device device) {
    const auto key = backbone.key + "|" + data.id() + "|" + std::to_string(data.size());
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    auto model = backbone.make(example_shape(data));
    model->to(device);
    model->eval();
    const auto forward = [&](const at::Tensor& x) { return model->forward(x); };
    if (disk_ && disk_->enabled() && backbone.size.backbone.kind == "bert" && data.vocab)
      return cache_[key] = per_text(backbone, data, forward, device);
    return cache_[key] = forward_in_batches(forward, data.inputs, device);
  }

  /// `make()` once per `key` within this process (e.g. an encoder's frozen lower layers).
  at::Tensor memo(const std::string& key, const std::function<at::Tensor()>& make) {
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    return cache_[key] = make();
  }

 private:
  /// Rows of `data` whose WordPiece ids the disk store has are read; the rest are computed,
  /// added and the store rewritten atomically.
  at::Tensor per_text(const PretrainedBackbone& backbone, const Dataset& data, const ForwardFn& forward,
                      torch::Device device) {
    // One store per encoder, whatever the dataset: a text is named by its ids alone.
    const auto base = disk_->base("features", "texts-" + backbone.size.name, {{"backbone", backbone.key}});
    const auto held = disk_->lock(base);  // a concurrent run encoding the same texts waits, then reads them
    auto& store = stores_[base.string()];
    if (!store.loaded) {
      store.loaded = true;
      if (auto hit = disk_->load(base)) {
        store.features = hit->tensors.at(1);
        const auto h = hit->tensors.at(0).contiguous();
        for (int64_t i = 0; i < h.size(0); ++i) store.row.emplace(h.data_ptr<int64_t>()[i], i);
      }
    }
    const auto ids = data.inputs.slice(1, data.vocab->subword_begin).contiguous();
    std::vector<int64_t> hashes(ids.size(0)), missing;  // missing: the first row of each new text
    std::unordered_map<int64_t, int64_t> first;
    for (int64_t i = 0; i < ids.size(0); ++i) {
      const auto* row = ids.data_ptr<int64_t>() + i * ids.size(1);
      int64_t used = ids.size(1);
      while (used > 0 && row[used - 1] == 0) --used;  // parts pad to different widths
      hashes[i] = static_cast<int64_t>(std::stoull(
          stable_hash(std::string(reinterpret_cast<const char*>(row), used * sizeof(int64_t))), nullptr, 16));
      if (!store.row.count(hashes[i]) && first.emplace(hashes[i], i).second) missing.push_back(i);  // texts repeat
    }
    if (!missing.empty()) {
      const auto rows = at::tensor(missing, at::kLong);
      const auto fresh = forward_in_batches(forward, data.inputs.index_select(0, rows), device);
      const int64_t before = store.features.defined() ? store.features.size(0) : 0;
      store.features = before ? at::cat({store.features, fresh}) : fresh;
      for (size_t j = 0; j < missing.size(); ++j) store.row.emplace(hashes[missing[j]], before + int64_t(j));
      std::vector<int64_t> all(store.row.size());
      for (const auto& [h, i] : store.row) all[i] = h;
      Artifact a;
      a.tensors = {at::tensor(all, at::kLong), store.features};
      a.meta = {{"key", {{"backbone", backbone.key}}}, {"rows", all.size()}};
      disk_->store(base, a);
    }
    std::vector<int64_t> index(hashes.size());
    for (size_t i = 0; i < hashes.size(); ++i) index[i] = store.row.at(hashes[i]);
    return store.features.index_select(0, at::tensor(index, at::kLong));
  }

  struct Store {
    bool loaded = false;
    at::Tensor features;
    std::unordered_map<int64_t, int64_t> row;  ///< text hash → row of `features`
  };
  const Cache* disk_;
  std::map<std::string, at::Tensor> cache_;
  std::map<std::string, Store> stores_;
};

/// What a student is given besides its data and loss.
struct StudentContext {
  const PretrainedBackbone& backbone;
  TrainConfig config;
  const Log& log;
  FeatureCache& features;
};

/// A trained student: its model (backbone + head; null for students without
/// one, e.g. few-shot), how its training went, and its predictions on any dataset
/// part (softmax probabilities, N×C, on the CPU).
struct Fitted {
  Classifier model{nullptr};
  FitResult result;
  std::function<at::Tensor(const Dataset&)> predict;
};

/// `predict` of a plain classifier: softmax of its forward pass, in batches.
inline std::function<at::Tensor(const Dataset&)> classifier_predict(Classifier model, torch::Device device) {
  return [model, device](const Dataset& d) mutable {
    model->eval();
    return predict_probs([&](const at::Tensor& x) { return model->forward(x); }, d.inputs, device, d.regression());
  };
}

template <class S>
concept StudentFit = requires(const S& student, const StudentContext& context, const StudentData& data,
                              const CrossEntropy& loss) {
  { student.fit(context, data, loss) } -> std::same_as<Fitted>;
};

/// A Student: `name`, and `template <Loss L> Fitted fit(const StudentContext&,
/// const StudentData&, const L&) const` (checked with CrossEntropy as the archetype).
template <class S>
concept Student = Named<S> && StudentFit<S>;

/// The student's default strong-side epochs and learning rate, if it declares them.
template <class S>
constexpr int64_t student_default_epochs() {
  if constexpr (requires { S::default_epochs; }) return S::default_epochs;
  return 3;
}
template <class S>
constexpr double student_default_lr() {
  if constexpr (requires { S::default_lr; }) return S::default_lr;
  return 1e-3;
}

}  // namespace w2s
