#pragma once
/// \file
/// The definitions of io/safetensors.hpp's functions: inline in a header-only build, compiled
/// once into w2s::engine otherwise (core/engine.hpp): in a compiled build this file is empty
/// except in src/engine_models.cpp.
#include "w2s/io/safetensors.hpp"

#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
namespace w2s::safetensors {

W2S_ENGINE_INLINE File::File(const std::filesystem::path& path) : path_(path) {
  map();
  try {
    parse();
  } catch (...) {
    unmap();  // the destructor does not run for a throwing constructor
    throw;
  }
}

W2S_ENGINE_INLINE const TensorView& File::at(std::string_view name) const {
  const auto it = index_.find(name);
  if (it != index_.end()) return tensors_[it->second];
  auto from = index_.lower_bound(name);  // neighbours catch typos like "weigth"
  for (int k = 0; k < 2 && from != index_.begin(); ++k) --from;
  std::string near;
  for (int k = 0; k < 5 && from != index_.end(); ++k, ++from) near += (k ? ", '" : "'") + from->first + "'";
  fail(path_.string(), ": no tensor '", name, "' (the file has ", tensors_.size(), " tensors",
       near.empty() ? "" : "; nearby names: ", near, ")");
}

W2S_ENGINE_INLINE std::pair<void*, size_t> detail::map_file(const std::filesystem::path& path, size_t min_size,
                                                            const std::string& kind, const std::string& too_short) {
  const std::string where = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, where, ": cannot open ", kind, " file (", std::strerror(errno), ")");
  struct stat st{};
  const bool is_file = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  void* map = nullptr;
  if (is_file && size_t(st.st_size) >= min_size)
    map = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  const int mmap_errno = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED) map = nullptr;
  check(is_file, where, ": not a regular file, expected a ", kind, " file");
  check(size_t(st.st_size) >= min_size, where, ": file is ", st.st_size, " bytes, shorter than ", too_short);
  check(map != nullptr, where, ": cannot memory-map (", std::strerror(mmap_errno), ")");
  return {map, size_t(st.st_size)};
}

W2S_ENGINE_INLINE void File::map() {
  std::tie(map_, size_) =
      detail::map_file(path_, 8, "safetensors", "the 8-byte header length that starts a safetensors file");
}

