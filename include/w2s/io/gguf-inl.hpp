#pragma once
/// \file
/// The definitions of io/gguf.hpp's functions: inline in a header-only build, compiled
/// once into w2s::engine otherwise (core/engine.hpp): in a compiled build this file is empty except
/// in src/engine_models.cpp.
#include "w2s/io/gguf.hpp"

#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
namespace w2s::gguf {

namespace detail {
// Names of ggml's types by number (ggml.h's enum ggml_type); empty where the number is unused.
inline constexpr std::string_view kTensorTypeNames[] = {
    "F32",   "F16",    "Q4_0", "Q4_1", "",     "",        "Q5_0",   "Q5_1",    "Q8_0",  "Q8_1",   "Q2_K",
    "Q3_K",  "Q4_K",   "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S",
    "IQ2_S", "IQ4_XS", "I8",   "I16",  "I32",  "I64",     "F64",    "IQ1_M",   "BF16"};
// {bytes per block, values per block} by type number, from ggml's type traits; {0, 0} = not known here.
inline constexpr std::pair<uint64_t, uint64_t> kBlocks[] = {
    {4, 1},   {2, 1},   {18, 32},  {20, 32},   {0, 0},     {0, 0},     {22, 32},   {24, 32},
    {34, 32}, {36, 32}, {84, 256}, {110, 256}, {144, 256}, {176, 256}, {210, 256}, {292, 256},
    {0, 0},   {0, 0},   {0, 0},    {0, 0},     {0, 0},     {0, 0},     {0, 0},     {0, 0},
    {1, 1},   {2, 1},   {4, 1},    {8, 1},     {8, 1},     {0, 0},     {2, 1}};
// A value's bytes are read with memcpy: the format is little-endian.
static_assert(std::endian::native == std::endian::little, "w2s::gguf assumes a little-endian host");

/// Reads the file's fields in order, refusing any read past its end.
struct Cursor {
  const std::byte* base;
  size_t size, pos = 0;
  const std::string& where;
  void need(uint64_t n, const char* what) const {
    check(n <= size - pos, where, ": truncated at byte ", pos, " (", what, " needs ", n, " bytes, ", size - pos,
          " left)");
  }
  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, base + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string read_string(const char* what) {
    const auto n = read<uint64_t>(what);
    need(n, what);
    std::string s(reinterpret_cast<const char*>(base + pos), size_t(n));
    pos += size_t(n);
    return s;
  }
};

inline size_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::U8:
    case ValueType::I8:
    case ValueType::BOOL:
      return 1;
    case ValueType::U16:
    case ValueType::I16:
      return 2;
    case ValueType::U32:
    case ValueType::I32:
    case ValueType::F32:
      return 4;
    case ValueType::U64:
    case ValueType::I64:
    case ValueType::F64:
      return 8;
    default:
      return 0;
  }
}

/// One scalar of type `t` as (unsigned, signed, floating) views.
inline void read_scalar(Cursor& c, ValueType t, Value& v, const char* what) {
  const auto as_unsigned = [&](uint64_t u) { v.u = u, v.i = int64_t(u), v.f = double(u); };
  const auto as_signed = [&](int64_t i) { v.i = i, v.f = double(i); };
  switch (t) {
    case ValueType::U8: as_unsigned(c.read<uint8_t>(what)); break;
    case ValueType::BOOL: {
      const auto b = c.read<uint8_t>(what);
      check(b <= 1, c.where, ": ", what, ": a bool must be 0 or 1, got ", int(b));
      as_unsigned(b);
      break;
    }
    case ValueType::I8: as_signed(c.read<int8_t>(what)); break;
    case ValueType::U16: as_unsigned(c.read<uint16_t>(what)); break;
    case ValueType::I16: as_signed(c.read<int16_t>(what)); break;
    case ValueType::U32: as_unsigned(c.read<uint32_t>(what)); break;
    case ValueType::I32: as_signed(c.read<int32_t>(what)); break;
    case ValueType::U64: as_unsigned(c.read<uint64_t>(what)); break;
    case ValueType::I64: as_signed(c.read<int64_t>(what)); break;
    case ValueType::F32: v.f = c.read<float>(what); break;
    case ValueType::F64: v.f = c.read<double>(what); break;
    default:
      fail(c.where, ": ", what, ": not a scalar type");
  }
  if (t == ValueType::I8 || t == ValueType::I16 || t == ValueType::I32 || t == ValueType::I64)
    v.u = v.i >= 0 ? uint64_t(v.i) : 0;
}

