// The safetensors reader and writer: exact float conversions, round trips, one test per
// structural defect, and fuzzing (every truncation, random mutations) that must end in
// either a valid file or a w2s::Error, never another exception or a crash.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "w2s/io/safetensors.hpp"

using namespace w2s::safetensors;
namespace fs = std::filesystem;

namespace {
const fs::path root = fs::temp_directory_path() / ("w2s_safetensors_test_" + std::to_string(::getpid()));
// Removes this run's files when the test binary exits.
const struct Cleanup {
  ~Cleanup() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }
} cleanup;
fs::path temp_dir(const std::string& name) {
  auto d = root / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}
std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
// A hand-crafted file: the 8-byte little-endian length (the header's own by default), the
// header text, then `data_bytes` bytes of data.
std::string raw(const std::string& header, size_t data_bytes, uint64_t length = ~uint64_t(0)) {
  if (length == ~uint64_t(0)) length = header.size();
  std::string s(8, '\0');
  std::memcpy(s.data(), &length, 8);
  return s + header + std::string(data_bytes, '\x11');
}
// The message of loading `bytes` as a file, or "(loaded)".
std::string error_of(const std::string& bytes) {
  const auto p = temp_dir("errors") / "model.safetensors";
  write_bytes(p, bytes);
  try {
    File f(p);
  } catch (const w2s::Error& e) {
    return e.what();
  }
  return "(loaded)";
}
std::vector<std::byte> u16_bytes(const std::vector<uint16_t>& v) {
  std::vector<std::byte> b(v.size() * 2);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
std::vector<uint16_t> u16_of(const std::vector<std::byte>& b) {
  std::vector<uint16_t> v(b.size() / 2);
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}
// Writes one 16-bit tensor with the given bit patterns and reads it back as float.
std::vector<float> decode(DType dtype, const std::vector<uint16_t>& bits) {
  const auto p = temp_dir("decode") / "t.safetensors";
  write(p, {{"t", dtype, {int64_t(bits.size())}, u16_bytes(bits)}});
  const File f(p);
  return to_float32(f.at("t"));
}
uint16_t encode(DType dtype, float x) { return u16_of(from_float32("x", {}, {x}, dtype).bytes)[0]; }
// A valid file of three tensors (F32, F16, BF16) with metadata, for the fuzz tests.
std::string three_tensor_file() {
  const auto p = temp_dir("three") / "three.safetensors";
  write(p,
        {from_float32("h.0.attn.c_attn.weight", {2, 3}, {1, -2, 3.5f, 0.25f, -0.5f, 100}),
         from_float32("h.0.attn.c_attn.bias", {3}, {0.5f, -1, 2}, DType::F16),
         from_float32("wte", {2, 2}, {1, 2, 3, 4}, DType::BF16)},
        {{"format", "pt"}});
  return read_bytes(p);
}
// Loads `bytes`: a valid file must convert every float tensor; anything else must be a w2s::Error.
bool loads(const fs::path& p, const std::string& bytes) {
  write_bytes(p, bytes);
  try {
    const File f(p);
    for (const auto& t : f.tensors()) {
      REQUIRE(t.nbytes == uint64_t(t.numel()) * element_size(t.dtype));
      if (t.dtype == DType::F32 || t.dtype == DType::F16 || t.dtype == DType::BF16 || t.dtype == DType::F64)
        REQUIRE(to_float32(t).size() == size_t(t.numel()));
    }
    return true;
  } catch (const w2s::Error&) {
    return false;
  }
}
}  // namespace

