#pragma once
/// \file
/// Weak-label cleaning on the strong model's frozen features (issue 22), after EleutherAI's
/// `w2s` (topo.py, probe.py, relabel.py, oraclefilter.py; docs/cleaning-reference-notes.md has
/// the formulas and where each comes from). Two classes; `y` is the weak supervisor's soft label
/// of class 1 (N values in [0, 1]), `x` the features (N × D). Distances are Euclidean, computed
/// in double precision. Ties between equal distances go to the lower index (EleutherAI's
/// torch.topk leaves them unspecified; on real-valued features they do not occur).
///
/// - TopoCC: a directed k-nearest-neighbour graph (self excluded); for each class (y > 0.5 or
///   not) the edges leaving its points; the largest strongly connected component of each kept.
/// - TopoFilter: TopoCC, then among the kept points the mean label of each one's k_zeta nearest
///   kept neighbours; the points farthest from it removed until round(N · contamination) are
///   removed in all (none more where TopoCC removed that many already).
/// - Probes (kNN, logistic, topological) predict a soft label from features; a probe filter drops
///   the int(contamination · N) points whose weak label disagrees most with the probe's.
/// - Zeta: the mean label of each point's k nearest other points; relabel and zeta-filter
///   variants replace or drop by it.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"

namespace w2s::cleaning {

/// N × k indices of each query row's k nearest rows of `reference`, nearest first, ties to the
/// lower index. `exclude_self`: query and reference are the same rows, and a row is not its own
/// neighbour.
W2S_ENGINE_INLINE at::Tensor nearest(const at::Tensor& query, const at::Tensor& reference, int64_t k,
                                     bool exclude_self);

/// The mean of `y` over each row of `neighbours` (N × k indices into y).
W2S_ENGINE_INLINE at::Tensor neighbour_mean(const at::Tensor& y, const at::Tensor& neighbours);

/// Which of the N nodes lie in the largest strongly connected component of the directed graph
/// with edges i → neighbours[i][j] for the rows i where `from` is true (only those nodes have
/// out-edges). Among equally large components, the one holding the lowest node index.
W2S_ENGINE_INLINE at::Tensor largest_strong_component(const at::Tensor& neighbours, const at::Tensor& from);

/// TopoCC: a boolean keep mask over the N points.
W2S_ENGINE_INLINE at::Tensor topo_cc(const at::Tensor& x, const at::Tensor& y, int64_t k);

/// TopoFilter: the kept indices, ascending.
W2S_ENGINE_INLINE at::Tensor topo_filter(const at::Tensor& x, const at::Tensor& y, double contamination, int64_t k_cc,
                                         int64_t k_zeta);

/// The topological probe: each query point's mean label over its k_zeta nearest points of the
/// training set's TopoCC components (k_cc).
W2S_ENGINE_INLINE at::Tensor topo_probe(const at::Tensor& x_train, const at::Tensor& y_train, const at::Tensor& x_query,
                                        int64_t k_cc, int64_t k_zeta);

/// The kNN probe: each query point's mean label over its k nearest training points (a training
/// point queried against its own set counts itself, as EleutherAI's probe filter does).
W2S_ENGINE_INLINE at::Tensor knn_probe(const at::Tensor& x_train, const at::Tensor& y_train, const at::Tensor& x_query,
                                       int64_t k);

/// A logistic regression y ≈ σ(x·w + b) fitted to soft labels by Newton's method in double
/// precision to convergence: the mean binary cross-entropy plus `l2` · |w|² (the bias not
/// penalised).
struct Logistic {
  at::Tensor w;  ///< D
  double b = 0;
  int64_t iterations = 0;
  [[nodiscard]] at::Tensor predict(const at::Tensor& x) const { return at::sigmoid(at::mv(x, w) + b); }
};
W2S_ENGINE_INLINE Logistic fit_logistic(const at::Tensor& x, const at::Tensor& y, double l2,
                                        int64_t max_iterations = 100, double tolerance = 1e-10);

/// Zeta: each point's mean label over its k nearest other points. k < 1: the k in 1..N−1 with the
/// lowest leave-one-out Brier score (the mean of (zeta − y)²), the first on a tie; `chosen_k` gets it.
W2S_ENGINE_INLINE at::Tensor zeta_labels(const at::Tensor& x, const at::Tensor& y, int64_t k,
                                         int64_t* chosen_k = nullptr);

/// The zeta filter: the round(keep · N) points whose label is closest to their zeta label kept
/// (ties: the lower index kept first), ascending.
W2S_ENGINE_INLINE at::Tensor zeta_filter(const at::Tensor& x, const at::Tensor& y, int64_t k, double keep,
                                         int64_t* chosen_k = nullptr);

/// Relabelling by zeta (k nearest others): `all` every label replaced; `disagree` only where the
/// hard labels (> 0.5) differ; `worst` only the round(contamination · N) farthest from it.
enum class ZetaMode { all, disagree, worst };
W2S_ENGINE_INLINE at::Tensor zeta_relabel(const at::Tensor& x, const at::Tensor& y, int64_t k, ZetaMode mode,
                                          double contamination);

/// The share to keep, counted as EleutherAI's oracle, random and zeta filters count it:
/// round(keep · N), half to even (Python's round).
inline int64_t kept_count(double keep, int64_t n) {
  return static_cast<int64_t>(std::nearbyint(keep * static_cast<double>(n)));
}

/// A probe's filter: the indices kept once the int(contamination · N) points whose weak label
/// `y` disagrees most with the probe's `prediction` are dropped (ties: the lower index dropped
/// first), ascending.
W2S_ENGINE_INLINE at::Tensor probe_filter(const at::Tensor& prediction, const at::Tensor& y, double contamination);

/// The n indices with the largest `score`, ties to the lower index.
W2S_ENGINE_INLINE at::Tensor largest(const at::Tensor& score, int64_t n);

/// The n indices with the smallest `score`, ties to the lower index.
W2S_ENGINE_INLINE at::Tensor smallest(const at::Tensor& score, int64_t n);

/// Checks shared by every cleaner: two classes of soft labels, features with one row each, and k
/// below the number of points. `who` names the cleaner and its option.
W2S_ENGINE_INLINE void check_inputs(const at::Tensor& x, const at::Tensor& y, int64_t k, const std::string& who);

namespace detail {
/// The indices 0..n-1 not in `removed`, ascending.
inline at::Tensor complement(int64_t n, const at::Tensor& removed) {
  auto keep = at::ones({n}, at::kBool);
  if (removed.numel() > 0) keep.index_put_({removed}, false);
  return keep.nonzero().squeeze(1);
}
}  // namespace detail

#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE void check_inputs(const at::Tensor& x, const at::Tensor& y, int64_t k, const std::string& who) {
  check(x.dim() == 2 && y.dim() == 1 && x.size(0) == y.size(0), who, ": features ", x.sizes(), " and labels ",
        y.sizes(), ", expected N × D and N");
  check(k >= 1 && k < x.size(0), who, ": k = ", k, " neighbours, expected 1..", x.size(0) - 1,
        " (the points less one)");
}

