// The GloVe-style word tokenizer on the PTB cases it must reproduce, and the Brown
// reader on a tiny corpus the test writes (valid, and broken in each way).
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "w2s/ingest/text/brown.hpp"
#include "w2s/ingest/text/words.hpp"

using namespace w2s;
using namespace w2s::text;
namespace fs = std::filesystem;

using Words = std::vector<std::string>;

TEST_CASE("words: contractions split the PTB way", "[text]") {
  CHECK(words("Don't") == Words{"do", "n't"});
  CHECK(words("It's") == Words{"it", "'s"});
  CHECK(words("We'll") == Words{"we", "'ll"});
  CHECK(words("I'm") == Words{"i", "'m"});
  CHECK(words("They're") == Words{"they", "'re"});
  CHECK(words("I've") == Words{"i", "'ve"});
  CHECK(words("He'd") == Words{"he", "'d"});
  CHECK(words("can't won't") == Words{"ca", "n't", "wo", "n't"});
  CHECK(words("don\u2019t O\u2019Neill\u2019s") == Words{"do", "n't", "o'neill", "'s"});
  CHECK(words("the 1990's") == Words{"the", "1990", "'s"});
  CHECK(words("students' books") == Words{"students", "'", "books"});
}

TEST_CASE("words: internal hyphens, periods and apostrophes; numbers whole", "[text]") {
  CHECK(words("E-mail the U.S. office of O'Neill.") ==
        Words{"e-mail", "the", "u.s.", "office", "of", "o'neill", "."});
  CHECK(words("It costs 1,000 dollars, or 3.14 each!") ==
        Words{"it", "costs", "1,000", "dollars", ",", "or", "3.14", "each", "!"});
  CHECK(words("10:30 a.m. Mr. Smith paid $5.") ==
        Words{"10:30", "a.m.", "mr", ".", "smith", "paid", "$", "5", "."});
  CHECK(words("pre- and post-war") == Words{"pre", "-", "and", "post-war"});
  CHECK(words("i.e. e.g., J.R.R. Tolkien, U.S") ==
        Words{"i.e.", "e.g.", ",", "j.r.r.", "tolkien", ",", "u.s"});
  CHECK(words("192.168.0.1 v2.0 a. b") == Words{"192.168.0.1", "v2.0", "a", ".", "b"});
}

TEST_CASE("words: punctuation becomes separate tokens", "[text]") {
  CHECK(words("Hello, world (really): \"yes\"; no? ok.") ==
        Words{"hello", ",", "world", "(", "really", ")", ":", "\"", "yes", "\"", ";", "no", "?", "ok", "."});
  CHECK(words("Wait... -- what?!") == Words{"wait", "...", "--", "what", "?", "!"});
  CHECK(words("\u201cQuoted\u201d text\u2026 \u20ac5") ==
        Words{"\u201c", "quoted", "\u201d", "text", "\u2026", "\u20ac", "5"});
  CHECK(words("http://www.x.org/a bob@x.org") ==
        Words{"http", ":", "/", "/", "www", ".", "x", ".", "org", "/", "a", "bob", "@", "x", ".", "org"});
}

TEST_CASE("words: lower-casing beyond ASCII, whitespace and invalid bytes", "[text]") {
  CHECK(words("CAF\u00c9 \u00d1and\u00da \u0152UVRE \u0391\u0392 \u0416") ==
        Words{"caf\u00e9", "\u00f1and\u00fa", "\u0153uvre", "\u03b1\u03b2", "\u0436"});
  CHECK(words("a\u00a0b\tc\r\nd\u2003e") == Words{"a", "b", "c", "d", "e"});
  // Invalid bytes and U+FFFD vanish; "\xff" "cd" is split so the escape stays one byte.
  CHECK(words("ab\xff" "cd \xc3 ef\xef\xbf\xbdgh") == Words{"abcd", "ef", "gh"});
  CHECK(words("").empty());
  CHECK(words(" \n\t ").empty());
}

TEST_CASE("words: max_words caps the output", "[text]") {
  CHECK(words("a b c d", {2}) == Words{"a", "b"});
  CHECK(words("don't stop", {1}) == Words{"do"});
  CHECK(words("a b", {0}) == Words{"a", "b"});
}

namespace {
fs::path brown_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("w2s_text_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}
void write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string brown_error(const fs::path& dir) {
  try {
    read_brown(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("read_brown: sentences per line, tags stripped at the last slash", "[text]") {
  const fs::path dir = brown_dir("ok");
  write(dir / "cats.txt", "xa01 news\n\nxb01 humor\r\n");
  write(dir / "xa01", "\n\n\tThe/at jury/nn said/vbd ``/`` no/at ''/'' ./.\n\n\nHeadline/nn-hl here/rb\n");
  write(dir / "xb01", "\tA/at 1-1/2/cd inch/nn joke/nn ./.");
  const auto s = read_brown(dir);
  REQUIRE(s.size() == 3);
  CHECK(s[0].text == "The jury said \" no \" .");
  CHECK(s[0].category == "news");
  CHECK(s[0].file == "xa01");
  CHECK(s[1].text == "Headline here");
  CHECK(s[2].text == "A 1-1/2 inch joke .");
  CHECK(s[2].category == "humor");
  CHECK(s[2].file == "xb01");
  fs::remove_all(dir);
}

TEST_CASE("read_brown errors name the file or line", "[text]") {
  const fs::path dir = brown_dir("bad");
  CHECK_THAT(brown_error(dir), Catch::Contains("cats.txt") && Catch::Contains("missing"));
  write(dir / "cats.txt", "xa01 news\nxc01 fiction\n");
  write(dir / "xa01", "A/at b/nn\n");
  CHECK_THAT(brown_error(dir), Catch::Contains("xc01") && Catch::Contains("missing Brown file"));
  write(dir / "cats.txt", "xa01 news\nxa01\n");
  CHECK_THAT(brown_error(dir), Catch::Contains("cats.txt:2") && Catch::Contains("<file> <category>"));
  write(dir / "cats.txt", "xa01 news extra\n");
  CHECK_THAT(brown_error(dir), Catch::Contains("cats.txt:1"));
  write(dir / "cats.txt", "../xa01 news\n");
  CHECK_THAT(brown_error(dir), Catch::Contains("must not contain a path"));
  fs::remove_all(dir.parent_path());
}
