#pragma once
/// \file
/// The built-in model kinds: each header below defines its backbones and registers their
/// kinds (models/model_kind.hpp). A new kind is one header of its own, included here.
#include "w2s/models/bert_backbone.hpp"     // bert
#include "w2s/models/dense_backbone.hpp"    // mlp, conv
#include "w2s/models/gpt2_backbone.hpp"     // gpt2
#include "w2s/models/llama.hpp"             // llama
#include "w2s/models/mpnet.hpp"             // mpnet
#include "w2s/models/text_backbone.hpp"     // bow, glove-mlp, glove-transformer
