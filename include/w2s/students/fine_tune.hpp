#pragma once
/// \file
/// Fine-tuning (paper §4): every backbone weight and the head train; on a pretrained
/// encoder, optionally only its top k layers and the head (`--train-layers k`), with the
/// frozen layers below run once per text and process and kept, so a step costs only the top k;
/// or, with `--lora-rank r`, LoRA adapters of rank r on the top k layers' linear layers and the
/// head (models/lora.hpp; EleutherAI's w2s trains its students so, rank 8).
#include <algorithm>
#include <string>

#include "w2s/core/engine.hpp"
#include "w2s/models/lora.hpp"
#include "w2s/models/model_kind.hpp"
#include "w2s/models/top_layers.hpp"
#include "w2s/students/linear_probe.hpp"

namespace w2s {

/// FineTune's fit for any loss, compiled once (core/engine.hpp): every weight when
/// `train_layers` < 0, the head alone (a linear probe) at 0, else the top `train_layers` layers of
/// a layered encoder and the head (or their LoRA adapters and the head, when `lora` is on);
/// `val_fraction` as --val-fraction.
W2S_ENGINE_INLINE Fitted fine_tune(const StudentContext& c, const StudentData& data, const LossMaker& loss,
                                   int64_t train_layers, double val_fraction, const LoraOptions& lora = {});

struct FineTune {
  static constexpr std::string_view name = "finetune";
  static constexpr int64_t default_epochs = 3;
  static constexpr double default_lr = 1e-3;
  int64_t train_layers = -1;  ///< -1: every weight; k >= 0 (encoders): the top k layers and the head
  double val_fraction = 0;
  LoraOptions lora;          ///< rank 0: the top k layers' weights train themselves
  std::string lora_targets;  ///< --lora-targets as given (comma-separated), parsed into lora.targets

