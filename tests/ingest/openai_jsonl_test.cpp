// The openai jsonl format: reading, its errors, the drop-if-too-long rule, and the
// language-model prompt built from GPT-2 tokens.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "w2s/ingest/openai_jsonl.hpp"
#include "w2s/ingest/text_data.hpp"
#include "w2s/students/lm_prompting.hpp"

using namespace w2s;
namespace fs = std::filesystem;

namespace {
fs::path data_dir() {
  if (const char* env = std::getenv("W2S_DATA_DIR")) return env;
  return W2S_SOURCE_DIR "/data";
}
fs::path work() {
  const auto dir = fs::temp_directory_path() / ("w2s_jsonl_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}
/// A data folder whose text/gpt2 is the real GPT-2 tokenizer files (for the openai jsonl loader).
fs::path data_root_with_gpt2() {
  const auto root = work() / "data";
  fs::create_directories(root / "text");
  if (!fs::exists(root / "text" / "gpt2")) fs::create_directory_symlink(data_dir() / "text" / "gpt2", root / "text" / "gpt2");
  return root;
}
fs::path write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
  return path;
}
std::string error_of(const fs::path& p) {
  try {
    data::read_openai_jsonl(p);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("openai jsonl: lines, labels, and errors naming file:line", "[data][gpt2]") {
  const auto ok = write(work() / "ok.jsonl", "{\"txt\": \"a b\", \"hard_label\": 1}\n\n{\"txt\": \"c\", \"hard_label\": false}\n");
  const auto rows = data::read_openai_jsonl(ok);
  REQUIRE(rows.size() == 2);
  REQUIRE(rows[0].first == "a b");
  REQUIRE(rows[0].second == 1);
  REQUIRE(rows[1].second == 0);
  REQUIRE_THAT(error_of(write(work() / "bad.jsonl", "{\"txt\": \"a\", \"hard_label\": 0}\n{\"txt\": \"b\"\n")),
               Catch::Contains("bad.jsonl:2: not a JSON object"));
  REQUIRE_THAT(error_of(write(work() / "label.jsonl", "{\"txt\": \"a\", \"hard_label\": 2}\n")),
               Catch::Contains("label.jsonl:1: hard_label 2, expected 0 or 1"));
  REQUIRE_THAT(error_of(write(work() / "notxt.jsonl", "{\"text\": \"a\", \"hard_label\": 0}\n")),
               Catch::Contains("notxt.jsonl:1: expected a string field \"txt\""));
  REQUIRE_THAT(error_of(work() / "missing.jsonl"), Catch::Contains("missing file"));
}

TEST_CASE("openai jsonl as GPT-2 tokens: right padding with -1, long examples dropped", "[data][gpt2]") {
  const auto root = data_root_with_gpt2();
  write(root / "openai" / "sciq" / "train.jsonl",
        "{\"txt\": \"Hello world\", \"hard_label\": 1}\n{\"txt\": \"one two three four five six\", \"hard_label\": 0}\n");
  write(root / "openai" / "sciq" / "test.jsonl", "{\"txt\": \"Hello\", \"hard_label\": 0}\n");
  const auto b = data::load_openai_jsonl(root, "sciq", 4, /*quiet=*/true);
  REQUIRE(b.train.size() == 1);  // six tokens > 4: dropped, as the openai code drops too-long inputs
  REQUIRE(b.train.part == "train/max4");
  REQUIRE(b.train.inputs.sizes() == at::IntArrayRef{1, 2});
  REQUIRE(b.train.inputs[0][0].item<int64_t>() == 15496);  // "Hello" (GPT-2's published encoding)
  REQUIRE(b.train.inputs[0][1].item<int64_t>() == 995);    // " world"
  REQUIRE(b.train.language_model_tokens());
  // the weak label, spelled in GPT-2 tokens after the last real token
  const auto shown = append_weak_label_sentences(b.train, at::tensor({1}, at::kLong));
  REQUIRE(shown.size(1) > 2);
  REQUIRE(b.train.vocab->encode(" I think this is true. What do you think?") ==
          std::vector<int64_t>(shown[0].data_ptr<int64_t>() + 2, shown[0].data_ptr<int64_t>() + shown.size(1)));
  // the prompt: "<text>\nAnswer: <label word>\n\n" per demonstration
  const auto p = make_lm_prompt(b.train.vocab->encode, {"false", "true"}, {{{15496}, 1}});
  REQUIRE(p.label_tokens == std::vector<int64_t>{b.train.vocab->encode(" false")[0], b.train.vocab->encode(" true")[0]});
  std::vector<int64_t> expected = {15496};
  for (auto t : b.train.vocab->encode("\nAnswer:")) expected.push_back(t);
  expected.push_back(p.label_tokens[1]);
  for (auto t : b.train.vocab->encode("\n\n")) expected.push_back(t);
  REQUIRE(p.prefix == expected);
}

TEST_CASE("openai jsonl: the context-length rule is the reference's (len < max_ctx kept)", "[data][gpt2]") {
  // openai datasets.py: `.filter(lambda x: len(x["input_ids"]) < max_ctx)`. "one two three" is 3 GPT-2
  // tokens, "one two three four" 4: at max 4 the first is kept and the second, exactly 4, dropped.
  const auto root = data_root_with_gpt2();
  write(root / "openai" / "boolq" / "train.jsonl",
        "{\"txt\": \"one two three\", \"hard_label\": 1}\n{\"txt\": \"one two three four\", \"hard_label\": 0}\n");
  write(root / "openai" / "boolq" / "test.jsonl", "{\"txt\": \"Hello\", \"hard_label\": 0}\n");
  const auto b = data::load_openai_jsonl(root, "boolq", 4, /*quiet=*/true);
  REQUIRE(b.train.vocab->encode("one two three four").size() == 4);
  REQUIRE(b.train.size() == 1);
  REQUIRE(b.train.targets[0].item<int64_t>() == 1);
  REQUIRE(data::load_openai_jsonl(root, "boolq", 5, /*quiet=*/true).train.size() == 2);
}