W2S_ENGINE_INLINE at::Tensor nearest(const at::Tensor& query, const at::Tensor& reference, int64_t k,
                                     bool exclude_self) {
  const auto q = query.to(at::kDouble).contiguous(), r = reference.to(at::kDouble).contiguous();
  check(k >= 1 && k <= r.size(0) - (exclude_self ? 1 : 0), "nearest: k = ", k, " of ", r.size(0), " points");
  // Exact pairwise distances (compute mode 2: never the matrix-product formula, which at::cdist
  // switches to above 25 rows and which perturbs the last bits); a stable sort puts equal
  // distances in index order.
  auto d = at::cdist(q, r, 2.0, /*compute_mode=*/2);
  if (exclude_self) d.fill_diagonal_(INFINITY);
  const auto sorted = std::get<1>(at::sort(d, /*stable=*/true, /*dim=*/1, /*descending=*/false));
  return sorted.slice(1, 0, k).contiguous();
}

W2S_ENGINE_INLINE at::Tensor neighbour_mean(const at::Tensor& y, const at::Tensor& neighbours) {
  // Summed nearest first, left to right, then divided: the reference's order, so that equal
  // means (hard labels give few distinct values) compare equal here as there.
  const auto labels = y.to(at::kDouble).index({neighbours});
  auto sum = labels.select(1, 0).clone();
  for (int64_t j = 1; j < labels.size(1); ++j) sum.add_(labels.select(1, j));
  return sum / static_cast<double>(labels.size(1));
}

