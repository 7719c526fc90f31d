#pragma once
/// \file
/// The openai weak-to-strong repo's datasets as JSON Lines, one example per line:
/// `{"txt": "...", "hard_label": 0 or 1}` (the repo formats every task into these
/// two keys). Files: `<data>/openai/<name>/train.jsonl` and `test.jsonl`; the
/// five names of that repo (sciq, boolq, cosmos_qa, anthropic_hh,
/// amazon_polarity) are accepted when their files are present (docs/gpt2.md).
/// Texts are GPT-2 BPE ids (text/bpe.hpp, tokenizer files in `<data>/text/gpt2`),
/// right-padded with −1; like the openai code (datasets.py: `len(input_ids) < max_ctx`),
/// an example of `max_tokens` tokens or more is dropped (counted and logged), not truncated.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "w2s/core/log.hpp"
#include "w2s/data/dataset.hpp"
#include "w2s/ingest/text/bpe.hpp"

namespace w2s::data {

inline const std::vector<std::string>& openai_dataset_names() {
  static const std::vector<std::string> names = {"sciq", "boolq", "cosmos_qa", "anthropic_hh", "amazon_polarity"};
  return names;
}

/// The texts and labels of one jsonl file; errors name the file and line.
inline std::vector<std::pair<std::string, int64_t>> read_openai_jsonl(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "missing file ", path.string(),
        "; put the openai repo's jsonl files there (one {\"txt\", \"hard_label\"} object per line; docs/gpt2.md)");
  std::vector<std::pair<std::string, int64_t>> out;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      fail(path.string(), ":", n, ": not a JSON object (", e.what(), ")");
    }
    check(j.is_object() && j.contains("txt") && j["txt"].is_string(), path.string(), ":", n,
          ": expected a string field \"txt\"");
    check(j.contains("hard_label") && (j["hard_label"].is_number_integer() || j["hard_label"].is_boolean()),
          path.string(), ":", n, ": expected \"hard_label\" 0 or 1");
    const int64_t label = j["hard_label"].is_boolean() ? int64_t(j["hard_label"].get<bool>()) : j["hard_label"].get<int64_t>();
    check(label == 0 || label == 1, path.string(), ":", n, ": hard_label ", label, ", expected 0 or 1");
    out.emplace_back(j["txt"].get<std::string>(), label);
  }
  check(!out.empty(), path.string(), ": no examples");
  return out;
}

/// `name`'s train and test files as GPT-2 token ids (classes "false", "true").
inline DataBundle load_openai_jsonl(const std::filesystem::path& data_dir, const std::string& name,
                                    int64_t max_tokens = 1024, bool quiet = false) {
  const Log log(name, quiet);
  auto tok = std::make_shared<text::Gpt2Tokenizer>(text::Gpt2Tokenizer::from_dir(data_dir / "text" / "gpt2"));
  auto vocab = std::make_shared<Vocabulary>();
  vocab->pad_id = -1;
  vocab->encode = [tok](std::string_view t) { return tok->encode(t); };
  const auto load = [&](const std::string& part) {
    const auto path = data_dir / "openai" / name / (part + ".jsonl");
    const auto rows = read_openai_jsonl(path);
    std::vector<std::vector<int64_t>> ids;
    std::vector<int64_t> labels;
    int64_t width = 1, dropped = 0;
    for (const auto& [txt, label] : rows) {
      auto t = tok->encode(txt);
      if (static_cast<int64_t>(t.size()) >= max_tokens || t.empty()) {
        ++dropped;
        continue;
      }
      width = std::max<int64_t>(width, static_cast<int64_t>(t.size()));
      ids.push_back(std::move(t));
      labels.push_back(label);
    }
    check(!ids.empty(), path.string(), ": every example has ", max_tokens, " tokens or more (the context length keeps shorter ones)");
    const auto n = static_cast<int64_t>(ids.size());
    auto inputs = at::full({n, width}, -1, at::kLong);
    std::vector<float> length(ids.size());
    for (int64_t i = 0; i < n; ++i) {
      std::copy(ids[i].begin(), ids[i].end(), inputs.data_ptr<int64_t>() + i * width);
      length[i] = static_cast<float>(ids[i].size());
    }
    Dataset d;
    d.name = name;
    d.part = part + (dropped ? "/max" + std::to_string(max_tokens) : "");
    d.modality = Modality::text;
    d.inputs = inputs;
    d.targets = at::tensor(labels, at::kLong);
    d.length = at::tensor(length, at::kFloat);
    d.classes = 2;
    d.class_names = {"false", "true"};
    d.vocab = vocab;
    if (dropped) log("dropped ", dropped, " of ", rows.size(), " ", part, " examples of ", max_tokens, " tokens or more");
    return d;
  };
  return {load("train"), load("test"), {}};
}

}  // namespace w2s::data