W2S_ENGINE_INLINE void File::parse() {
  const std::string where = path_.string();
  const auto* bytes = static_cast<const std::byte*>(map_);
  uint64_t n = 0;
  std::memcpy(&n, bytes, 8);
  check(n <= detail::kMaxHeader, where, ": header length ", n, " bytes is absurd (limit ", detail::kMaxHeader,
        "); not a safetensors file?");
  check(n <= size_ - 8, where, ": header length ", n, " bytes runs beyond the file (", size_ - 8,
        " bytes follow the length field); truncated?");
  nlohmann::json header;
  try {
    const char* text = reinterpret_cast<const char*>(bytes + 8);
    header = nlohmann::json::parse(text, text + n);
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": header is not valid JSON (", e.what(), ")");
  }
  check(header.is_object(), where, ": header is a JSON ", header.type_name(), ", expected an object");
  const std::byte* data = bytes + 8 + n;
  const uint64_t data_size = size_ - 8 - n;
  struct Entry {
    TensorView view;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (const auto& [name, e] : header.items()) {
    if (name == "__metadata__") {
      read_metadata(e);
      continue;
    }
    const std::string at = where + ": tensor '" + name + "'";
    check(e.is_object(), at, ": entry is a JSON ", e.type_name(),
          ", expected an object with dtype, shape and data_offsets");
    const auto dt = e.find("dtype"), sh = e.find("shape"), off = e.find("data_offsets");
    check(dt != e.end() && dt->is_string(), at, ": missing or non-string \"dtype\"");
    const auto& dtype_name = dt->get_ref<const std::string&>();
    const auto* info = std::find_if(std::begin(detail::kDTypes), std::end(detail::kDTypes),
                                    [&](const auto& i) { return i.name == dtype_name; });
    check(info != std::end(detail::kDTypes), at, ": unknown dtype '", dtype_name,
          "', expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL");
    check(sh != e.end() && sh->is_array(), at, ": missing or non-array \"shape\", expected a list of dimensions");
    std::vector<int64_t> shape;
    for (const auto& d : *sh) {
      check(d.is_number_integer(), at, ": shape entry is a JSON ", d.type_name(), ", expected an integer");
      check(d.is_number_unsigned(), at, ": negative dimension ", d.dump(), " in shape");
      check(d.get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max()), at, ": dimension ", d.dump(),
            " too large");
      shape.push_back(int64_t(d.get<uint64_t>()));
    }
    check(off != e.end() && off->is_array() && off->size() == 2 && (*off)[0].is_number_unsigned() &&
              (*off)[1].is_number_unsigned(),
          at, ": missing or ill-typed \"data_offsets\", expected [begin, end] of non-negative integers");
    const uint64_t begin = (*off)[0].get<uint64_t>(), end = (*off)[1].get<uint64_t>();
    const std::string offsets = "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "]";
    check(begin <= end, at, ": ", offsets, " begin after end");
    check(end <= data_size, at, ": ", offsets, " end beyond the data section (", data_size, " bytes)");
    const uint64_t nbytes = detail::checked_nbytes(detail::checked_numel(shape, at), info->size, at);
    check(nbytes == end - begin, at, ": shape ", detail::shape_string(shape), " of ", info->name, " needs ", nbytes,
          " bytes but ", offsets, " span ", end - begin);
    const auto dtype = DType(info - std::begin(detail::kDTypes));
    entries.push_back({{name, dtype, std::move(shape), data + begin, size_t(nbytes)}, begin, end});
  }
  // The spec requires the tensors to tile the data section exactly: no overlap, no hole.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  uint64_t covered = 0;
  const Entry* last = nullptr;  // the last non-empty tensor, the one an overlap collides with
  for (const auto& en : entries) {
    if (en.begin < covered)
      fail(where, ": tensor '", en.view.name, "' data_offsets [", en.begin, ", ", en.end, "] overlap tensor '",
           last->view.name, "' [", last->begin, ", ", last->end, "]");
    check(en.begin == covered, where, ": gap of ", en.begin - covered, " bytes before tensor '", en.view.name,
          "' (data bytes [", covered, ", ", en.begin, ") belong to no tensor; the data section must be contiguous)");
    covered = en.end;
    if (en.end > en.begin) last = &en;
  }
  check(covered == data_size, where, ": gap of ", data_size - covered, " bytes at the end of the data section (",
        data_size, " bytes, tensors cover ", covered, "; the data section must be contiguous)");
  for (auto& en : entries) {
    index_.emplace(en.view.name, tensors_.size());
    tensors_.push_back(std::move(en.view));
  }
}

W2S_ENGINE_INLINE void File::read_metadata(const nlohmann::json& e) {
  const std::string where = path_.string();
  check(e.is_object(), where, ": \"__metadata__\" is a JSON ", e.type_name(), ", expected an object of strings");
  for (const auto& [key, value] : e.items()) {
    check(value.is_string(), where, ": \"__metadata__\" value of '", key, "' is a JSON ", value.type_name(),
          ", expected a string");
    metadata_[key] = value.get<std::string>();
  }
}

W2S_ENGINE_INLINE std::vector<float> to_float32(const TensorView& t) {
  const std::string where = "tensor '" + t.name + "'";
  check(t.dtype == DType::F64 || t.dtype == DType::F32 || t.dtype == DType::F16 || t.dtype == DType::BF16, where,
        ": to_float32 converts F64, F32, F16 and BF16, got ", to_string(t.dtype),
        "; read integer and bool tensors through TensorView::data");
  const size_t size = element_size(t.dtype), n = t.nbytes / size;
  check(t.nbytes % size == 0 && n == uint64_t(t.numel()), where, ": ", t.nbytes, " bytes do not hold shape ",
        detail::shape_string(t.shape), " of ", to_string(t.dtype));
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {  // memcpy per element: the mapped data is unaligned in general
    const std::byte* p = t.data + i * size;
    if (t.dtype == DType::F32) {
      std::memcpy(&out[i], p, 4);
    } else if (t.dtype == DType::F64) {
      double d;
      std::memcpy(&d, p, 8);
      out[i] = float(d);
    } else {
      uint16_t h;
      std::memcpy(&h, p, 2);
      out[i] = t.dtype == DType::F16 ? detail::f16_to_float(h) : detail::bf16_to_float(h);
    }
  }
  return out;
}

