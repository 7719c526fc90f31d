#pragma once
/// \file
/// Byte-level decoders of e-mail: UTF-8 validation, charset → UTF-8,
/// quoted-printable, base64 and RFC 2047 encoded words.
///
/// Every function is total: malformed input yields a best-effort result, never an
/// exception, a crash or a loop that fails to advance, because the SpamAssassin
/// corpus holds plenty of broken mail and one bad message must not stop a run.
/// Every std::string returned by to_utf8 and decode_rfc2047 is valid UTF-8.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace w2s::text {

namespace codec_detail {

/// Appends the UTF-8 form of `cp` (which must be a scalar value).
inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

/// Decodes one UTF-8 sequence at s[i]. Returns its length and sets `cp`, or returns
/// 0 when the bytes there are not a well-formed sequence (overlong forms,
/// surrogates and values above U+10FFFF are rejected, as RFC 3629 requires).
inline size_t decode_utf8_at(std::string_view s, size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t len = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

/// Windows-1252 code points for bytes 0x80–0x9F. The five bytes it leaves undefined
/// map to the C1 control of the same value, as the WHATWG Encoding Standard does.
inline constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

/// The code point of byte `b` in windows-1252 (ISO-8859-1 plus printable 0x80–0x9F).
inline char32_t cp1252(unsigned char b) {
  return (b >= 0x80 && b < 0xA0) ? char32_t(kCp1252High[b - 0x80]) : char32_t(b);
}

/// The code point of byte `b` in ISO-8859-15 (Latin-9): Latin-1 with eight changes.
inline char32_t latin9(unsigned char b) {
  switch (b) {
    case 0xA4: return 0x20AC;
    case 0xA6: return 0x0160;
    case 0xA8: return 0x0161;
    case 0xB4: return 0x017D;
    case 0xB8: return 0x017E;
    case 0xBC: return 0x0152;
    case 0xBD: return 0x0153;
    case 0xBE: return 0x0178;
    default: return cp1252(b);
  }
}

/// Lower-cased ASCII copy; charset labels, header names and MIME types are case-insensitive.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

/// The value of an ASCII hex digit, or -1.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// The six-bit value of a base64 alphabet character, or -1.
inline int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // '-' and '_': the URL-safe alphabet, seen in spam
  if (c == '/' || c == '_') return 63;
  return -1;
}

/// Which byte → code point table a charset label selects.
enum class Charset { kUtf8, kUndeclared, kCp1252, kLatin9 };

inline Charset classify_charset(std::string_view label) {
  std::string l = ascii_lower(label);
  while (!l.empty() && (l.back() == ' ' || l.back() == '"' || l.back() == '\'')) l.pop_back();
  size_t start = 0;
  while (start < l.size() && (l[start] == ' ' || l[start] == '"' || l[start] == '\'')) ++start;
  l.erase(0, start);
  if (l == "utf-8" || l == "utf8" || l == "unicode-1-1-utf-8") return Charset::kUtf8;
  if (l.empty() || l == "us-ascii" || l == "ascii" || l == "ansi_x3.4-1968" || l == "default" ||
      l == "default_charset" || l == "unknown-8bit" || l == "x-unknown")
    return Charset::kUndeclared;
  if (l == "iso-8859-15" || l == "iso8859-15" || l == "iso_8859-15" || l == "latin-9" ||
      l == "latin9")
    return Charset::kLatin9;
  return Charset::kCp1252;
}

}  // namespace codec_detail

/// True when `s` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or
/// values above U+10FFFF).
inline bool is_valid_utf8(std::string_view s) {
  char32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t n = codec_detail::decode_utf8_at(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

/// Converts `bytes` in `charset` (a MIME label, case-insensitive, quotes tolerated)
/// to valid UTF-8.
///
/// - utf-8: passed through; each byte that does not start a well-formed sequence
///   becomes U+FFFD.
/// - us-ascii, an empty label and the placeholder labels ("default",
///   "unknown-8bit"): well-formed UTF-8 sequences pass through and any other byte
///   is read as windows-1252, because 8-bit text under those labels is in
///   practice either UTF-8 or a Western code page, and both then read right.
/// - iso-8859-1/latin1, windows-1252 and every label not recognised (big5, koi8-r,
///   …) are read as windows-1252, i.e. Latin-1 with printable 0x80–0x9F (the WHATWG
///   reading of "iso-8859-1"; mail labelled Latin-1 routinely carries 0x92 for ’).
///   Unknown multi-byte charsets therefore come out as Latin-1 mojibake: a
///   documented choice that keeps the decoder small and never fails.
/// - iso-8859-15: its eight differences from Latin-1 are honoured.
inline std::string to_utf8(std::string_view bytes, std::string_view charset) {
  using namespace codec_detail;
  const Charset kind = classify_charset(charset);
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  char32_t cp = 0;
  for (size_t i = 0; i < bytes.size();) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b < 0x80) {
      out += char(b);
      ++i;
      continue;
    }
    if (kind == Charset::kUtf8 || kind == Charset::kUndeclared) {
      const size_t n = decode_utf8_at(bytes, i, cp);
      if (n > 0) {
        out.append(bytes.substr(i, n));
        i += n;
        continue;
      }
      append_utf8(out, kind == Charset::kUtf8 ? char32_t(0xFFFD) : cp1252(b));
    } else {
      append_utf8(out, kind == Charset::kLatin9 ? latin9(b) : cp1252(b));
    }
    ++i;
  }
  return out;
}

