#pragma once
/// \file
/// Reader of the Brown corpus in NLTK's tagged distribution: a folder with
/// `cats.txt` (lines "<file> <category>", e.g. "ca01 news") and one file per entry
/// (ca01 … cr09) of "word/tag" tokens.
///
/// In that distribution every non-blank line is one sentence (the 500 files hold
/// 57,340 of them, NLTK's count): most are tab-indented, headlines are not, and
/// blank lines between sentences carry no meaning. A sentence's plain text is its
/// words joined by single spaces, each word being its token up to the LAST '/'
/// ("1-1/2/cd" → "1-1/2"), with the quote tags' tokens `` and '' written as ".
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/error.hpp"

namespace w2s::text {

/// One Brown sentence.
struct BrownSentence {
  std::string text;      ///< the words joined by spaces, tags removed
  std::string category;  ///< from cats.txt, e.g. "news", "humor"
  std::string file;      ///< e.g. "ca01"
};

namespace brown_detail {

/// The word of one "word/tag" token (the whole token when it has no '/').
inline std::string_view word_of(std::string_view token) {
  const size_t slash = token.rfind('/');
  const bool tagged = slash != std::string_view::npos && slash > 0;
  const std::string_view word = tagged ? token.substr(0, slash) : token;
  if (word == "``" || word == "''") return "\"";
  return word;
}

/// Splits a line on blanks (spaces, tabs, CR).
inline std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace brown_detail

/// Reads every sentence of the corpus in `dir`, files in cats.txt order.
/// Errors (w2s::Error): cats.txt missing; a cats.txt line that is not
/// "<file> <category>" (named as cats.txt:<line>); a listed file missing or unreadable
/// (named); a listed file name with a path separator.
inline std::vector<BrownSentence> read_brown(const std::filesystem::path& dir) {
  const std::filesystem::path cats_path = dir / "cats.txt";
  std::ifstream cats(cats_path, std::ios::binary);
  check(cats.good(), cats_path.string(),
        ": missing Brown category list (expected lines '<file> <category>')");
  std::vector<BrownSentence> sentences;
  std::string line;
  for (size_t line_no = 1; std::getline(cats, line); ++line_no) {
    const auto parts = brown_detail::fields(line);
    if (parts.empty()) continue;
    check(parts.size() == 2, cats_path.string(), ":", line_no, ": expected '<file> <category>', got '",
          line, "'");
    const std::string file(parts[0]);
    check(file.find('/') == std::string::npos && file.find('\\') == std::string::npos && file != ".." &&
              file != ".",
          cats_path.string(), ":", line_no, ": file name '", file, "' must not contain a path");
    const std::filesystem::path path = dir / file;
    std::ifstream in(path, std::ios::binary);
    check(in.good(), path.string(), ": missing Brown file (listed in ", cats_path.string(), ":", line_no,
          ")");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    check(!in.bad(), path.string(), ": read error");
    const std::string content = buffer.str();
    std::string_view rest(content);
    while (!rest.empty()) {
      const size_t nl = rest.find('\n');
      const std::string_view text_line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      const auto tokens = brown_detail::fields(text_line);
      if (tokens.empty()) continue;
      BrownSentence s{"", std::string(parts[1]), file};
      for (const std::string_view token : tokens) {
        if (!s.text.empty()) s.text += ' ';
        s.text += brown_detail::word_of(token);
      }
      sentences.push_back(std::move(s));
    }
  }
  return sentences;
}

}  // namespace w2s::text
