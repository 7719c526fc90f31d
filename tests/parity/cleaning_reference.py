#!/usr/bin/env python3
"""Reference (numpy/scipy, float64) of EleutherAI w2s's weak-label cleaning and probe formulas.

This is the parity reference for the C++ cleaners (include/w2s/labels/cleaning.hpp). It is a
re-expression of the *semantics* documented in docs/cleaning-reference-notes.md (which cites
the EleutherAI/w2s file and commit of every fact); no EleutherAI code is reproduced here.

Deterministic conventions (EleutherAI's torch.topk / argsort leave ties unspecified):
  * every ranking is lexicographic on (value, index): among equal values the lower index comes
    first, whether the ranking is ascending (nearest neighbours, "keep the closest") or
    descending ("remove the farthest", "drop the most disagreeing");
  * neighbours are ranked by the exact squared Euclidean distance sum_d (a_d - b_d)^2;
  * a point's own row counts as infinitely far when it is excluded (fill_diagonal_(inf)), so it
    is picked only when k equals the number of rows (the clamp of knn.py, commit 9abb06b);
  * neighbour means are the left-to-right float64 sum over the neighbours, nearest first,
    divided by k;
  * "largest strongly connected component": among the components of maximal size, the one
    holding the lowest node index (EleutherAI: np.bincount(labels).argmax() over scipy's
    labels, which are numbered in order of completion of scipy's Pearce DFS; both choices are
    computed and compared, see topo_cc_details);
  * round() is Python's round-half-even on the double n * fraction; int() truncates.

Usage:
  cleaning_reference.py IN.npz OUT.json [--param NAME=VALUE ...]
  cleaning_reference.py --self-test

IN.npz: x (n x d), y (n soft labels in [0, 1]); optional x_test (m x d), gt (n, 0/1),
oracle_probs (n, the strong ceiling's probability of class 1, or n x 2), and scalar
parameters (any of DEFAULTS below; --param overrides both).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np
from scipy.optimize import minimize
from scipy.sparse.csgraph import connected_components

# Defaults: EleutherAI function defaults (topo.py 1325975: k_cc = k_zeta = 5, contamination 0.1)
# and the last main-branch probe configs (probe.py c769e15: knn k 50, logreg l2p 1e-3, topo
# k_cc = k_zeta = 50); relabel sweeps (relabel.py 10c7efc): kcc = kzeta = 20, l2p 1e-3.
DEFAULTS = {
    "contamination": 0.1,   # sft_config.py c807f0c / topo.py 1325975
    "k_cc": 5,              # topofilter / topo_cc (topo.py 1325975)
    "k_zeta": 5,            # topofilter (topo.py 1325975)
    "knn_k": 50,            # KnnProbeConfig.k (probe.py c769e15; 20 before 1a81f85)
    "l2p": 1e-3,            # LogisticProbeConfig.l2p (probe.py c769e15; 0.01 before 059b316)
    "topo_k_cc": 50,        # TopoProbeConfig.k_cc (probe.py c769e15; 20 before 1a81f85)
    "topo_k_zeta": 50,      # TopoProbeConfig.k_zeta (probe.py c769e15; 20 before 1a81f85)
    "relabel_kcc": 20,      # TopoParams.kcc (relabel.py 10c7efc)
    "relabel_kzeta": 20,    # ZetaParams.kzeta (relabel.py 10c7efc)
    "zeta_k": 0,            # zeta_filter k (knn.py c81be50..1d9cc95; < 1: leave-one-out Brier)
    "zeta_q": None,         # zeta_filter keep fraction; None: 1 - contamination (train.py)
    "oracle_q": None,       # oracle_filter keep fraction; None: 1 - contamination
    "rand_q": None,         # rand_filter keep fraction; None: 1 - contamination
    "seed": 0,              # rand_filter permutation (EleutherAI: torch's global RNG)
}


# ----------------------------------------------------------------------------- primitives

def py_round(v: float) -> int:
    """Python's round(): nearest integer, exact halves to the even one (C++: std::nearbyint)."""
    return int(round(float(v)))


def sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact squared Euclidean distances, rows of a against rows of b (no a.b expansion)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.float64)
    for i in range(a.shape[0]):
        diff = b - a[i]
        out[i] = np.einsum("ij,ij->i", diff, diff)
    return out


