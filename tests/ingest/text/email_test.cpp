// The e-mail parser and its decoders on hand-written messages: well-formed MIME,
// charsets, and malformed input that must degrade to sensible text, never crash.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "w2s/ingest/text/email.hpp"

using namespace w2s;
using namespace w2s::text;

namespace {
// Raw bytes spelled in a readable way: "\n" line ends become CRLF when asked, the
// way half the corpus stores them.
std::string crlf(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}
}  // namespace

TEST_CASE("multipart/alternative prefers the quoted-printable plain text over base64 HTML", "[text]") {
  const std::string raw =
      "From someone@example.com  Mon Jan  7 10:00:00 2002\n"
      "Subject: Hello\n"
      "Content-Type: multipart/alternative;\n"
      "\tboundary=\"XYZ\"\n"
      "\n"
      "This is a multi-part message in MIME format.\n"
      "--XYZ\n"
      "Content-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "Caf=E9 au lait =\n"
      "costs =241.\n"
      "--XYZ\n"
      "Content-Type: TEXT/HTML; charset=utf-8\n"
      "Content-Transfer-Encoding: BASE64\n"
      "\n"
      "PHA+SFRNTCAmYW1wOyBtb3JlPC9wPg==\n"
      "--XYZ--\n"
      "epilogue\n";
  for (const std::string& bytes : {raw, crlf(raw)}) {
    const Email e = parse_email(bytes, "alt.eml");
    CHECK(e.subject == "Hello");
    CHECK(e.body == "Café au lait costs $1.");
    CHECK(e.headers.at("content-type") == "multipart/alternative; boundary=\"XYZ\"");
  }
  // Without a usable plain alternative, the HTML one is converted.
  std::string html_only = raw;
  html_only.replace(html_only.find("Caf=E9"), std::string("Caf=E9 au lait =\ncosts =241.").size(), "  ");
  CHECK(parse_email(html_only, "alt2.eml").body == "HTML & more");
}

TEST_CASE("nested multipart: readable parts joined, image attachment skipped", "[text]") {
  const std::string raw =
      "Subject: nested\n"
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=\"outer-inner\"\n"
      "\n"
      "--outer-inner\n"
      "Content-Type: text/plain\n"
      "\n"
      "Body   text\n"
      "--outer-inner\n"
      "Content-Type: text/html\n"
      "\n"
      "<b>Body</b> text\n"
      "--outer-inner--\n"
      "--outer\n"
      "Content-Type: image/png; name=\"a.png\"\n"
      "Content-Transfer-Encoding: base64\n"
      "Content-Disposition: attachment; filename=\"a.png\"\n"
      "\n"
      "iVBORw0KGgoAAGp1bmtqdW5r\n"
      "--outer\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "Subject: Inner subject\n"
      "\n"
      "Inner body\n"
      "--outer--\n";
  CHECK(parse_email(raw, "nested.eml").body == "Body text\n\nInner subject\n\nInner body");
}

TEST_CASE("RFC 2047 subjects and unfolded, lower-cased headers", "[text]") {
  const Email e = parse_email(
      "Subject: =?iso-8859-1?Q?Caf=E9_cr=E8me?=\n =?utf-8?B?4pyT?= done\n"
      "X-Thing: first\nX-THING: second\n\tcontinued\n\nbody\n",
      "2047.eml");
  CHECK(e.subject == "Café crème✓ done");
  CHECK(e.headers.at("x-thing") == "second continued");
  CHECK(decode_rfc2047("plain =?bogus and =?utf-8?x?abc?=") == "plain =?bogus and =?utf-8?x?abc?=");
  CHECK(decode_rfc2047("=?UTF-8*en?q?a=2Db?=") == "a-b");
}