W2S_ENGINE_INLINE at::Tensor largest_strong_component(const at::Tensor& neighbours, const at::Tensor& from) {
  const int64_t n = neighbours.size(0), k = neighbours.size(1);
  const auto nb = neighbours.contiguous();
  const auto* adj = nb.data_ptr<int64_t>();
  const auto fr = from.to(at::kBool).contiguous();
  const auto* out_edges = fr.data_ptr<bool>();
  // Tarjan's algorithm, iterative: index, low-link, the stack of open nodes.
  std::vector<int64_t> index(n, -1), low(n, 0), component(n, -1), stack, frames;  // frames: node, next edge
  std::vector<int64_t> edge_at(n, 0);
  std::vector<bool> on_stack(n, false);
  int64_t counter = 0, components = 0;
  for (int64_t root = 0; root < n; ++root) {
    if (index[root] >= 0) continue;
    frames.push_back(root);
    index[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!frames.empty()) {
      const int64_t v = frames.back();
      const int64_t degree = out_edges[v] ? k : 0;
      if (edge_at[v] < degree) {
        const int64_t w = adj[v * k + edge_at[v]++];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack.push_back(w);
          on_stack[w] = true;
          frames.push_back(w);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      frames.pop_back();
      if (!frames.empty()) low[frames.back()] = std::min(low[frames.back()], low[v]);
      if (low[v] == index[v]) {  // v roots a component: pop it
        int64_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component[w] = components;
        } while (w != v);
        ++components;
      }
    }
  }
  std::vector<int64_t> size(components, 0), lowest(components, n);
  for (int64_t i = 0; i < n; ++i) {
    ++size[component[i]];
    lowest[component[i]] = std::min(lowest[component[i]], i);
  }
  int64_t best = 0;
  for (int64_t c = 1; c < components; ++c)
    if (size[c] > size[best] || (size[c] == size[best] && lowest[c] < lowest[best])) best = c;
  auto mask = at::zeros({n}, at::kBool);
  auto* m = mask.data_ptr<bool>();
  for (int64_t i = 0; i < n; ++i) m[i] = component[i] == best;
  return mask;
}

W2S_ENGINE_INLINE at::Tensor topo_cc(const at::Tensor& x, const at::Tensor& y, int64_t k) {
  check_inputs(x, y, k, "TopoCC (--k-cc)");
  const auto neighbours = nearest(x, x, k, /*exclude_self=*/true);
  const auto positive = y.gt(0.5);
  return largest_strong_component(neighbours, positive).logical_or(largest_strong_component(neighbours, ~positive));
}

W2S_ENGINE_INLINE at::Tensor largest(const at::Tensor& score, int64_t n) {
  // Descending by score, ties to the lower index: a stable sort of the negated scores.
  const auto order = std::get<1>(at::sort(score.to(at::kDouble).neg(), /*stable=*/true, /*dim=*/0, false));
  return order.slice(0, 0, n);
}

W2S_ENGINE_INLINE at::Tensor smallest(const at::Tensor& score, int64_t n) {
  const auto order = std::get<1>(at::sort(score.to(at::kDouble), /*stable=*/true, /*dim=*/0, false));
  return order.slice(0, 0, n);
}