TEST_CASE("F16 bit patterns decode to the IEEE binary16 values", "[io]") {
  // Values of IEEE 754 binary16 (sign 1, exponent 5 with bias 15, mantissa 10):
  // 0x3C00 = 2^0 = 1; 0xC000 = -2^1; 0x7BFF = (2 - 2^-10) * 2^15 = 65504, the largest finite;
  // 0x0001 = 2^-14 * 2^-10 = 2^-24, the smallest subnormal; 0x03FF = 1023 * 2^-24, the largest
  // subnormal; 0x0400 = 2^-14, the smallest normal; 0x3555 = (1 + 341/1024) / 4 = 0.333251953125;
  // 0x8000 = -0; 0x7C00 / 0xFC00 = +/-inf (exponent all ones, mantissa 0); 0x7E00 = NaN.
  const auto v =
      decode(DType::F16, {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x3555, 0x8000, 0x7C00, 0xFC00, 0x7E00});
  REQUIRE(v[0] == 1.0f);
  REQUIRE(v[1] == -2.0f);
  REQUIRE(v[2] == 65504.0f);
  REQUIRE(v[3] == std::ldexp(1.0f, -24));
  REQUIRE(v[3] == Approx(5.96e-8).epsilon(1e-3));
  REQUIRE(v[4] == std::ldexp(1023.0f, -24));
  REQUIRE(v[5] == std::ldexp(1.0f, -14));
  REQUIRE(v[6] == 0.333251953125f);
  REQUIRE((v[7] == 0.0f && std::signbit(v[7])));
  REQUIRE(v[8] == std::numeric_limits<float>::infinity());
  REQUIRE(v[9] == -std::numeric_limits<float>::infinity());
  REQUIRE(std::isnan(v[10]));
}

TEST_CASE("float to F16 rounds to nearest even, overflows to inf and flushes tiny values to zero", "[io]") {
  REQUIRE(encode(DType::F16, 1.0f) == 0x3C00);
  REQUIRE(encode(DType::F16, -2.0f) == 0xC000);
  REQUIRE(encode(DType::F16, 65504.0f) == 0x7BFF);
  // 65520 is halfway between 65504 (mantissa odd) and 65536 (= inf in binary16): ties go to even = inf.
  REQUIRE(encode(DType::F16, 65519.0f) == 0x7BFF);
  REQUIRE(encode(DType::F16, 65520.0f) == 0x7C00);
  REQUIRE(encode(DType::F16, 1e6f) == 0x7C00);
  REQUIRE(encode(DType::F16, -std::numeric_limits<float>::infinity()) == 0xFC00);
  // Subnormals are multiples of 2^-24: 2^-25 is a tie between 0 and 1 ulp (even: 0);
  // 1.5 * 2^-25 is above the tie (1 ulp); 3 * 2^-25 = 1.5 ulp ties to 2 ulp.
  REQUIRE(encode(DType::F16, std::ldexp(1.0f, -24)) == 0x0001);
  REQUIRE(encode(DType::F16, std::ldexp(1.0f, -25)) == 0x0000);
  REQUIRE(encode(DType::F16, std::ldexp(1.5f, -25)) == 0x0001);
  REQUIRE(encode(DType::F16, std::ldexp(3.0f, -25)) == 0x0002);
  REQUIRE(encode(DType::F16, -1e-10f) == 0x8000);
  // 1023.5 * 2^-24 ties between the largest subnormal 0x03FF (odd) and the smallest normal 0x0400.
  REQUIRE(encode(DType::F16, std::ldexp(2047.0f, -25)) == 0x0400);
  // Near 1 the spacing is 2^-10: 1 + 2^-11 ties to 1.0 (even), 1 + 3 * 2^-11 ties to 0x3C02 (even).
  REQUIRE(encode(DType::F16, 1.0f + std::ldexp(1.0f, -11)) == 0x3C00);
  REQUIRE(encode(DType::F16, 1.0f + std::ldexp(3.0f, -11)) == 0x3C02);
  REQUIRE(encode(DType::F16, 1.0f / 3.0f) == 0x3555);
  const uint16_t nan = encode(DType::F16, std::numeric_limits<float>::quiet_NaN());
  REQUIRE(((nan & 0x7C00) == 0x7C00 && (nan & 0x03FF) != 0));
}

