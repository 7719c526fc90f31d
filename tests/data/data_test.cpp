// The IDX reader on files the test writes (valid, truncated, compressed, wrong
// magic) and the protocol's split.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "w2s/ingest/fashion_mnist.hpp"
#include "w2s/ingest/idx.hpp"
#include "w2s/data/registry.hpp"
#include "w2s/metrics/metrics.hpp"

using namespace w2s;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
  auto d = fs::temp_directory_path() / ("w2s_data_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}
void write_bytes(const fs::path& p, const std::vector<unsigned char>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}
// An IDX file of unsigned bytes: magic 0,0,8,dims; big-endian sizes; data.
std::vector<unsigned char> idx(std::vector<uint32_t> shape, std::vector<unsigned char> data) {
  std::vector<unsigned char> b = {0, 0, 8, static_cast<unsigned char>(shape.size())};
  for (auto s : shape)
    for (int k = 3; k >= 0; --k) b.push_back(static_cast<unsigned char>(s >> (8 * k)));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}
}  // namespace

TEST_CASE("IDX reader reads a valid file", "[data]") {
  const auto p = temp_dir() / "ok-idx1";
  write_bytes(p, idx({4}, {3, 1, 4, 1}));
  const auto t = data::read_idx_u8(p, 1);
  REQUIRE(t.sizes() == at::IntArrayRef({4}));
  REQUIRE(at::equal(t, at::tensor({3, 1, 4, 1}, at::kByte)));
  const auto q = temp_dir() / "ok-idx3";
  write_bytes(q, idx({2, 1, 2}, {0, 255, 7, 9}));
  REQUIRE(data::read_idx_u8(q, 3).sizes() == at::IntArrayRef({2, 1, 2}));
}

