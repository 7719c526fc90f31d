#pragma once
/// \file
/// Reader (and small writer) of the safetensors format of Hugging Face checkpoints:
/// an 8-byte little-endian header length N, N bytes of JSON describing each tensor
/// ({"dtype", "shape", "data_offsets"} plus an optional "__metadata__" map), then the
/// raw little-endian row-major data. The reader memory-maps the file, so opening a
/// multi-gigabyte checkpoint copies nothing until a tensor is converted; every
/// structural defect is a w2s::Error naming the file, never a crash.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "w2s/core/atomic_file.hpp"
#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"

namespace w2s::safetensors {

// The data is little-endian; reading it by memcpy is only right on a little-endian host.
static_assert(std::endian::native == std::endian::little, "w2s::safetensors assumes a little-endian host");

/// Element types of the format (the spec's dtype strings; FP8 and complex kinds are not supported).
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

namespace detail {
struct DTypeInfo {
  std::string_view name;
  size_t size;
};
// Indexed by DType's value, so keep the order of the enum.
inline constexpr DTypeInfo kDTypes[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                        {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
// Real headers are kilobytes; the reference implementation refuses more than 100 MB, so
// a larger length means the file is not safetensors (and parsing it would exhaust memory).
inline constexpr uint64_t kMaxHeader = 100'000'000;

inline std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
// Element count of `shape` without signed or unsigned overflow; `where` prefixes errors.
inline uint64_t checked_numel(const std::vector<int64_t>& shape, const std::string& where) {
  for (int64_t d : shape) check(d >= 0, where, ": negative dimension in shape ", shape_string(shape));
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;  // before any product can overflow
  uint64_t n = 1;
  for (int64_t d : shape)
    check(!__builtin_mul_overflow(n, uint64_t(d), &n), where, ": shape ", shape_string(shape),
          " has more elements than 64 bits can count");
  return n;
}
inline uint64_t checked_nbytes(uint64_t numel, size_t element_size, const std::string& where) {
  uint64_t n = 0;
  check(!__builtin_mul_overflow(numel, uint64_t(element_size), &n), where, ": ", numel, " elements of ", element_size,
        " bytes overflow 64 bits");
  return n;
}

// IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
inline float f16_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float
    const float v = std::ldexp(float(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // inf, or NaN keeping payload
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));         // rebias 15 -> 127
}
inline uint16_t float_to_f16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f), abs = u & 0x7fffffffu;
  const uint16_t sign = uint16_t((u >> 16) & 0x8000);
  if (abs > 0x7f800000u) return sign | 0x7e00 | uint16_t((abs >> 13) & 0x3ff);  // NaN stays (quiet) NaN
  if (abs >= 0x477ff000u) return sign | 0x7c00;  // >= 65520, halfway above 65504: ties-to-even gives inf
  if (abs < 0x38800000u) {                       // below 2^-14: half subnormal (units of 2^-24) or zero
    const uint32_t e = abs >> 23;
    if (e < 102) return sign;  // below 2^-25 (half of the smallest subnormal): rounds to zero
    const uint32_t m = (abs & 0x7fffffu) | 0x800000u, shift = 126 - e;  // value = m * 2^(e-126) units
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;  // may carry into 0x400, the smallest normal: correct
    return sign | uint16_t(r);
  }
  // Normal: rebias the exponent, then round the 13 dropped bits to nearest even (a carry
  // into the exponent is the correct result, and cannot pass 0x7bff below 65520).
  return sign | uint16_t((abs - (112u << 23) + 0xfffu + ((abs >> 13) & 1)) >> 13);
}
// bfloat16 is the top half of a float32.
inline float bf16_to_float(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }
inline uint16_t float_to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // rounding could turn NaN into inf
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}
/// `path` memory-mapped read-only: {address, bytes}. A file that cannot be opened, is not a
/// regular file, is shorter than `min_size` bytes or cannot be mapped is an error naming it:
/// `kind` names the format ("GGUF"), `too_short` what a shorter file lacks. Shared by the
/// safetensors and GGUF readers (io/gguf.hpp).
W2S_ENGINE_INLINE std::pair<void*, size_t> map_file(const std::filesystem::path& path, size_t min_size,
                                                    const std::string& kind, const std::string& too_short);
}  // namespace detail

