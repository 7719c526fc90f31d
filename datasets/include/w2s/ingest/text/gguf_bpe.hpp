#pragma once
/// \file
/// The byte-level BPE tokenizer a GGUF file carries in its metadata (llama.cpp's
/// tokenizer.ggml.* keys), as a text::Gpt2Tokenizer: SmolLM2's (models/llama.hpp).
/// Read: tokenizer.ggml.model (must be "gpt2", byte-level BPE), .tokens (id i is the i-th),
/// .merges ("A B", highest priority first), .pre (the pre-tokenizer: "smollm", single digits
/// then GPT-2's regex, or "gpt2"), .add_bos_token (only false is implemented: nothing is added),
/// .unknown_token_id (the id of a byte the vocabulary has no token for).
/// Special tokens (<|im_start|>, ...) written in a text are ordinary text here, as
/// "<|endoftext|>" is for GPT-2.
#include <string>

#include "w2s/core/error.hpp"
#include "w2s/ingest/text/bpe.hpp"
#include "w2s/io/gguf.hpp"

namespace w2s::text {

/// The tokenizer of `file`; a setting not implemented here is an error naming the key.
inline Gpt2Tokenizer gguf_tokenizer(const gguf::File& file) {
  const std::string where = file.path().string();
  const auto& model = file.string("tokenizer.ggml.model");
  check(model == "gpt2", where, ": tokenizer.ggml.model is \"", model,
        "\"; only byte-level BPE (\"gpt2\") is implemented here");
  const std::string pre = file.has("tokenizer.ggml.pre") ? file.string("tokenizer.ggml.pre") : "gpt2";
  check(pre == "smollm" || pre == "gpt2", where, ": tokenizer.ggml.pre is \"", pre,
        "\"; implemented: \"gpt2\" (GPT-2's regex) and \"smollm\" (single digits, then GPT-2's regex)");
  check(!file.has("tokenizer.ggml.add_bos_token") || !file.boolean("tokenizer.ggml.add_bos_token"), where,
        ": tokenizer.ggml.add_bos_token is true; adding a BOS token is not implemented");
  return Gpt2Tokenizer(
      file.strings("tokenizer.ggml.tokens"), file.strings("tokenizer.ggml.merges"),
      pre == "smollm" ? PreTokenizer::gpt2_single_digits : PreTokenizer::gpt2, where + ": tokenizer.ggml",
      file.has("tokenizer.ggml.unknown_token_id") ? int64_t(file.uint("tokenizer.ggml.unknown_token_id")) : -1);
}

}  // namespace w2s::text