TEST_CASE("IDX reader rejects malformed files with the file name and what was expected", "[data]") {
  const auto dir = temp_dir();
  const auto check_error = [&](const std::string& name, const std::vector<unsigned char>& bytes, int dims,
                               const std::string& expected) {
    write_bytes(dir / name, bytes);
    REQUIRE_THROWS_WITH(data::read_idx_u8(dir / name, dims),
                        Catch::Contains(name) && Catch::Contains(expected));
  };
  check_error("truncated", idx({10}, {1, 2, 3}), 1, "truncated IDX data: the header's dimensions need more than the 3 bytes the file holds");
  check_error("oversized", idx({2}, {1, 2, 3}), 1, "oversized IDX data");
  check_error("gzipped", {0x1f, 0x8b, 8, 0, 0, 0}, 1, "gzip-compressed");
  check_error("magic", {1, 2, 8, 1, 0, 0, 0, 1, 5}, 1, "not an IDX file");
  check_error("dtype", {0, 0, 0x0d, 1, 0, 0, 0, 1, 5}, 1, "type code 13, expected 8");
  check_error("dims", idx({1, 1}, {5}), 3, "has 2 dimensions, expected 3");
  check_error("short", {0, 0}, 1, "truncated IDX file");
  // a zero dimension is named, even where an earlier dimension declares more than the file holds
  check_error("zero-dim", idx({60000, 0, 28}, {1, 2, 3}), 3, "IDX header: dimension 1 of 3 is 0");
  check_error("zero-last", idx({4, 0}, {1, 2, 3, 4}), 2, "dimension 1 of 2 is 0");
  // dimensions whose product overflows 64 bits (2^32-1 cubed) must not wrap around to a "valid" size
  check_error("overflow", idx({0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {1, 2, 3}), 3,
              "truncated IDX data: the header's dimensions need more than the 3 bytes the file holds");
  check_error("wraps", idx({3, 0x80000000u, 0x80000000u}, {1, 2, 3}), 3, "the header's dimensions need more than the 3 bytes");
  REQUIRE_THROWS_WITH(data::read_idx_u8(dir / "missing", 1), Catch::Contains("cannot open"));
}

TEST_CASE("a missing dataset names the set-up command", "[data]") {
  REQUIRE_THROWS_WITH(data::find_dataset("fashion-mnist").load({temp_dir() / "empty"}),
                      Catch::Contains("./w2s.sh setup"));
  REQUIRE_THROWS_WITH(data::find_dataset("imagenet"), Catch::Contains("unknown dataset 'imagenet'") &&
                                                          Catch::Contains("fashion-mnist"));
}

TEST_CASE("labels out of range are rejected", "[data]") {
  const auto dir = temp_dir() / "badlabels" / "fashion-mnist";
  fs::create_directories(dir);
  for (const std::string part : {"train", "t10k"}) {
    write_bytes(dir / (part + "-images-idx3-ubyte"), idx({2, 28, 28}, std::vector<unsigned char>(2 * 784, 9)));
    write_bytes(dir / (part + "-labels-idx1-ubyte"), idx({2}, {3, 12}));
  }
  REQUIRE_THROWS_WITH(data::load_fashion_mnist(dir.parent_path()), Catch::Contains("label 12 out of range"));
}

TEST_CASE("the split: disjoint halves, fixed by the seed, one test set for all seeds", "[data]") {
  Dataset train;
  train.name = "toy";
  train.classes = 2;
  train.inputs = at::arange(100, at::kFloat).view({100, 1});
  train.targets = at::arange(100, at::kLong).remainder(2);
  DataBundle b{train, train};
  const auto s0 = make_splits(b, 0, 60, 10), s0b = make_splits(b, 0, 60, 10), s1 = make_splits(b, 1, 60, 10);
  REQUIRE(s0.weak_half.size() == 30);
  REQUIRE(s0.transfer_half.size() == 30);
  REQUIRE(s0.test.size() == 10);
  const auto all = at::cat({s0.weak_half.inputs, s0.transfer_half.inputs}).flatten();
  REQUIRE(std::get<0>(at::_unique(all)).size(0) == 60);  // no example in both halves
  REQUIRE(at::equal(s0.weak_half.inputs, s0b.weak_half.inputs));
  REQUIRE_FALSE(at::equal(s0.weak_half.inputs, s1.weak_half.inputs));
  REQUIRE(at::equal(s0.test.inputs, s1.test.inputs));
  REQUIRE(s0.weak_half.id() != s0.transfer_half.id());
  REQUIRE_THROWS_WITH(make_splits(b, 0, 1000, 0), Catch::Contains("--train-size: expected 4..100"));
}

TEST_CASE("a bundle's fingerprint follows its content, and NaN or infinite values are refused by name", "[data]") {
  const auto make = [] {
    DataBundle b;
    b.train.name = b.test.name = "toy";
    b.train.part = "train", b.test.part = "test";
    b.train.modality = b.test.modality = Modality::table;
    b.train.inputs = at::arange(12, at::kFloat).view({6, 2});
    b.train.targets = at::tensor({0, 1, 0, 1, 0, 1}, at::kLong);
    b.test.inputs = at::ones({2, 2});
    b.test.targets = at::tensor({0, 1}, at::kLong);
    b.train.classes = b.test.classes = 2;
    return b;
  };
  auto a = make();
  fingerprint_bundle(a);
  REQUIRE(a.train.fingerprint.size() == 16);
  REQUIRE(a.train.fingerprint == a.test.fingerprint);
  REQUIRE_THAT(a.train.id(), Catch::StartsWith("toy@" + a.train.fingerprint + ":train"));
  auto same = make();
  fingerprint_bundle(same);
  REQUIRE(same.train.id() == a.train.id());
  // every label changed, the row count kept (the issue's case): another key
  auto relabelled = make();
  relabelled.train.targets = 1 - relabelled.train.targets;
  fingerprint_bundle(relabelled);
  REQUIRE(relabelled.train.id() != a.train.id());
  // one test input changed: another key for the training parts too (the test set is scored in every stage)
  auto retested = make();
  retested.test.inputs[1][0] = 2.0f;
  fingerprint_bundle(retested);
  REQUIRE(retested.train.fingerprint != a.train.fingerprint);
  // splits carry the fingerprint into every stage's key
  REQUIRE(make_splits(a, 0, 0, 0).weak_half.id() != make_splits(relabelled, 0, 0, 0).weak_half.id());
  auto bad = make();
  bad.train.inputs[4][1] = INFINITY;
  REQUIRE_THROWS_WITH(fingerprint_bundle(bad),
                      Catch::Contains("dataset 'toy' (train): input row 4, column 1 is inf; expected a finite number"));
}

TEST_CASE("a bundle's targets must be what its task says: class ids in range, or real values without classes",
          "[data]") {
  const auto make = [] {
    DataBundle b;
    b.train.name = b.test.name = "toy";
    b.train.part = "train", b.test.part = "test";
    b.train.inputs = at::zeros({4, 2});
    b.train.targets = at::tensor({0, 2, 1, 0}, at::kLong);
    b.test.inputs = at::zeros({2, 2});
    b.test.targets = at::tensor({1, 2}, at::kLong);
    b.train.classes = b.test.classes = 3;
    return b;
  };
  auto ok = make();
  REQUIRE_NOTHROW(fingerprint_bundle(ok));
  auto out_of_range = make();
  out_of_range.test.targets[1] = 3;
  REQUIRE_THROWS_WITH(fingerprint_bundle(out_of_range),
                      Catch::Contains("dataset 'toy' (test): class id 3 out of range, expected 0..2"));
  auto negative = make();
  negative.train.targets[2] = -1;
  REQUIRE_THROWS_WITH(fingerprint_bundle(negative), Catch::Contains("(train): class id -1 out of range"));
  auto float_ids = make();
  float_ids.train.targets = float_ids.train.targets.to(at::kFloat);
  REQUIRE_THROWS_WITH(fingerprint_bundle(float_ids), Catch::Contains("3 classes need N int64 class ids, got Float"));
  // no classes: regression, whose targets are real-valued N × k
  auto regression = make();
  regression.train.classes = regression.test.classes = 0;
  REQUIRE_THROWS_WITH(fingerprint_bundle(regression),
                      Catch::Contains("a dataset without classes is regression data and needs real-valued N × k"));
  regression.train.targets = at::zeros({4, 1});
  regression.test.targets = at::zeros({2, 1});
  REQUIRE_NOTHROW(fingerprint_bundle(regression));
  REQUIRE(regression.train.regression());
  REQUIRE(metrics::is_regression(regression.train.targets) == regression.train.regression());
  REQUIRE(metrics::is_regression(ok.train.targets) == ok.train.regression());
  auto short_targets = make();
  short_targets.train.targets = short_targets.train.targets.slice(0, 0, 3);
  REQUIRE_THROWS_WITH(fingerprint_bundle(short_targets), Catch::Contains("(train): [3] targets for 4 examples"));
}
