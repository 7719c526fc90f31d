#pragma once
/// \file
/// Reader for the IDX format of (Fashion-)MNIST: a big-endian header
/// (0, 0, type code 0x08 = unsigned byte, number of dimensions, then one uint32
/// per dimension) followed by the raw bytes.
#include <ATen/ATen.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"

namespace w2s::data {

/// Reads an unsigned-byte IDX file with `expected_dims` dimensions into a uint8
/// tensor of that shape. Every structural problem (missing file, gzip left
/// compressed, wrong magic, truncated or oversized data) is a w2s::Error that
/// names the file and what was expected.
inline at::Tensor read_idx_u8(const std::filesystem::path& path, int expected_dims) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path.string(), ": cannot open IDX file");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  const std::string where = path.string();
  check(bytes.size() >= 4, where, ": truncated IDX file: ", bytes.size(),
        " bytes, expected at least a 4-byte magic number");
  check(!(bytes[0] == 0x1f && bytes[1] == 0x8b), where,
        ": file is gzip-compressed; expected a raw IDX file (gunzip it, or re-run ./w2s.sh setup)");
  check(bytes[0] == 0 && bytes[1] == 0, where, ": not an IDX file (magic bytes ",
        int(bytes[0]), ",", int(bytes[1]), ", expected 0,0)");
  check(bytes[2] == 0x08, where, ": IDX type code ", int(bytes[2]),
        ", expected 8 (unsigned byte)");
  check(bytes[3] == expected_dims, where, ": IDX file has ", int(bytes[3]),
        " dimensions, expected ", expected_dims);
  const size_t header = 4 + 4 * size_t(expected_dims);
  check(bytes.size() >= header, where, ": truncated IDX header: ", bytes.size(),
        " bytes, expected ", header);
  std::vector<int64_t> shape;
  for (int d = 0; d < expected_dims; ++d) {  // every dimension first: a 0 is named whatever the data's size
    const unsigned char* p = bytes.data() + 4 + 4 * d;
    shape.push_back(int64_t((uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]));
    check(shape.back() > 0, where, ": IDX header: dimension ", d, " of ", expected_dims,
          " is 0 (expected a size >= 1: an empty array is no dataset)");
  }
  size_t count = 1;
  for (const int64_t dim : shape) {
    const auto v = static_cast<size_t>(dim);
    // Checked before multiplying: a header that declares more than the file holds must not overflow.
    check(count <= (bytes.size() - header) / v, where, ": truncated IDX data: the header's dimensions need more than the ",
          bytes.size() - header, " bytes the file holds");
    count *= v;
  }
  check(bytes.size() - header == count, where, ": ",
        bytes.size() - header < count ? "truncated" : "oversized", " IDX data: header declares ",
        count, " bytes, file holds ", bytes.size() - header);
  auto t = at::empty(shape, at::kByte);
  std::memcpy(t.data_ptr<uint8_t>(), bytes.data() + header, count);
  return t;
}

}  // namespace w2s::data
