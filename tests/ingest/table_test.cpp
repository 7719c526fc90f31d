// The table readers on files the test writes: valid, and malformed in each way.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "w2s/ingest/table.hpp"

using namespace w2s;
namespace fs = std::filesystem;

namespace {
fs::path write(const std::string& name, const std::string& text) {
  const auto dir = fs::temp_directory_path() / ("w2s_table_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / name) << text;
  return dir / name;
}
}  // namespace

TEST_CASE("sklearn CSV with a header", "[data]") {
  const auto t = data::read_sklearn_csv(write("ok.csv", "3,2,no,yes\n1.5,2,0\n-1,0.25,1\n3,4,1\n"), true);
  REQUIRE(t.labels == std::vector<int64_t>{0, 1, 1});
  REQUIRE(t.class_names == std::vector<std::string>{"no", "yes"});
  REQUIRE(t.features[1] == std::vector<double>{-1, 0.25});
}

TEST_CASE("sklearn CSV errors name the file, line and field", "[data]") {
  const auto error = [](const std::string& name, const std::string& text, bool header = true) {
    try {
      data::read_sklearn_csv(write(name, text), header, 2);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  REQUIRE_THAT(error("short.csv", "2,2,a,b\n1,2,0\n1,0\n"), Catch::Contains("short.csv:3: 2 fields, expected 3"));
  REQUIRE_THAT(error("nan.csv", "1,2,a,b\n1,x,0\n"), Catch::Contains("nan.csv:2: field 2: expected a number, got 'x'"));
  REQUIRE_THAT(error("class.csv", "1,2,a,b\n1,2,0.5\n"), Catch::Contains("class.csv:2: class 0.5"));
  REQUIRE_THAT(error("count.csv", "5,2,a,b\n1,2,0\n"), Catch::Contains("header says 5 rows, file has 1"));
  // from_chars reads "nan" and "inf" as numbers: refused where they enter, naming file, line and field
  REQUIRE_THAT(error("nancell.csv", "1,2,a,b\n1,nan,0\n"),
               Catch::Contains("nancell.csv:2: field 2: expected a finite number, got 'nan'"));
  REQUIRE_THAT(error("infcell.csv", "1,2,a,b\n-inf,1,0\n"),
               Catch::Contains("infcell.csv:2: field 1: expected a finite number, got '-inf'"));
  REQUIRE_THAT(error("header.csv", "oops\n"), Catch::Contains("header.csv:1: header 'oops'"));
  REQUIRE_THAT(error("empty.csv", "", false), Catch::Contains("no rows"));
  REQUIRE_THROWS_WITH(data::read_sklearn_csv("/nonexistent/x.csv", true), Catch::Contains("./w2s.sh setup"));
}

TEST_CASE("letter recognition rows", "[data]") {
  const auto t = data::read_letter_recognition(write("letters.data", "T,2,8,3,5,1,8,13,0,6,6,10,8,0,8,0,8\n"
                                                                     "A,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n"));
  REQUIRE(t.labels == std::vector<int64_t>{19, 0});
  REQUIRE(t.features[0].size() == 16);
  REQUIRE_THROWS_WITH(data::read_letter_recognition(write("bad.data", "t,1,2\n")),
                      Catch::Contains("bad.data:1: 3 fields, expected 17"));
  REQUIRE_THROWS_WITH(data::read_letter_recognition(write("lower.data", "t,2,8,3,5,1,8,13,0,6,6,10,8,0,8,0,8\n")),
                      Catch::Contains("expected a letter A-Z"));
}

TEST_CASE("table split: fixed, disjoint, standardised on the training part", "[data]") {
  data::Table t;
  for (int i = 0; i < 50; ++i) {
    t.features.push_back({double(i), 100.0 + 3 * i});
    t.labels.push_back(i % 2);
  }
  t.class_names = {"even", "odd"};
  const auto a = data::table_bundle(t, "toy"), b = data::table_bundle(t, "toy");
  REQUIRE(a.train.size() == 40);
  REQUIRE(a.test.size() == 10);
  REQUIRE(at::equal(a.test.inputs, b.test.inputs));
  REQUIRE(at::allclose(a.train.inputs.mean(0), at::zeros({2}), 1e-5, 1e-5));
  REQUIRE(at::allclose(a.train.inputs.std(0), at::ones({2}), 1e-4, 1e-4));
  REQUIRE(a.train.modality == Modality::table);
  REQUIRE_FALSE(a.train.length.defined());  // tables have no length: structured noise rejects them
}

TEST_CASE("a table too small for the fixed split names its file", "[data]") {
  const auto t = data::read_sklearn_csv(write("tiny.csv", "3,2,no,yes\n1.5,2,0\n-1,0.25,1\n3,4,1\n"), true);
  REQUIRE_THROWS_WITH(data::table_bundle(t, "tiny"),
                      Catch::Contains("tiny.csv: 3 rows, too few for the fixed 80/20 split (expected at least 10)"));
}
