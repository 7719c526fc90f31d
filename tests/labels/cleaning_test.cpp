// Label cleaning (labels/cleaning.hpp, labels/cleaned.hpp): each method on points placed by hand,
// its result worked out on paper; parity with EleutherAI's formulas on random features is
// tests/parity/check_cleaning.py's.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include "w2s/labels/cleaned.hpp"
#include "w2s/labels/weak_labels.hpp"

using namespace w2s;
using Catch::Contains;

static_assert(LabelSource<Filtered<WeakLabels<Soft>, TopoFilter>>);
static_assert(LabelSource<Filtered<WeakLabels<Soft>, ProbeFilter<LogisticProbe>>>);
static_assert(reads_transfer_ground_truth<Filtered<WeakLabels<Soft>, OracleFilter>>());
static_assert(!reads_transfer_ground_truth<Filtered<WeakLabels<Soft>, RandomFilter>>());

namespace {
std::vector<int64_t> ints(const at::Tensor& t) {
  const auto c = t.to(at::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}
at::Tensor column(std::vector<double> v) { return at::tensor(v, at::kDouble).unsqueeze(1); }
}  // namespace

TEST_CASE("cleaning: the largest strongly connected component, ties to the lowest index", "[cleaning]") {
  // 0→1→2→0 (three), 3⇄4 (two), 5→0 (alone): the cycle of three.
  auto nb = at::tensor({1, 2, 0, 4, 3, 0}, at::kLong).unsqueeze(1);
  REQUIRE(ints(cleaning::largest_strong_component(nb, at::ones({6}, at::kBool)).nonzero().squeeze(1)) ==
          std::vector<int64_t>{0, 1, 2});
  // Without node 2's out-edge the cycle breaks: {3, 4} is the largest.
  auto from = at::ones({6}, at::kBool);
  from[2] = false;
  REQUIRE(ints(cleaning::largest_strong_component(nb, from).nonzero().squeeze(1)) == std::vector<int64_t>{3, 4});
  // Two cycles of two: the one holding node 0.
  nb = at::tensor({1, 0, 3, 2}, at::kLong).unsqueeze(1);
  REQUIRE(ints(cleaning::largest_strong_component(nb, at::ones({4}, at::kBool)).nonzero().squeeze(1)) ==
          std::vector<int64_t>{0, 1});
}

TEST_CASE("cleaning: TopoCC and TopoFilter on points on a line", "[cleaning]") {
  // Class 1 at 0, 1, 2, 10; class 0 at 20, 21, 22. One neighbour each (ties to the lower index):
  // 0⇄1, 2→1, 10→2; 20⇄21, 22→21. Kept: {0, 1} and {20, 21}, indices 0, 1, 4, 5.
  const auto x = column({0, 1, 2, 10, 20, 21, 22});
  const auto y = at::tensor({0.9, 0.6, 0.8, 0.7, 0.1, 0.3, 0.2}, at::kDouble);
  REQUIRE(ints(cleaning::topo_cc(x, y, 1).nonzero().squeeze(1)) == std::vector<int64_t>{0, 1, 4, 5});
  // contamination 0.5: round(3.5) = 4 to remove, TopoCC removed 3, one more: among the kept, each
  // one's kept neighbour is its partner; |0.9 − 0.6| = |0.6 − 0.9| = 0.3 > |0.1 − 0.3| = 0.2, the
  // tie at 0.3 goes to the lower index: 0 removed.
  REQUIRE(ints(cleaning::topo_filter(x, y, 0.5, 1, 1)) == std::vector<int64_t>{1, 4, 5});
  // contamination 0.3: round(2.1) = 2 < 3 removed by TopoCC already: none more.
  REQUIRE(ints(cleaning::topo_filter(x, y, 0.3, 1, 1)) == std::vector<int64_t>{0, 1, 4, 5});
  // Half to even, as Python's round: 7 × 0.5 = 3.5 → 4 above; 5 points × 0.5 = 2.5 → 2.
  const auto x5 = column({0, 1, 10, 11, 30}), y5 = at::tensor({0.9, 0.8, 0.2, 0.1, 0.6}, at::kDouble);
  // TopoCC(k=1): class 1 {0, 1, 4}: 0⇄1, 4→3 (out of its class), kept {0, 1}; class 0: 2⇄3. Removed:
  // index 4. round(2.5) = 2 (half up would give 3): one more, three kept.
  REQUIRE(ints(cleaning::topo_filter(x5, y5, 0.5, 1, 1)).size() == 3);
}

TEST_CASE("cleaning: kNN probe means over the nearest, ties to the lower index", "[cleaning]") {
  const auto x = column({0, 1, 2, 3});
  const auto y = at::tensor({0.0, 0.0, 1.0, 1.0}, at::kDouble);
  const auto p = cleaning::knn_probe(x, y, column({0.9, 2.4, 1.5}), 2);
  REQUIRE(p[0].item<double>() == 0.0);  // 1 (0.1), 0 (0.9)
  REQUIRE(p[1].item<double>() == 1.0);  // 2 (0.4), 3 (0.6)
  REQUIRE(p[2].item<double>() == 0.5);  // 1 and 2, both 0.5 away
  // k = 3 at 1.5: 1, 2, then 0 and 3 tie at 1.5: 0, the lower index: (0 + 1 + 0) / 3.
  REQUIRE(cleaning::knn_probe(x, y, column({1.5}), 3)[0].item<double>() == Approx(1.0 / 3));
}

TEST_CASE("cleaning: a probe filter drops the int(contamination · N) largest disagreements", "[cleaning]") {
  const auto pred = at::full({4}, 0.5, at::kDouble);
  const auto y = at::tensor({0.9, 0.1, 0.5, 0.6}, at::kDouble);  // disagreements 0.4, 0.4, 0, 0.1
  REQUIRE(ints(cleaning::probe_filter(pred, y, 0.5)) == std::vector<int64_t>{2, 3});
  REQUIRE(ints(cleaning::probe_filter(pred, y, 0.3)) == std::vector<int64_t>{1, 2, 3});     // int(1.2) = 1; tie → 0
  REQUIRE(ints(cleaning::probe_filter(pred, y, 0.2)) == std::vector<int64_t>{0, 1, 2, 3});  // int(0.8) = 0
}

TEST_CASE("cleaning: the logistic probe reaches the penalised optimum", "[cleaning]") {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto x = at::randn({200, 5}, gen, at::kDouble);
  const auto y = at::sigmoid(at::mv(x, at::tensor({1.0, -2.0, 0.5, 0.0, 3.0}, at::kDouble)) + 0.3 +
                             at::randn({200}, gen, at::kDouble));
  const double l2 = 1e-3;
  const auto fit = cleaning::fit_logistic(x, y, l2);
  const auto p = fit.predict(x);
  // Stationarity: mean((p − y) x) + 2 λ w = 0 and mean(p − y) = 0 (the bias is not penalised).
  const auto grad_w = at::mv(x.t(), p - y) / 200.0 + 2 * l2 * fit.w;
  REQUIRE(grad_w.abs().max().item<double>() < 1e-9);
  REQUIRE(std::abs((p - y).mean().item<double>()) < 1e-9);
  REQUIRE(fit.iterations < 30);
}

TEST_CASE("cleaning: wrappers keep rows by the strong model's features, never the truth", "[cleaning]") {
  Dataset d;
  d.name = "line";
  d.part = "seed0/transfer";
  d.classes = 2;
  d.inputs = column({0, 1, 2, 10, 20, 21, 22}).to(at::kFloat);
  d.targets = at::tensor({1, 1, 1, 0, 0, 0, 0}, at::kLong);  // index 3 is a weak error (weak says 1)
  const Splits s{d, d, d};
  const auto weak = at::tensor({0.9, 0.6, 0.8, 0.7, 0.1, 0.3, 0.2}, at::kDouble);
  const auto probs = at::stack({1 - weak, weak}, 1).to(at::kFloat);
  LabelContext c{s, probs, probs, 0};
  c.strong_features = [](const Dataset& rows) { return rows.inputs.to(at::kDouble); };

  Filtered<WeakLabels<Soft>, TopoFilter> topo;
  topo.cleaner.k_cc = topo.cleaner.k_zeta = 1;
  topo.cleaner.contamination = 0.5;
  const auto out = topo.make(c);
  REQUIRE(ints(out.kept) == std::vector<int64_t>{1, 4, 5});
  REQUIRE(out.train.size() == 3);
  REQUIRE(out.cleaned == "topo_filter");
  REQUIRE(at::allclose(out.targets.select(1, 1), weak.index_select(0, out.kept).to(at::kFloat)));
  REQUIRE(out.train.part.rfind("seed0/transfer/topo_filter-", 0) == 0);

  Filtered<WeakLabels<Soft>, OracleFilter> oracle;
  oracle.cleaner.contamination = 0.15;  // int(1.05) = 1: the label farthest from the truth, index 3 (0.7 vs 0)
  REQUIRE(ints(oracle.make(c).kept) == std::vector<int64_t>{0, 1, 2, 4, 5, 6});

  Filtered<WeakLabels<Soft>, RandomFilter> random;
  random.cleaner.contamination = 0.3;  // int(2.1) = 2 dropped, the same two for the same seed
  REQUIRE(random.make(c).kept.numel() == 5);
  REQUIRE(ints(random.make(c).kept) == ints(random.make(c).kept));
}

TEST_CASE("cleaning: bad input is one clear error", "[cleaning]") {
  const auto x = column({0, 1, 2, 3}), y = at::tensor({0.1, 0.2, 0.8, 0.9}, at::kDouble);
  REQUIRE_THROWS_WITH(cleaning::topo_filter(x, y, 1.5, 1, 1),
                      Contains("--contamination 1.5, expected a share in (0, 1)"));
  REQUIRE_THROWS_WITH(cleaning::topo_cc(x, y, 4), Contains("k = 4 neighbours, expected 1..3"));
  REQUIRE_THROWS_WITH(cleaning::probe_filter(y, y, 0), Contains("expected a share in (0, 1)"));
  TopoFilter t;
  t.contamination = 0;
  REQUIRE_THROWS_WITH(t.validate(), Contains("--contamination: expected a share in (0, 1), got 0"));

  Dataset d;
  d.name = "three";
  d.part = "p";
  d.classes = 3;
  d.inputs = at::zeros({4, 2});
  d.targets = at::tensor({0, 1, 2, 0}, at::kLong);
  const Splits s{d, d, d};
  const auto probs = at::full({4, 3}, 1.0 / 3);
  LabelContext c{s, probs, probs, 0};
  REQUIRE_THROWS_WITH((Filtered<WeakLabels<Soft>, TopoFilter>{}.make(c)),
                      Contains("topo_filter: dataset 'three' has 3 classes; label cleaning (EleutherAI's) is defined "
                               "for two"));
  d.classes = 2;
  d.targets = at::tensor({0, 1, 1, 0}, at::kLong);
  const Splits s2{d, d, d};
  const auto p2 = at::full({4, 2}, 0.5);
  LabelContext c2{s2, p2, p2, 0};
  REQUIRE_THROWS_WITH((Filtered<WeakLabels<Soft>, TopoFilter>{}.make(c2)),
                      Contains("topo_filter: no strong model features in this run"));
}
