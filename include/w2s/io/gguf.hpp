#pragma once
/// \file
/// Reader of GGUF, llama.cpp's checkpoint format (ggml's docs/gguf.md), for the SmolLM2 rung of
/// the ladder (models/llama.hpp). A file is, all little-endian:
///   magic "GGUF", version u32 (2 or 3), tensor count u64, metadata count u64;
///   metadata: key (string), value type u32, value (strings are u64 length + bytes; arrays are
///   element type u32, count u64, elements);
///   tensor infos: name (string), dimension count u32, dimensions u64 each (the fastest-varying
///   first, ggml's ne[0]), tensor type u32, offset u64 (from the data section's start);
///   padding to `general.alignment` (32 when absent), then the data section.
/// The file is memory-mapped; every structural defect (truncation, an offset outside the file
/// or misaligned, overlapping tensors, an unknown value type, a duplicate key) is a w2s::Error
/// naming the file and the field, never a crash.
///
/// Tensors convert to float32 LibTorch tensors in row-major order, the dimensions reversed
/// (a GGUF [576, 49152] embedding is 49152×576, as Hugging Face holds it). Converted: F32,
/// F16, and the block quantisations Q8_0 (32 values: an f16 scale d and 32 int8 q; x = d·q)
/// and Q4_1 (32 values: f16 d and min m, 16 bytes of 4-bit q, the low nibbles for the first
/// 16 values and the high ones for the last 16; x = d·q + m). Any other type is an error that
/// names it and the tensor. Weights are dequantised at load, not kept quantised: LibTorch's
/// float32 matrix products are what the model runs (models/llama.hpp).
#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/hash.hpp"
#include "w2s/io/safetensors.hpp"  // f16_to_float

namespace w2s::gguf {

/// Metadata value types (the numbers are the format's).
enum class ValueType : uint32_t { U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 };

/// ggml tensor types that carry data here (the numbers are the format's; others are named in errors).
enum class TensorType : uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, BF16 = 30 };

/// The name of a value type or tensor type number, for errors ("Q4_K", "type 99").
W2S_ENGINE_INLINE std::string value_type_name(uint32_t type);
W2S_ENGINE_INLINE std::string tensor_type_name(uint32_t type);

/// One metadata value. Scalars are held widened (integers as int64 or uint64, floats as
/// double, booleans as 0/1 in `u`); arrays of strings in `strings`, of numbers in `numbers`
/// (as double) and `integers` (as int64, for integer element types).
struct Value {
  ValueType type = ValueType::U8;
  ValueType element = ValueType::U8;  ///< arrays: the elements' type
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  std::string string;
  std::vector<std::string> strings;
  std::vector<int64_t> integers;
  std::vector<double> numbers;
  uint64_t count = 0;  ///< arrays: the number of elements
};

/// One tensor's description; `data` points into the mapping.
struct TensorInfo {
  std::string name;
  std::vector<uint64_t> ne;  ///< dimensions, ggml's order (fastest first)
  uint32_t type = 0;
  uint64_t offset = 0;  ///< from the data section's start
  uint64_t nbytes = 0;  ///< 0 for a type whose block size is not known here
  const std::byte* data = nullptr;
  /// The row-major shape LibTorch and Hugging Face use: `ne` reversed.
  [[nodiscard]] std::vector<int64_t> shape() const { return {ne.rbegin(), ne.rend()}; }
  [[nodiscard]] uint64_t numel() const {
    uint64_t n = 1;
    for (auto d : ne) n *= d;
    return n;
  }
};

/// A memory-mapped, validated GGUF file. Move-only; unmaps on destruction.
class File {
 public:
  /// Maps and validates `path`; throws w2s::Error naming the file and the defect.
  W2S_ENGINE_INLINE explicit File(const std::filesystem::path& path);
  W2S_ENGINE_INLINE File(File&& o) noexcept;
  File& operator=(File&&) = delete;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  W2S_ENGINE_INLINE ~File();

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] uint32_t version() const { return version_; }
  [[nodiscard]] uint64_t alignment() const { return alignment_; }
  /// Metadata in key order.
  [[nodiscard]] const std::map<std::string, Value>& metadata() const { return metadata_; }
  [[nodiscard]] bool has(const std::string& key) const { return metadata_.count(key) > 0; }
  /// A metadata value of the expected kind; a missing key or another type is an error naming
  /// the file, the key, what was expected and what is there.
  [[nodiscard]] W2S_ENGINE_INLINE uint64_t
  uint(const std::string& key) const;  ///< any unsigned or non-negative integer
  [[nodiscard]] W2S_ENGINE_INLINE double number(const std::string& key) const;  ///< F32, F64 or an integer
  [[nodiscard]] W2S_ENGINE_INLINE bool boolean(const std::string& key) const;
  [[nodiscard]] W2S_ENGINE_INLINE const std::string& string(const std::string& key) const;
  [[nodiscard]] W2S_ENGINE_INLINE const std::vector<std::string>& strings(const std::string& key) const;
  [[nodiscard]] W2S_ENGINE_INLINE const std::vector<int64_t>& integers(const std::string& key) const;

  /// Tensors in the file's order.
  [[nodiscard]] const std::vector<TensorInfo>& tensors() const { return tensors_; }
  [[nodiscard]] W2S_ENGINE_INLINE const TensorInfo* find(std::string_view name) const;
  /// The tensor `name`; a missing one is an error naming the file.
  [[nodiscard]] W2S_ENGINE_INLINE const TensorInfo& at(std::string_view name) const;
  /// `name` as a float32 tensor of shape info.shape() (dequantised; see the file comment).
  [[nodiscard]] W2S_ENGINE_INLINE at::Tensor to_float(std::string_view name) const;

 private:
  W2S_ENGINE_INLINE void parse();
  std::filesystem::path path_;
  void* map_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::map<std::string, Value> metadata_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
};

/// Dequantises `count` values of ggml type `type` from `data` into `out` (see the file
/// comment); `count` must be a whole number of blocks. `where` prefixes errors.
W2S_ENGINE_INLINE void dequantize(uint32_t type, const std::byte* data, uint64_t count, float* out,
                                  const std::string& where);

/// Bytes of one block of ggml type `type` and the values it holds ({0, 0} when unknown here).
W2S_ENGINE_INLINE std::pair<uint64_t, uint64_t> block_layout(uint32_t type);

/// A hash of the tokenizer in `file`'s metadata (tokenizer.ggml.model, .pre, .tokens, .merges):
/// what names the token ids a text dataset made with it (TokenSegment::vocab), so that a model
/// reads only ids of its own tokenizer.
W2S_ENGINE_INLINE std::string tokenizer_hash(const File& file);

}  // namespace w2s::gguf

#include "w2s/io/gguf-inl.hpp"  // the definitions, where this build has them (core/engine.hpp)