TEST_CASE("every F16 value survives decode then encode exactly", "[io]") {
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i);
  const auto floats = decode(DType::F16, all);
  const auto back = u16_of(from_float32("all", {65536}, floats, DType::F16).bytes);
  for (size_t i = 0; i < all.size(); ++i) {
    const bool is_nan = (i & 0x7C00) == 0x7C00 && (i & 0x03FF) != 0;
    if (is_nan) {
      REQUIRE(std::isnan(floats[i]));
      REQUIRE(((back[i] & 0x7C00) == 0x7C00 && (back[i] & 0x03FF) != 0));
    } else if (back[i] != all[i]) {
      FAIL("F16 bits " << i << " came back as " << back[i]);
    }
  }
}

TEST_CASE("BF16 is the top half of a float32 and rounds to nearest even", "[io]") {
  // bfloat16 keeps float32's sign and 8-bit exponent and the top 7 mantissa bits:
  // 0x3F80 = float bits 0x3F800000 = 1; 0xC000 = -2; 0x7F80 = inf; 0x3EAB = 0x3EAB0000 = 0.333984375.
  const auto v = decode(DType::BF16, {0x3F80, 0xC000, 0x7F80, 0x3EAB});
  REQUIRE(v == std::vector<float>{1.0f, -2.0f, std::numeric_limits<float>::infinity(), 0.333984375f});
  REQUIRE(encode(DType::BF16, 1.0f) == 0x3F80);
  REQUIRE(encode(DType::BF16, 1.0f / 3.0f) == 0x3EAB);  // 0x3EAAAAAB: dropped half 0xAAAB > 0x8000 rounds up
  // Spacing near 1 is 2^-7: 1 + 2^-8 ties to 1.0 (even), 1 + 3 * 2^-8 ties to 0x3F82 (even).
  REQUIRE(encode(DType::BF16, 1.0f + std::ldexp(1.0f, -8)) == 0x3F80);
  REQUIRE(encode(DType::BF16, 1.0f + std::ldexp(3.0f, -8)) == 0x3F82);
  REQUIRE(encode(DType::BF16, std::numeric_limits<float>::max()) == 0x7F80);  // rounds past the largest bf16
  const uint16_t nan = encode(DType::BF16, std::numeric_limits<float>::quiet_NaN());
  REQUIRE(((nan & 0x7F80) == 0x7F80 && (nan & 0x007F) != 0));
}

TEST_CASE("F32, F16, BF16 and F64 tensors and metadata round trip", "[io]") {
  const auto dir = temp_dir("round_trip");
  const std::vector<float> values{1.0f, -2.5f, 3.14159f, 0.0f, 1e-3f, -1e4f};
  std::vector<TensorData> tensors{from_float32("z.f32", {2, 3}, values),
                                  from_float32("a.f16", {3, 2}, values, DType::F16),
                                  from_float32("m.bf16", {6}, values, DType::BF16),
                                  from_float32("f64", {1, 6}, values, DType::F64),
                                  from_float32("scalar", {}, {7.0f}),
                                  from_float32("empty", {0, 4}, {})};
  tensors.push_back({"ids", DType::I64, {2}, std::vector<std::byte>(16, std::byte{1})});
  const std::map<std::string, std::string> metadata{{"format", "pt"}, {"note", "ünïcode ✓"}};
  write(dir / "m.safetensors", tensors, metadata);
  uint64_t header_length = 0;
  std::memcpy(&header_length, read_bytes(dir / "m.safetensors").data(), 8);
  REQUIRE(header_length % 8 == 0);  // header padded with spaces: the data section is 8-byte aligned
  REQUIRE_FALSE(fs::exists(dir / ("m.safetensors.tmp." + std::to_string(::getpid()))));

  const File f(dir / "m.safetensors");
  REQUIRE(f.metadata() == metadata);
  REQUIRE(f.tensors().size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) REQUIRE(f.tensors()[i].name == tensors[i].name);  // data-offset order
  REQUIRE(to_float32(f.at("z.f32")) == values);
  REQUIRE(to_float32(f.at("f64")) == values);
  const auto f16 = to_float32(f.at("a.f16")), bf16 = to_float32(f.at("m.bf16"));
  for (size_t i = 0; i < values.size(); ++i) {
    REQUIRE(f16[i] == Approx(values[i]).epsilon(1e-3));   // 10 mantissa bits: relative error <= 2^-11
    REQUIRE(bf16[i] == Approx(values[i]).epsilon(4e-3));  // 7 mantissa bits: relative error <= 2^-8
  }
  REQUIRE(f.at("a.f16").shape == std::vector<int64_t>{3, 2});
  REQUIRE(to_float32(f.at("scalar")) == std::vector<float>{7.0f});
  REQUIRE(f.at("scalar").numel() == 1);
  REQUIRE(f.at("empty").nbytes == 0);
  REQUIRE(to_float32(f.at("empty")).empty());
  REQUIRE(f.contains("ids"));
  REQUIRE_FALSE(f.contains("id"));
  REQUIRE(std::memcmp(f.at("ids").data, tensors.back().bytes.data(), 16) == 0);

  File moved = File(dir / "m.safetensors");  // moving keeps the mapping, so views stay valid
  File other(std::move(moved));
  REQUIRE(to_float32(other.at("z.f32")) == values);
  REQUIRE(to_string(DType::BF16) == "BF16");
  REQUIRE(element_size(DType::F64) == 8);
}

