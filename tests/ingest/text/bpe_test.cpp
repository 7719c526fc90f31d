// GPT-2's byte-level BPE on the real vocabulary (published encodings, the
// pre-tokenisation rules, byte-exact round trips of any bytes) and the loader's
// errors on malformed files the test writes.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "w2s/ingest/text/bpe.hpp"

using namespace w2s;
using text::Gpt2Tokenizer;
namespace fs = std::filesystem;

namespace {
fs::path gpt2_dir() {
#ifdef W2S_SOURCE_DIR
  fs::path data = W2S_SOURCE_DIR "/data";
#else
  fs::path data = "data";
#endif
  if (const char* env = std::getenv("W2S_DATA_DIR")) data = env;
  return data / "text" / "gpt2";
}

// The real tokenizer, loaded once; a missing download fails loudly rather than
// skipping, since these tests are the only check of the encoder.
const Gpt2Tokenizer& gpt2() {
  const auto dir = gpt2_dir();
  if (!fs::exists(dir / "encoder.json") && !fs::exists(dir / "vocab.json"))
    FAIL("GPT-2's BPE files are missing under " << dir << ": run ./w2s.sh setup to fetch them");
  static const Gpt2Tokenizer tokenizer = Gpt2Tokenizer::from_dir(dir);
  return tokenizer;
}

using Ids = std::vector<int64_t>;
using Pieces = std::vector<std::string>;

// The bytes of each token of `s`: shows where the encoder cut the text.
Pieces pieces(const std::string& s) {
  Pieces out;
  for (auto id : gpt2().encode(s)) out.push_back(gpt2().decode({id}));
  return out;
}

void require_round_trip(const std::string& s) {
  const auto ids = gpt2().encode(s);
  for (auto id : ids) REQUIRE((id >= 0 && id < gpt2().vocab_size()));
  REQUIRE(gpt2().decode(ids) == s);
}

fs::path temp_dir() {
  auto d = fs::temp_directory_path() / ("w2s_bpe_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// A tiny valid byte-level vocabulary: the 256 base symbols (in GPT-2's byte
// alphabet, ids 0..255 in byte order), then "he", "ll", "hell" made by 3 merges.
std::string tiny_vocab_json() {
  nlohmann::json vocab = nlohmann::json::object();
  const auto map = text::bpe_detail::byte_to_code_point();
  for (int b = 0; b < 256; ++b) {
    std::string symbol;
    text::bpe_detail::append_utf8(symbol, map[b]);
    vocab[symbol] = b;
  }
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab["hell"] = 258;
  return vocab.dump();
}
const std::string kTinyMerges = "#version: 0.2\nh e\nl l\nhe ll\n";

// Writes a tiny vocabulary pair under a fresh subfolder and returns the folder.
fs::path tiny_dir(const std::string& name, const std::string& vocab, const std::string& merges) {
  const auto d = temp_dir() / name;
  fs::create_directories(d);
  write_text(d / "vocab.json", vocab);
  write_text(d / "merges.txt", merges);
  return d;
}
}  // namespace

TEST_CASE("GPT-2 BPE reproduces published encodings", "[text]") {
  const auto& tok = gpt2();
  REQUIRE(tok.vocab_size() == 50257);
  // Hugging Face's GPT2Tokenizer docs: tokenizer("Hello world")["input_ids"] == [15496, 995]
  // and tokenizer(" Hello world")["input_ids"] == [18435, 995].
  REQUIRE(tok.encode("Hello world") == Ids{15496, 995});
  REQUIRE(tok.encode(" Hello") == Ids{18435});
  REQUIRE(tok.encode(" Hello world") == Ids{18435, 995});
  // Ids read off encoder.json itself.
  REQUIRE(tok.token_id("Ġworld") == 995);
  REQUIRE(tok.token_id("Ġthe") == 262);
  REQUIRE(tok.token_id("Hello") == 15496);
  REQUIRE(tok.token_id("not a token") == std::nullopt);
  REQUIRE(tok.encode(" the") == Ids{262});
  REQUIRE(tok.encode("!") == Ids{0});
  REQUIRE(tok.encode("") == Ids{});
  // End-of-text is a vocabulary entry, but plain encode treats its spelling as
  // text, as GPT-2's encoder.py does; the ids are those of "<", "|", "end", ...
  REQUIRE(tok.eot() == 50256);
  REQUIRE(tok.token_id("<|endoftext|>") == 50256);
  REQUIRE(tok.encode("<|endoftext|>") == Ids{27, 91, 437, 1659, 5239, 91, 29});
  REQUIRE(pieces("<|endoftext|>") == Pieces{"<", "|", "end", "of", "text", "|", ">"});
  REQUIRE(tok.decode({tok.eot()}) == "<|endoftext|>");
}

TEST_CASE("GPT-2 BPE pre-tokenises like GPT-2's regex", "[text]") {
  // Expected cuts cross-checked against GPT-2's encoder.py algorithm run with
  // Python's `regex` module on this vocabulary.
  SECTION("contractions split off, lower case only") {
    REQUIRE(gpt2().encode("don't") == Ids{9099, 470});
    REQUIRE(gpt2().token_id("don") == 9099);
    REQUIRE(gpt2().token_id("'t") == 470);
    REQUIRE(pieces("we're they've you'll he'd I'm it's") ==
            Pieces{"we", "'re", " they", "'ve", " you", "'ll", " he", "'d", " I", "'m", " it", "'s"});
    REQUIRE(pieces("DON'T") == Pieces{"DON", "'", "T"});
  }
  SECTION("numbers are their own runs, with an optional leading space") {
    REQUIRE(pieces("3.14159 and 2024") == Pieces{"3", ".", "14", "159", " and", " 2024"});
    REQUIRE(pieces("I'm 12345 years") == Pieces{"I", "'m", " 123", "45", " years"});
    REQUIRE(pieces("abc123") == Pieces{"abc", "123"});
  }
  SECTION("a run of spaces leaves its last space to the next word") {
    REQUIRE(gpt2().encode("a  b") == Ids{64, 220, 275});
    REQUIRE(pieces("a  b") == Pieces{"a", " ", " b"});
    REQUIRE(pieces("x   y") == Pieces{"x", " ", " ", " y"});
    REQUIRE(pieces("x   ") == Pieces{"x", " ", " ", " "});  // at the end the whole run is one pre-token
    REQUIRE(pieces("Hello world!") == Pieces{"Hello", " world", "!"});
  }
  SECTION("newlines and tabs") {
    REQUIRE(gpt2().encode("Hello\nworld") == Ids{15496, 198, 6894});
    REQUIRE(pieces("line1\n\n\nline2") == Pieces{"line", "1", "\n\n", "\n", "line", "2"});
    REQUIRE(pieces("\tindented") == Pieces{"\t", "ind", "ented"});
    REQUIRE(gpt2().encode("old.  ") == Ids{727, 13, 220, 220});
  }
  SECTION("non-ASCII letters") {
    REQUIRE(pieces("naïve café") == Pieces{"na", "ïve", " café"});
    REQUIRE(gpt2().encode("中文 and 日本語") ==
            Ids{40792, 23877, 229, 290, 10545, 245, 98, 17312, 105, 45739, 252});
  }
}

TEST_CASE("GPT-2 BPE round-trips any bytes exactly", "[text]") {
  SECTION("valid UTF-8: CJK, emoji, combining marks, odd white space") {
    for (const std::string s : {"中文字符和日本語のテキスト", "🙂👍🏽👨‍👩‍👧", "e\u0301 a\u0308\u0323",
                                "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ﬁ Ǆ İ", "\u3000\u00a0\u2003\u0085x\x1c\x0b\x0c\r\n", "Ⅻ ½ ² ٣"})
      require_round_trip(s);
  }
  SECTION("invalid UTF-8") {
    for (const std::string s : {"\xff\xfe", "a\x80\x80z", "\xe4\xb8", "x\xe4\xb8 y", "\xf0\x9f\x99",
                                "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "it\xe2\x80s", " \xff\xff  \xfe"})
      require_round_trip(s);
  }
  SECTION("every single byte has its own token") {
    std::set<int64_t> seen;
    for (int b = 0; b < 256; ++b) {
      const std::string s(1, char(b));
      const auto ids = gpt2().encode(s);
      REQUIRE(ids.size() == 1);
      REQUIRE(gpt2().decode(ids) == s);
      seen.insert(ids[0]);
    }
    REQUIRE(seen.size() == 256);
  }
  SECTION("long pre-tokens") {
    std::string cjk;
    for (int i = 0; i < 2000; ++i) cjk += "中";
    require_round_trip(cjk);
    require_round_trip(std::string(5000, '='));
    require_round_trip(std::string(1000, ' ') + "x");
  }
}

TEST_CASE("GPT-2 BPE round-trips 1,000 random strings", "[text]") {
  std::mt19937 rng(20240611);
  const auto pick = [&](const auto& pool) { return pool[rng() % std::size(pool)]; };
  const char* words[] = {"the", "Hello", "world", "don't", "I'm", "tokenizer", "O'Neil", "x2", "<|endoftext|>"};
  const char* punctuation[] = {".", ",", "!?", "...", "--", "'", "\"", "(", ")", "#@$%", "'s", "'ll"};
  const char* spaces[] = {" ", "  ", "   ", "\n", "\n\n", "\t", "\r\n", " \n ", "\u3000", "\u00a0"};
  const char* multibyte[] = {"é", "e\u0301", "中文", "日本語", "🙂", "👍🏽", "ß", "Ⅻ", "½", "Ελληνικά", "русский"};
  for (int n = 0; n < 1000; ++n) {
    std::string s;
    const int parts = 1 + int(rng() % 12);
    for (int p = 0; p < parts; ++p) {
      switch (rng() % 6) {
        case 0: s += pick(words); break;
        case 1: s += pick(punctuation); break;
        case 2: s += std::to_string(rng() % 1000000); break;
        case 3: s += pick(spaces); break;
        case 4: s += pick(multibyte); break;
        default:
          for (int k = int(rng() % 4); k >= 0; --k) s += char(rng() % 256);  // raw, often invalid
      }
    }
    INFO("string #" << n);
    require_round_trip(s);
  }
}

TEST_CASE("GPT-2 BPE loads Hugging Face names and applies merges by rank", "[text]") {
  const auto dir = tiny_dir("tiny", tiny_vocab_json(), kTinyMerges);
  const auto tok = Gpt2Tokenizer::from_dir(dir);
  REQUIRE(tok.vocab_size() == 259);
  REQUIRE(tok.encode("hello") == Ids{258, 'o'});  // "hell" + "o" (byte b's base token has id b here)
  REQUIRE(tok.encode("he") == Ids{256});
  REQUIRE(tok.decode({258, 256}) == "hellhe");
  REQUIRE_THROWS_WITH(tok.decode({259}), Catch::Contains("id 259") && Catch::Contains("outside the vocabulary"));
  REQUIRE_THROWS_WITH(tok.decode({-1}), Catch::Contains("id -1"));
  REQUIRE_THROWS_WITH(tok.eot(), Catch::Contains("<|endoftext|>"));

  // GPT-2 merges every occurrence of the best pair in one round before looking
  // at pairs that round created, even better-ranked ones: in "bcbc" both "b c"
  // merge first, so the rank-0 "bc b" never gets its chance.
  auto vocab = nlohmann::json::parse(tiny_vocab_json());
  vocab.erase("he"), vocab.erase("ll"), vocab.erase("hell");
  vocab["bc"] = 256;
  vocab["bcb"] = 257;
  const auto rounds = Gpt2Tokenizer::from_dir(tiny_dir("rounds", vocab.dump(), "#version: 0.2\nbc b\nb c\n"));
  REQUIRE(rounds.encode("bcbc") == Ids{256, 256});
  REQUIRE(rounds.encode("bcb") == Ids{257});
  fs::remove_all(temp_dir());
}

TEST_CASE("GPT-2 BPE rejects malformed files with the place", "[text]") {
  SECTION("missing files") {
    const auto empty = temp_dir() / "empty";
    fs::create_directories(empty);
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(empty),
                        Catch::Contains("encoder.json") && Catch::Contains("not found"));
    const auto half = temp_dir() / "half";
    fs::create_directories(half);
    write_text(half / "vocab.json", tiny_vocab_json());
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(half), Catch::Contains("merges.txt") && Catch::Contains("not found"));
  }
  SECTION("bad JSON") {
    const auto d = tiny_dir("badjson", "{\"a\": 0,", kTinyMerges);
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(d), Catch::Contains("vocab.json") && Catch::Contains("malformed JSON"));
    const auto e = tiny_dir("notobject", "[1, 2]", kTinyMerges);
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(e), Catch::Contains("expected a JSON object"));
  }
  SECTION("bad ids") {
    auto vocab = nlohmann::json::parse(tiny_vocab_json());
    vocab["hell"] = 300;
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(tiny_dir("range", vocab.dump(), kTinyMerges)),
                        Catch::Contains("'hell' has id 300"));
    vocab["hell"] = 5;
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(tiny_dir("dup", vocab.dump(), kTinyMerges)),
                        Catch::Contains("used twice"));
    vocab["hell"] = "258";
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(tiny_dir("str", vocab.dump(), kTinyMerges)),
                        Catch::Contains("expected an integer id"));
  }
  SECTION("a merges line without exactly two symbols names file:line") {
    const auto d = tiny_dir("onesymbol", tiny_vocab_json(), "#version: 0.2\nh e\nll\nhe ll\n");
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(d),
                        Catch::Contains("merges.txt:3") && Catch::Contains("two space-separated symbols"));
    const auto e = tiny_dir("threesymbols", tiny_vocab_json(), "#version: 0.2\nh e l\n");
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(e), Catch::Contains("merges.txt:2"));
  }
  SECTION("a merge outside the vocabulary names file:line") {
    const auto d = tiny_dir("unknownmerge", tiny_vocab_json(), kTinyMerges + "o k\n");
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(d), Catch::Contains("merges.txt:5") && Catch::Contains("'ok'"));
    const auto e = tiny_dir("twice", tiny_vocab_json(), kTinyMerges + "h e\n");
    REQUIRE_THROWS_WITH(Gpt2Tokenizer::from_dir(e), Catch::Contains("merges.txt:5") && Catch::Contains("twice"));
  }
  fs::remove_all(temp_dir());
}

