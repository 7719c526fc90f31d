#pragma once
/// \file
/// Tabular datasets: sklearn's bundled CSV files (Debian `python3-sklearn`) and
/// UCI letter recognition (Debian `opencv-doc`), fetched by `./w2s.sh setup`.
/// None ships a test split, so each gets a fixed one: the rows shuffled with a
/// fixed seed, the last 20% held out. Features are standardised with the
/// training part's mean and standard deviation.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "w2s/data/dataset.hpp"

namespace w2s::data {

/// Rows of a comma-separated numeric table.
struct Table {
  std::vector<std::vector<double>> features;
  std::vector<int64_t> labels;
  std::vector<std::string> class_names;
  std::string source;  ///< the file read, for errors
};

inline std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) {
    while (!field.empty() && (field.back() == '\r' || field.back() == ' ')) field.pop_back();
    out.push_back(field);
  }
  return out;
}

inline double parse_number(const std::string& text, const std::string& where) {
  double v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  check(ec == std::errc() && ptr == end && !text.empty(), where, ": expected a number, got '", text, "'");
  check(std::isfinite(v), where, ": expected a finite number, got '", text, "'");
  return v;
}

/// sklearn's CSV layout: optionally a header "n_samples,n_features,class names…",
/// then rows of n_features numbers and an integer class. Without a header,
/// `features` says how many columns are features.
inline Table read_sklearn_csv(const std::filesystem::path& path, bool header, int64_t features = 0) {
  std::ifstream in(path);
  check(in.good(), path.string(), ": cannot open; run `./w2s.sh setup` to fetch it (or pass --data-dir)");
  Table t;
  t.source = path.string();
  std::string line;
  int64_t expected_rows = -1, line_no = 0;
  if (header) {
    check(static_cast<bool>(std::getline(in, line)), path.string(), ": empty file, expected a header line");
    ++line_no;
    const auto h = split_commas(line);
    check(h.size() >= 4, path.string(), ":1: header '", line, "', expected 'n_samples,n_features,class names...'");
    expected_rows = static_cast<int64_t>(parse_number(h[0], path.string() + ":1: field 1 (n_samples)"));
    features = static_cast<int64_t>(parse_number(h[1], path.string() + ":1: field 2 (n_features)"));
    t.class_names.assign(h.begin() + 2, h.end());
  }
  check(features > 0, path.string(), ": number of feature columns unknown");
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \r") == std::string::npos) continue;
    const auto f = split_commas(line);
    const std::string where = path.string() + ":" + std::to_string(line_no);
    check(static_cast<int64_t>(f.size()) == features + 1, where, ": ", f.size(), " fields, expected ", features + 1,
          " (", features, " features and the class)");
    std::vector<double> row;
    for (int64_t i = 0; i < features; ++i) row.push_back(parse_number(f[i], where + ": field " + std::to_string(i + 1)));
    const double label = parse_number(f[features], where + ": field " + std::to_string(features + 1) + " (class)");
    check(label >= 0 && label == std::floor(label), where, ": class ", label, ", expected an integer >= 0");
    t.features.push_back(std::move(row));
    t.labels.push_back(static_cast<int64_t>(label));
  }
  check(expected_rows < 0 || expected_rows == static_cast<int64_t>(t.labels.size()), path.string(), ": header says ",
        expected_rows, " rows, file has ", t.labels.size());
  check(!t.labels.empty(), path.string(), ": no rows");
  return t;
}

/// UCI letter recognition: "T,2,8,3,…" — a capital letter, then 16 integer features.
inline Table read_letter_recognition(const std::filesystem::path& path) {
  std::ifstream in(path);
  check(in.good(), path.string(), ": cannot open; run `./w2s.sh setup` to fetch it (or pass --data-dir)");
  Table t;
  t.source = path.string();
  for (char c = 'A'; c <= 'Z'; ++c) t.class_names.emplace_back(1, c);
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \r") == std::string::npos) continue;
    const auto f = split_commas(line);
    const std::string where = path.string() + ":" + std::to_string(line_no);
    check(f.size() == 17, where, ": ", f.size(), " fields, expected 17 (a letter and 16 features)");
    check(f[0].size() == 1 && f[0][0] >= 'A' && f[0][0] <= 'Z', where, ": field 1 '", f[0], "', expected a letter A-Z");
    std::vector<double> row;
    for (size_t i = 1; i < f.size(); ++i) row.push_back(parse_number(f[i], where + ": field " + std::to_string(i + 1)));
    t.features.push_back(std::move(row));
    t.labels.push_back(f[0][0] - 'A');
  }
  check(!t.labels.empty(), path.string(), ": no rows");
  return t;
}

/// The fixed split and standardisation of a table: rows shuffled with seed
/// `split_seed`, the last `test_fraction` held out.
inline DataBundle table_bundle(const Table& t, const std::string& name, double test_fraction = 0.2,
                               uint64_t split_seed = 20231214) {
  const auto n = static_cast<int64_t>(t.labels.size());
  // The protocol needs at least 4 training rows (two per half) and one test row.
  check(n >= 10, t.source.empty() ? name : t.source, ": ", n, " rows, too few for the fixed 80/20 split (expected at least 10)");
  const auto d = static_cast<int64_t>(t.features.front().size());
  auto x = at::empty({n, d}, at::kFloat);
  auto acc = x.accessor<float, 2>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) acc[i][j] = static_cast<float>(t.features[i][j]);
  const auto y = at::tensor(t.labels, at::kLong);
  const int64_t classes = std::max<int64_t>(static_cast<int64_t>(t.class_names.size()), y.max().item<int64_t>() + 1);
  check(t.class_names.empty() || y.max().item<int64_t>() < static_cast<int64_t>(t.class_names.size()), name,
        ": class ", y.max().item<int64_t>(), " out of range, expected 0..", t.class_names.size() - 1);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(split_seed);
  const auto perm = at::randperm(n, gen, at::kLong);
  const int64_t n_test = std::max<int64_t>(1, static_cast<int64_t>(std::round(test_fraction * double(n))));
  Dataset all;
  all.name = name;
  all.modality = Modality::table;
  all.inputs = x;
  all.targets = y;
  all.classes = classes;
  all.class_names = t.class_names;
  DataBundle b{all.subset(perm.slice(0, 0, n - n_test), "train"), all.subset(perm.slice(0, n - n_test, n), "test")};
  const auto mean = b.train.inputs.mean(0, true);
  const auto std = b.train.inputs.std(0, true, true).clamp_min(1e-8);
  b.train.inputs = (b.train.inputs - mean) / std;
  b.test.inputs = (b.test.inputs - mean) / std;
  return b;
}

inline DataBundle load_breast_cancer(const std::filesystem::path& dir) {
  return table_bundle(read_sklearn_csv(dir / "sklearn" / "breast_cancer.csv", true), "breast-cancer");
}
inline DataBundle load_wine(const std::filesystem::path& dir) {
  return table_bundle(read_sklearn_csv(dir / "sklearn" / "wine_data.csv", true), "wine");
}
inline DataBundle load_digits(const std::filesystem::path& dir) {
  auto t = read_sklearn_csv(dir / "sklearn" / "digits.csv", false, 64);
  for (int c = 0; c < 10; ++c) t.class_names.push_back(std::to_string(c));
  return table_bundle(t, "digits");
}
inline DataBundle load_letter(const std::filesystem::path& dir) {
  return table_bundle(read_letter_recognition(dir / "uci" / "letter-recognition.data"), "letter");
}

}  // namespace w2s::data
