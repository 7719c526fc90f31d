#pragma once
/// \file
/// Raw RFC 822 / MIME e-mail → subject and readable UTF-8 body text.
///
/// Built for the SpamAssassin public corpus: mbox "From " lines, folded headers,
/// nested multiparts, quoted-printable and base64, HTML-only spam and a zoo of
/// charsets. Parsing is total: anything malformed degrades to the best text that
/// can be recovered, and only an input with nothing in it is an error.
///
/// Which parts count as readable:
/// - text/plain, text/html (converted by html_to_text), text/enriched and
///   text/richtext (tags stripped the same way), inline or attached alike;
/// - multipart/alternative: the first non-empty text/plain alternative, else the
///   first alternative that yields any text;
/// - other multipart/*: every readable part, joined by a blank line;
/// - message/rfc822 (and each part of multipart/digest): the inner subject line,
///   then the inner body;
/// - application/octet-stream attachments named *.htm, *.html or *.txt: read as
///   HTML or plain text (some spam ships its whole message that way);
/// - everything else (image/*, application/*, audio, text/x-vcard, text/calendar,
///   …) is skipped.
/// A part without Content-Type is text/plain, with two repairs because much spam
/// omits the header: such a body that starts with a tag or carries an <html>,
/// <body> or <!doctype html> tag is read as HTML, and one whose first line is
/// "--X" followed by a Content-* header is read as multipart/alternative with
/// boundary X. Declared text/plain is read as HTML only when it starts with a tag
/// and carries one of those three (otherwise its tags are what a reader sees, and
/// stay).
#include <cctype>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/ingest/text/encodings.hpp"
#include "w2s/ingest/text/html.hpp"
#include "w2s/ingest/text/mime.hpp"

namespace w2s::text {

/// One parsed e-mail.
struct Email {
  std::string subject;  ///< RFC 2047-decoded, one line, tidied; empty when absent
  std::string body;     ///< UTF-8 text of the readable parts, tidy_text'ed (paragraph breaks kept)
  /// Lower-cased names → unfolded, trimmed values (last occurrence wins). Values are
  /// made valid UTF-8 (8-bit bytes as in to_utf8 with no charset) but encoded words
  /// are left as they are: run decode_rfc2047 to display one.
  std::map<std::string, std::string> headers;
};

namespace email_detail {

using namespace mime_detail;

inline constexpr int kMaxDepth = 24;  // nesting beyond this is junk (or an attack), not mail

/// Case-insensitive "contains" over the first 4 KiB: enough to spot an HTML document.
inline bool has_html_tag(std::string_view text) {
  const std::string_view head = text.substr(0, 4096);
  return html_detail::ifind(head, "<html", 0) != std::string_view::npos ||
         html_detail::ifind(head, "<body", 0) != std::string_view::npos ||
         html_detail::ifind(head, "<!doctype html", 0) != std::string_view::npos;
}

/// Whether text/plain content is really HTML (see the file comment).
inline bool looks_like_html(std::string_view text, bool declared) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return false;
  const char after = first + 1 < text.size() ? text[first + 1] : '\0';
  const bool starts_with_tag =
      text[first] == '<' && (std::isalpha(static_cast<unsigned char>(after)) || after == '!');
  return starts_with_tag ? (!declared || has_html_tag(text)) : (!declared && has_html_tag(text));
}

/// The boundary of a body that is plainly multipart although its Content-Type is
/// missing: the first non-blank line is "--X" and the next one a Content-* header.
/// Empty when the body does not look like that.
inline std::string undeclared_boundary(std::string_view body) {
  const size_t start = body.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || body.substr(start, 2) != "--") return {};
  const size_t nl = body.find('\n', start);
  if (nl == std::string_view::npos) return {};
  const std::string_view boundary = trim(body.substr(start + 2, nl - start - 2));
  const std::string_view next = body.substr(nl + 1, 8);
  if (boundary.empty() || codec_detail::ascii_lower(next) != "content-") return {};
  return std::string(boundary);
}

/// For application/octet-stream: text/html or text/plain when the attachment's
/// file name ends in .htm/.html or .txt (spam ships its whole message that way),
/// else the type unchanged.
inline std::string_view type_from_file_name(const Entity& e, const ContentType& ct) {
  std::string file;
  if (const auto d = e.headers.find("content-disposition"); d != e.headers.end()) {
    const ContentType disposition = parse_content_type(d->second);
    if (const auto f = disposition.params.find("filename"); f != disposition.params.end()) file = f->second;
  }
  if (const auto n = ct.params.find("name"); file.empty() && n != ct.params.end()) file = n->second;
  file = codec_detail::ascii_lower(trim(file));
  if (file.ends_with(".htm") || file.ends_with(".html")) return "text/html";
  if (file.ends_with(".txt")) return "text/plain";
  return ct.type;
}

inline std::string entity_text(const Entity& e, int depth, std::string_view fallback_type);