TEST_CASE("a file of zero tensors and a header padded with spaces load", "[io]") {
  REQUIRE(error_of(raw("{}", 0)) == "(loaded)");
  REQUIRE(error_of(raw(R"({"__metadata__": {"a": "b"}})", 0)) == "(loaded)");
  REQUIRE(error_of(raw(R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}      )", 8)) == "(loaded)");
  const auto dir = temp_dir("empty");
  write(dir / "e.safetensors", {});
  REQUIRE(File(dir / "e.safetensors").tensors().empty());
}

TEST_CASE("every structural defect is a w2s::Error naming the file and what was expected", "[io]") {
  using Catch::Contains;
  const auto t = [](const std::string& entry) { return R"({"t": )" + entry + "}"; };
  SECTION("file") {
    REQUIRE_THAT(error_of(""), Contains("model.safetensors: file is 0 bytes, shorter than the 8-byte header length"));
    REQUIRE_THAT(error_of(std::string("\x02\0\0\0", 4)), Contains("file is 4 bytes, shorter than"));
    REQUIRE_THAT(error_of(raw("{}", 0, uint64_t(1) << 40)), Contains("header length 1099511627776 bytes is absurd"));
    REQUIRE_THAT(error_of(raw("{}", 0, 100)), Contains("header length 100 bytes runs beyond the file (2 bytes"));
    const auto dir = temp_dir("missing");
    std::string message;
    try {
      File f(dir / "nope.safetensors");
    } catch (const w2s::Error& e) {
      message = e.what();
    }
    REQUIRE_THAT(message, Contains("nope.safetensors: cannot open safetensors file"));
    try {
      File f(dir);
    } catch (const w2s::Error& e) {
      message = e.what();
    }
    REQUIRE_THAT(message, Contains("not a regular file"));
  }
  SECTION("header") {
    REQUIRE_THAT(error_of(raw(R"({"t": )", 0)), Contains("header is not valid JSON"));
    REQUIRE_THAT(error_of(raw("{\"\xff\": 1}", 0)), Contains("header is not valid JSON"));  // not UTF-8
    REQUIRE_THAT(error_of(raw("{} x", 0)), Contains("header is not valid JSON"));  // trailing garbage, not spaces
    REQUIRE_THAT(error_of(raw("[1, 2]", 0)), Contains("header is a JSON array, expected an object"));
    REQUIRE_THAT(error_of(raw(t("3"), 0)), Contains("tensor 't': entry is a JSON number, expected an object"));
  }
  SECTION("dtype") {
    REQUIRE_THAT(error_of(raw(t(R"({"shape": [], "data_offsets": [0, 4]})"), 4)),
                 Contains("tensor 't': missing or non-string \"dtype\""));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": 4, "shape": [], "data_offsets": [0, 4]})"), 4)),
                 Contains("missing or non-string \"dtype\""));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F8_E4M3", "shape": [], "data_offsets": [0, 1]})"), 1)),
                 Contains("tensor 't': unknown dtype 'F8_E4M3', expected one of F64, F32"));
  }
  SECTION("shape") {
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "data_offsets": [0, 4]})"), 4)),
                 Contains("missing or non-array \"shape\""));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": 1, "data_offsets": [0, 4]})"), 4)),
                 Contains("missing or non-array \"shape\""));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]})"), 4)),
                 Contains("shape entry is a JSON number, expected an integer"));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]})"), 8)),
                 Contains("shape entry is a JSON string, expected an integer"));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [2, -2], "data_offsets": [0, 0]})"), 0)),
                 Contains("tensor 't': negative dimension -2 in shape"));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "U8", "shape": [9223372036854775808], "data_offsets": [0, 0]})"), 0)),
                 Contains("dimension 9223372036854775808 too large"));
  }
  SECTION("data_offsets") {
    const std::string expected = "tensor 't': missing or ill-typed \"data_offsets\", expected [begin, end]";
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [1]})"), 4)), Contains(expected));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [1], "data_offsets": [4]})"), 4)), Contains(expected));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]})"), 4)),
                 Contains(expected));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]})"), 4)), Contains(expected));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [1], "data_offsets": ["0", 4]})"), 4)),
                 Contains(expected));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [1], "data_offsets": [8, 4]})"), 8)),
                 Contains("data_offsets [8, 4] begin after end"));
    const auto header = R"({"h.0.attn.c_attn.weight": {"dtype": "F32", "shape": [10, 10], "data_offsets": [0, 400]}})";
    const auto dir = temp_dir("errors");  // error_of writes here
    REQUIRE(error_of(raw(header, 300)) == (dir / "model.safetensors").string() +
                                              ": tensor 'h.0.attn.c_attn.weight': data_offsets [0, 400] end beyond the "
                                              "data section (300 bytes)");
  }
  SECTION("size and coverage") {
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [3], "data_offsets": [0, 8]})"), 8)),
                 Contains("tensor 't': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8"));
    REQUIRE_THAT(
        error_of(raw(t(R"({"dtype": "U8", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 0]})"), 0)),
        Contains("shape [4294967296, 4294967296, 16] has more elements than 64 bits can count"));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 0]})"), 0)),
                 Contains("4611686018427387904 elements of 4 bytes overflow 64 bits"));
    REQUIRE_THAT(error_of(raw(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                              12)),
                 Contains("tensor 'b' data_offsets [4, 12] overlap tensor 'a' [0, 8]"));
    REQUIRE_THAT(error_of(raw(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
                              8)),
                 Contains("overlap tensor 'a'"));
    REQUIRE_THAT(error_of(raw(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}})",
                              20)),
                 Contains("gap of 4 bytes before tensor 'b' (data bytes [8, 12) belong to no tensor"));
    REQUIRE_THAT(error_of(raw(t(R"({"dtype": "F32", "shape": [1], "data_offsets": [0, 4]})"), 8)),
                 Contains("gap of 4 bytes at the end of the data section (8 bytes, tensors cover 4"));
    REQUIRE(error_of(raw(R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]},
                             "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                             "c": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})",
                         4)) == "(loaded)");  // zero-size tensors at the edges cover nothing
  }
  SECTION("metadata") {
    REQUIRE_THAT(error_of(raw(R"({"__metadata__": {"format": "pt", "step": 3}})", 0)),
                 Contains("\"__metadata__\" value of 'step' is a JSON number, expected a string"));
    REQUIRE_THAT(error_of(raw(R"({"__metadata__": ["pt"]})", 0)),
                 Contains("\"__metadata__\" is a JSON array, expected an object of strings"));
  }
}

