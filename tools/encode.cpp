// w2s_encode: texts → token ids and hidden states with the framework's own tokenizers
// and models, for the parity tests against Hugging Face (tests/parity) and the encoder
// benchmark (bench/encoder_bench.py), and for anyone who wants sentence embeddings.
//   w2s_encode --texts IN.jsonl [--model DIR] [--vocab FILE] [--bpe DIR] [--ids OUT.jsonl]
//              [--hidden OUT.safetensors] [--max-tokens N] [--batch N] [--threads N]
//              [--time] [--repeats N] [--profile]
// IN.jsonl: one object per line, {"text": "..."} (tokenised here) or {"ids": [...]} (used as given).
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>

#include "w2s/core/atomic_file.hpp"
#include "w2s/core/cli.hpp"
#include "w2s/core/guarded_main.hpp"
#include "w2s/core/op_profile.hpp"
#include "w2s/core/runtime.hpp"
#include "w2s/io/gguf.hpp"
#include "w2s/io/safetensors.hpp"
#include "w2s/models/factory.hpp"  // the model kinds, registered (models/model_kind.hpp)
#include "w2s/models/model_kind.hpp"
#include "w2s/ingest/text/bpe.hpp"
#include "w2s/ingest/text/gguf_bpe.hpp"
#include "w2s/ingest/text/wordpiece.hpp"

namespace po = boost::program_options;

namespace {

/// The model_type of a checkpoint folder's config.json.
std::string model_type(const std::filesystem::path& dir) {
  std::ifstream in(dir / "config.json");
  w2s::check(in.good(), (dir / "config.json").string(), ": missing (expected a Hugging Face checkpoint folder)");
  try {
    return nlohmann::json::parse(in).value("model_type", "");
  } catch (const nlohmann::json::exception& e) {
    w2s::fail((dir / "config.json").string(), ": not valid JSON (", e.what(), ")");
  }
}

/// Rows right-padded with `pad` into an N×T tensor, and its N×T mask of real tokens.
std::pair<at::Tensor, at::Tensor> pad_rows(const std::vector<std::vector<int64_t>>& rows, int64_t pad) {
  int64_t t = 1;
  for (const auto& r : rows) t = std::max<int64_t>(t, static_cast<int64_t>(r.size()));
  auto ids = at::full({static_cast<int64_t>(rows.size()), t}, pad, at::kLong);
  auto mask = at::zeros({static_cast<int64_t>(rows.size()), t}, at::kLong);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::copy(rows[i].begin(), rows[i].end(), ids[i].data_ptr<int64_t>());
    mask[i].slice(0, 0, static_cast<int64_t>(rows[i].size())).fill_(1);
  }
  return {ids, mask};
}

w2s::safetensors::TensorData float_tensor(const std::string& name, const at::Tensor& t) {
  const auto c = t.to(at::kFloat).contiguous();
  return w2s::safetensors::from_float32(name, c.sizes().vec(), {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()});
}

/// The checkpoint kinds that run on their own, for --help and errors: "bert (a folder whose
/// config.json says model_type bert), ..., llama (a .gguf file; ...)".
std::string runnable_kinds() {
  std::string out;
  for (const auto& name : w2s::model_kind_names()) {
    const auto& k = w2s::model_kind(name);
    if (!k.open) continue;
    out += (out.empty() ? "" : ", ") + name + " (" +
           (!k.file_extension.empty() ? "a " + k.file_extension + " file"
            : k.model_types.empty()   ? std::string("a folder")
                                      : "a folder whose config.json says model_type " + k.model_types.front()) +
           (k.ids_from_wordpiece ? "; texts tokenised with --vocab, BERT uncased's, mapped to its own ids" : "") +
           (k.text == w2s::CheckpointText::own_file ? "; texts tokenised with the file's own tokenizer" : "") +
           (k.text == w2s::CheckpointText::bpe_folder ? "; texts tokenised with --bpe" : "") + ")";
  }
  return out;
}

/// The registered kind of the checkpoint at `path`: a file by its extension, a folder by its
/// config.json's model_type; one that cannot run on its own is an error naming it.
const w2s::ModelKind& checkpoint_kind(const std::string& path) {
  const auto* kind = w2s::model_kind_for_file(path);
  if (!kind) kind = &w2s::model_kind_for_type(model_type(path), path + "/config.json");
  w2s::check(static_cast<bool>(kind->open), path, ": a '", kind->name,
             "' checkpoint does not run on its own here; these do: ", runnable_kinds());
  return *kind;
}

