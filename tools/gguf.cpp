// w2s_gguf: what a GGUF file holds, and its Llama model as a Hugging Face folder (io/gguf.hpp,
// models/llama.hpp), for the parity test against transformers (tests/parity/check_smollm2.py)
// and for anyone who wants the dequantised weights.
//   w2s_gguf FILE.gguf [--out DIR] [--metadata]
// Without --out: the header, the metadata (arrays shown by type and length) and every tensor
// (type, shape, bytes). With --out: DIR/config.json (a LlamaConfig) and DIR/model.safetensors
// (float32, LlamaModel's names, q and k permuted back to HF's layout), each written atomically.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "w2s/core/atomic_file.hpp"
#include "w2s/core/cli.hpp"
#include "w2s/core/guarded_main.hpp"
#include "w2s/core/runtime.hpp"
#include "w2s/io/gguf.hpp"
#include "w2s/io/safetensors.hpp"
#include "w2s/models/llama.hpp"

namespace po = boost::program_options;

namespace {

std::string shown(const w2s::gguf::Value& v) {
  using w2s::gguf::ValueType;
  switch (v.type) {
    case ValueType::STRING:
      return v.string.size() > 80 ? "\"" + v.string.substr(0, 77) + "...\"" : "\"" + v.string + "\"";
    case ValueType::ARRAY: {
      std::string s = "[";  // appended: GCC 12 warns falsely on `"[" + string` at -O2 (its bug 105651)
      s += w2s::gguf::value_type_name(uint32_t(v.element)) + " x " + std::to_string(v.count) + "]";
      if (!v.strings.empty()) s += " \"" + v.strings.front() + "\", ...";
      return s;
    }
    case ValueType::F32:
    case ValueType::F64:
      return std::to_string(v.f);
    case ValueType::BOOL:
      return v.u ? "true" : "false";
    case ValueType::I8:
    case ValueType::I16:
    case ValueType::I32:
    case ValueType::I64:
      return std::to_string(v.i);
    default:
      return std::to_string(v.u);
  }
}

int gguf_main(int argc, char** argv) {
  std::string file, out;
  po::options_description opts(
      "w2s_gguf: a GGUF file's metadata and tensors, or its Llama model as an HF folder\n"
      "usage: w2s_gguf FILE.gguf [--out DIR]");
  opts.add_options()("help,h", "print this help")("file", po::value(&file), "the GGUF file")(
      "out", po::value(&out), "write DIR/config.json and DIR/model.safetensors (float32, HF LlamaModel names)");
  po::positional_options_description positional;
  positional.add("file", 1);
  const auto vm = w2s::cli::parse_tool(argc, argv, opts, positional);
  if (vm.count("help") || file.empty()) {
    std::cout << opts << "\n";
    return vm.count("help") ? 0 : 2;
  }
  w2s::runtime::tune_malloc();
  const w2s::gguf::File gguf(file);
  if (out.empty()) {
    std::cout << file << ": GGUF version " << gguf.version() << ", alignment " << gguf.alignment() << ", "
              << gguf.metadata().size() << " metadata entries, " << gguf.tensors().size() << " tensors\n";
    for (const auto& [key, value] : gguf.metadata()) std::cout << "  " << key << " = " << shown(value) << "\n";
    for (const auto& t : gguf.tensors()) {
      std::cout << "  " << t.name << " " << w2s::gguf::tensor_type_name(t.type) << " [";
      const auto shape = t.shape();
      for (size_t d = 0; d < shape.size(); ++d) std::cout << (d ? ", " : "") << shape[d];
      std::cout << "] " << t.nbytes << " bytes\n";
    }
    return 0;
  }
  const auto config = w2s::LlamaConfig::from_gguf(gguf);
  std::vector<w2s::safetensors::TensorData> tensors;
  for (auto& [name, w] : w2s::llama_tensors(gguf, config)) {
    const auto c = w.contiguous();
    tensors.push_back(
        w2s::safetensors::from_float32(name, c.sizes().vec(), {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()}));
  }
  std::filesystem::create_directories(out);
  w2s::safetensors::write(std::filesystem::path(out) / "model.safetensors", tensors,
                          {{"format", "pt"}, {"source", std::filesystem::path(file).filename().string()}});
  w2s::atomic_write_text(std::filesystem::path(out) / "config.json", config.to_json().dump(2) + "\n");
  std::cout << out << ": " << tensors.size() << " tensors, config.json\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  w2s::runtime::ensure_passive_openmp(argv);
  return w2s::guarded_main("w2s_gguf", [&] { return gguf_main(argc, argv); });
}