inline bool is_integer(ValueType t) {
  return t != ValueType::F32 && t != ValueType::F64 && t != ValueType::BOOL && t != ValueType::STRING &&
         t != ValueType::ARRAY;
}
inline bool is_signed(ValueType t) {
  return t == ValueType::I8 || t == ValueType::I16 || t == ValueType::I32 || t == ValueType::I64;
}
}  // namespace detail

W2S_ENGINE_INLINE std::string value_type_name(uint32_t type) {
  static constexpr std::string_view names[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                               "bool", "string", "array", "u64", "i64", "f64"};
  return type < std::size(names) ? std::string(names[type]) : "type " + std::to_string(type);
}

W2S_ENGINE_INLINE std::string tensor_type_name(uint32_t type) {
  if (type < std::size(detail::kTensorTypeNames) && !detail::kTensorTypeNames[type].empty())
    return std::string(detail::kTensorTypeNames[type]);
  return "type " + std::to_string(type);
}

W2S_ENGINE_INLINE std::pair<uint64_t, uint64_t> block_layout(uint32_t type) {
  return type < std::size(detail::kBlocks) ? detail::kBlocks[type] : std::pair<uint64_t, uint64_t>{0, 0};
}

W2S_ENGINE_INLINE File::File(const std::filesystem::path& path) : path_(path) {
  std::tie(map_, size_) = safetensors::detail::map_file(path_, 24, "GGUF", "a GGUF header (24)");
  try {
    parse();
  } catch (...) {
    ::munmap(map_, size_);  // the destructor does not run for a throwing constructor
    throw;
  }
}