  template <class L>
  Fitted fit(const StudentContext& c, const StudentData& data, const L& loss) const {
    return fine_tune(c, data, loss_maker(loss), train_layers, val_fraction, lora_options());
  }
  W2S_ENGINE_INLINE void add_options(po::options_description& o);
  W2S_ENGINE_INLINE void validate() const;
  /// `lora` with its targets read from --lora-targets.
  [[nodiscard]] W2S_ENGINE_INLINE LoraOptions lora_options() const;
  /// The options that differ from the defaults (defaults describe as before: old cache keys stay valid).
  [[nodiscard]] W2S_ENGINE_INLINE nlohmann::json describe() const;
};

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE void FineTune::add_options(po::options_description& o) {
  o.add_options()("train-layers", po::value(&train_layers)->default_value(train_layers),
                  "pretrained encoders: train the top k layers and the head, the frozen ones below run once per "
                  "example (0 = the head alone, a linear probe on pooled features); -1 = every weight")(
      "lora-rank", po::value(&lora.rank)->default_value(lora.rank),
      "with --train-layers k >= 1: LoRA adapters of this rank on the top k layers' linear layers, which stay "
      "frozen (0 = off; EleutherAI's w2s: 8)")("lora-alpha", po::value(&lora.alpha)->default_value(lora.alpha),
                                               "LoRA's scale: updates are times alpha/rank")(
      "lora-targets", po::value(&lora_targets)->default_value(lora_targets),
      "the linear layers LoRA adapts, by the last part of their names, comma-separated (BERT: query, key, value, "
      "dense; MPNet: q, k, v, o, dense); empty = every linear layer of the top k layers");
  add_val_fraction_option(o, val_fraction);
}
W2S_ENGINE_INLINE void FineTune::validate() const {
  check(train_layers >= -1, "--train-layers: expected -1 (every weight) or a layer count >= 0, got ", train_layers);
  check(lora.rank >= 0, "--lora-rank: expected 0 (off) or a rank >= 1, got ", lora.rank);
  check(lora.rank == 0 || train_layers >= 1, "--lora-rank ", lora.rank,
        ": LoRA adapts the top k layers of a pretrained encoder; give --train-layers k >= 1 (got ", train_layers,
        ")");
  check(lora.alpha > 0, "--lora-alpha: expected a number > 0, got ", lora.alpha);
  check_val_fraction(val_fraction);
}
W2S_ENGINE_INLINE LoraOptions FineTune::lora_options() const {
  LoraOptions o = lora;
  o.targets.clear();
  for (size_t at = 0; at <= lora_targets.size();) {
    const size_t comma = std::min(lora_targets.find(',', at), lora_targets.size());
    if (comma > at) o.targets.push_back(lora_targets.substr(at, comma - at));
    at = comma + 1;
  }
  return o;
}
W2S_ENGINE_INLINE nlohmann::json FineTune::describe() const {
  nlohmann::json j = nlohmann::json::object();
  if (train_layers >= 0) j["train_layers"] = train_layers;
  if (val_fraction > 0) j["val_fraction"] = val_fraction;
  if (lora.on()) j["lora"] = lora_options().describe();
  return j;
}

W2S_ENGINE_INLINE Fitted fine_tune(const StudentContext& c, const StudentData& data, const LossMaker& loss,
                                   int64_t train_layers, double val_fraction, const LoraOptions& lora) {
  TrainConfig cfg = c.config;
  cfg.val_fraction = val_fraction;
  if (train_layers < 0) {
    torch::manual_seed(cfg.seed);
    Classifier model(c.backbone.make(example_shape(data.train)), data.outputs());
    auto result = train_loop(
        *model, [&](const at::Tensor& x) { return model->forward(x); }, {data.train.inputs, data.targets}, loss, cfg,
        {data.test.inputs, data.test.targets}, c.observers());
    return {model, std::move(result), classifier_predict(model, cfg.device)};
  }
  check(model_kind(c.backbone.size.backbone.kind).layered, "--train-layers ", train_layers,
        ": only pretrained encoders have layers to freeze (text sizes such as minilm-l6); '", c.backbone.size.name,
        "' is a ", c.backbone.size.backbone.kind, " backbone: use --train-layers -1 (every weight)");
  if (train_layers == 0) return fit_linear_probe(c, data, loss, cfg);  // the head alone: a linear probe
  const auto encoder = c.backbone.make(example_shape(data.train));
  check(layered(*encoder) != nullptr, "--train-layers: backbone '", c.backbone.size.name, "' has no layers to split");
  const int64_t from = layered(*encoder)->layers() - train_layers;
  check(from >= 0, "--train-layers ", train_layers, ": the encoder '", c.backbone.size.name, "' has ",
        layered(*encoder)->layers(), " layers");
  torch::manual_seed(cfg.seed);
  auto model = std::make_shared<TopLayersImpl>(encoder, from, data.outputs(), lora);
  const auto frozen = c.backbone.make(example_shape(data.train));
  frozen->to(cfg.device);
  frozen->eval();
  auto* const frozen_layers = layered(*frozen);
  // The frozen layers run once per text and process (FeatureCache::text_states: kept per text at
  // its own length, so parts of any size and mix of lengths assemble; bounded in memory).
  check(token_reader(*frozen) != nullptr, "--train-layers: backbone '", c.backbone.size.name,
        "' reads no token columns of its own");
  const auto columns = token_reader(*frozen)->columns();
  const auto states = [frozen, frozen_layers, from, columns, &cache = c.features, key = c.backbone.key,
                       device = cfg.device](const Dataset& d) {
    return cache.text_states(key + "|lower" + std::to_string(from), d, columns, [&](const at::Tensor& x) {
      return frozen_layers->lower(x.to(device), from, /*pad_to=*/0);
    });
  };
  const ForwardFn forward = [&](const at::Tensor& x) { return model->forward(x); };
  auto result = train_loop(*model, forward, {states(data.train), data.targets}, loss, cfg,
                           {states(data.test), data.test.targets}, c.observers());
  auto predict = [model, states, device = cfg.device](const Dataset& d) {
    model->eval();
    return predict_probs([&](const at::Tensor& x) { return model->forward(x); }, states(d), device, d.regression(), 256);
  };
  return {Classifier{nullptr}, std::move(result), predict};
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s