W2S_ENGINE_INLINE at::Tensor zeta_labels(const at::Tensor& x, const at::Tensor& y, int64_t k, int64_t* chosen_k) {
  const int64_t n = x.size(0);
  if (k >= 1) {
    check_inputs(x, y, k, "zeta (--zeta-k)");
    if (chosen_k) *chosen_k = k;
    return neighbour_mean(y, nearest(x, x, k, true));
  }
  check_inputs(x, y, 1, "zeta (--zeta-k)");
  // Every k at once: the running sums of the neighbours' labels, nearest first.
  const auto order = nearest(x, x, n - 1, true);
  const auto labels = y.to(at::kDouble).index({order});
  auto sums = labels.clone();
  for (int64_t j = 1; j < n - 1; ++j) sums.select(1, j).add_(sums.select(1, j - 1));
  const auto counts = at::arange(1, n, at::kDouble);
  const auto means = sums / counts;                                            // N × (N−1): k = 1..N−1
  const auto brier = (means - y.to(at::kDouble).unsqueeze(1)).pow(2).mean(0);  // per k
  const int64_t best = std::get<1>(at::sort(brier, /*stable=*/true, 0, false))[0].item<int64_t>();
  if (chosen_k) *chosen_k = best + 1;
  return means.select(1, best).clone();
}

W2S_ENGINE_INLINE at::Tensor zeta_filter(const at::Tensor& x, const at::Tensor& y, int64_t k, double keep,
                                         int64_t* chosen_k) {
  check(keep > 0 && keep < 1, "zeta filter: keep ", keep, ", expected a share in (0, 1)");
  const auto z = zeta_labels(x, y, k, chosen_k);
  const auto kept = smallest((y.to(at::kDouble) - z).abs(), kept_count(keep, x.size(0)));
  return std::get<0>(at::sort(kept));
}

W2S_ENGINE_INLINE at::Tensor zeta_relabel(const at::Tensor& x, const at::Tensor& y_in, int64_t k, ZetaMode mode,
                                          double contamination) {
  const auto y = y_in.to(at::kDouble);
  const auto z = zeta_labels(x, y, k);
  switch (mode) {
    case ZetaMode::all:
      return z;
    case ZetaMode::disagree:
      return at::where(z.gt(0.5).ne(y.gt(0.5)), z, y);
    case ZetaMode::worst: {
      check(contamination > 0 && contamination < 1, "zeta relabel: --contamination ", contamination,
            ", expected a share in (0, 1)");
      auto out = y.clone();
      const auto where = largest((y - z).abs(), kept_count(contamination, x.size(0)));
      out.index_put_({where}, z.index_select(0, where));
      return out;
    }
  }
  return z;
}

W2S_ENGINE_INLINE at::Tensor topo_filter(const at::Tensor& x, const at::Tensor& y, double contamination, int64_t k_cc,
                                         int64_t k_zeta) {
  check(contamination > 0 && contamination < 1, "TopoFilter: --contamination ", contamination,
        ", expected a share in (0, 1)");
  const int64_t n = x.size(0);
  const auto cc = topo_cc(x, y, k_cc);
  const auto kept = cc.nonzero().squeeze(1);
  const int64_t m = kept.numel();
  check(k_zeta >= 1 && k_zeta < m, "TopoFilter: --k-zeta ", k_zeta, " neighbours among the ", m,
        " points TopoCC kept, expected 1..", m - 1);
  const auto xk = x.index_select(0, kept), yk = y.to(at::kDouble).index_select(0, kept);
  const auto distance = (yk - neighbour_mean(yk, nearest(xk, xk, k_zeta, true))).abs();
  // Python's round (half to even), as EleutherAI's count: std::nearbyint in the default mode.
  const auto target = static_cast<int64_t>(std::nearbyint(static_cast<double>(n) * contamination));
  const int64_t more = std::max<int64_t>(target - (n - m), 0);
  return kept.index_select(0, detail::complement(m, largest(distance, more)));
}

