#pragma once
/// \file
/// Fashion-MNIST (Xiao et al. 2017): 60,000 training and 10,000 test images,
/// 28×28 grey, 10 classes; fetched by `./w2s.sh setup` from Debian's
/// `dataset-fashion-mnist` package into `<data-dir>/fashion-mnist/`.
#include <filesystem>

#include "w2s/data/dataset.hpp"
#include "w2s/ingest/idx.hpp"

namespace w2s::data {

/// Loads one part ("train" or "t10k") of an MNIST-layout IDX dataset as images
/// N×1×28×28 in [0,1], int64 labels, and ink (non-zero pixels) as the length.
inline Dataset load_idx_part(const std::filesystem::path& dir, const std::string& stem,
                             const std::string& name, const std::string& part, int64_t classes) {
  const auto images_path = dir / (stem + "-images-idx3-ubyte");
  const auto labels_path = dir / (stem + "-labels-idx1-ubyte");
  for (const auto& p : {images_path, labels_path})
    check(std::filesystem::exists(p), "dataset '", name, "': missing file ", p.string(),
          "; run `./w2s.sh setup` to fetch it (or pass --data-dir)");
  const auto images = read_idx_u8(images_path, 3);
  const auto labels = read_idx_u8(labels_path, 1);
  check(images.size(0) == labels.size(0), labels_path.string(), ": ", labels.size(0),
        " labels, expected one per image of ", images_path.string(), " (", images.size(0), ")");
  check(images.size(1) == 28 && images.size(2) == 28, images_path.string(), ": images are ",
        images.size(1), "×", images.size(2), ", expected 28×28");
  const auto max_label = labels.max().item<int64_t>();
  check(max_label < classes, labels_path.string(), ": label ", max_label, " out of range, expected 0..",
        classes - 1);
  Dataset d;
  d.name = name;
  d.part = part;
  d.modality = Modality::image;
  d.inputs = images.to(at::kFloat).div_(255.0).unsqueeze(1).contiguous();
  d.targets = labels.to(at::kLong);
  d.length = images.ne(0).sum({1, 2}).to(at::kFloat);
  d.classes = classes;
  return d;
}

inline DataBundle load_fashion_mnist(const std::filesystem::path& data_dir) {
  const auto dir = data_dir / "fashion-mnist";
  DataBundle b{load_idx_part(dir, "train", "fashion-mnist", "train", 10),
               load_idx_part(dir, "t10k", "fashion-mnist", "test", 10)};
  const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  b.train.class_names = b.test.class_names = names;
  return b;
}

}  // namespace w2s::data
