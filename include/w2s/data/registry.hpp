#pragma once
/// \file
/// Datasets by name, as `--dataset` selects them: an open registry. The core knows no
/// dataset; each one is registered by the file that loads it, with a static initialiser:
///
///     namespace { const bool added = w2s::data::register_dataset({"my-data", "what it is", load_my_data}); }
///
/// The built-in datasets register themselves this way in the compiled companion library
/// (datasets/, linked into every experiment by w2s_add_experiment); a user's dataset is one
/// more .cpp file beside an experiment or in a library of their own (docs/architecture.md,
/// "Adding a dataset"; tests/data/registry_test.cpp registers one from outside include/).
#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/data/dataset.hpp"

namespace w2s::data {

struct DatasetEntry {
  std::string name;
  std::string description;
  std::function<DataBundle(const DataOptions&)> load;
};

namespace detail {
W2S_ENGINE_INLINE std::vector<DatasetEntry>& registered();
}  // namespace detail

/// Adds `entry`; refuses an empty name, a name ending in "-val" (the validation variant
/// of every dataset is named so), a missing loader, and a name already taken. Returns
/// true, so that a file can register from a static initialiser.
W2S_ENGINE_INLINE bool register_dataset(DatasetEntry entry);

/// Every registered dataset, by name.
W2S_ENGINE_INLINE std::vector<DatasetEntry> datasets();

/// `bundle` without its test set: the training pool cut into 80% "train" and 20% "test" (the
/// validation examples), for choosing settings without touching test data (`--dataset
/// NAME-val`, docs/results.md). Held out the way the test split is: where the data has groups
/// (Dataset::group; Brown: files), whole groups in a fixed shuffled order until at least a fifth
/// of the rows; otherwise rows by a fixed shuffle.
W2S_ENGINE_INLINE DataBundle validation_bundle(DataBundle bundle);

/// The dataset `name`, or for `NAME-val` the validation variant of NAME. Its `load`
/// fingerprints what it read (fingerprint_bundle), so cache keys follow the content.
W2S_ENGINE_INLINE DatasetEntry find_dataset(const std::string& name);

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE std::vector<DatasetEntry>& detail::registered() {
  static std::vector<DatasetEntry> all;  // constructed on first use: safe from any static initialiser
  return all;
}

W2S_ENGINE_INLINE bool register_dataset(DatasetEntry entry) {
  check(!entry.name.empty(), "register_dataset: a dataset needs a name");
  check(!(entry.name.size() > 4 && entry.name.ends_with("-val")), "register_dataset: '", entry.name,
        "': names ending in -val are the validation variants of other datasets");
  check(static_cast<bool>(entry.load), "register_dataset: '", entry.name, "' has no loader");
  auto& all = detail::registered();
  check(std::none_of(all.begin(), all.end(), [&](const DatasetEntry& e) { return e.name == entry.name; }),
        "register_dataset: a dataset named '", entry.name, "' is registered already");
  all.push_back(std::move(entry));
  return true;
}

W2S_ENGINE_INLINE std::vector<DatasetEntry> datasets() {
  auto all = detail::registered();
  std::sort(all.begin(), all.end(), [](const DatasetEntry& a, const DatasetEntry& b) { return a.name < b.name; });
  return all;
}

W2S_ENGINE_INLINE DataBundle validation_bundle(DataBundle bundle) {
  const int64_t n = bundle.train.size();
  at::Tensor held_out, rest;
  std::string part = bundle.train.part + "/val";
  if (bundle.train.group.defined()) {
    const auto& g = bundle.train.group;
    check(g.dim() == 1 && g.size(0) == n, "dataset '", bundle.train.name, "': ", g.sizes(), " group ids for ", n,
          " rows");
    const auto ids = std::get<0>(at::_unique(g, /*sorted=*/true));
    const auto counts = at::bincount(g - ids.min(), {}, 0);  // rows per group id (ids are small non-negative)
    const auto order = fixed_order(ids.size(0));
    auto chosen = at::zeros_like(counts, at::kBool);
    int64_t held = 0;
    for (const auto k : order) {
      if (5 * held >= n) break;
      const int64_t id = ids[k].item<int64_t>() - ids.min().item<int64_t>();
      chosen[id].fill_(true);
      held += counts[id].item<int64_t>();
    }
    const auto in_held = chosen.index_select(0, g - ids.min());
    held_out = in_held.nonzero().view(-1);
    rest = in_held.logical_not().nonzero().view(-1);
    part += "-by-group";  // another split than the row-wise one: other cache keys
  } else {
    const auto order = at::tensor(fixed_order(n), at::kLong);
    const int64_t cut = n * 4 / 5;
    held_out = order.slice(0, cut);
    rest = order.slice(0, 0, cut);
  }
  check(rest.size(0) >= 4 && held_out.size(0) >= 1, "dataset '", bundle.train.name,
        "' is too small for a validation split (", rest.size(0), " rows left, ", held_out.size(0), " held out)");
  bundle.test = bundle.train.subset(held_out, part + "/held_out");
  bundle.train = bundle.train.subset(rest, part + "/rest");
  bundle.train.name = bundle.test.name = bundle.train.name + "-val";
  return bundle;
}

W2S_ENGINE_INLINE DatasetEntry find_dataset(const std::string& name) {
  std::string known;
  for (const auto& e : datasets()) {
    const auto fingerprinted = [load = e.load](const DataOptions& o) {
      auto bundle = load(o);
      fingerprint_bundle(bundle);
      return bundle;
    };
    if (e.name == name) return {e.name, e.description, fingerprinted};
    if (name == e.name + "-val")
      return {name,
              e.description +
                  "; validation variant: its training pool only, 80% train / 20% held out (whole groups where "
                  "the data has them, as its test split: Brown's files)",
              [fingerprinted](const DataOptions& o) { return validation_bundle(fingerprinted(o)); }};
    known += (known.empty() ? "" : ", ") + e.name;
  }
  if (known.empty())
    fail("--dataset: unknown dataset '", name, "': no dataset is registered in this binary (link w2s::datasets, ",
         "or register one: docs/architecture.md)");
  fail("--dataset: unknown dataset '", name, "'; expected one of: ", known, " (each also as NAME-val)");
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s::data
