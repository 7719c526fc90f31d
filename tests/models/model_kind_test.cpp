// The model-kind registry: the built-in kinds and their capabilities, a kind added from outside
// include/, and the errors for a bad registration or an unknown name.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "w2s/models/factory.hpp"
#include "w2s/models/kinds.hpp"
#include "w2s/models/ladder.hpp"
#include "w2s/models/model_kind.hpp"

using namespace w2s;

namespace {
/// A kind registered by this file, as a user's model header would: a one-layer MLP.
const bool tiny_registered = register_model_kind(
    {.name = "test-tiny",
     .description = "a test kind: one hidden layer of 3",
     .make = [](const BackboneSpec&, const std::vector<int64_t>& shape,
                const Vocabulary*) -> std::shared_ptr<BackboneImpl> {
       int64_t n = 1;
       for (auto d : shape) n *= d;
       return std::make_shared<MlpBackbone>(n, std::vector<int64_t>{3});
     }});
}  // namespace

TEST_CASE("model kinds: the built-in ones say what they can do", "[models][kinds]") {
  const auto names = model_kind_names();
  for (const char* k : {"bert", "bow", "conv", "glove-mlp", "glove-transformer", "gpt2", "mlp", "mpnet"})
    REQUIRE(std::find(names.begin(), names.end(), k) != names.end());
  REQUIRE(std::is_sorted(names.begin(), names.end()));
  const auto& bert = model_kind("bert");
  REQUIRE((bert.checkpoint && bert.layered && bert.per_text_features && !bert.language_model));
  REQUIRE(bert.model_types == std::vector<std::string>{"bert"});
  const auto& gpt2 = model_kind("gpt2");
  REQUIRE((gpt2.checkpoint && gpt2.language_model && !gpt2.layered && !gpt2.per_text_features));
  REQUIRE((model_kind("mlp").widens_input && !model_kind("mlp").checkpoint && !model_kind("conv").widens_input));
  REQUIRE((model_kind("bow").reads_tokens && model_kind("glove-mlp").reads_tokens));
  REQUIRE(&model_kind_for_type("gpt2", "here") == &gpt2);
  const auto& mpnet = model_kind("mpnet");  // joined as one file, models/mpnet.hpp
  REQUIRE((mpnet.checkpoint && mpnet.layered && mpnet.per_text_features && !mpnet.language_model));
  REQUIRE(&model_kind_for_type("mpnet", "here") == &mpnet);
}

TEST_CASE("model kinds: the checkpoint kinds say how a tool runs them on their own", "[models][kinds]") {
  // w2s_encode asks these, never a kind's name (tools/encode.cpp); the parity tests run each one.
  for (const char* k : {"bert", "mpnet", "gpt2", "llama"}) REQUIRE(static_cast<bool>(model_kind(k).open));
  for (const char* k : {"mlp", "bow", "glove-transformer"}) REQUIRE(!model_kind(k).open);
  REQUIRE(model_kind("bert").text == CheckpointText::wordpiece);
  REQUIRE(!model_kind("bert").ids_from_wordpiece);  // its folder's vocab.txt, ids as they are
  REQUIRE(model_kind("gpt2").text == CheckpointText::bpe_folder);
  REQUIRE(model_kind("llama").text == CheckpointText::own_file);
  const auto& mpnet = model_kind("mpnet");
  REQUIRE(mpnet.text == CheckpointText::wordpiece);
  REQUIRE(static_cast<bool>(mpnet.ids_from_wordpiece));
  // [CLS] 101 -> <s> 0, [SEP] 102 -> </s> 2, [PAD] 0 -> <pad> 1, any other id shifted by 4
  const auto mapped = mpnet.ids_from_wordpiece(at::tensor(std::vector<int64_t>{101, 7592, 102, 0}, at::kLong));
  REQUIRE(std::vector<int64_t>(mapped.data_ptr<int64_t>(), mapped.data_ptr<int64_t>() + 4) ==
          std::vector<int64_t>{0, 7596, 2, 1});
}

TEST_CASE("model kinds: one registered outside include/ builds through make_backbone", "[models][kinds]") {
  REQUIRE(tiny_registered);
  const auto backbone = make_backbone({"test-tiny", {}, ""}, {2, 5});
  REQUIRE(backbone->features() == 3);
  REQUIRE(backbone->forward(at::zeros({4, 2, 5})).sizes() == at::IntArrayRef({4, 3}));
  REQUIRE(layered(*backbone) == nullptr);  // an MLP's layers do not split
}

TEST_CASE("model kinds: bad registrations and unknown names are errors that say what is known",
          "[models][kinds]") {
  const auto make = [](const BackboneSpec&, const std::vector<int64_t>&,
                       const Vocabulary*) -> std::shared_ptr<BackboneImpl> { return nullptr; };
  CHECK_THROWS_WITH(register_model_kind({.name = "mlp", .make = make}),
                    Catch::Contains("a model kind named 'mlp' is registered already"));
  CHECK_THROWS_WITH(register_model_kind({.name = "no-make"}), Catch::Contains("'no-make' has no constructor"));
  CHECK_THROWS_WITH(register_model_kind({.name = "no-id", .make = make, .checkpoint = true}),
                    Catch::Contains("'no-id' is a checkpoint kind without checkpoint_id"));
  CHECK_THROWS_WITH(model_kind("t5"),
                    Catch::Contains("backbone kind 't5' unknown; expected one of: bert, bow, conv"));
  CHECK(model_kind("llama").file_extension == ".gguf");  // one file, not a folder
  CHECK(model_kind_for_file("x/SmolLM2.gguf") == &model_kind("llama"));
  CHECK(model_kind_for_file("x/model.safetensors") == nullptr);
  CHECK_THROWS_WITH(model_kind_for_type("roberta", "x/config.json"),
                    Catch::Contains("x/config.json: model_type \"roberta\" is no model kind here"));
  CHECK_THROWS_WITH(make_backbone({"bow", {16}, ""}, {8}), Catch::Contains("reads token ids: it needs a text dataset"));
  // A pooling the kind does not offer is refused, naming what it offers.
  CHECK_THROWS_WITH(make_backbone({"mlp", {4}, "", "mean"}, {8}),
                    Catch::Contains("backbone kind 'mlp' has no pooling 'mean' (it pools one way only)"));
  CHECK_THROWS_WITH(make_backbone({"llama", {}, "x.gguf", "max"}, {8}),
                    Catch::Contains("backbone kind 'llama' has no pooling 'max' (it offers lasttoken, mean)"));
  // The ladder's mean-pooled SmolLM2 differs from the default only in its pooling, which its key records.
  const auto& last = find_size(Modality::text, "smollm2-135m", false, "--strong");
  const auto& mean = find_size(Modality::text, "smollm2-135m-mean", false, "--strong");
  CHECK(mean.backbone.checkpoint == last.backbone.checkpoint);
  CHECK(mean.describe()["backbone"]["pooling"] == "mean");
  CHECK_FALSE(last.describe()["backbone"].contains("pooling"));
}
