// GloVe: the binary pair round-trips exactly, the wink JSON converter reads a tiny
// hand-written file, and every corruption of either is an error that says what.
#include "w2s/ingest/text/glove.hpp"

#include <unistd.h>

#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

using namespace w2s;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {
// A fresh folder per test name, so one case's leftovers cannot satisfy another.
fs::path temp_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("w2s_glove_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}
std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
// Removes this process's folder when the test binary exits.
struct RemoveTempRoot {
  ~RemoveTempRoot() {
    std::error_code ignored;
    fs::remove_all(fs::temp_directory_path() / ("w2s_glove_test_" + std::to_string(::getpid())),
                   ignored);
  }
} remove_temp_root;

std::string load_error(const fs::path& dir) {
  try {
    text::load_glove(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}
std::string convert_error(const std::string& json, const std::string& name) {
  const auto dir = temp_dir(name);
  write_text(dir / "in.json", json);
  try {
    text::convert_wink_json(dir / "in.json", dir / "out");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

const std::vector<std::string> kWords = {"the", "naïve", "\"quoted\""};
const std::vector<float> kVectors = {0.5f, -1.25f, 3e-8f, 1e30f, -0.0f, 7.0f};

// A wink-format file: 3 words, 4 dims; norms 5, 13 and 2; "vectors" in an order
// unlike "words" so the converter must place rows by index.
std::string wink(const std::string& size = "3", const std::string& cat = "[5,12,0,0,13,1]",
                 const std::string& tail = "}") {
  return R"({"precision":8,"l2NormIndex":4,"wordIndex":5,"size":)" + size +
         R"(,"dimensions":4,"words":["dog","cat","caf\u00e9"],"vectors":{"caf\u00e9":[1,1,1,1,2,2],)"
         R"("dog":[3,-4,0,0,5,0],"cat":)" +
         cat + R"(},"unkVector":[0,0,0,0,0,-1])" + tail;
}
}  // namespace

TEST_CASE("write_glove and load_glove round-trip exactly", "[text]") {
  const auto dir = temp_dir("roundtrip");
  text::write_glove(dir, kWords, kVectors, 2);
  const auto g = text::load_glove(dir);
  REQUIRE(g.words == kWords);
  REQUIRE(g.dims == 2);
  REQUIRE(g.rows() == 3);
  REQUIRE(g.vectors == kVectors);
  REQUIRE(g.find("naïve") == std::optional<int64_t>(1));
  REQUIRE_FALSE(g.find("absent").has_value());
  REQUIRE(g.row(2)[1] == 7.0f);
  REQUIRE(fs::file_size(dir / "glove.f32") == 32 + 6 * 4);
  REQUIRE(read_text(dir / "glove.vocab") == "w2s-glove-vocab 1 3 2\nthe\nnaïve\n\"quoted\"\n");
  REQUIRE_THROWS_WITH(g.row(3), Contains("out of range"));
}

TEST_CASE("write_glove rejects what load_glove would reject", "[text]") {
  const auto dir = temp_dir("write_bad");
  REQUIRE_THROWS_WITH(text::write_glove(dir, {"a", "a"}, {1, 2}, 1), Contains("duplicates word 0"));
  REQUIRE_THROWS_WITH(text::write_glove(dir, {"a\nb"}, {1}, 1), Contains("line break"));
  REQUIRE_THROWS_WITH(text::write_glove(dir, {"a"}, {1, 2}, 1), Contains("expected 1"));
  REQUIRE_THROWS_WITH(text::write_glove(dir, {"a"}, {std::nanf("")}, 1), Contains("not finite"));
}

TEST_CASE("convert_wink_json reads the wink layout in words order", "[text]") {
  const auto dir = temp_dir("convert");
  write_text(dir / "in.json", wink());
  std::vector<std::string> lines;
  text::convert_wink_json(dir / "in.json", dir / "out",
                          [&](std::string_view line) { lines.emplace_back(line); });
  REQUIRE_FALSE(lines.empty());
  const auto g = text::load_glove(dir / "out");
  REQUIRE(g.words == std::vector<std::string>{"dog", "cat", "café"});
  REQUIRE(g.dims == 4);
  REQUIRE(g.vectors == std::vector<float>{3, -4, 0, 0, 5, 12, 0, 0, 1, 1, 1, 1});
}

TEST_CASE("convert_wink_json reads escapes, whitespace and files past its 1 MiB buffer", "[text]") {
  const auto dir = temp_dir("convert_big");
  // 1.5 MiB of an unused key first, so "vectors" straddles buffer refills.
  std::string json = "{\n  \"padding\": \"" + std::string(1536 * 1024, 'x') + "\",\n";
  json +=
      "  \"dimensions\" : 2 , \"size\" : 2,\n  \"words\" : [ \"\\ud83d\\ude00\" , \"a\\/b\\tc\" "
      "],\n";
  json += "  \"vectors\" : {\n    \"a/b\\tc\" : [ -6e-1 , 0.8 , 1.0 , 1 ],\n";
  json += "    \"\\ud83d\\ude00\" : [ 0 , 2.5E0 , 2.5 , 0 ]\n  }\n}\n";
  write_text(dir / "in.json", json);
  text::convert_wink_json(dir / "in.json", dir / "out");
  const auto g = text::load_glove(dir / "out");
  REQUIRE(g.words == std::vector<std::string>{"\xF0\x9F\x98\x80", "a/b\tc"});
  REQUIRE(g.vectors == std::vector<float>{0.0f, 2.5f, -0.6f, 0.8f});
}

TEST_CASE("load_glove rejects damaged files", "[text]") {
  const auto dir = temp_dir("damaged");
  auto fresh = [&] { text::write_glove(dir, kWords, kVectors, 2); };

  SECTION("missing file") {
    fresh();
    fs::remove(dir / "glove.f32");
    REQUIRE_THAT(load_error(dir), Contains("glove.f32: missing (run ./w2s.sh setup)"));
  }
  SECTION("truncated matrix") {
    fresh();
    fs::resize_file(dir / "glove.f32", 32 + 5 * 4);
    REQUIRE_THAT(load_error(dir),
                 Contains("glove.f32: truncated: expected 24 bytes of vectors, file has 20"));
  }
  SECTION("trailing bytes") {
    fresh();
    fs::resize_file(dir / "glove.f32", 32 + 7 * 4);
    REQUIRE_THAT(load_error(dir), Contains("4 trailing bytes"));
  }
  SECTION("bad magic") {
    fresh();
    std::string bytes = read_text(dir / "glove.f32");
    bytes[0] = 'X';
    write_text(dir / "glove.f32", bytes);
    REQUIRE_THAT(load_error(dir), Contains("bad magic"));
  }
  SECTION("vocabulary size mismatch") {
    const auto other = temp_dir("damaged_other");
    text::write_glove(other, {"a", "b"}, {1, 2, 3, 4}, 2);
    fresh();
    fs::copy_file(other / "glove.f32", dir / "glove.f32", fs::copy_options::overwrite_existing);
    REQUIRE_THAT(load_error(dir), Contains("vocabulary size mismatch: ") &&
                                      Contains("glove.vocab has 3 words, ") &&
                                      Contains("glove.f32 has 2 rows"));
  }
  SECTION("matrix from another vocabulary of the same size") {
    fresh();
    write_text(dir / "glove.vocab", "w2s-glove-vocab 1 3 2\nthe\nnaive\nquoted\n");
    REQUIRE_THAT(load_error(dir), Contains("vocabulary hash mismatch"));
  }
  SECTION("non-UTF-8 word") {
    fresh();
    write_text(dir / "glove.vocab", "w2s-glove-vocab 1 3 2\nthe\n\xff\xfe\nx\n");
    REQUIRE_THAT(load_error(dir), Contains("glove.vocab:3: word is not valid UTF-8"));
  }
  SECTION("duplicate word") {
    fresh();
    write_text(dir / "glove.vocab", "w2s-glove-vocab 1 3 2\nthe\nx\nthe\n");
    REQUIRE_THAT(load_error(dir),
                 Contains("glove.vocab:4: duplicate word \"the\" (first on line 2)"));
  }
  SECTION("empty word") {
    fresh();
    write_text(dir / "glove.vocab", "w2s-glove-vocab 1 3 2\nthe\n\nx\n");
    REQUIRE_THAT(load_error(dir), Contains("glove.vocab:3: empty word"));
  }
  SECTION("bad vocabulary header") {
    fresh();
    write_text(dir / "glove.vocab", "glove 3 2\nthe\nx\ny\n");
    REQUIRE_THAT(load_error(dir), Contains("glove.vocab:1: expected the header"));
  }
  SECTION("vocabulary cut mid-line") {
    fresh();
    write_text(dir / "glove.vocab", "w2s-glove-vocab 1 3 2\nthe\nx\ny");
    REQUIRE_THAT(load_error(dir), Contains("glove.vocab:4: last line lacks its newline"));
  }
  SECTION("non-finite value") {
    fresh();
    std::string bytes = read_text(dir / "glove.f32");
    const float inf = std::numeric_limits<float>::infinity();
    std::memcpy(&bytes[32 + 4 * 4], &inf, 4);
    write_text(dir / "glove.f32", bytes);
    REQUIRE_THAT(load_error(dir), Contains("row 2 (\"\"quoted\"\") value 0 is not finite"));
  }
}

TEST_CASE("convert_wink_json rejects malformed wink files", "[text]") {
  const std::string full = wink();
  REQUIRE_THAT(convert_error(full.substr(0, full.size() / 2), "truncated"),
               Contains("malformed JSON at byte") && Contains("end of file"));
  REQUIRE_THAT(convert_error(wink("3", "[5,12,0,13,1]"), "short"),
               Contains("vector \"cat\" has 5 numbers, expected 6"));
  REQUIRE_THAT(convert_error(wink("3", "[5,12,0,0,13,1,2]"), "long"),
               Contains("vector \"cat\" has more than 6 numbers"));
  REQUIRE_THAT(convert_error(wink("3", "[5,12,0,0,13,7]"), "index_range"),
               Contains("vector \"cat\": word index 7 out of range [0, 3)"));
  REQUIRE_THAT(convert_error(wink("3", "[5,12,0,0,13,0]"), "index_other"),
               Contains("vector \"cat\" has word index 0, but words[0] is \"dog\""));
  REQUIRE_THAT(convert_error(wink("3", "[5,12,0,0,14,1]"), "norm"), Contains("stored l2 norm 14"));
  REQUIRE_THAT(convert_error(wink("3", "[5,12,x,0,13,1]"), "nan"),
               Contains("expected a number, found 'x'"));
  REQUIRE_THAT(convert_error(wink("4"), "size"),
               Contains("\"size\" is 4 but \"words\" has 3 entries"));
  REQUIRE_THAT(convert_error(wink("3", "[5,12,0,0,13,1]", "}x"), "trailing"),
               Contains("trailing bytes"));
  REQUIRE_THAT(convert_error(R"({"size":1,"dimensions":1,"words":["a","a"],"vectors":{}})", "dup"),
               Contains("words[1] \"a\" duplicates words[0]"));
  REQUIRE_THAT(convert_error(R"({"size":1,"dimensions":1,"words":["a"],"vectors":{}})", "missing"),
               Contains("no vector for \"a\""));
  REQUIRE_THAT(convert_error(R"({"size":1,"vectors":{},"dimensions":1,"words":["a"]})", "order"),
               Contains("\"vectors\" must come after"));
  REQUIRE_THAT(convert_error(wink(), "ok"), Contains("no error"));
}