int encode_main(int argc, char** argv) {
  std::string texts_path, model_dir, vocab_path, bpe_dir, ids_out, hidden_out;
  int64_t max_tokens = 0, batch = 32, repeats = 1;
  int threads = 0;
  po::options_description opts(
      "w2s_encode: token ids and hidden states of texts with w2s's tokenizers and models\nusage: w2s_encode --texts "
      "IN.jsonl [options]");
  opts.add_options()("help,h", "print this help")("texts", po::value(&texts_path),
                                                  "JSON Lines input: {\"text\": ...} or {\"ids\": [...]} per line")(
      "model", po::value(&model_dir), ("checkpoint, of a registered model kind: " + runnable_kinds()).c_str())(
      "vocab", po::value(&vocab_path),
      "WordPiece vocab.txt (default for a model that reads WordPiece ids as they are: its folder's own)")(
      "bpe", po::value(&bpe_dir), "GPT-2 BPE files folder (encoder.json + vocab.bpe, or vocab.json + merges.txt)")(
      "ids", po::value(&ids_out), "write each text's ids as a JSON array per line")(
      "hidden", po::value(&hidden_out),
      "write safetensors: last_hidden_state N×T×H (zeros at padding), attention_mask, and pooled (BERT)")(
      "max-tokens", po::value(&max_tokens)->default_value(max_tokens),
      "truncate: WordPiece keeps this many ids with [CLS]/[SEP], BPE and given ids the first ones; 0 = none")(
      "batch", po::value(&batch)->default_value(batch), "texts per forward pass")(
      "threads", po::value(&threads)->default_value(threads), "CPU threads, 0 = all cores")(
      "time", "print the model forward's examples/s and GFLOP/s (timed after one untimed warm-up batch)")(
      "repeats", po::value(&repeats)->default_value(repeats),
      "with --time: timed passes over the texts in this process, the best printed (a first pass meets "
      "each batch's shape for the first time, as a fresh process's allocator must)")(
      "profile",
      "with --time: after the timed pass, one more pass under an operator profile, and its table: each ATen "
      "operator's self time per batch (as bench/op_profile.py prints transformers')");
  const auto vm = w2s::cli::parse_tool(argc, argv, opts);
  if (vm.count("help") || texts_path.empty()) {
    std::cout << opts << "\n";
    return vm.count("help") ? 0 : 2;
  }
  w2s::check(max_tokens >= 0 && batch >= 1, "--max-tokens >= 0 and --batch >= 1 expected");
  w2s::check(repeats >= 1 && (repeats == 1 || vm.count("time")),
             "--repeats must be >= 1, and more than 1 needs --time");
  w2s::check(!vm.count("profile") || vm.count("time"),
             "--profile needs --time (it profiles a pass after the timed ones)");
  w2s::runtime::tune_malloc();
  w2s::runtime::set_threads(threads);
  // The model's kind says how texts become its ids (models/model_kind.hpp, CheckpointText).
  const w2s::ModelKind* kind = model_dir.empty() ? nullptr : &checkpoint_kind(model_dir);
  const bool reads_wordpiece = kind && kind->text == w2s::CheckpointText::wordpiece;
  if (reads_wordpiece && !kind->ids_from_wordpiece && vocab_path.empty())
    vocab_path = (std::filesystem::path(model_dir) / "vocab.txt").string();
  std::optional<w2s::text::WordPiece> wordpiece;
  std::optional<w2s::text::Gpt2Tokenizer> bpe;
  if (!vocab_path.empty()) wordpiece = w2s::text::WordPiece::load(vocab_path);
  if (!bpe_dir.empty()) bpe = w2s::text::Gpt2Tokenizer::from_dir(bpe_dir);
  if (kind && kind->text == w2s::CheckpointText::own_file) {
    w2s::check(kind->file_extension == ".gguf", model_dir, ": a tokenizer inside a '", kind->file_extension,
               "' file is not read here (GGUF's is)");
    bpe = w2s::text::gguf_tokenizer(w2s::gguf::File(model_dir));
  }

  std::vector<std::vector<int64_t>> rows;
  std::ifstream in(texts_path, std::ios::binary);
  w2s::check(in.good(), texts_path, ": cannot open");
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      w2s::fail(texts_path, ":", number, ": not valid JSON (", e.what(), ")");
    }
    std::vector<int64_t> ids;
    if (j.contains("ids")) {
      ids = j["ids"].get<std::vector<int64_t>>();
      if (max_tokens > 0 && static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(max_tokens);
    } else {
      w2s::check(j.contains("text") && j["text"].is_string(), texts_path, ":", number,
                 ": expected {\"text\": \"...\"} or {\"ids\": [...]}");
      const auto text = j["text"].get<std::string>();
      if (wordpiece) {
        ids = wordpiece->encode(text, max_tokens);
        if (reads_wordpiece && kind->ids_from_wordpiece) {  // BERT uncased ids as the model's own (MPNet's)
          const auto mapped = kind->ids_from_wordpiece(at::tensor(ids, at::kLong)).contiguous();
          ids.assign(mapped.data_ptr<int64_t>(), mapped.data_ptr<int64_t>() + mapped.numel());
        }
      } else {
        w2s::check(!reads_wordpiece, texts_path, ":", number, ": a '", kind ? kind->name : "",
                   "' model reads BERT uncased WordPiece ids, mapped to its own: --vocab names that vocab.txt");
        w2s::check(bpe.has_value(), texts_path, ":", number,
                   ": a text needs a tokenizer: --vocab, --bpe, or a --model that brings its own");
        ids = bpe->encode(text);
        if (max_tokens > 0 && static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(max_tokens);
      }
    }
    rows.push_back(std::move(ids));
  }
  w2s::check(!rows.empty(), texts_path, ": no lines");
  if (!ids_out.empty()) {
    std::string out;
    for (const auto& r : rows) out += nlohmann::json(r).dump() + "\n";
    w2s::atomic_write_text(ids_out, out);
  }
  if (!kind || (hidden_out.empty() && !vm.count("time"))) return 0;  // ids only: no forward pass

  // One forward per batch of `batch` rows, each padded to its own longest row.
  const auto model = kind->open(model_dir);
  const int64_t n = static_cast<int64_t>(rows.size());
  int64_t longest = 0, tokens = 0;
  for (const auto& r : rows) longest = std::max<int64_t>(longest, static_cast<int64_t>(r.size())), tokens += r.size();
  const int64_t hidden_size = model.width;
  auto hidden = at::zeros({hidden_out.empty() ? 0 : n, longest, hidden_size});
  auto mask_all = at::zeros({hidden_out.empty() ? 0 : n, longest}, at::kLong);
  auto pooled = at::zeros({n, hidden_size});
  at::NoGradGuard no_grad;
  if (vm.count("time")) {  // one untimed batch first, as the benchmark's reference gets one (bench/encoder_bench.py)
    const std::vector<std::vector<int64_t>> first(rows.begin(), rows.begin() + std::min(n, batch));
    const auto [ids, mask] = pad_rows(first, model.pad_id);
    (void)model.last_hidden(ids, mask);
  }
  // One pass over every batch; the first one keeps the pooled vectors and token states.
  const auto pass = [&](bool keep) {
    const auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < n; i += batch) {
      const std::vector<std::vector<int64_t>> part(rows.begin() + i, rows.begin() + std::min(n, i + batch));
      auto [ids, mask] = pad_rows(part, model.pad_id);  // as each model's reference pads (MPNet: <pad> = 1)
      const auto h = model.last_hidden(ids, mask);
      if (model.pool) {
        const auto p = model.pool(h, mask);
        if (keep) pooled.slice(0, i, i + ids.size(0)).copy_(p);
      }
      if (!keep || hidden_out.empty()) continue;  // timing only: no copies of the token states
      const auto cut = hidden.slice(0, i, i + ids.size(0)).slice(1, 0, ids.size(1));
      cut.copy_(h * mask.unsqueeze(2).to(h.scalar_type()));
      mask_all.slice(0, i, i + ids.size(0)).slice(1, 0, ids.size(1)).copy_(mask);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double seconds = pass(true);
  for (int64_t r = 1; r < repeats; ++r) seconds = std::min(seconds, pass(false));
  if (vm.count("time")) {
    // Per token, attention scores excluded: each model's own count (OpenedCheckpoint::flops_per_token).
    const double flops = model.flops_per_token * double(tokens);
    std::cout << "encode: " << n << " examples in " << seconds << " s: " << double(n) / seconds << " examples/s, "
              << flops / seconds / 1e9 << " GFLOP/s (" << tokens << " tokens, " << at::get_num_threads()
              << " threads, the best of " << repeats << (repeats == 1 ? " pass" : " passes") << ")" << std::endl;
  }
  if (vm.count("profile")) {  // the same batches again, each operator timed (the timed pass above ran without)
    w2s::OpProfile profile;
    (void)pass(false);
    const int64_t batches = (n + batch - 1) / batch;
    std::cout << "profile of one pass, " << batches << " batches:\n" << profile.table(batches) << std::flush;
  }
  if (!hidden_out.empty()) {
    std::vector<w2s::safetensors::TensorData> out = {float_tensor("last_hidden_state", hidden)};
    const auto m = mask_all.contiguous();  // I64, little-endian as the machine
    const auto* bytes = reinterpret_cast<const std::byte*>(m.data_ptr<int64_t>());
    out.push_back({"attention_mask", w2s::safetensors::DType::I64, m.sizes().vec(),
                   std::vector<std::byte>(bytes, bytes + m.numel() * sizeof(int64_t))});
    if (model.pool) out.push_back(float_tensor("pooled", pooled));
    w2s::safetensors::write(hidden_out, out, {{"format", "pt"}});
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  w2s::runtime::ensure_passive_openmp(argv);
  return w2s::guarded_main("w2s_encode", [&] { return encode_main(argc, argv); });
}
