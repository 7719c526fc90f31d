#pragma once
/// \file
/// Datasets by name, as `--dataset` selects them.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "w2s/data/fashion_mnist.hpp"
#include "w2s/data/table.hpp"

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
      {"breast-cancer", "Wisconsin breast cancer, 569 x 30, 2 classes (Debian python3-sklearn); fixed 80/20 split",
       load_breast_cancer},
      {"digits", "8x8 digits, 1,797 x 64, 10 classes (Debian python3-sklearn); fixed 80/20 split", load_digits},
      {"wine", "wine, 178 x 13, 3 classes (Debian python3-sklearn); fixed 80/20 split", load_wine},
      {"letter", "UCI letter recognition, 20,000 x 16, 26 classes (Debian opencv-doc); fixed 80/20 split", load_letter},
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
