// The built-in datasets whose examples are tensors: Fashion-MNIST (IDX files), the four
// tables from Debian packages, and the generated regression setting of Charikar et al.
// Each registers itself with the core's open registry (include/w2s/data/registry.hpp).
#include "w2s/data/registry.hpp"
#include "w2s/ingest/charikar.hpp"
#include "w2s/ingest/fashion_mnist.hpp"
#include "w2s/ingest/table.hpp"

namespace {

using w2s::DataBundle;
using w2s::DataOptions;

/// Adapts a loader that only needs the data folder.
template <DataBundle (*Load)(const std::filesystem::path&)>
DataBundle from_dir(const DataOptions& o) {
  return Load(o.dir);
}

const bool registered = [] {
  using w2s::data::register_dataset;
  register_dataset({"fashion-mnist", "Fashion-MNIST, 60k train / 10k test, 28x28, 10 classes (Debian dataset-fashion-mnist)",
                    from_dir<w2s::data::load_fashion_mnist>});
  register_dataset({"breast-cancer", "Wisconsin breast cancer, 569 x 30, 2 classes (Debian python3-sklearn); fixed 80/20 split",
                    from_dir<w2s::data::load_breast_cancer>});
  register_dataset({"digits", "8x8 digits, 1,797 x 64, 10 classes (Debian python3-sklearn); fixed 80/20 split",
                    from_dir<w2s::data::load_digits>});
  register_dataset({"wine", "wine, 178 x 13, 3 classes (Debian python3-sklearn); fixed 80/20 split",
                    from_dir<w2s::data::load_wine>});
  register_dataset({"letter", "UCI letter recognition, 20,000 x 16, 26 classes (Debian opencv-doc); fixed 80/20 split",
                    from_dir<w2s::data::load_letter>});
  register_dataset({"charikar", "the regression setting of Charikar et al. (2024): 20 transfer tasks on a random ReLU "
                                "target, 4,000 train / 10,000 test (generated)",
                    [](const DataOptions& o) { return w2s::data::load_charikar(o.dir); }});
  return true;
}();

}  // namespace