def rank_ascending(values: np.ndarray) -> np.ndarray:
    """Indices ordering `values` ascending; equal values in index order (stable)."""
    return np.argsort(values, kind="stable")


def rank_descending(values: np.ndarray) -> np.ndarray:
    """Indices ordering `values` descending; equal values in index order (lower index first)."""
    values = np.asarray(values, dtype=np.float64)
    idx = np.arange(values.shape[0])
    return np.lexsort((idx, -values))


def nearest(query: np.ndarray, ref: np.ndarray, k: int, exclude_self: bool) -> np.ndarray:
    """m x k indices into `ref` of each query row's k nearest rows, nearest first.

    exclude_self: query and ref are the same rows and row i's own distance is +inf, so it sorts
    last and is only picked when k == len(ref) (EleutherAI: cdist(...).fill_diagonal_(inf)).
    """
    d2 = sq_dists(query, ref)
    if exclude_self:
        np.fill_diagonal(d2, np.inf)
    if not 1 <= k <= d2.shape[1]:
        raise ValueError(f"k = {k} neighbours of {d2.shape[1]} rows")
    order = np.argsort(d2, axis=1, kind="stable")  # ties: lower index first
    return order[:, :k]


def neighbour_mean(y: np.ndarray, nbrs: np.ndarray) -> np.ndarray:
    """Mean of y over each row of nbrs: sequential float64 sum, nearest first, then / k."""
    y = np.asarray(y, dtype=np.float64)
    acc = np.zeros(nbrs.shape[0], dtype=np.float64)
    for j in range(nbrs.shape[1]):
        acc = acc + y[nbrs[:, j]]
    return acc / nbrs.shape[1]


def kept_and_order(order: np.ndarray) -> dict:
    order = np.asarray(order, dtype=np.int64)
    return {"kept": sorted(int(i) for i in order), "order": [int(i) for i in order]}


# ----------------------------------------------------------------------------- TopoCC