/// The readable text of a multipart body; the whole body as text when the boundary
/// is missing or never appears.
inline std::string multipart_text(std::string_view body, const ContentType& ct, int depth) {
  const auto b = ct.params.find("boundary");
  bool found = false;
  std::vector<std::string_view> parts;
  if (b != ct.params.end() && !b->second.empty()) parts = split_multipart(body, b->second, found);
  if (!found) {
    const std::string text = to_utf8(body, "");
    return has_html_tag(text) ? html_to_text(text) : tidy_text(text);
  }
  const std::string_view child_fallback = ct.type == "multipart/digest" ? "message/rfc822" : "text/plain";
  std::string joined;
  for (const std::string_view part : parts) {
    const Entity child = split_entity(part);
    std::string text = entity_text(child, depth + 1, child_fallback);
    if (text.empty()) continue;
    if (ct.type == "multipart/alternative") {
      if (content_type_of(child, child_fallback).type == "text/plain") return text;
      if (joined.empty()) joined = std::move(text);  // fallback unless plain text follows
      continue;
    }
    if (!joined.empty()) joined += "\n\n";
    joined += text;
  }
  return joined;
}

/// The readable text of one entity (see the file comment for what counts).
inline std::string entity_text(const Entity& e, int depth, std::string_view fallback_type) {
  if (depth > kMaxDepth) return {};
  bool declared = false;
  const ContentType ct = content_type_of(e, fallback_type, &declared);
  const auto cte_it = e.headers.find("content-transfer-encoding");
  const std::string cte = cte_it == e.headers.end() ? "" : codec_detail::ascii_lower(trim(cte_it->second));
  std::string decoded;
  std::string_view body = e.body;
  if (cte.find("base64") != std::string::npos) {
    decoded = decode_base64(body), body = decoded;
  } else if (cte.find("quoted-printable") != std::string::npos) {
    decoded = decode_quoted_printable(body), body = decoded;
  }
  std::string_view type = ct.type;
  if (type == "application/octet-stream") type = type_from_file_name(e, ct);
  if (type.starts_with("multipart/")) return multipart_text(body, ct, depth);
  if (type == "message/rfc822" || type == "message/news") {
    const Entity inner = split_entity(body);
    const auto subject = inner.headers.find("subject");
    std::string text = subject == inner.headers.end() ? "" : tidy_text(decode_rfc2047(subject->second));
    const std::string inner_text = entity_text(inner, depth + 1, "text/plain");
    if (!text.empty() && !inner_text.empty()) text += "\n\n";
    return text + inner_text;
  }
  const auto charset_it = ct.params.find("charset");
  const std::string_view charset = charset_it == ct.params.end() ? "" : std::string_view(charset_it->second);
  if (type == "text/html" || type == "text/enriched" || type == "text/richtext")
    return html_to_text(to_utf8(body, charset));
  if (type != "text/plain") return {};
  if (!declared) {
    if (const std::string boundary = undeclared_boundary(body); !boundary.empty())
      return multipart_text(body, ContentType{"multipart/alternative", {{"boundary", boundary}}}, depth);
  }
  const std::string text = to_utf8(body, charset);
  return looks_like_html(text, declared) ? html_to_text(text) : tidy_text(text);
}

}  // namespace email_detail

/// Parses one raw e-mail (see the file comment for what the body holds).
/// Throws w2s::Error naming `source_name` only when the input is empty or blank;
/// every other defect yields best-effort text.
inline Email parse_email(std::string_view raw, std::string_view source_name) {
  using namespace email_detail;
  using namespace mime_detail;
  check(raw.find_first_not_of(" \t\r\n") != std::string_view::npos, source_name,
        ": empty e-mail (", raw.size(), " bytes, no content)");
  const Entity top = split_entity(raw);
  Email email;
  email.headers = top.headers;
  if (const auto s = top.headers.find("subject"); s != top.headers.end()) {
    email.subject = tidy_text(decode_rfc2047(s->second));
    for (char& c : email.subject)
      if (c == '\n') c = ' ';
  }
  email.body = tidy_text(entity_text(top, 0, "text/plain"));
  return email;
}

/// A key under which exact and near-exact duplicates collide: subject, a space,
/// then the body, ASCII-lower-cased with every run of whitespace collapsed to one
/// space and the ends trimmed. Deliberately simple: it merges the same message
/// delivered to two folders or re-wrapped, not paraphrases.
inline std::string dedupe_key(const Email& email) {
  std::string key;
  key.reserve(email.subject.size() + email.body.size() + 1);
  bool space = false;
  auto add = [&](std::string_view s) {
    for (char c : s) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        space = !key.empty();
        continue;
      }
      if (space) key += ' ';
      space = false;
      key += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    }
  };
  add(email.subject);
  space = !key.empty();
  add(email.body);
  return key;
}

}  // namespace w2s::text
