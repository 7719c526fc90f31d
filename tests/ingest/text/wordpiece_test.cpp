// BERT's uncased WordPiece on a small hand-made vocabulary the test writes:
// each normalisation and pre-tokenisation rule, the WordPiece model's greedy
// matching, truncation, and the loader's errors on malformed files. Expected id
// sequences marked "reference" were computed with Hugging Face tokenizers 0.23.3
// (Tokenizer.from_file on all-MiniLM-L6-v2's tokenizer.json with its vocabulary
// replaced by kVocab and truncation/padding off); the rest are hand-derived.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "w2s/ingest/text/wordpiece.hpp"

using namespace w2s;
using text::WordPiece;
namespace fs = std::filesystem;

namespace {

using Ids = std::vector<int64_t>;
using Pieces = std::vector<std::string>;

// ids 0..37 in line order
const std::vector<std::string> kVocab = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", ",", "!",   ".",   "'",    "[",  "]",
    "cafe",  "naive", "un",    "##aff", "##able", "##ab", "##le",  "##a", "a",   "play", "##ing", "##s", "the",
    "中",    "文",    "ᄒ",     "##ᅡ",   "##ᆫ",    "ω",    "x",     "##x", "don", "t",    "sep", "##ω"};

fs::path temp_dir() {
  auto d = fs::temp_directory_path() / ("w2s_wordpiece_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

fs::path write_text(const std::string& name, const std::string& text) {
  const auto p = temp_dir() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

fs::path vocab_path() { return write_text("vocab.txt", join_lines(kVocab)); }

const WordPiece& small() {
  static const WordPiece tok = WordPiece::load(vocab_path());
  return tok;
}

std::string load_error(const std::string& name, const std::string& text) {
  try {
    WordPiece::load(write_text(name, text));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("the vocabulary's ids are its line numbers", "[wordpiece]") {
  REQUIRE(small().size() == 38);
  REQUIRE(small().pad_id() == 0);
  REQUIRE(small().unk_id() == 1);
  REQUIRE(small().cls_id() == 2);
  REQUIRE(small().sep_id() == 3);
  REQUIRE(small().token(26) == "中");
  REQUIRE_THROWS_WITH(small().token(38), Catch::Contains("outside the vocabulary [0, 38)"));
  // FNV-1a 64 of the file's bytes, computed in Python over kVocab joined by "\n"
  REQUIRE(small().vocab_hash() == "94b625e8d40f4d95");
}

TEST_CASE("BertNormalizer: lowercase, strip accents, drop controls, split CJK", "[wordpiece]") {
  REQUIRE(small().encode("Hello, World!") == Ids{2, 5, 7, 6, 8, 3});  // reference
  REQUIRE(small().encode("CAFÉ naïve") == Ids{2, 13, 14, 3});         // reference
  REQUIRE(small().tokenize("Café") == Pieces{"cafe"});
  // Control and zero-width characters vanish without splitting the word.
  REQUIRE(small().encode("hel\x01lo hel\u200blo") == Ids{2, 5, 5, 3});  // reference
  REQUIRE(small().tokenize("hel\u00adlo\x7f") == Pieces{"hello"});
  // Each CJK ideograph is a word of its own, spaces or not.
  REQUIRE(small().encode("hello中文world") == Ids{2, 5, 26, 27, 6, 3});  // reference
  // NFD: a Hangul syllable becomes its jamo; the Ohm sign U+2126 becomes omega.
  REQUIRE(small().encode("한 \u2126") == Ids{2, 28, 29, 30, 31, 3});  // reference
}

TEST_CASE("BertPreTokenizer: white-space runs and punctuation", "[wordpiece]") {
  REQUIRE(small().encode("  hello \t\n world\u3000 ") == Ids{2, 5, 6, 3});  // reference
  REQUIRE(small().encode("don't") == Ids{2, 34, 10, 35, 3});               // reference
  REQUIRE(small().tokenize("hello.world...") == Pieces{"hello", ".", "world", ".", ".", "."});
  REQUIRE(small().tokenize(" \u00a0\u2003\r\n").empty());
  REQUIRE(small().encode("") == Ids{2, 3});
}

TEST_CASE("WordPiece: greedy longest match with ## continuations", "[wordpiece]") {
  // "unable" is un ##able, not un ##ab ##le: the longest piece wins at each step.
  REQUIRE(small().encode("unaffable unable playing plays") ==
          Ids{2, 15, 16, 17, 15, 17, 22, 23, 22, 24, 3});  // reference
  REQUIRE(small().tokenize("unable") == Pieces{"un", "##able"});
  // A word with any part no token matches is one [UNK], not "un" + [UNK].
  REQUIRE(small().encode("unzzz") == Ids{2, 1, 3});  // reference
  REQUIRE(small().tokenize("hello qq world") == Pieces{"hello", "[UNK]", "world"});
}

TEST_CASE("WordPiece: a word over 100 characters is [UNK]", "[wordpiece]") {
  const auto at_limit = small().encode(std::string(100, 'x'));  // reference: x, then 99 × ##x
  REQUIRE(at_limit.size() == 102);
  REQUIRE(at_limit[1] == 32);
  REQUIRE(std::count(at_limit.begin(), at_limit.end(), 33) == 99);
  REQUIRE(small().encode(std::string(101, 'x')) == Ids{2, 1, 3});  // reference
  // The limit counts characters, not bytes: 100 two-byte omegas are within it.
  std::string omegas;
  for (int k = 0; k < 100; ++k) omegas += "ω";
  REQUIRE(small().encode(omegas).size() == 102);  // reference: ω, then 99 × ##ω
  REQUIRE(small().encode(omegas).back() == 3);
  REQUIRE(small().encode(omegas + "ω") == Ids{2, 1, 3});  // reference
  text::WordPieceOptions short_words;
  short_words.max_chars_per_word = 3;
  const auto tok = WordPiece::load(vocab_path(), short_words);
  REQUIRE(tok.tokenize("xxx xxxx") == Pieces{"x", "##x", "##x", "[UNK]"});
}

TEST_CASE("special tokens in the text stay whole, before normalisation", "[wordpiece]") {
  // "[sep]" is not special (matching is case-sensitive, on the raw text).
  REQUIRE(small().encode("hello[SEP]world [sep] [MASK]") == Ids{2, 5, 3, 6, 11, 36, 12, 4, 3});  // reference
  text::WordPieceOptions plain;
  plain.special_tokens.clear();
  const auto tok = WordPiece::load(vocab_path(), plain);
  REQUIRE(tok.tokenize("[SEP]") == Pieces{"[", "sep", "]"});
}

TEST_CASE("invalid UTF-8 bytes are dropped like U+FFFD", "[wordpiece]") {
  REQUIRE(small().encode("hel\xfflo") == Ids{2, 5, 3});  // reference, on the text decoded with errors='replace'
  REQUIRE(small().tokenize("\xe4\xb8 hello \xc3") == Pieces{"hello"});
}

TEST_CASE("lowercase = false keeps case and accents", "[wordpiece]") {
  text::WordPieceOptions cased;
  cased.lowercase = false;
  const auto tok = WordPiece::load(vocab_path(), cased);
  REQUIRE(tok.encode("Hello hello") == Ids{2, 1, 5, 3});  // reference, BertNormalizer(lowercase=False)
  REQUIRE(tok.encode("café cafe") == Ids{2, 1, 13, 3});   // reference
}

TEST_CASE("truncation keeps [CLS] first and [SEP] last", "[wordpiece]") {
  REQUIRE(small().encode("hello world hello world", 4) == Ids{2, 5, 6, 3});  // reference, enable_truncation(4)
  REQUIRE(small().encode("unaffable", 4) == Ids{2, 15, 16, 3});              // cuts inside a word
  REQUIRE(small().encode("hello [SEP] world", 3) == Ids{2, 5, 3});
  REQUIRE(small().encode("hello world", 2) == Ids{2, 3});
  REQUIRE(small().encode("hello", 10) == Ids{2, 5, 3});
  REQUIRE_THROWS_WITH(small().encode("hello", 1), Catch::Contains("max_tokens must be 0 (no limit) or >= 2"));
}

TEST_CASE("malformed vocabularies name the file and line", "[wordpiece]") {
  auto lines = kVocab;
  lines.push_back("hello");
  REQUIRE_THAT(load_error("dup.txt", join_lines(lines)),
               Catch::Contains("dup.txt:39: duplicate token 'hello' (first on line 6)"));
  lines = kVocab;
  lines.erase(lines.begin() + 1);  // [UNK]
  REQUIRE_THAT(load_error("no_unk.txt", join_lines(lines)),
               Catch::Contains("no_unk.txt: no line '[UNK]'"));
  REQUIRE_THAT(load_error("blank.txt", "[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n"), Catch::Contains("blank.txt:3: empty line"));
  REQUIRE_THAT(load_error("bad_utf8.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nab\xff\n"),
               Catch::Contains("bad_utf8.txt:5: invalid UTF-8"));
  REQUIRE_THAT(load_error("missing.txt", ""), Catch::Contains("missing.txt: no line '[PAD]'"));
  REQUIRE_THROWS_WITH(WordPiece::load(temp_dir() / "absent.txt"), Catch::Contains("absent.txt: cannot open"));
  // Windows line ends are accepted.
  REQUIRE(WordPiece::load(write_text("crlf.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhi\r\n")).tokenize("HI") ==
          Pieces{"hi"});
}