/// Decodes quoted-printable (RFC 2045 §6.7): "=XX" (either hex case) is a byte and
/// "=" ending a line (trailing blanks allowed) is a soft line break. An "=" not
/// followed by two hex digits, such as a truncated "=4" at the end, is kept literally.
inline std::string decode_quoted_printable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '=') {
      out += c;
      continue;
    }
    if (i + 2 < in.size() && codec_detail::hex_value(in[i + 1]) >= 0 &&
        codec_detail::hex_value(in[i + 2]) >= 0) {
      out += char(codec_detail::hex_value(in[i + 1]) * 16 + codec_detail::hex_value(in[i + 2]));
      i += 2;
      continue;
    }
    size_t j = i + 1;
    while (j < in.size() && (in[j] == ' ' || in[j] == '\t' || in[j] == '\r')) ++j;
    if (j == in.size()) break;  // "=" at the very end: a soft break before nothing
    if (in[j] == '\n') {
      i = j;  // soft line break: drop "=", blanks and the newline
      continue;
    }
    out += c;  // not an escape: keep "=" literally
  }
  return out;
}

/// Decodes base64. Characters outside the alphabet (whitespace, junk) are skipped;
/// missing padding is fine, and bits of an incomplete final group are dropped.
/// "=" ends a group, so concatenated encodings ("QQ==QQ==") decode piece by piece.
inline std::string decode_base64(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == '=') {
      acc = 0, bits = 0;
      continue;
    }
    const int v = codec_detail::base64_value(c);
    if (v < 0) continue;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
      acc &= (1u << bits) - 1;
    }
  }
  return out;
}

/// Decodes RFC 2047 encoded words ("=?charset?Q?...?=" and "=?charset?B?...?=",
/// a "*language" suffix on the charset allowed) inside an unfolded header value.
/// Whitespace between two adjacent encoded words is dropped, as the RFC says; text
/// outside encoded words is read as undeclared 8-bit (see to_utf8). A malformed
/// "=?" is kept literally. The result is valid UTF-8.
inline std::string decode_rfc2047(std::string_view header) {
  using namespace codec_detail;
  std::string out;
  std::string_view pending;  // plain text not yet emitted (maybe blanks between words)
  bool after_word = false;
  size_t i = 0;
  auto flush = [&](bool next_is_word) {
    const bool blank = pending.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (!(after_word && next_is_word && blank)) out += to_utf8(pending, "");
    pending = {};
  };
  size_t plain_start = 0;
  size_t next_close = 0;  // position of the next "?=" at or after the scan (recomputed lazily)
  while (i < header.size()) {
    const size_t open = header.find("=?", i);
    if (open == std::string_view::npos) break;
    // =?charset?E?text?=
    const size_t q1 = header.find('?', open + 2);
    bool ok = q1 != std::string_view::npos && q1 > open + 2 && q1 + 2 < header.size() &&
              header[q1 + 2] == '?';
    char enc = ok ? header[q1 + 1] : '\0';
    ok = ok && (enc == 'q' || enc == 'Q' || enc == 'b' || enc == 'B');
    const size_t close = ok ? header.find("?=", q1 + 3) : std::string_view::npos;
    std::string_view charset = ok ? header.substr(open + 2, q1 - open - 2) : std::string_view{};
    ok = ok && close != std::string_view::npos &&
         charset.find_first_of(" \t\r\n") == std::string_view::npos;
    if (!ok) {
      // With no "?=" left, no encoded word can close: the rest is plain text. The next
      // "?=" is searched for again only once passed, so malformed headers stay linear.
      if (next_close != std::string_view::npos && next_close < open + 2) next_close = header.find("?=", open + 2);
      if (next_close == std::string_view::npos) break;
      i = open + 2;
      continue;
    }
    pending = header.substr(plain_start, open - plain_start);
    flush(true);
    if (const size_t star = charset.find('*'); star != std::string_view::npos)
      charset = charset.substr(0, star);
    const std::string_view text = header.substr(q1 + 3, close - q1 - 3);
    std::string bytes;
    if (enc == 'b' || enc == 'B') {
      bytes = decode_base64(text);
    } else {
      for (size_t k = 0; k < text.size(); ++k) {
        if (text[k] == '_') {
          bytes += ' ';
        } else if (text[k] == '=' && k + 2 < text.size() && hex_value(text[k + 1]) >= 0 &&
                   hex_value(text[k + 2]) >= 0) {
          bytes += char(hex_value(text[k + 1]) * 16 + hex_value(text[k + 2]));
          k += 2;
        } else {
          bytes += text[k];
        }
      }
    }
    out += to_utf8(bytes, charset);
    after_word = true;
    i = plain_start = close + 2;
  }
  pending = header.substr(plain_start);
  flush(false);
  return out;
}

}  // namespace w2s::text
