#pragma once
/// \file
/// Datasets by name, as `--dataset` selects them.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "w2s/data/fashion_mnist.hpp"

namespace w2s::data {

struct DatasetEntry {
  std::string name;
  std::string description;
  std::function<DataBundle(const std::filesystem::path& data_dir)> load;
};

/// Every dataset the framework knows. Adding one is adding an entry here.
inline const std::vector<DatasetEntry>& datasets() {
  static const std::vector<DatasetEntry> all = {
      {"fashion-mnist", "Fashion-MNIST, 60k train / 10k test, 28x28, 10 classes (Debian dataset-fashion-mnist)",
       load_fashion_mnist},
  };
  return all;
}

inline const DatasetEntry& find_dataset(const std::string& name) {
  std::string known;
  for (const auto& e : datasets()) {
    if (e.name == name) return e;
    known += (known.empty() ? "" : ", ") + e.name;
  }
  fail("--dataset: unknown dataset '", name, "'; expected one of: ", known);
}

}  // namespace w2s::data