def _largest_component(adj: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """Largest strongly connected component of the dense directed graph `adj` (n x n bool).

    Returns (mask by the lowest-index rule, mask by scipy argmax, info). The partition into
    components is scipy's; only the choice among equally large components differs.
    """
    n = adj.shape[0]
    ncomp, labels = connected_components(adj, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=ncomp)
    biggest = sizes.max()
    # lowest node index of each component
    first = np.full(ncomp, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    candidates = np.flatnonzero(sizes == biggest)
    chosen_rule = candidates[np.argmin(first[candidates])]
    chosen_scipy = int(np.argmax(sizes))  # EleutherAI: cmp_sizes.argmax()
    info = {
        "size": int(biggest),
        "n_largest": int(candidates.size),
        "scipy_agrees": bool(chosen_rule == chosen_scipy),
    }
    return labels == chosen_rule, labels == chosen_scipy, info


def topo_cc_details(x: np.ndarray, y: np.ndarray, k: int) -> dict:
    """TopoCC with both tie choices. k == -1: keep all (knn.py 9abb06b)."""
    n = len(x)
    if k == -1:
        allm = np.ones(n, dtype=bool)
        return {"mask": allm, "mask_scipy": allm, "pos": {}, "neg": {}, "k": -1}
    k_eff = min(int(k), n)  # knn.py clamps to n (then the self edge is included; harmless)
    nbrs = nearest(x, x, k_eff, exclude_self=True)
    adj = np.zeros((n, n), dtype=bool)
    adj[np.repeat(np.arange(n), k_eff), nbrs.ravel()] = True
    cls = np.asarray(y, dtype=np.float64) > 0.5
    # EleutherAI masks rows only (adj & cls[:, None]): the class's points keep their out-edges,
    # whichever class the neighbour has; the other class's points have no out-edges.
    pos, pos_s, pos_i = _largest_component(adj & cls[:, None])
    neg, neg_s, neg_i = _largest_component(adj & ~cls[:, None])
    return {"mask": pos | neg, "mask_scipy": pos_s | neg_s, "pos": pos_i, "neg": neg_i, "k": k_eff}


def topo_cc(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Boolean keep mask of TopoCC (lowest-index rule among equally large components)."""
    return topo_cc_details(x, y, k)["mask"]


def topo_relabel(x: np.ndarray, y: np.ndarray, kcc: int, kzeta: int) -> tuple[np.ndarray, np.ndarray]:
    """(C mask, labels of the C points): mean label of each kept point's kzeta nearest other kept
    points (knn.py 1d9cc95). kzeta is clamped to |C|; at |C| the point's own label is included."""
    C = topo_cc(x, y, kcc)
    xc, yc = np.asarray(x)[C], np.asarray(y, dtype=np.float64)[C]
    k_eff = min(int(kzeta), int(C.sum()))
    return C, neighbour_mean(yc, nearest(xc, xc, k_eff, exclude_self=True))


def zeta_relabel(x: np.ndarray, y: np.ndarray, kzeta: int) -> np.ndarray:
    """Mean label of each point's kzeta nearest other points (topo_relabel with kcc = -1)."""
    return topo_relabel(x, y, -1, kzeta)[1]


def topofilter(x: np.ndarray, y: np.ndarray, contamination: float = 0.1, k_cc: int = 5,
               k_zeta: int = 5) -> dict:
    """TopoFilter (topo.py 1325975): TopoCC, then remove the n farthest from their kept
    neighbours' mean label, n = max(round(N * contamination) - removed_by_cc, 0)."""
    N = len(x)
    C, knn_labels = topo_relabel(x, y, k_cc, k_zeta)
    c_idx = np.flatnonzero(C)
    yc = np.asarray(y, dtype=np.float64)[C]
    disagreement = np.abs(yc - knn_labels)
    cc_removed = N - c_idx.size
    n_zeta = max(py_round(N * contamination) - cc_removed, 0)
    drop = rank_descending(disagreement)[:n_zeta]
    keep = np.delete(c_idx, drop)  # np.delete keeps order: ascending original indices
    return {"kept": [int(i) for i in keep], "removed_by_cc": int(cc_removed),
            "removed_by_zeta": int(n_zeta)}


# ----------------------------------------------------------------------------- zeta filter

def loo_choose_k(x: np.ndarray, y: np.ndarray) -> tuple[int, np.ndarray]:
    """Leave-one-out Brier choice of k (knn.py c81be50): for k = 1..N-1 the mean over points of
    (mean label of the k nearest other points - own label)^2; the first minimum's k."""
    y = np.asarray(y, dtype=np.float64)
    N = len(y)
    d2 = sq_dists(x, x)
    np.fill_diagonal(d2, np.inf)
    acc = np.zeros(N - 1, dtype=np.float64)
    denom = np.arange(1, N, dtype=np.float64)
    for i in range(N):
        order = np.argsort(d2[i], kind="stable")[:-1]  # own row (inf) is last: dropped
        pred = np.cumsum(y[order]) / denom          # running mean of the k nearest
        acc = acc + (pred - y[i]) ** 2
    losses = acc / N
    return int(np.argmin(losses)) + 1, losses


def zeta_filter(x: np.ndarray, y: np.ndarray, k: int = 0, q: float = 0.5) -> dict:
    """Keep the round(q * N) points closest to their k nearest neighbours' mean label
    (knn.py c81be50..1d9cc95). k < 1: chosen by loo_choose_k. 'order' is EleutherAI's return
    order (ascending disagreement), 'kept' the same set ascending."""
    y = np.asarray(y, dtype=np.float64)
    N = len(y)
    n_keep = py_round(q * N)
    if n_keep <= 0:
        raise ValueError("zeta_filter: round(q * N) must be > 0")
    chosen = k < 1
    if chosen:
        k, _ = loo_choose_k(x, y)
    disagreement = np.abs(y - neighbour_mean(y, nearest(x, x, k, exclude_self=True)))
    out = kept_and_order(rank_ascending(disagreement)[:n_keep])
    out.update({"k": int(k), "k_chosen_by_loo": bool(chosen)})
    return out


# ----------------------------------------------------------------------------- relabel variants

def zeta_disagree_relabel(x, y, kzeta):
    """Weak label where its hard label (> 0.5) agrees with the zeta label's, else the zeta label."""
    y = np.asarray(y, dtype=np.float64)
    z = zeta_relabel(x, y, kzeta)
    return np.where((y > 0.5) == (z > 0.5), y, z)


def zeta_worst_relabel(x, y, kzeta, contamination):
    """The round(N * contamination) points farthest from their zeta label take it."""
    y = np.asarray(y, dtype=np.float64)
    z = zeta_relabel(x, y, kzeta)
    m = py_round(len(y) * contamination)
    idx = rank_descending(np.abs(y - z))[:m]
    out = y.copy()
    out[idx] = z[idx]
    return out


# ----------------------------------------------------------------------------- probes

def knn_probe_predict(x_train, y_train, x_query, k):
    """Mean training label of the k nearest training points; no self exclusion."""
    return neighbour_mean(y_train, nearest(x_query, x_train, k, exclude_self=False))


def _logistic_objective(theta, X, y, l2):
    w, b = theta[:-1], theta[-1]
    z = X @ w + b
    n = X.shape[0]
    loss = np.sum(np.logaddexp(0.0, z) - y * z) / n  # mean BCE with logits, soft targets
    f = loss + l2 * np.dot(w, w)                        # weight penalised, bias not, not / n
    r = (0.5 * (1.0 + np.tanh(0.5 * z)) - y) / n        # sigmoid(z) - y, over n
    g = np.empty_like(theta)
    g[:-1] = X.T @ r + 2.0 * l2 * w
    g[-1] = r.sum()
    return f, g


def fit_logistic(X, y, l2, newton_polish=True):
    """argmin_{w,b} mean_i[softplus(z_i) - y_i z_i] + l2 * |w|^2, z = X w + b, from zeros.
    L-BFGS (scipy) to tight tolerance, then Newton steps when D is small."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = X.shape
    theta = np.zeros(d + 1)
    res = minimize(_logistic_objective, theta, args=(X, y, l2), jac=True, method="L-BFGS-B",
                   options={"maxiter": 100000, "maxfun": 200000, "maxcor": 50,
                            "ftol": 1e-15, "gtol": 1e-12})
    theta = res.x
    if newton_polish and d <= 2000:
        Xb = np.hstack([X, np.ones((n, 1))])
        for _ in range(20):
            f, g = _logistic_objective(theta, X, y, l2)
            if np.max(np.abs(g)) < 1e-14:
                break
            z = Xb @ theta
            s = 0.5 * (1.0 + np.tanh(0.5 * z))
            H = (Xb * (s * (1 - s))[:, None]).T @ Xb / n
            H[np.arange(d), np.arange(d)] += 2.0 * l2
            try:
                step = np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                break
            new = theta - step
            f_new, g_new = _logistic_objective(new, X, y, l2)
            # near the optimum f changes below its rounding; judge the step by the gradient
            if not (f_new <= f + 1e-12 * abs(f) and np.max(np.abs(g_new)) < np.max(np.abs(g))):
                break
            theta = new
    f, g = _logistic_objective(theta, X, y, l2)
    return {"w": theta[:-1], "b": float(theta[-1]), "objective": float(f),
            "grad_max": float(np.max(np.abs(g)))}


def logistic_predict(model, X):
    z = np.asarray(X, dtype=np.float64) @ model["w"] + model["b"]
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def topo_probe_predict(x_train, y_train, x_query, k_cc, k_zeta):
    """Mean label of the k_zeta nearest points among the training set's TopoCC points; no self
    exclusion (a kept training point queried against itself counts itself). No clamp."""
    C = topo_cc(x_train, y_train, k_cc)
    yc = np.asarray(y_train, dtype=np.float64)[C]
    return neighbour_mean(yc, nearest(x_query, np.asarray(x_train)[C], k_zeta, exclude_self=False))


def probe_filter(pred, y, contamination) -> dict:
    """Drop the int(contamination * N) points with the largest |pred - y| (ties: lower index
    dropped first); 'order' is EleutherAI's return order (the tail of the descending ranking)."""
    disagree = np.abs(np.asarray(pred, dtype=np.float64) - np.asarray(y, dtype=np.float64))
    m = int(contamination * len(disagree))
    return kept_and_order(rank_descending(disagree)[m:])


# ----------------------------------------------------------------------------- oracle / random

def oracle_filter(target, y, q=0.5) -> dict:
    """Keep the round(q * N) points of smallest cross-entropy between `target` and the weak
    label y, where torch's cross_entropy reads [1 - y, y] as *logits*:
      dist = -sum_c t_c * ([1-y, y]_c - logsumexp(1-y, y)).
    target: hard class indices (N,) (commit 7852c27: ground truth) or N x 2 probabilities
    (commit d607801: the strong ceiling's softmax)."""
    y = np.asarray(y, dtype=np.float64)
    N = len(y)
    n_keep = py_round(q * N)
    if n_keep <= 0:
        raise ValueError("oracle_filter: round(q * N) must be > 0")
    logits = np.stack([1.0 - y, y], axis=1)
    logp = logits - np.logaddexp(logits[:, 0], logits[:, 1])[:, None]
    t = np.asarray(target)
    if t.ndim == 1:
        dist = -logp[np.arange(N), t.astype(np.int64)]
    else:
        dist = -np.sum(t.astype(np.float64) * logp, axis=1)
    return kept_and_order(rank_ascending(dist)[:n_keep])


def rand_filter(n, q=0.5, seed=0) -> dict:
    """A uniformly random round(q * n)-subset (EleutherAI: torch.randperm(n)[:m], global RNG;
    only the count and uniqueness are comparable)."""
    m = py_round(q * n)
    if m <= 0:
        raise ValueError("rand_filter: round(q * n) must be > 0")
    return kept_and_order(np.random.default_rng(seed).permutation(n)[:m])


# ----------------------------------------------------------------------------- driver

def floats(a) -> list:
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def run_all(x, y, params, x_test=None, gt=None, oracle_probs=None) -> dict:
    p = dict(DEFAULTS)
    p.update({k: v for k, v in params.items() if v is not None})
    c = float(p["contamination"])
    for key in ("zeta_q", "oracle_q", "rand_q"):
        if p[key] is None:
            p[key] = 1.0 - c
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    N = len(y)
    out: dict = {"n": N, "params": p}

    det = topo_cc_details(x, y, int(p["k_cc"]))
    out["topo_cc"] = {
        "k": det["k"], "kept": [int(i) for i in np.flatnonzero(det["mask"])],
        "tie_rule": "lowest_index", "pos": det["pos"], "neg": det["neg"],
        "scipy_argmax_agrees": bool(np.array_equal(det["mask"], det["mask_scipy"])),
        "kept_scipy_argmax": [int(i) for i in np.flatnonzero(det["mask_scipy"])],
    }
    out["topofilter"] = topofilter(x, y, c, int(p["k_cc"]), int(p["k_zeta"]))

    kz, kc = int(p["relabel_kzeta"]), int(p["relabel_kcc"])
    C, tl = topo_relabel(x, y, kc, kz)
    out["topo_relabel"] = {"kcc": kc, "kzeta": kz, "kept_cc": [int(i) for i in np.flatnonzero(C)],
                           "labels": floats(tl)}
    out["zeta_relabel"] = {"kzeta": kz, "labels": floats(zeta_relabel(x, y, kz))}
    out["zeta_disagree_relabel"] = {"kzeta": kz, "labels": floats(zeta_disagree_relabel(x, y, kz))}
    out["zeta_worst_relabel"] = {"kzeta": kz, "contamination": c,
                                 "labels": floats(zeta_worst_relabel(x, y, kz, c))}
    out["zeta_filter"] = zeta_filter(x, y, int(p["zeta_k"]), float(p["zeta_q"]))

    # probes: fitted on (x, y); filters applied to (x, y) itself, as sft.py does on "train"
    kk = int(p["knn_k"])
    knn_train = knn_probe_predict(x, y, x, kk)
    out["knn_probe"] = {"k": kk, "train_pred": floats(knn_train),
                        "filter": probe_filter(knn_train, y, c)}
    model = fit_logistic(x, y, float(p["l2p"]))
    log_train = logistic_predict(model, x)
    out["logistic_probe"] = {"l2p": float(p["l2p"]), "w": floats(model["w"]), "b": model["b"],
                             "objective": model["objective"], "grad_max": model["grad_max"],
                             "train_pred": floats(log_train), "filter": probe_filter(log_train, y, c)}
    out["logreg_relabel"] = {"l2p": float(p["l2p"]), "labels": floats(log_train)}
    tkc, tkz = int(p["topo_k_cc"]), int(p["topo_k_zeta"])
    topo_train = topo_probe_predict(x, y, x, tkc, tkz)
    out["topo_probe"] = {"k_cc": tkc, "k_zeta": tkz, "train_pred": floats(topo_train),
                         "filter": topofilter(x, y, c, tkc, tkz),
                         "filter_modified": probe_filter(topo_train, y, c)}
    if x_test is not None:
        x_test = np.asarray(x_test, dtype=np.float64)
        out["knn_probe"]["test_pred"] = floats(knn_probe_predict(x, y, x_test, kk))
        out["logistic_probe"]["test_pred"] = floats(logistic_predict(model, x_test))
        out["topo_probe"]["test_pred"] = floats(topo_probe_predict(x, y, x_test, tkc, tkz))

    if gt is not None:
        out["oracle_filter"] = oracle_filter(np.asarray(gt).astype(np.int64), y, float(p["oracle_q"]))
        out["oracle_filter"]["target"] = "gt"
    if oracle_probs is not None:
        op = np.asarray(oracle_probs, dtype=np.float64)
        if op.ndim == 1:
            op = np.stack([1.0 - op, op], axis=1)
        out["oracle_filter_soft"] = oracle_filter(op, y, float(p["oracle_q"]))
    out["rand_filter"] = rand_filter(N, float(p["rand_q"]), int(p["seed"]))
    return out


def _scalar(v):
    v = np.asarray(v)
    if v.dtype.kind in "iub":
        return int(v)
    return float(v)


def main_io(inp: str, outp: str, overrides: list[str]) -> None:
    data = np.load(inp)
    params = {k: _scalar(data[k]) for k in DEFAULTS if k in data.files}
    for item in overrides:
        name, _, value = item.partition("=")
        if name not in DEFAULTS:
            raise SystemExit(f"unknown parameter {name!r}; known: {', '.join(DEFAULTS)}")
        params[name] = float(value) if any(ch in value for ch in ".eE") else int(value)
    res = run_all(data["x"], data["y"], params,
                  x_test=data["x_test"] if "x_test" in data.files else None,
                  gt=data["gt"] if "gt" in data.files else None,
                  oracle_probs=data["oracle_probs"] if "oracle_probs" in data.files else None)
    with open(outp, "w") as f:
        json.dump(res, f, indent=1)


# ----------------------------------------------------------------------------- self-test

def self_test() -> int:
    fails = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            fails.append(what)

    def sorted_unique(v):
        return all(a < b for a, b in zip(v, v[1:]))

    rng = np.random.default_rng(1234)
    N, D = 160, 6
    x = rng.normal(size=(N, D))
    w_true = rng.normal(size=D)
    gt = (x @ w_true + 0.3 * rng.normal(size=N) > 0).astype(np.int64)
    y = np.clip(1 / (1 + np.exp(-(x @ w_true) * 1.5)) + 0.25 * rng.normal(size=N), 0.01, 0.99)
    flip = rng.random(N) < 0.15
    y[flip] = 1 - y[flip]
    x_test = rng.normal(size=(40, D))
    params = {"k_cc": 5, "k_zeta": 5, "knn_k": 20, "topo_k_cc": 20, "topo_k_zeta": 20}
    r = run_all(x, y, params, x_test=x_test, gt=gt, oracle_probs=rng.random(N))
    c = DEFAULTS["contamination"]

    check(py_round(2.5) == 2 and py_round(3.5) == 4 and py_round(25 * 0.1) == 2
          and py_round(35 * 0.1) == 4, "round is half-even on the double product (25*0.1 -> 2, 35*0.1 -> 4)")
    tc = r["topo_cc"]["kept"]
    check(sorted_unique(tc) and 0 < len(tc) <= N, f"topo_cc kept sorted, unique: {len(tc)} of {N}")
    tf = r["topofilter"]
    check(sorted_unique(tf["kept"]) and set(tf["kept"]) <= set(tc), "topofilter kept sorted, unique, within TopoCC")
    check(N - len(tf["kept"]) == max(py_round(N * c), tf["removed_by_cc"]),
          f"topofilter removed {N - len(tf['kept'])} = max(round(N c)={py_round(N * c)}, cc={tf['removed_by_cc']})")
    # denser graph: TopoCC removes fewer than round(N c), the zeta step the rest
    tf2 = topofilter(x, y, 0.3, 20, 10)
    check(tf2["removed_by_zeta"] > 0 and N - len(tf2["kept"]) == py_round(N * 0.3)
          and sorted_unique(tf2["kept"]),
          f"topofilter k_cc=20, c=0.3: cc {tf2['removed_by_cc']} + zeta {tf2['removed_by_zeta']} = round(0.3 N)")
    for name in ("knn_probe", "logistic_probe"):
        kept = r[name]["filter"]["kept"]
        check(sorted_unique(kept) and len(kept) == N - int(c * N), f"{name} filter keeps N - int(cN) = {len(kept)}")
    kept = r["topo_probe"]["filter_modified"]["kept"]
    check(len(kept) == N - int(c * N) and sorted_unique(kept), "topo_probe modified filter keeps N - int(cN)")
    zf = r["zeta_filter"]
    check(len(zf["kept"]) == py_round((1 - c) * N) and sorted_unique(zf["kept"]),
          f"zeta_filter keeps round((1-c)N) = {len(zf['kept'])}, LOO k = {zf['k']}")
    for name in ("oracle_filter", "oracle_filter_soft", "rand_filter"):
        kept = r[name]["kept"]
        check(len(kept) == py_round((1 - c) * N) and sorted_unique(kept), f"{name} keeps {len(kept)}")
    check(r["logistic_probe"]["grad_max"] < 1e-9, f"logistic optimum: max|grad| = {r['logistic_probe']['grad_max']:.2e}")
    check(len(r["topo_relabel"]["labels"]) == len(r["topo_relabel"]["kept_cc"]),
          "topo_relabel gives labels for the TopoCC points only")
    check(all(0 <= v <= 1 for v in r["zeta_relabel"]["labels"]), "zeta labels in [0, 1]")
    zw = np.array(r["zeta_worst_relabel"]["labels"])
    check(int(np.sum(zw != y)) <= py_round(N * c), "zeta_worst changes at most round(N c) labels")
    check(len(r["knn_probe"]["test_pred"]) == 40 and len(r["topo_probe"]["test_pred"]) == 40, "test predictions")
    # a training point counts itself in the kNN probe: k = 1 reproduces the labels
    check(np.allclose(knn_probe_predict(x, y, x, 1), y), "kNN probe on its own training set: k=1 returns own label")

    # tie rule vs scipy: components {0,2} and {1,3} of size 2, an edge {0,2} -> {1,3}.
    adj = np.zeros((4, 4), dtype=bool)
    for a, b in [(0, 2), (2, 0), (1, 3), (3, 1), (0, 1)]:
        adj[a, b] = True
    rule, scipy_m, info = _largest_component(adj)
    check(list(np.flatnonzero(rule)) == [0, 2] and list(np.flatnonzero(scipy_m)) == [1, 3],
          "tie example: rule keeps {0,2}, scipy argmax keeps {1,3} (sink completes first)")
    # all singletons: the rule keeps node 0
    rule, scipy_m, info = _largest_component(np.zeros((3, 3), dtype=bool))
    check(list(np.flatnonzero(rule)) == [0] and info["scipy_agrees"], "no edges: both keep node 0 only")

    # scipy agreement on random graphs of the TopoCC kind
    agree = 0
    trials = 200
    for t in range(trials):
        rs = np.random.default_rng(t)
        xx = rs.normal(size=(30, 2))
        yy = rs.random(30)
        det = topo_cc_details(xx, yy, 2)
        agree += np.array_equal(det["mask"], det["mask_scipy"])
    print(f"info TopoCC k=2, n=30: the lowest-index rule agrees with scipy argmax on {agree}/{trials} random draws")

    print(f"{'PASS' if not fails else 'FAIL'}: {len(fails)} failures")
    return 0 if not fails else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", nargs="?")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not (a.input and a.output):
        ap.error("IN.npz OUT.json required (or --self-test)")
    main_io(a.input, a.output, a.param)
    return 0


if __name__ == "__main__":
    sys.exit(main())
