// openai code's product loss: targets ∝ student^β · weak^α (α = β = 1), detached.
#include <w2s.hpp>

using ProductLoss = w2s::Experiment<w2s::WeakLabels<w2s::Soft>, w2s::Product, w2s::FineTune>;

int main(int argc, char** argv) { return w2s::run<ProductLoss>("product_loss", argc, argv); }
