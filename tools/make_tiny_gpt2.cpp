// make_tiny_gpt2: writes a randomly initialised GPT-2 checkpoint (Hugging Face
// names: config.json + model.safetensors) with GPT-2's real vocabulary size, for
// end-to-end tests of the language-model path without downloading a model.
//   make_tiny_gpt2 OUT_DIR [--n-embd 16] [--n-layer 1] [--n-head 2] [--n-positions 256] [--seed 0]
#include <boost/program_options.hpp>

#include <iostream>

#include "w2s/core/cli.hpp"
#include "w2s/core/guarded_main.hpp"
#include "w2s/models/gpt2.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  return w2s::guarded_main("make_tiny_gpt2", [&] {
    std::string out;
    w2s::Gpt2Config c;
    c.n_embd = 16, c.n_layer = 1, c.n_head = 2, c.n_positions = 256;
    uint64_t seed = 0;
    po::options_description opts("make_tiny_gpt2: a random GPT-2 checkpoint\nusage: make_tiny_gpt2 OUT_DIR [options]");
    opts.add_options()("help,h", "print this help")("out", po::value(&out), "checkpoint folder to write")(
        "n-embd", po::value(&c.n_embd)->default_value(c.n_embd), "hidden size")(
        "n-layer", po::value(&c.n_layer)->default_value(c.n_layer), "blocks")(
        "n-head", po::value(&c.n_head)->default_value(c.n_head), "attention heads")(
        "n-positions", po::value(&c.n_positions)->default_value(c.n_positions), "context length")(
        "seed", po::value(&seed)->default_value(seed), "initialisation seed");
    po::positional_options_description pos;
    pos.add("out", 1);
    const auto vm = w2s::cli::parse_tool(argc, argv, opts, pos);
    if (vm.count("help") || out.empty()) {
      std::cout << opts << "\n";
      return out.empty() && !vm.count("help") ? 2 : 0;
    }
    torch::manual_seed(seed);
    w2s::Gpt2Model model(c);
    w2s::save_gpt2(*model, out);
    std::cout << "wrote " << out << " (n_embd " << c.n_embd << ", n_layer " << c.n_layer << ")\n";
    return 0;
  });
}
