// ladder_bench: training and inference throughput of every image ladder size, and
// how much of this machine's measured matrix-multiply peak the largest size's
// training reaches (the ratio this benchmark is judged on).
//   ladder_bench [--threads N] [--seconds S]
#include <torch/optim/adam.h>
#include <w2s.hpp>

#include <cstdio>

namespace {
double time_it(double min_seconds, const std::function<void()>& step, int64_t& iterations) {
  step();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  iterations = 0;
  do {
    step();
    ++iterations;
  } while (w2s::runtime::seconds_since(start) < min_seconds);
  return w2s::runtime::seconds_since(start);
}

int bench_main(int argc, char** argv) {
  int threads = 0;
  double seconds = 2.0;
  int64_t batch = 100;
  w2s::po::options_description opts("ladder_bench options");
  opts.add_options()("help,h", "print this help")("threads", w2s::po::value(&threads)->default_value(0), "0 = all cores")(
      "seconds", w2s::po::value(&seconds)->default_value(2.0), "minimum seconds per measurement")(
      "batch-size", w2s::po::value(&batch)->default_value(100), "training batch size (the experiments' default)");
  w2s::po::variables_map vm;
  w2s::po::store(w2s::po::parse_command_line(argc, argv, opts), vm);
  w2s::po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  w2s::runtime::tune_malloc();
  threads = w2s::runtime::set_threads(threads);
  std::printf("threads %d, %s\n", threads, w2s::runtime::blas_name().c_str());
  // Peak: the best of square float32 matrix products.
  double peak = 0;
  for (int64_t n : {512, 1024, 2048}) {
    const auto a = at::randn({n, n}), b = at::randn({n, n});
    int64_t it = 0;
    const double t = time_it(seconds / 2, [&] { (void)a.mm(b); }, it);
    const double g = 2.0 * double(n) * double(n) * double(n) * double(it) / t / 1e9;
    std::printf("matmul %4ldx%-4ld  %7.1f GFLOP/s\n", long(n), long(n), g);
    peak = std::max(peak, g);
  }
  std::printf("\n| size | backbone | forward MFLOP/example | train examples/s | train GFLOP/s | inference examples/s |\n"
              "|---|---|---|---|---|---|\n");
  double largest_train_gflops = 0;
  for (const auto& size : w2s::ladder(w2s::Modality::image)) {
    torch::manual_seed(0);
    w2s::Classifier model(w2s::make_backbone(size.backbone, {1, 28, 28}), 10);
    const double fwd = model->backbone().forward_flops() + 2.0 * double(model->backbone().features()) * 10;
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
    const auto x = at::rand({batch, 1, 28, 28});
    const auto y = at::softmax(at::randn({batch, 10}), 1);
    int64_t it = 0;
    const double t = time_it(seconds, [&] {
      opt.zero_grad();
      const auto loss = w2s::soft_cross_entropy(model->forward(x), y);
      loss.backward();
      opt.step();
      (void)loss.item<double>();
    }, it);
    const double train_rate = double(batch * it) / t;
    const double train_gflops = 3.0 * fwd * train_rate / 1e9;  // backward ≈ 2× forward
    const auto xi = at::rand({1000, 1, 28, 28});
    model->eval();
    torch::NoGradGuard no_grad;
    const double ti = time_it(seconds / 2, [&] { (void)model->forward(xi); }, it);
    std::printf("| %s | %s | %.2f | %.0f | %.1f | %.0f |\n", size.name.c_str(), size.backbone.describe().dump().c_str(),
                fwd / 1e6, train_rate, train_gflops, 1000.0 * double(it) / ti);
    largest_train_gflops = train_gflops;
  }
  std::printf("\nmatmul peak %.1f GFLOP/s; largest size's training reaches %.1f GFLOP/s = %.2f of peak\n", peak,
              largest_train_gflops, largest_train_gflops / peak);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  w2s::runtime::ensure_passive_openmp(argv);
  return w2s::guarded_main("ladder_bench", [&] { return bench_main(argc, argv); });
}