W2S_ENGINE_INLINE at::Tensor knn_probe(const at::Tensor& x_train, const at::Tensor& y_train, const at::Tensor& x_query,
                                       int64_t k) {
  check(k >= 1 && k <= x_train.size(0), "kNN probe: k = ", k, ", expected 1..", x_train.size(0),
        " (the training points)");
  return neighbour_mean(y_train, nearest(x_query, x_train, k, false));
}

W2S_ENGINE_INLINE at::Tensor topo_probe(const at::Tensor& x_train, const at::Tensor& y_train, const at::Tensor& x_query,
                                        int64_t k_cc, int64_t k_zeta) {
  const auto kept = topo_cc(x_train, y_train, k_cc).nonzero().squeeze(1);
  check(k_zeta >= 1 && k_zeta <= kept.numel(), "topological probe: --k-zeta ", k_zeta, " of the ", kept.numel(),
        " points TopoCC kept");
  return knn_probe(x_train.index_select(0, kept), y_train.index_select(0, kept), x_query, k_zeta);
}

W2S_ENGINE_INLINE Logistic fit_logistic(const at::Tensor& x_in, const at::Tensor& y_in, double l2,
                                        int64_t max_iterations, double tolerance) {
  check(l2 >= 0, "logistic probe: --l2 ", l2, ", expected >= 0");
  const auto x = x_in.to(at::kDouble), y = y_in.to(at::kDouble);
  const int64_t n = x.size(0), d = x.size(1);
  const auto xb = at::cat({x, at::ones({n, 1}, x.options())}, 1);  // the bias as a last column
  auto theta = at::zeros({d + 1}, x.options());
  auto penalty = at::full({d + 1}, 2 * l2, x.options());
  penalty[d] = 0;
  const auto objective = [&](const at::Tensor& t) {
    const auto z = at::mv(xb, t);
    // mean BCE = mean(softplus(z) − y z), stable for large |z|
    return (at::softplus(z) - y * z).mean().item<double>() + l2 * t.slice(0, 0, d).pow(2).sum().item<double>();
  };
  Logistic out;
  double f = objective(theta);
  for (out.iterations = 0; out.iterations < max_iterations; ++out.iterations) {
    const auto p = at::sigmoid(at::mv(xb, theta));
    const auto grad = at::mv(xb.t(), p - y) / static_cast<double>(n) + penalty * theta;
    const auto weights = (p * (1 - p)) / static_cast<double>(n);
    const auto hessian = at::mm(xb.t(), xb * weights.unsqueeze(1)) + at::diag(penalty) +
                         at::eye(d + 1, x.options()) * 1e-12;  // keeps the bias direction invertible
    const auto step = at::linalg_solve(hessian, grad.unsqueeze(1)).squeeze(1);
    // Backtracking on the objective: a full Newton step where it descends.
    double scale = 1, next = f;
    at::Tensor candidate;
    for (int halvings = 0; halvings < 40; ++halvings, scale /= 2) {
      candidate = theta - step * scale;
      next = objective(candidate);
      if (next <= f) break;
    }
    theta = candidate;
    const double decrease = f - next;
    f = next;
    if (grad.abs().max().item<double>() < tolerance || decrease <= tolerance * std::max(1.0, std::abs(f))) {
      ++out.iterations;
      break;
    }
  }
  out.w = theta.slice(0, 0, d).clone();
  out.b = theta[d].item<double>();
  return out;
}

W2S_ENGINE_INLINE at::Tensor probe_filter(const at::Tensor& prediction, const at::Tensor& y, double contamination) {
  check(contamination > 0 && contamination < 1, "probe filter: --contamination ", contamination,
        ", expected a share in (0, 1)");
  const int64_t n = y.size(0);
  const auto dropped = static_cast<int64_t>(contamination * static_cast<double>(n));  // int(): truncation
  const auto disagreement = (prediction.to(at::kDouble) - y.to(at::kDouble)).abs();
  return detail::complement(n, largest(disagreement, dropped));
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s::cleaning