TEST_CASE("lookup, conversion and writer misuse are clear errors", "[io]") {
  using Catch::Contains;
  const auto dir = temp_dir("misuse");
  write(dir / "m.safetensors", {from_float32("h.0.attn.bias", {1}, {1}),
                                from_float32("h.0.attn.weight", {1}, {2}),
                                {"ids", DType::I64, {2}, std::vector<std::byte>(16)}});
  const File f(dir / "m.safetensors");
  REQUIRE_THROWS_WITH(f.at("h.0.attn.weigth"), Contains("m.safetensors: no tensor 'h.0.attn.weigth' (the file has 3 "
                                                        "tensors; nearby names: 'h.0.attn.bias', 'h.0.attn.weight'"));
  REQUIRE_THROWS_AS(f.at("nope"), w2s::Error);
  REQUIRE_THROWS_WITH(to_float32(f.at("ids")),
                      Contains("tensor 'ids': to_float32 converts F64, F32, F16 and BF16, got I64"));
  REQUIRE_THROWS_AS(to_float32(f.at("ids")), w2s::Error);
  REQUIRE_THROWS_WITH(from_float32("x", {2, 2}, {1, 2, 3}), Contains("tensor 'x': shape [2, 2] has 4 elements, got 3"));
  REQUIRE_THROWS_WITH(from_float32("x", {1}, {1}, DType::I32), Contains("from_float32 stores F64, F32, F16 or BF16"));
  REQUIRE_THROWS_WITH(from_float32("x", {-1}, {}), Contains("negative dimension in shape [-1]"));
  REQUIRE_THROWS_WITH(write(dir / "d.safetensors", {from_float32("a", {1}, {1}), from_float32("a", {1}, {1})}),
                      Contains("tensor 'a': duplicate tensor name"));
  REQUIRE_THROWS_WITH(write(dir / "d.safetensors", {{"a", DType::F16, {3}, std::vector<std::byte>(4)}}),
                      Contains("tensor 'a': shape [3] of F16 needs 6 bytes, got 4"));
  REQUIRE_THROWS_WITH(write(dir / "d.safetensors", {from_float32("__metadata__", {1}, {1})}),
                      Contains("invalid tensor name"));
  REQUIRE_FALSE(fs::exists(dir / "d.safetensors"));
}