W2S_ENGINE_INLINE void check_finite(const std::vector<float>& values, const std::string& where, const TensorView& t) {
  size_t bad = 0, first = values.size();
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) {
      if (bad++ == 0) first = i;
    }
  check(bad == 0, where, ": tensor '", t.name, "' ", detail::shape_string(t.shape), " has ", bad,
        " non-finite weights (the first, element ", first, ", is ", first < values.size() ? values[first] : 0.0f,
        "); expected finite numbers: the checkpoint file is damaged");
}

W2S_ENGINE_INLINE std::vector<float> parameter_values(const TensorView& t, const std::string& where) {
  check(t.dtype == DType::F32 || t.dtype == DType::F16 || t.dtype == DType::BF16 || t.dtype == DType::F64, where,
        ": ", t.name, ": expected F32, F16, BF16 or F64 data, got ", to_string(t.dtype));
  auto values = to_float32(t);
  check_finite(values, where, t);
  return values;
}

W2S_ENGINE_INLINE void write(const std::filesystem::path& path, const std::vector<TensorData>& tensors,
                             const std::map<std::string, std::string>& metadata) {
  const std::string where = path.string();
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    const std::string at = where + ": tensor '" + t.name + "'";
    check(!t.name.empty() && t.name != "__metadata__", at, ": invalid tensor name");
    check(!header.contains(t.name), at, ": duplicate tensor name");
    const uint64_t nbytes = detail::checked_nbytes(detail::checked_numel(t.shape, at), element_size(t.dtype), at);
    check(t.bytes.size() == nbytes, at, ": shape ", detail::shape_string(t.shape), " of ", to_string(t.dtype),
          " needs ", nbytes, " bytes, got ", t.bytes.size());
    auto& entry = header[t.name];
    entry["dtype"] = std::string(to_string(t.dtype));
    entry["shape"] = t.shape;
    entry["data_offsets"] = nlohmann::json::array({offset, offset + nbytes});
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // e.g. a name or metadata value that is not UTF-8
    fail(where, ": cannot encode the header (", e.what(), ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // like the reference writer: 8-byte-aligned data section
  atomic_write(path, [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    check(out.good(), tmp.string(), ": cannot open for writing");
    const uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (const auto& t : tensors)
      if (!t.bytes.empty()) out.write(reinterpret_cast<const char*>(t.bytes.data()), std::streamsize(t.bytes.size()));
    out.flush();
    check(out.good(), tmp.string(), ": write failed (disk full or read-only?)");
  });
}

W2S_ENGINE_INLINE TensorData from_float32(std::string name, std::vector<int64_t> shape,
                                          const std::vector<float>& values, DType dtype) {
  const std::string at = "tensor '" + name + "'";
  check(dtype == DType::F64 || dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16, at,
        ": from_float32 stores F64, F32, F16 or BF16, got ", to_string(dtype));
  const uint64_t numel = detail::checked_numel(shape, at);
  check(numel == values.size(), at, ": shape ", detail::shape_string(shape), " has ", numel, " elements, got ",
        values.size(), " values");
  const size_t size = element_size(dtype);
  TensorData t{std::move(name), dtype, std::move(shape), std::vector<std::byte>(values.size() * size)};
  for (size_t i = 0; i < values.size(); ++i) {
    std::byte* p = t.bytes.data() + i * size;
    if (dtype == DType::F32) {
      std::memcpy(p, &values[i], 4);
    } else if (dtype == DType::F64) {
      const double d = values[i];
      std::memcpy(p, &d, 8);
    } else {
      const uint16_t h = dtype == DType::F16 ? detail::float_to_f16(values[i]) : detail::float_to_bf16(values[i]);
      std::memcpy(p, &h, 2);
    }
  }
  return t;
}

}  // namespace w2s::safetensors
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_MODELS)
