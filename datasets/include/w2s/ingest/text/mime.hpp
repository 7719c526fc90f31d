#pragma once
/// \file
/// MIME structure of e-mail: headers vs body, Content-Type values and multipart
/// splitting (RFC 822/2045/2046), all over string_views of the raw bytes.
///
/// Tolerant by design (the SpamAssassin corpus is full of broken mail): nothing
/// here throws, and every loop advances by at least one line.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/ingest/text/encodings.hpp"

namespace w2s::text::mime_detail {

/// A MIME entity: its headers and a view of its (still encoded) body.
struct Entity {
  std::map<std::string, std::string> headers;
  std::string_view body;
};

inline std::string_view trim(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string_view::npos) return {};
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

/// Position of the ':' when `line` is "Name: value" (blanks before ':' tolerated), else npos.
inline size_t header_colon(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && static_cast<unsigned char>(line[i]) > 32 &&
         static_cast<unsigned char>(line[i]) < 127 && line[i] != ':')
    ++i;
  if (i == 0) return std::string_view::npos;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return i < line.size() && line[i] == ':' ? i : std::string_view::npos;
}

/// Splits headers from body. Headers end at the first blank line (CRLF or LF, a
/// line of blanks counts); continuation lines are unfolded with one space; a first
/// line "From ..." (mbox) is skipped. A line that is neither header nor
/// continuation also ends the headers, and the body starts with it (mail that
/// forgot the blank line); with no such line, everything is headers and the body
/// is empty.
inline Entity split_entity(std::string_view raw) {
  Entity e;
  std::string name;
  std::string value;
  auto commit = [&] {
    if (!name.empty()) e.headers[codec_detail::ascii_lower(name)] = to_utf8(trim(value), "");
    name.clear();
  };
  size_t pos = 0;
  bool first = true;
  while (pos < raw.size()) {
    const size_t nl = raw.find('\n', pos);
    const size_t next = nl == std::string_view::npos ? raw.size() : nl + 1;
    std::string_view line = raw.substr(pos, next - pos);
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      commit();
      e.body = raw.substr(next);
      return e;
    }
    if (first && line.starts_with("From ")) {
      first = false;
      pos = next;
      continue;
    }
    first = false;
    if ((line[0] == ' ' || line[0] == '\t') && !name.empty()) {
      value += ' ';
      value += trim(line);
    } else if (const size_t colon = header_colon(line); colon != std::string_view::npos) {
      commit();
      name = trim(line.substr(0, colon));
      value = line.substr(colon + 1);
    } else {
      commit();
      e.body = raw.substr(pos);
      return e;
    }
    pos = next;
  }
  commit();
  return e;
}

/// A Content-Type value: lower-cased "type/subtype" and parameters (lower-cased
/// names; values unquoted with backslash escapes resolved, case kept, first wins).
struct ContentType {
  std::string type;
  std::map<std::string, std::string> params;
};

/// Parses a Content-Type value. Tolerant: parameters may lack the ';' between them,
/// have blanks around '=', or an unterminated quote (which then runs to the end).
inline ContentType parse_content_type(std::string_view v) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  ContentType ct;
  size_t i = 0;
  while (i < v.size() && blank(v[i])) ++i;
  const size_t start = i;
  while (i < v.size() && v[i] != ';' && !blank(v[i])) ++i;
  ct.type = codec_detail::ascii_lower(v.substr(start, i - start));
  while (i < v.size()) {
    while (i < v.size() && (blank(v[i]) || v[i] == ';')) ++i;
    const size_t name_start = i;
    while (i < v.size() && v[i] != '=' && v[i] != ';' && !blank(v[i])) ++i;
    const std::string name = codec_detail::ascii_lower(v.substr(name_start, i - name_start));
    while (i < v.size() && blank(v[i])) ++i;
    if (i >= v.size() || v[i] != '=') continue;  // a bare word: ignore it
    ++i;
    while (i < v.size() && blank(v[i])) ++i;
    std::string value;
    if (i < v.size() && v[i] == '"') {
      for (++i; i < v.size() && v[i] != '"'; ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        value += v[i];
      }
      if (i < v.size()) ++i;  // the closing quote
    } else {
      const size_t value_start = i;
      while (i < v.size() && v[i] != ';' && !blank(v[i])) ++i;
      value = v.substr(value_start, i - value_start);
    }
    if (!name.empty()) ct.params.emplace(name, std::move(value));
  }
  return ct;
}

/// The Content-Type of `e`: declared, or `fallback` when absent; a value without
/// '/' is invalid and reads as text/plain (RFC 2045 §5.2).
inline ContentType content_type_of(const Entity& e, std::string_view fallback, bool* declared = nullptr) {
  const auto it = e.headers.find("content-type");
  const bool has = it != e.headers.end() && !trim(it->second).empty();
  if (declared != nullptr) *declared = has;
  ContentType ct = has ? parse_content_type(it->second) : ContentType{std::string(fallback), {}};
  if (ct.type.find('/') == std::string::npos) ct.type = "text/plain";
  return ct;
}

/// The parts of a multipart body delimited by "--boundary" lines (trailing blanks
/// allowed) up to "--boundary--". Preamble and epilogue are dropped; the line break
/// before a delimiter belongs to it. A missing closing delimiter ends the last part
/// at the end of input. `found` tells whether any delimiter line was seen.
inline std::vector<std::string_view> split_multipart(std::string_view body, std::string_view boundary,
                                                     bool& found) {
  std::vector<std::string_view> parts;
  const std::string delimiter = "--" + std::string(boundary);
  found = false;
  size_t part_start = std::string_view::npos;
  for (size_t pos = 0; pos < body.size();) {
    const size_t nl = body.find('\n', pos);
    const size_t next = nl == std::string_view::npos ? body.size() : nl + 1;
    const std::string_view line = body.substr(pos, next - pos);
    if (line.starts_with(delimiter)) {
      std::string_view rest = line.substr(delimiter.size());
      const bool closing = rest.starts_with("--");
      if (closing) rest.remove_prefix(2);
      if (rest.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        if (part_start != std::string_view::npos) {
          size_t end = pos;
          if (end > part_start && body[end - 1] == '\n') --end;
          if (end > part_start && body[end - 1] == '\r') --end;
          parts.push_back(body.substr(part_start, end - part_start));
        }
        found = true;
        if (closing) return parts;
        part_start = next;
      }
    }
    pos = next;
  }
  if (part_start != std::string_view::npos && part_start < body.size())
    parts.push_back(body.substr(part_start));
  return parts;
}

}  // namespace w2s::text::mime_detail