TEST_CASE("fuzz: every truncation of a valid file is a w2s::Error", "[io]") {
  const std::string full = three_tensor_file();
  const auto p = temp_dir("truncate") / "t.safetensors";
  REQUIRE(loads(p, full));
  for (size_t n = 0; n < full.size(); ++n) {
    INFO("truncated to " << n << " of " << full.size() << " bytes");
    REQUIRE_FALSE(loads(p, full.substr(0, n)));
  }
}

TEST_CASE("fuzz: random mutations either load cleanly or are a w2s::Error", "[io]") {
  const std::string full = three_tensor_file();
  const auto p = temp_dir("mutate") / "m.safetensors";
  std::mt19937 rng(20240611);  // fixed seed: a failure reproduces
  const auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  // Bytes that steer the JSON parser into its interesting paths more often than random bytes do.
  const std::string interesting("{}[]\",:-0123456789eE. \\u\xff\x80\0", 27);
  int loaded = 0, rejected = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes = full;
    const int edits = 1 + int(pick(4));
    for (int e = 0; e < edits; ++e) {
      const size_t at = pick(bytes.size()), run = pick(3) == 0 ? 1 + pick(8) : 1;
      for (size_t k = 0; k < run && at + k < bytes.size(); ++k)
        bytes[at + k] = pick(2) ? char(pick(256)) : interesting[pick(interesting.size())];
    }
    INFO("trial " << trial);
    (loads(p, bytes) ? loaded : rejected)++;
  }
  INFO(loaded << " loaded, " << rejected << " rejected");
  REQUIRE(loaded > 0);  // mutations of the data section (and some of the header) stay valid
  REQUIRE(rejected > 0);
}