TEST_CASE("byte-level BPE from lists: single digits, and an unknown id for missing bytes", "[text]") {
  // The 256 byte tokens (byte b is id b), then "12" (256) and "Ġ1" (257; Ġ is the space in GPT-2's
  // alphabet), merged "Ġ 1" first, then "1 2".
  std::vector<std::string> tokens;
  const auto map = text::bpe_detail::byte_to_code_point();
  for (int b = 0; b < 256; ++b) {
    std::string symbol;
    text::bpe_detail::append_utf8(symbol, map[b]);
    tokens.push_back(symbol);
  }
  tokens.push_back("12");
  tokens.push_back("\xC4\xA0" "1");
  const std::vector<std::string> merges = {"\xC4\xA0 1", "1 2"};
  const Gpt2Tokenizer regex(tokens, merges, text::PreTokenizer::gpt2, "tiny");
  const Gpt2Tokenizer digits(tokens, merges, text::PreTokenizer::gpt2_single_digits, "tiny");
  // GPT-2's regex keeps " 12" one pre-token, so "Ġ 1" merges; single digits cut it to " ", "1", "2".
  CHECK(regex.encode("a 12") == Ids{'a', 257, '2'});
  CHECK(regex.encode("12") == Ids{256});
  CHECK(digits.encode("a 12") == Ids{'a', ' ', '1', '2'});
  CHECK(digits.encode("12b") == Ids{'1', '2', 'b'});
  // Numeric characters beyond ASCII are single pieces too: "²" (U+00B2, class No) is two bytes.
  CHECK(digits.encode("7\xC2\xB2x") == Ids{'7', 0xC2, 0xB2, 'x'});
  CHECK(digits.decode(digits.encode("a 12 \xC2\xB2 b3")) == "a 12 \xC2\xB2 b3");
  // A vocabulary without a byte: an error, or the unknown id where one is given.
  auto missing = tokens;
  missing[4] = "<unk>";
  CHECK_THROWS_WITH(Gpt2Tokenizer(missing, {}, text::PreTokenizer::gpt2, "tiny"),
                    Catch::Contains("tiny: no token for byte 4"));
  const Gpt2Tokenizer with_unknown(missing, {}, text::PreTokenizer::gpt2, "tiny", /*unknown=*/4);
  CHECK(with_unknown.encode(std::string("a\x04" "b")) == Ids{'a', 4, 'b'});
  CHECK(with_unknown.encode(std::string("a\x04\x04" "b")) == Ids{'a', 4, 'b'});  // a run of them is one
  CHECK(with_unknown.encode(std::string("a\x04 \x04" "b")) == Ids{'a', 4, ' ', 4, 'b'});  // " \x04" is another piece
  CHECK_THROWS_WITH(Gpt2Tokenizer(tokens, {"1 q"}, text::PreTokenizer::gpt2, "tiny"),
                    Catch::Contains("tiny: merge 0: merge '1 q' needs '1q', which is not in the vocabulary"));
}