W2S_ENGINE_INLINE File::File(File&& o) noexcept
    : path_(std::move(o.path_)),
      map_(std::exchange(o.map_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      version_(o.version_),
      alignment_(o.alignment_),
      metadata_(std::move(o.metadata_)),
      tensors_(std::move(o.tensors_)),
      index_(std::move(o.index_)) {}

W2S_ENGINE_INLINE File::~File() {
  if (map_) ::munmap(map_, size_);
}

W2S_ENGINE_INLINE void File::parse() {
  const std::string where = path_.string();
  detail::Cursor c{static_cast<const std::byte*>(map_), size_, 0, where};
  const auto magic = c.read<uint32_t>("magic");
  check(magic == 0x46554747u, where, ": does not start with \"GGUF\" (not a GGUF file)");
  version_ = c.read<uint32_t>("version");
  check(version_ == 2 || version_ == 3, where, ": GGUF version ", version_, "; expected 2 or 3");
  const auto n_tensors = c.read<uint64_t>("tensor count");
  const auto n_kv = c.read<uint64_t>("metadata count");
  // Each entry takes at least 8 (key length) + 4 (type) + 1 bytes; a count past that is a bogus header.
  check(n_kv <= size_ / 13 && n_tensors <= size_ / 16, where, ": header counts ", n_kv, " metadata entries and ",
        n_tensors, " tensors, more than a ", size_, "-byte file can hold");
  for (uint64_t k = 0; k < n_kv; ++k) {
    const std::string key = c.read_string("metadata key");
    const std::string at = "metadata '" + key + "'";
    Value v;
    const auto type = c.read<uint32_t>(at.c_str());
    check(type <= uint32_t(ValueType::F64), where, ": ", at, ": unknown value type ", type);
    v.type = ValueType(type);
    if (v.type == ValueType::STRING) {
      v.string = c.read_string(at.c_str());
    } else if (v.type == ValueType::ARRAY) {
      const auto element = c.read<uint32_t>(at.c_str());
      check(element <= uint32_t(ValueType::F64) && element != uint32_t(ValueType::ARRAY), where, ": ", at,
            ": arrays of ", value_type_name(element), " are not supported");
      v.element = ValueType(element);
      v.count = c.read<uint64_t>(at.c_str());
      if (v.element == ValueType::STRING) {
        check(v.count <= (size_ - c.pos) / 8, where, ": ", at, ": ", v.count, " strings cannot fit in the file");
        v.strings.reserve(size_t(v.count));
        for (uint64_t e = 0; e < v.count; ++e) v.strings.push_back(c.read_string(at.c_str()));
      } else {
        const size_t size = detail::scalar_size(v.element);
        check(v.count <= (size_ - c.pos) / size, where, ": ", at, ": ", v.count, " elements of ",
              value_type_name(element), " run past the end of the file");
        v.numbers.reserve(size_t(v.count));
        for (uint64_t e = 0; e < v.count; ++e) {
          Value one;
          detail::read_scalar(c, v.element, one, at.c_str());
          v.numbers.push_back(one.f);
          if (detail::is_integer(v.element)) v.integers.push_back(one.i);
        }
      }
    } else {
      detail::read_scalar(c, v.type, v, at.c_str());
    }
    check(metadata_.emplace(key, std::move(v)).second, where, ": metadata key '", key, "' appears twice");
  }
  if (has("general.alignment")) {
    alignment_ = uint("general.alignment");
    check(alignment_ > 0 && (alignment_ & (alignment_ - 1)) == 0, where, ": general.alignment is ", alignment_,
          "; expected a power of two");
  }
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo t;
    t.name = c.read_string("tensor name");
    const std::string at = "tensor '" + t.name + "'";
    const auto dims = c.read<uint32_t>(at.c_str());
    check(dims >= 1 && dims <= 4, where, ": ", at, ": ", dims, " dimensions; expected 1 to 4");
    for (uint32_t d = 0; d < dims; ++d) t.ne.push_back(c.read<uint64_t>(at.c_str()));
    uint64_t numel = 1;
    for (auto d : t.ne)
      check(d > 0 && !__builtin_mul_overflow(numel, d, &numel), where, ": ", at, ": dimensions must be positive ",
            "and their product fit 64 bits");
    t.type = c.read<uint32_t>(at.c_str());
    t.offset = c.read<uint64_t>(at.c_str());
    check(t.offset % alignment_ == 0, where, ": ", at, ": offset ", t.offset, " is not a multiple of the alignment ",
          alignment_);
    const auto [block_bytes, block_values] = block_layout(t.type);
    if (block_values > 0) {
      check(t.ne[0] % block_values == 0, where, ": ", at, ": a row of ", t.ne[0], " values is not a whole number of ",
            tensor_type_name(t.type), " blocks (", block_values, " values each)");
      t.nbytes = numel / block_values * block_bytes;
    }
    check(index_.emplace(t.name, tensors_.size()).second, where, ": ", at, " appears twice");
    tensors_.push_back(std::move(t));
  }
  const uint64_t data_start = (c.pos + alignment_ - 1) / alignment_ * alignment_;
  check(data_start <= size_, where, ": the data section would start at byte ", data_start, ", past the end (", size_,
        " bytes)");
  const uint64_t data_size = size_ - data_start;
  std::vector<std::pair<uint64_t, size_t>> order;  // (offset, tensor) to check for overlaps
  for (size_t k = 0; k < tensors_.size(); ++k) {
    auto& t = tensors_[k];
    check(t.offset <= data_size && t.nbytes <= data_size - t.offset, where, ": tensor '", t.name, "' (",
          tensor_type_name(t.type), ", ", t.nbytes, " bytes at offset ", t.offset, ") runs past the end of the file (",
          data_size, " bytes of data); truncated?");
    t.data = static_cast<const std::byte*>(map_) + data_start + t.offset;
    order.emplace_back(t.offset, k);
  }
  std::sort(order.begin(), order.end());
  for (size_t k = 1; k < order.size(); ++k) {
    const auto& prev = tensors_[order[k - 1].second];
    check(prev.offset + prev.nbytes <= order[k].first, where, ": tensors '", prev.name, "' and '",
          tensors_[order[k].second].name, "' overlap");
  }
}

namespace detail {
inline const Value& get(const std::map<std::string, Value>& m, const std::string& key, const std::string& where) {
  const auto it = m.find(key);
  check(it != m.end(), where, ": no metadata '", key, "'");
  return it->second;
}
[[noreturn]] inline void wrong_type(const std::string& where, const std::string& key, const char* expected,
                                    const Value& v) {
  fail(where, ": metadata '", key, "': expected ", expected, ", got ",
       v.type == ValueType::ARRAY ? "an array of " + value_type_name(uint32_t(v.element))
                                  : value_type_name(uint32_t(v.type)));
}
}  // namespace detail

W2S_ENGINE_INLINE uint64_t File::uint(const std::string& key) const {
  const auto& v = detail::get(metadata_, key, path_.string());
  if (!detail::is_integer(v.type) || (detail::is_signed(v.type) && v.i < 0))
    detail::wrong_type(path_.string(), key, "a non-negative integer", v);
  return v.u;
}

W2S_ENGINE_INLINE double File::number(const std::string& key) const {
  const auto& v = detail::get(metadata_, key, path_.string());
  if (v.type != ValueType::F32 && v.type != ValueType::F64 && !detail::is_integer(v.type))
    detail::wrong_type(path_.string(), key, "a number", v);
  return v.f;
}

W2S_ENGINE_INLINE bool File::boolean(const std::string& key) const {
  const auto& v = detail::get(metadata_, key, path_.string());
  if (v.type != ValueType::BOOL) detail::wrong_type(path_.string(), key, "a bool", v);
  return v.u != 0;
}

W2S_ENGINE_INLINE const std::string& File::string(const std::string& key) const {
  const auto& v = detail::get(metadata_, key, path_.string());
  if (v.type != ValueType::STRING) detail::wrong_type(path_.string(), key, "a string", v);
  return v.string;
}

W2S_ENGINE_INLINE const std::vector<std::string>& File::strings(const std::string& key) const {
  const auto& v = detail::get(metadata_, key, path_.string());
  if (v.type != ValueType::ARRAY || v.element != ValueType::STRING)
    detail::wrong_type(path_.string(), key, "an array of strings", v);
  return v.strings;
}

W2S_ENGINE_INLINE const std::vector<int64_t>& File::integers(const std::string& key) const {
  const auto& v = detail::get(metadata_, key, path_.string());
  if (v.type != ValueType::ARRAY || !detail::is_integer(v.element))
    detail::wrong_type(path_.string(), key, "an array of integers", v);
  return v.integers;
}

W2S_ENGINE_INLINE const TensorInfo* File::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

W2S_ENGINE_INLINE const TensorInfo& File::at(std::string_view name) const {
  const auto* t = find(name);
  check(t != nullptr, path_.string(), ": no tensor '", name, "' (the file has ", tensors_.size(), " tensors)");
  return *t;
}

W2S_ENGINE_INLINE at::Tensor File::to_float(std::string_view name) const {
  const auto& t = at(name);
  auto out = at::empty(t.shape(), at::kFloat);
  dequantize(t.type, t.data, t.numel(), out.data_ptr<float>(), path_.string() + ": tensor '" + t.name + "'");
  return out;
}

W2S_ENGINE_INLINE void dequantize(uint32_t type, const std::byte* data, uint64_t count, float* out,
                                  const std::string& where) {
  using safetensors::detail::f16_to_float;
  const auto f16 = [](const std::byte* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return f16_to_float(h);
  };
  switch (TensorType(type)) {
    case TensorType::F32:
      std::memcpy(out, data, count * 4);
      return;
    case TensorType::F16:
      for (uint64_t k = 0; k < count; ++k) out[k] = f16(data + 2 * k);
      return;
    case TensorType::Q8_0:
      check(count % 32 == 0, where, ": ", count, " values are not whole Q8_0 blocks of 32");
      for (uint64_t b = 0; b < count / 32; ++b) {
        const std::byte* block = data + 34 * b;
        const float d = f16(block);
        const auto* q = reinterpret_cast<const int8_t*>(block + 2);
        for (int j = 0; j < 32; ++j) out[32 * b + j] = d * float(q[j]);
      }
      return;
    case TensorType::Q4_1:
      check(count % 32 == 0, where, ": ", count, " values are not whole Q4_1 blocks of 32");
      for (uint64_t b = 0; b < count / 32; ++b) {
        const std::byte* block = data + 20 * b;
        const float d = f16(block), m = f16(block + 2);
        const auto* q = reinterpret_cast<const uint8_t*>(block + 4);
        for (int j = 0; j < 16; ++j) {
          out[32 * b + j] = d * float(q[j] & 0x0F) + m;
          out[32 * b + j + 16] = d * float(q[j] >> 4) + m;
        }
      }
      return;
    default:
      fail(where, ": tensor type ", tensor_type_name(type),
           " is not supported here (F32, F16, Q8_0 and Q4_1 are; convert the file with llama.cpp's llama-quantize)");
  }
}

W2S_ENGINE_INLINE std::string tokenizer_hash(const File& file) {
  std::string all = file.string("tokenizer.ggml.model") + "\n";
  all += (file.has("tokenizer.ggml.pre") ? file.string("tokenizer.ggml.pre") : "gpt2") + "\n";
  for (const auto& t : file.strings("tokenizer.ggml.tokens")) (all += t) += '\n';
  all += '\n';
  if (file.has("tokenizer.ggml.merges"))
    for (const auto& m : file.strings("tokenizer.ggml.merges")) (all += m) += '\n';
  return stable_hash(all);
}

}  // namespace w2s::gguf
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