inline std::string_view to_string(DType d) { return detail::kDTypes[size_t(d)].name; }
inline size_t element_size(DType d) { return detail::kDTypes[size_t(d)].size; }

/// One tensor of a mapped File: `data` points into the mapping (valid while the File
/// lives, unaligned in general, so read it with memcpy) and spans `nbytes` bytes.
struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const std::byte* data;
  size_t nbytes;
  /// Product of the shape (1 for a scalar); unsigned arithmetic so a bogus shape cannot overflow-UB.
  int64_t numel() const {
    uint64_t n = 1;
    for (int64_t d : shape) n *= uint64_t(d);
    return int64_t(n);
  }
};

/// A memory-mapped, fully validated safetensors file. Move-only; unmaps on destruction.
class File {
 public:
  /// Maps and validates `path`; throws w2s::Error naming the file and the defect.
  W2S_ENGINE_INLINE explicit File(const std::filesystem::path& path);
  File(File&& o) noexcept
      : path_(std::move(o.path_)),
        map_(std::exchange(o.map_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        tensors_(std::move(o.tensors_)),
        index_(std::move(o.index_)),
        metadata_(std::move(o.metadata_)) {}
  File& operator=(File&& o) noexcept {
    if (this != &o) {
      unmap();
      path_ = std::move(o.path_), map_ = std::exchange(o.map_, nullptr), size_ = std::exchange(o.size_, 0);
      tensors_ = std::move(o.tensors_), index_ = std::move(o.index_), metadata_ = std::move(o.metadata_);
    }
    return *this;
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { unmap(); }

  const std::filesystem::path& path() const { return path_; }
  /// All tensors in data-offset order (the order of the bytes on disk).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  bool contains(std::string_view name) const { return index_.find(name) != index_.end(); }
  /// The tensor `name`; the error for a missing name lists its alphabetical neighbours.
  W2S_ENGINE_INLINE const TensorView& at(std::string_view name) const;
  /// The "__metadata__" string map (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  W2S_ENGINE_INLINE void map();
  void unmap() noexcept {
    if (map_) ::munmap(map_, size_);
    map_ = nullptr;
  }
  W2S_ENGINE_INLINE void parse();
  W2S_ENGINE_INLINE void read_metadata(const nlohmann::json& e);

  std::filesystem::path path_;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> index_;  // std::less<> allows lookup by string_view
  std::map<std::string, std::string> metadata_;
};

/// The elements of an F64/F32/F16/BF16 tensor as float (F64 rounds); other dtypes are an error.
W2S_ENGINE_INLINE std::vector<float> to_float32(const TensorView& t);

/// Refuses weights that are not all finite: a checkpoint with a NaN or infinite weight would
/// otherwise surface as a diverged loss at step 1, far from its cause. `where` names the file.
W2S_ENGINE_INLINE void check_finite(const std::vector<float>& values, const std::string& where, const TensorView& t);

/// A model parameter's values, as the checkpoint readers load them: the tensor's data as float32
/// (F32, F16, BF16 or F64; another dtype is an error naming `where` and the tensor), refused
/// unless every value is finite (check_finite).
W2S_ENGINE_INLINE std::vector<float> parameter_values(const TensorView& t, const std::string& where);

/// One tensor to write: raw little-endian bytes, numel(shape) * element_size(dtype) of them.
struct TensorData {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<std::byte> bytes;
};

/// Writes `tensors` (data in the given order) and `metadata` to `path` atomically (a
/// temporary file in the same folder, renamed over `path`), so a reader never sees half a file.
W2S_ENGINE_INLINE void write(const std::filesystem::path& path, const std::vector<TensorData>& tensors,
                             const std::map<std::string, std::string>& metadata = {});

/// A tensor of `values` stored as `dtype` (F32, F16 or BF16, rounding to nearest even; F64 also works).
W2S_ENGINE_INLINE TensorData from_float32(std::string name, std::vector<int64_t> shape,
                                          const std::vector<float>& values, DType dtype = DType::F32);

}  // namespace w2s::safetensors

#include "w2s/io/safetensors-inl.hpp"  // the definitions, where this build has them (core/engine.hpp)
