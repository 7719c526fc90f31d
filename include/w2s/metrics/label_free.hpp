#pragma once
/// \file
/// Label-free baselines (issue 21's controls): how much of a task the strong model's frozen
/// features give away with no label at all. Each clusters the transfer half's features,
/// names the clusters by the *weak* labels inside them (never ground truth), and predicts a
/// test example by the cluster it falls in. A student that recovers no more of the gap than
/// these did not need its supervisor's labels for what it recovered.
/// Two namings are computed (k clusters, k classes):
///  - one-to-one (the headline): each class names exactly one cluster, the assignment that
///    agrees with the most weak labels (Hungarian algorithm on the k × k vote counts). A
///    supervisor biased towards one class still tells the clusters apart by which holds more
///    of each of its labels;
///  - majority: each cluster named by its own majority weak label, so a biased supervisor can
///    give every cluster the same name (then the baseline predicts one class).
///  - k-means: Lloyd's algorithm with k = classes, k-means++ starts drawn from a fixed
///    generator, `restarts` of them, the lowest within-cluster sum of squares kept;
///  - the sign of the first principal component (two classes only): the transfer features,
///    centred, split by which side of their mean they fall along the direction of most variance.
#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "w2s/core/engine.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/seeds.hpp"

namespace w2s::metrics {

/// A clustering's test predictions, as one-hot rows N_test × classes (so metrics::accuracy reads them).
struct LabelFreePrediction {
  at::Tensor test_probs;           ///< one-to-one naming
  at::Tensor test_probs_majority;  ///< majority naming
  int64_t clusters_named = 0;      ///< clusters that held at least one transfer row (the others predict nothing)
};

/// The one-to-one assignment of rows to columns of the square `score` matrix (k × k) with the
/// largest total: result[r] is row r's column (Hungarian algorithm, O(k³)).
W2S_ENGINE_INLINE std::vector<int64_t> max_assignment(const std::vector<std::vector<double>>& score);

/// k-means on `transfer` (N × D features) with k = `classes`; the clusters named by
/// `weak_labels` (N class indices) in them; `test` (M × D) assigned to its nearest centre.
W2S_ENGINE_INLINE LabelFreePrediction kmeans_baseline(const at::Tensor& transfer, const at::Tensor& weak_labels,
                                                      const at::Tensor& test, int64_t classes, uint64_t seed,
                                                      int64_t restarts = 10, int64_t iterations = 100);

/// The sign of the first principal component of `transfer` (centred by its own mean); the sides
/// named by `weak_labels` on them; `test` projected on the same direction. Two classes only.
W2S_ENGINE_INLINE LabelFreePrediction pca_sign_baseline(const at::Tensor& transfer, const at::Tensor& weak_labels,
                                                        const at::Tensor& test);

namespace detail {
/// One-hot predictions of test rows from their cluster `assignment`, clusters named by the weak
/// labels in them, one-to-one and by majority.
W2S_ENGINE_INLINE LabelFreePrediction name_clusters(const at::Tensor& transfer_assignment,
                                                    const at::Tensor& weak_labels, const at::Tensor& test_assignment,
                                                    int64_t clusters, int64_t classes);
}  // namespace detail

// The definitions: inline in a header-only build, compiled once into w2s::engine otherwise
// (core/engine.hpp).
#if W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)
W2S_ENGINE_INLINE std::vector<int64_t> max_assignment(const std::vector<std::vector<double>>& score) {
  const auto k = static_cast<int64_t>(score.size());
  for (const auto& row : score)
    check(static_cast<int64_t>(row.size()) == k, "max_assignment: a ", k, "×", k, " matrix");
  // Shortest augmenting paths with potentials on cost = -score; rows and columns 1-based, column
  // 0 a virtual start. owner[j]: the row column j is assigned to.
  std::vector<double> u(k + 1, 0.0), v(k + 1, 0.0);
  std::vector<int64_t> owner(k + 1, 0), previous(k + 1, 0);
  for (int64_t row = 1; row <= k; ++row) {
    owner[0] = row;
    int64_t col = 0;
    std::vector<double> slack(k + 1, INFINITY);
    std::vector<bool> used(k + 1, false);
    do {
      used[col] = true;
      const int64_t r = owner[col];
      double delta = INFINITY;
      int64_t next = 0;
      for (int64_t j = 1; j <= k; ++j) {
        if (used[j]) continue;
        const double reduced = -score[r - 1][j - 1] - u[r] - v[j];
        if (reduced < slack[j]) {
          slack[j] = reduced;
          previous[j] = col;
        }
        if (slack[j] < delta) {
          delta = slack[j];
          next = j;
        }
      }
      for (int64_t j = 0; j <= k; ++j) {
        if (used[j]) {
          u[owner[j]] += delta;
          v[j] -= delta;
        } else {
          slack[j] -= delta;
        }
      }
      col = next;
    } while (owner[col] != 0);
    do {  // flip the path back to the start
      const int64_t back = previous[col];
      owner[col] = owner[back];
      col = back;
    } while (col != 0);
  }
  std::vector<int64_t> result(k, -1);
  for (int64_t j = 1; j <= k; ++j) result[owner[j] - 1] = j - 1;
  return result;
}

W2S_ENGINE_INLINE LabelFreePrediction detail::name_clusters(const at::Tensor& transfer_assignment,
                                                            const at::Tensor& weak_labels,
                                                            const at::Tensor& test_assignment, int64_t clusters,
                                                            int64_t classes) {
  // votes[c][k]: weak labels of class k in cluster c; ties go to the lower class index (argmax's first).
  const auto votes = at::zeros({clusters, classes}, at::kLong)
                         .index_put_({transfer_assignment, weak_labels}, at::ones_like(weak_labels), /*accumulate=*/true);
  const auto held = votes.sum(1).gt(0);
  const auto one_hot = [&](const at::Tensor& names) {  // test rows' one-hot predictions; empty clusters predict nothing
    return at::zeros({test_assignment.size(0), classes}, at::kFloat)
        .scatter_(1, names.index_select(0, test_assignment).unsqueeze(1), 1.0)
        .mul_(held.index_select(0, test_assignment).unsqueeze(1).to(at::kFloat));
  };
  LabelFreePrediction out;
  out.clusters_named = held.sum().item<int64_t>();
  out.test_probs_majority = one_hot(votes.argmax(1));
  check(clusters == classes, "label-free naming: ", clusters, " clusters for ", classes, " classes");
  std::vector<std::vector<double>> score(clusters, std::vector<double>(classes));
  const auto v = votes.accessor<int64_t, 2>();
  for (int64_t c = 0; c < clusters; ++c)
    for (int64_t k = 0; k < classes; ++k) score[c][k] = static_cast<double>(v[c][k]);
  out.test_probs = one_hot(at::tensor(max_assignment(score), at::kLong));
  return out;
}

W2S_ENGINE_INLINE LabelFreePrediction kmeans_baseline(const at::Tensor& transfer, const at::Tensor& weak_labels,
                                                      const at::Tensor& test, int64_t classes, uint64_t seed,
                                                      int64_t restarts, int64_t iterations) {
  check(transfer.dim() == 2 && test.dim() == 2 && transfer.size(1) == test.size(1), "k-means baseline: features ",
        transfer.sizes(), " and ", test.sizes(), " must be N×D and M×D");
  check(weak_labels.dim() == 1 && weak_labels.size(0) == transfer.size(0), "k-means baseline: ", weak_labels.sizes(),
        " weak labels for ", transfer.size(0), " rows");
  check(classes >= 2 && transfer.size(0) >= classes, "k-means baseline: ", transfer.size(0), " rows for ", classes,
        " clusters");
  check(restarts >= 1 && iterations >= 1, "k-means baseline: restarts and iterations must be >= 1");
  const auto x = transfer.to(at::kDouble).contiguous();
  const int64_t n = x.size(0);
  auto gen = stream_generator(seed, Stream::label_free_starts);
  const auto sq_dist = [](const at::Tensor& a, const at::Tensor& centres) {  // N×k squared distances
    return (a.pow(2).sum(1, true) - 2 * a.matmul(centres.t()) + centres.pow(2).sum(1).unsqueeze(0)).clamp_min(0);
  };
  at::Tensor best_centres;
  double best_inertia = INFINITY;
  for (int64_t r = 0; r < restarts; ++r) {
    // k-means++: the first centre uniform, each next one drawn with probability ∝ squared distance.
    std::vector<int64_t> picked{at::randint(n, {1}, gen, at::kLong).item<int64_t>()};
    while (static_cast<int64_t>(picked.size()) < classes) {
      const auto d = sq_dist(x, x.index_select(0, at::tensor(picked, at::kLong))).amin(1);
      const double total = d.sum().item<double>();
      picked.push_back(total > 0 ? at::multinomial(d / total, 1, false, gen).item<int64_t>()
                                 : at::randint(n, {1}, gen, at::kLong).item<int64_t>());
    }
    auto centres = x.index_select(0, at::tensor(picked, at::kLong));
    at::Tensor assignment;
    for (int64_t it = 0; it < iterations; ++it) {
      const auto next = sq_dist(x, centres).argmin(1);
      if (assignment.defined() && next.equal(assignment)) break;
      assignment = next;
      const auto counts = at::bincount(assignment, {}, classes).to(at::kDouble);
      const auto sums = at::zeros_like(centres).index_add_(0, assignment, x);
      // an emptied cluster keeps its centre
      centres = at::where(counts.gt(0).unsqueeze(1), sums / counts.clamp_min(1).unsqueeze(1), centres);
    }
    const double inertia = sq_dist(x, centres).amin(1).sum().item<double>();
    if (inertia < best_inertia) {
      best_inertia = inertia;
      best_centres = centres;
    }
  }
  const auto transfer_assignment = sq_dist(x, best_centres).argmin(1);
  const auto test_assignment = sq_dist(test.to(at::kDouble), best_centres).argmin(1);
  return detail::name_clusters(transfer_assignment, weak_labels.to(at::kLong), test_assignment, classes, classes);
}

W2S_ENGINE_INLINE LabelFreePrediction pca_sign_baseline(const at::Tensor& transfer, const at::Tensor& weak_labels,
                                                        const at::Tensor& test) {
  check(transfer.dim() == 2 && test.dim() == 2 && transfer.size(1) == test.size(1), "PCA baseline: features ",
        transfer.sizes(), " and ", test.sizes(), " must be N×D and M×D");
  check(weak_labels.dim() == 1 && weak_labels.size(0) == transfer.size(0), "PCA baseline: ", weak_labels.sizes(),
        " weak labels for ", transfer.size(0), " rows");
  const auto x = transfer.to(at::kDouble);
  const auto mean = x.mean(0, true);
  const auto centred = x - mean;
  // The first right singular vector of the centred features: the direction of most variance.
  const auto v = std::get<2>(at::linalg_svd(centred, /*full_matrices=*/false)).select(0, 0);
  const auto side = [&](const at::Tensor& a) { return (a.to(at::kDouble) - mean).matmul(v).gt(0).to(at::kLong); };
  return detail::name_clusters(side(transfer), weak_labels.to(at::kLong), side(test), 2, 2);
}
#endif  // W2S_ENGINE_DEFINES(W2S_ENGINE_PART_CORE)

}  // namespace w2s::metrics
