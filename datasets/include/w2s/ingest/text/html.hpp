#pragma once
/// \file
/// HTML → plain text for e-mail bodies, and the whitespace tidying shared by all
/// e-mail text.
///
/// A forgiving scanner, not a DOM parser: mail HTML (spam especially) is too
/// broken for a strict one, and the goal is the readable words. It never throws and
/// always advances, so unterminated tags, comments or scripts cannot hang it.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "w2s/ingest/text/encodings.hpp"

namespace w2s::text {

namespace html_detail {

/// Names of Latin-1 letters 0xE0–0xFF as lower-case entities; the capitalised name
/// ("Eacute", "AElig", "THORN") is the letter 0x20 lower (0xC0–0xDE).
inline constexpr std::array<std::string_view, 32> kLatin1Letters = {
    "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",
    "eth",    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide",
    "oslash", "ugrave", "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"};

struct NamedEntity {
  std::string_view name;
  char32_t cp;
};

/// The other entities common in mail. nbsp and the typographic spaces become an
/// ordinary space, soft hyphen and zero-width joiners nothing (cp 0).
inline constexpr NamedEntity kEntities[] = {
    {"amp", '&'},       {"lt", '<'},         {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},     {"nbsp", ' '},       {"ensp", ' '},      {"emsp", ' '},
    {"thinsp", ' '},    {"shy", 0},          {"zwnj", 0},        {"zwj", 0},
    {"copy", 0xA9},     {"reg", 0xAE},       {"trade", 0x2122},  {"hellip", 0x2026},
    {"mdash", 0x2014},  {"ndash", 0x2013},   {"lsquo", 0x2018},  {"rsquo", 0x2019},
    {"sbquo", 0x201A},  {"ldquo", 0x201C},   {"rdquo", 0x201D},  {"bdquo", 0x201E},
    {"bull", 0x2022},   {"middot", 0xB7},    {"laquo", 0xAB},    {"raquo", 0xBB},
    {"deg", 0xB0},      {"plusmn", 0xB1},    {"times", 0xD7},    {"cent", 0xA2},
    {"pound", 0xA3},    {"yen", 0xA5},       {"euro", 0x20AC},   {"sect", 0xA7},
    {"para", 0xB6},     {"iexcl", 0xA1},     {"iquest", 0xBF},   {"frac14", 0xBC},
    {"frac12", 0xBD},   {"frac34", 0xBE},    {"sup1", 0xB9},     {"sup2", 0xB2},
    {"sup3", 0xB3},     {"szlig", 0xDF},     {"curren", 0xA4},   {"brvbar", 0xA6},
    {"micro", 0xB5},    {"ordf", 0xAA},      {"ordm", 0xBA},     {"not", 0xAC},
    {"dagger", 0x2020}, {"permil", 0x2030},  {"prime", 0x2032},  {"larr", 0x2190},
    {"rarr", 0x2192},   {"uarr", 0x2191},    {"darr", 0x2193},   {"hearts", 0x2665}};

/// Code point of a named entity, or -1 when unknown (then the text is kept as is).
inline int64_t named_entity(std::string_view name) {
  for (const auto& e : kEntities)
    if (e.name == name) return e.cp;
  const bool upper = !name.empty() && name[0] >= 'A' && name[0] <= 'Z';
  const std::string lower = codec_detail::ascii_lower(name);
  for (size_t i = 0; i < kLatin1Letters.size(); ++i) {
    if (!upper && kLatin1Letters[i] == name) return 0xE0 + int64_t(i);
    // divide and yuml have no capital at 0x20 below; those names are not entities
    if (upper && i != 0x17 && i != 0x1F && kLatin1Letters[i] == lower) return 0xC0 + int64_t(i);
  }
  return -1;
}

/// Decodes the entity at html[i] == '&' into `out`; returns the characters consumed,
/// or 0 when it is no entity (the caller then emits '&' literally). Numeric
/// references follow HTML5: 0x80–0x9F read as windows-1252, invalid values U+FFFD.
inline size_t decode_entity(std::string_view html, size_t i, std::string& out) {
  size_t j = i + 1;
  if (j < html.size() && html[j] == '#') {
    ++j;
    const bool hex = j < html.size() && (html[j] == 'x' || html[j] == 'X');
    if (hex) ++j;
    const size_t digits_start = j;
    uint32_t value = 0;
    while (j < html.size() && j - digits_start < 8) {
      const int d = hex ? codec_detail::hex_value(html[j])
                        : (html[j] >= '0' && html[j] <= '9' ? html[j] - '0' : -1);
      if (d < 0) break;
      value = value * (hex ? 16 : 10) + uint32_t(d);
      ++j;
    }
    if (j == digits_start) return 0;
    if (j < html.size() && html[j] == ';') ++j;
    char32_t cp = value;
    if (value >= 0x80 && value < 0xA0) cp = codec_detail::cp1252(static_cast<unsigned char>(value));
    if (value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) cp = 0xFFFD;
    codec_detail::append_utf8(out, cp);
    return j - i;
  }
  while (j < html.size() && j - i <= 10 &&
         ((html[j] >= 'a' && html[j] <= 'z') || (html[j] >= 'A' && html[j] <= 'Z') ||
          (html[j] >= '0' && html[j] <= '9')))
    ++j;
  const std::string_view name = html.substr(i + 1, j - i - 1);
  const bool semicolon = j < html.size() && html[j] == ';';
  // Without ';' only the few legacy names browsers also accept bare.
  if (!semicolon && name != "amp" && name != "lt" && name != "gt" && name != "quot" && name != "nbsp")
    return 0;
  const int64_t cp = named_entity(name);
  if (cp < 0) return 0;
  if (cp > 0) codec_detail::append_utf8(out, char32_t(cp));
  return j - i + (semicolon ? 1 : 0);
}

/// Case-insensitive search for ASCII `needle` (given in lower case) from `from`.
inline size_t ifind(std::string_view hay, std::string_view needle, size_t from) {
  if (needle.size() > hay.size()) return std::string_view::npos;
  for (size_t i = from; i + needle.size() <= hay.size(); ++i) {
    size_t k = 0;
    while (k < needle.size()) {
      char c = hay[i + k];
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
      if (c != needle[k]) break;
      ++k;
    }
    if (k == needle.size()) return i;
  }
  return std::string_view::npos;
}

/// What a tag contributes to the text: "\n\n" for paragraph-like blocks, "\n" for
/// lines and list items, " " for table cells (cells sit side by side), else nothing.
inline std::string_view tag_break(std::string_view name) {
  static constexpr std::string_view kParagraph[] = {"p", "h1", "h2", "h3", "h4", "h5", "h6",
                                                    "blockquote", "table", "hr", "ul", "ol", "pre"};
  static constexpr std::string_view kLine[] = {"br", "div", "tr", "li", "dl", "dt", "dd", "center",
                                               "address", "form", "section", "article", "header",
                                               "footer", "nav", "caption", "tbody", "thead", "body"};
  for (auto n : kParagraph)
    if (n == name) return "\n\n";
  for (auto n : kLine)
    if (n == name) return "\n";
  if (name == "td" || name == "th") return " ";
  return "";
}

/// True for code points tidy_text turns into a plain space.
inline bool is_blank(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\f' || cp == '\v' || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/// True for code points tidy_text drops: controls other than newline and the
/// blanks above, C1 controls (undefined cp1252 bytes land there), zero-width
/// characters and the byte-order mark.
inline bool is_invisible(char32_t cp) {
  return (cp < 0x20 && cp != '\n' && !is_blank(cp)) || (cp >= 0x7F && cp < 0xA0) || cp == 0xAD ||
         (cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 || cp == 0xFEFF;
}

}  // namespace html_detail

/// Tidies text into valid UTF-8 lines: CRLF/CR → LF; blanks (including no-break
/// and typographic spaces) → one space; invisible controls dropped; each line
/// trimmed; runs of empty lines → one empty line (paragraph breaks survive);
/// leading and trailing empty lines removed. Invalid UTF-8 bytes become U+FFFD.
inline std::string tidy_text(std::string_view text) {
  using namespace html_detail;
  std::string out;
  out.reserve(text.size());
  std::string line;
  bool pending_space = false;
  int pending_newlines = 0;  // newlines owed before the next non-empty line
  auto end_line = [&] {
    if (!line.empty()) {
      if (!out.empty()) out.append(size_t(pending_newlines >= 2 ? 2 : 1), '\n');
      out += line;
      line.clear();
      pending_newlines = 0;
    }
    if (!out.empty()) pending_newlines = std::min(pending_newlines + 1, 2);  // only 1 vs 2+ matters
    pending_space = false;
  };
  char32_t cp = 0;
  for (size_t i = 0; i < text.size();) {
    size_t n = codec_detail::decode_utf8_at(text, i, cp);
    if (n == 0) cp = 0xFFFD, n = 1;
    const size_t at = i;
    i += n;
    if (cp == '\r') {
      if (i < text.size() && text[i] == '\n') continue;  // the LF ends the line
      cp = '\n';
    }
    if (cp == '\n') {
      end_line();
    } else if (is_blank(cp)) {
      pending_space = !line.empty();
    } else if (!is_invisible(cp)) {
      if (pending_space) line += ' ';
      pending_space = false;
      if (cp == 0xFFFD && n == 1) codec_detail::append_utf8(line, cp);
      else line.append(text.substr(at, n));
    }
  }
  end_line();
  return out;
}

/// Converts HTML to readable text: tags dropped; the contents of script, style,
/// title, head-only xml islands and comments dropped; entities decoded
/// (named ones listed above, &#NNN; and &#xHH;); block tags become line breaks
/// and td/th a space; source whitespace collapses as a browser would, except inside
/// <pre>. Unterminated comments and script/style swallow the rest of the input,
/// as in a browser. The input should be UTF-8; the output is tidy_text'ed.
inline std::string html_to_text(std::string_view html) {
  using namespace html_detail;
  std::string out;
  out.reserve(html.size() / 2);
  bool in_pre = false;
  size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '&') {
      const size_t used = decode_entity(html, i, out);
      if (used == 0) out += '&';
      i += used == 0 ? 1 : used;
      continue;
    }
    if (c != '<') {
      out += (!in_pre && (c == '\n' || c == '\r' || c == '\t')) ? ' ' : c;
      ++i;
      continue;
    }
    const char next = i + 1 < html.size() ? html[i + 1] : '\0';
    if (html.substr(i, 4) == "<!--") {
      const size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    if (next == '!' || next == '?') {  // <!DOCTYPE ...>, <![CDATA[...]]>, <?xml ...?>
      const size_t end = html.find('>', i + 2);
      i = end == std::string_view::npos ? html.size() : end + 1;
      continue;
    }
    const bool closing = next == '/';
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < html.size() && (std::isalnum(static_cast<unsigned char>(html[j])) || html[j] == ':'))
      ++j;
    if (j == name_start || !std::isalpha(static_cast<unsigned char>(html[name_start]))) {
      out += '<';  // "a < b", "<3": not a tag
      ++i;
      continue;
    }
    const std::string name = codec_detail::ascii_lower(html.substr(name_start, j - name_start));
    // Find the '>' ending the tag, skipping quoted attribute values; when quotes
    // do not balance within kMaxTag bytes, fall back to the first '>' so one stray
    // quote can neither eat the page nor make the scan quadratic.
    constexpr size_t kMaxTag = 4096;
    const size_t limit = std::min(html.size(), j + kMaxTag);
    size_t end = j;
    char quote = 0;
    while (end < limit && (quote != 0 || html[end] != '>')) {
      if (quote != 0 && html[end] == quote) quote = 0;
      else if (quote == 0 && (html[end] == '"' || html[end] == '\'')) quote = html[end];
      ++end;
    }
    if (end >= limit) end = html.find('>', j);
    if (end == std::string_view::npos) break;  // unterminated tag: nothing readable left
    i = end + 1;
    if (!closing && (name == "script" || name == "style" || name == "title" || name == "xml") &&
        html[end - 1] != '/') {
      const size_t close = ifind(html, "</" + name, i);
      const size_t close_end = close == std::string_view::npos ? close : html.find('>', close);
      i = close_end == std::string_view::npos ? html.size() : close_end + 1;
      continue;
    }
    if (name == "pre") in_pre = !closing;
    out += tag_break(name);
  }
  return tidy_text(out);
}

}  // namespace w2s::text