TEST_CASE("charsets: windows-1252 smart quotes and Latin-1 become UTF-8", "[text]") {
  CHECK(to_utf8("\x93Hi\x94 it\x92s \x96 fine\x85", "Windows-1252") == "“Hi” it’s – fine…");
  CHECK(to_utf8("caf\xe9", "\"ISO-8859-1\"") == "café");
  CHECK(to_utf8("\xa4 5", "iso-8859-15") == "€ 5");
  CHECK(to_utf8("caf\xe9 + café", "us-ascii") == "café + café");  // mixed 8-bit under no real label
  CHECK(to_utf8("\xb0\xa1", "x-made-up") == "°¡");                    // unknown: read as Latin-1
  const Email e =
      parse_email("Content-Type: text/plain; charset=windows-1252\n\n\x93quoted\x94\n", "1252.eml");
  CHECK(e.body == "“quoted”");
}

TEST_CASE("UTF-8 validation and repair", "[text]") {
  CHECK(is_valid_utf8("café ✓ 𝄞"));
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(is_valid_utf8("ab\xe2\x9c"));        // truncated
  const Email e =
      parse_email("Content-Type: text/plain; charset=utf-8\n\nok \xff\xfe then \xe2\x9c\n", "bad.eml");
  CHECK(e.body == "ok \xEF\xBF\xBD\xEF\xBF\xBD then \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(is_valid_utf8(e.body));
}

TEST_CASE("quoted-printable and base64 decoders are tolerant", "[text]") {
  CHECK(decode_quoted_printable("a=3Db=3d") == "a=b=");
  CHECK(decode_quoted_printable("soft=\r\nbreak and=  \nblanks") == "softbreak andblanks");
  CHECK(decode_quoted_printable("truncated =4") == "truncated =4");
  CHECK(decode_quoted_printable("bad =ZZ escape =") == "bad =ZZ escape ");
  CHECK(decode_base64("SGVsbG8g\r\nV29ybGQ=") == "Hello World");
  CHECK(decode_base64("SGVsbG8gV29ybGQ") == "Hello World");  // no padding
  CHECK(decode_base64("SGV!!sbG8*=") == "Hello");           // junk skipped
  CHECK(decode_base64("SGVsbG8gV29yb") == "Hello Wor");     // truncated group dropped
  CHECK(decode_base64("QQ==Qg==") == "AB");                 // concatenated encodings
  CHECK(decode_base64("") == "");
}

TEST_CASE("html_to_text: tags, blocks, scripts, comments and entities", "[text]") {
  CHECK(html_to_text("<p>One</p><p>Two<br>Three</p>") == "One\n\nTwo\nThree");
  CHECK(html_to_text("<script>var x = '<p>';</script><style>p{}</style>Hi<!-- <b>gone</b> -->!") == "Hi!");
  CHECK(html_to_text("&lt;b&gt; &amp; &quot;q&quot; &#39;s&#39; caf&eacute; &Eacute; &#233;&#xE9;") ==
        "<b> & \"q\" 's' café É éé");
  CHECK(html_to_text("a&nbsp;&nbsp;b &copy; &#x2013; &#150; &bogus; & &#x110000; &amp") ==
        "a b © – – &bogus; & \xEF\xBF\xBD &");
  CHECK(html_to_text("a < b and <3, <A HREF=\"x>y\">link</a>") == "a < b and <3, link");
  CHECK(html_to_text("<table><tr><td>x</td><td>y</td></tr></table>") == "x y");
  CHECK(html_to_text("<pre>l1\n  l2</pre>tail\nsame line") == "l1\nl2\n\ntail same line");
  // Unterminated constructs end the text instead of hanging or leaking markup.
  CHECK(html_to_text("keep<!-- never closed") == "keep");
  CHECK(html_to_text("keep<script>never closed") == "keep");
  CHECK(html_to_text("keep<b class=\"x") == "keep");
}

TEST_CASE("malformed MIME degrades to sensible text", "[text]") {
  SECTION("missing final boundary") {
    const Email e = parse_email(
        "Content-Type: multipart/mixed; boundary=B\n\n--B\n\nfirst\n"
        "--B\nContent-Type: text/html\n\n<i>second</i>\n",
        "noclose.eml");
    CHECK(e.body == "first\n\nsecond");
  }
  SECTION("boundary never seen: the whole body is the text") {
    CHECK(parse_email("Content-Type: multipart/mixed; boundary=B\n\njust text\n", "nob.eml").body ==
          "just text");
    CHECK(parse_email("Content-Type: multipart/mixed\n\nno boundary param\n", "nop.eml").body ==
          "no boundary param");
  }
  SECTION("multipart without Content-Type header") {
    const Email e =
        parse_email("Subject: s\n\n--XX\nContent-Type: text/plain\n\nplain\n--XX--\n", "undecl.eml");
    CHECK(e.body == "plain");
  }
  SECTION("truncated base64 body") {
    const Email e = parse_email("Content-Transfer-Encoding: base64\n\nSGVsbG8gV29yb", "b64.eml");
    CHECK(e.body == "Hello Wor");
  }
  SECTION("truncated quoted-printable escape") {
    CHECK(parse_email("Content-Transfer-Encoding: quoted-printable\n\nprice =4", "qp.eml").body ==
          "price =4");
  }
  SECTION("no blank line after the headers") {
    const Email headers_only = parse_email("Subject: only headers\nFrom: a@b.c", "nosep.eml");
    CHECK(headers_only.subject == "only headers");
    CHECK(headers_only.headers.size() == 2);
    CHECK(headers_only.body.empty());
    CHECK(parse_email("Subject: s\nHello world\nmore", "nosep2.eml").body == "Hello world\nmore");
  }
  SECTION("HTML sent without a Content-Type") {
    CHECK(parse_email("Subject: s\n\n<html><body>Buy <b>now</b>!</body></html>", "html.eml").body ==
          "Buy now!");
  }
  SECTION("attachment-only message has an empty body") {
    const Email e = parse_email(
        "Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: application/pdf\n\n%PDF\n--B--\n",
        "pdf.eml");
    CHECK(e.body.empty());
  }
}

TEST_CASE("binary junk and deep nesting never crash", "[text]") {
  uint64_t state = 42;
  for (int round = 0; round < 200; ++round) {
    std::string raw = round % 2 == 0 ? "Content-Type: multipart/mixed; boundary=q\n\n" : "";
    const size_t length = 1 + size_t(round) * 37 % 3000;
    for (size_t i = 0; i < length; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const char pool[] = "--q\n\r:=?<>&#;abcQB\xff\xe2\x80\x9c Content-Type: text/html\n";
      raw += (state >> 60) < 8 ? pool[(state >> 33) % (sizeof(pool) - 1)] : char(state >> 40);
    }
    Email e;
    REQUIRE_NOTHROW(e = parse_email(raw, "junk"));
    CHECK(is_valid_utf8(e.body));
    CHECK(is_valid_utf8(e.subject));
  }
  std::string deep;
  for (int i = 0; i < 2000; ++i) {
    const std::string b = 'b' + std::to_string(i);
    deep += "Content-Type: multipart/mixed; boundary=" + b + "\n\n--" + b + "\n";
  }
  deep += "\nleaf\n";
  REQUIRE_NOTHROW(parse_email(deep, "deep.eml"));
}

TEST_CASE("empty input is the one error, and it names the source", "[text]") {
  CHECK_THROWS_AS(parse_email("", "empty.eml"), Error);
  CHECK_THROWS_WITH(parse_email(" \r\n\t\n", "data/x/blank.eml"), Catch::Contains("data/x/blank.eml"));
}

TEST_CASE("dedupe_key collapses case and whitespace only", "[text]") {
  const Email a = parse_email("Subject: Win  BIG\n\nClick   here\n\n\nnow", "a");
  const Email b = parse_email("Subject: win big\n\nclick here now", "b");
  const Email c = parse_email("Subject: win big\n\nclick there now", "c");
  CHECK(dedupe_key(a) == "win big click here now");
  CHECK(dedupe_key(a) == dedupe_key(b));
  CHECK(dedupe_key(a) != dedupe_key(c));
}

TEST_CASE("an RFC 2047 word that never closes leaves the rest as plain text, fast", "[text]") {
  std::string header = "Hi ";
  for (int i = 0; i < 200000; ++i) header += "=?a?q?x";  // 1.4 MB of unclosed encoded words
  const auto out = w2s::text::decode_rfc2047(header);
  REQUIRE(out.size() == header.size());
  REQUIRE(w2s::text::decode_rfc2047("=?utf-8?q?caf=C3=A9?= =?x") == "café =?x");
}
