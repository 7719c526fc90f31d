#pragma once
/// \file
/// Fine-tuning (paper §4): every backbone weight and the head train; on a pretrained
/// encoder, optionally only its top k layers and the head (`--train-layers k`), with the
/// frozen layers below run once per text and process and kept, so a step costs only the top k.
#include "w2s/models/bert_backbone.hpp"
#include "w2s/students/linear_probe.hpp"

namespace w2s {

/// The top layers of an encoder and the openai head, trained on lower layers' states.
class TopLayersImpl : public torch::nn::Module {
 public:
  TopLayersImpl(std::shared_ptr<BertBackbone> encoder, int64_t from, int64_t classes)
      : encoder_(register_module("encoder", std::move(encoder))),
        head_(register_module("head", torch::nn::Linear(torch::nn::LinearOptions(encoder_->features(), classes).bias(false)))),
        from_(from) {
    torch::NoGradGuard no_grad;
    head_->weight.zero_();
    for (auto& p : encoder_->model().named_parameters()) {  // only layers >= from train
      const auto& name = p.key();
      bool top = false;
      for (int64_t i = from; i < encoder_->layers(); ++i) top |= name.starts_with("encoder.layer." + std::to_string(i) + ".");
      p.value().requires_grad_(top);
    }
  }
  /// packed: BertBackbone::lower's N×T×(H+1) states of layer `from`.
  at::Tensor forward(const at::Tensor& packed) { return head_->forward(encoder_->upper(packed, from_)); }

 private:
  std::shared_ptr<BertBackbone> encoder_;
  torch::nn::Linear head_;
  int64_t from_;
};

struct FineTune {
  static constexpr std::string_view name = "finetune";
  static constexpr int64_t default_epochs = 3;
  static constexpr double default_lr = 1e-3;
  int64_t train_layers = -1;  ///< -1: every weight; k >= 0 (encoders): the top k layers and the head
  double val_fraction = 0;

  template <class L>
  Fitted fit(const StudentContext& c, const StudentData& data, const L& loss) const {
    TrainConfig cfg = c.config;
    cfg.val_fraction = val_fraction;
    if (train_layers < 0) {
      torch::manual_seed(cfg.seed);
      Classifier model(c.backbone.make(example_shape(data.train)), data.outputs());
      auto result = train_module(*model, [&](const at::Tensor& x) { return model->forward(x); },
                                 {data.train.inputs, data.targets}, loss, cfg, {data.test.inputs, data.test.targets});
      return {model, std::move(result), classifier_predict(model, cfg.device)};
    }
    check(c.backbone.size.backbone.kind == "bert", "--train-layers ", train_layers, ": only pretrained encoders have ",
          "layers to freeze (text sizes such as minilm-l6); '", c.backbone.size.name, "' is a ",
          c.backbone.size.backbone.kind, " backbone: use --train-layers -1 (every weight)");
    if (train_layers == 0) return fit_probe(c, data, loss, cfg);  // the head alone: a linear probe
    auto encoder = std::dynamic_pointer_cast<BertBackbone>(c.backbone.make(example_shape(data.train)));
    check(encoder != nullptr, "--train-layers: backbone '", c.backbone.size.name, "' is not a BERT encoder");
    const int64_t from = encoder->layers() - train_layers;
    check(from >= 0, "--train-layers ", train_layers, ": the encoder '", c.backbone.size.name, "' has ",
          encoder->layers(), " layers");
    torch::manual_seed(cfg.seed);
    auto model = std::make_shared<TopLayersImpl>(encoder, from, data.outputs());
    auto frozen = std::dynamic_pointer_cast<BertBackbone>(c.backbone.make(example_shape(data.train)));
    frozen->to(cfg.device);
    frozen->eval();
    // The frozen layers run once per text and process (FeatureCache::text_states: kept per text at
    // its own length, so parts of any size and mix of lengths assemble; bounded in memory).
    const auto states = [frozen, from, &cache = c.features, key = c.backbone.key, device = cfg.device](const Dataset& d) {
      return cache.text_states(key + "|lower" + std::to_string(from), d,
                               [&](const at::Tensor& x) { return frozen->lower(x.to(device), from); });
    };
    const ForwardFn forward = [&](const at::Tensor& x) { return model->forward(x); };
    auto result = train_module(*model, forward, {states(data.train), data.targets}, loss, cfg,
                               {states(data.test), data.test.targets});
    auto predict = [model, states, device = cfg.device](const Dataset& d) {
      model->eval();
      return predict_probs([&](const at::Tensor& x) { return model->forward(x); }, states(d), device, d.regression(), 256);
    };
    return {Classifier{nullptr}, std::move(result), predict};
  }
  void add_options(po::options_description& o) {
    o.add_options()("train-layers", po::value(&train_layers)->default_value(train_layers),
                    "pretrained encoders: train the top k layers and the head, the frozen ones below run once per "
                    "example (0 = the head alone, a linear probe on pooled features); -1 = every weight");
    add_val_fraction_option(o, val_fraction);
  }
  void validate() const {
    check(train_layers >= -1, "--train-layers: expected -1 (every weight) or a layer count >= 0, got ", train_layers);
    check_val_fraction(val_fraction);
  }
  [[nodiscard]] nlohmann::json describe() const {  // defaults describe as before: old cache keys stay valid
    nlohmann::json j = nlohmann::json::object();
    if (train_layers >= 0) j["train_layers"] = train_layers;
    if (val_fraction > 0) j["val_fraction"] = val_fraction;
    return j;
  }
};

}  // namespace w2s
