"""Optimal Transport Dataset Distance (Alvarez-Melis & Fusi 2020) between labelled feature sets.

Each example is a pair z = (x, y) of a feature vector and a label. A label is represented
by the Gaussian approximation of its class's features, N(mu_y, Sigma_y + ridge * I), and
two labels are compared by the 2-Wasserstein distance between their Gaussians (the Bures
formula):

    W2^2(y, y') = ||mu_y - mu_y'||^2 + tr(S) + tr(S') - 2 tr((S^1/2 S' S^1/2)^1/2).

The ground cost between examples of the two sets is

    c((x, y), (x', y')) = ||x - x'||^2 + label_weight * W2^2(y, y'),

and OTDD is the optimal transport cost between the two sets' uniform empirical
distributions under c (p = 2, so the value is in squared feature units; its square root
is a distance on the scale of the features). Labels of the two sets are never matched by
their ids: a class of set A and a class of set B are compared only through their features.

Scale: every pair (class of A, class of B) needs one Bures term. A class estimated from n
examples has a covariance of rank < n, so instead of D x D matrix square roots each class
keeps its covariance's eigen-decomposition Sigma = V diag(lam) V^T (V: D x r, r <= n, by
one SVD per class), and the trace term of a pair is computed exactly from a small
(r_a + r_b) square matrix (see `bures_squared`). That makes 1000 x 1000 class pairs of
768-d ViT features with a few examples per class a batch of small eigenvalue problems.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ribray.data.subsets import select_subset
from ribray.errors import RibrayError

_CHUNK_BYTES = 2**28  # memory for one chunk of class pairs in the Bures computation
DEBIASED_SINKHORN = "debiased_sinkhorn"  # the otdd library's default estimator


@dataclass(frozen=True)
class ClassGaussians:
    """Per-class Gaussian approximations of a labelled feature set: labels (C,), means
    (C, D), and each sample covariance as directions (C, D, r) with orthonormal columns
    and variances (C, r), Sigma_c = directions[c] @ diag(variances[c]) @ directions[c].T
    (zero-padded to the largest class's rank bound r = min(D, largest class size))."""

    labels: Tensor
    means: Tensor
    directions: Tensor
    variances: Tensor


def otdd(features_a: Tensor, labels_a: Tensor, features_b: Tensor, labels_b: Tensor, *,
         max_samples: int | None = 2000, seed: int = 0, method: str = "exact", reg: float = 0.05,
         ridge: float = 1e-6, label_weight: float = 1.0, device: torch.device | str | None = None) -> float:
    """OTDD between (features_a (N, D), labels_a (N,)) and (features_b, labels_b).

    max_samples: each set larger than this is first subsampled class-balanced to about
      max_samples examples (fraction max_samples / N of every class, at least one per class;
      deterministic per `seed`); None keeps everything. Class Gaussians and the transport
      both use the subsample.
    method: 'exact' (network simplex, `ot.emd2`) or 'sinkhorn' (`ot.sinkhorn2`, log-domain,
      on `device`) with entropic regularization relative to the cost's scale, so `reg`
      is unit-free (see `transport_cost`); or 'debiased_sinkhorn', the otdd library's default
      estimator (see `library_otdd`: its cost is half this one, and `reg` is absolute).
    device: where the class Gaussians and the ground cost are computed (default: the
      features' device); a GPU makes 1000 x 1000 class pairs fast.
    ridge: added to each class covariance's diagonal. label_weight: the weight of W2^2."""
    xa, ya = subsample_per_class(features_a, labels_a, max_samples, seed)
    xb, yb = subsample_per_class(features_b, labels_b, max_samples, seed)
    device = torch.device(device) if device is not None else xa.device
    if xa.shape[1] != xb.shape[1]:
        raise RibrayError(f"feature sizes differ: {xa.shape[1]} vs {xb.shape[1]} (use one model's features)")
    xa, ya, xb, yb = (t.to(device) for t in (xa, ya, xb, yb))
    if method == DEBIASED_SINKHORN:
        return library_otdd(xa, ya, xb, yb, reg=reg, ridge=ridge, label_weight=label_weight)
    cost = squared_distances(xa, xb)
    if label_weight:
        gaussians_a, gaussians_b = class_gaussians(xa, ya), class_gaussians(xb, yb)
        label_cost = label_distances(gaussians_a, gaussians_b, ridge)
        rows = torch.searchsorted(gaussians_a.labels, ya)
        cols = torch.searchsorted(gaussians_b.labels, yb)
        cost = cost + label_weight * label_cost[rows][:, cols]
    return transport_cost(cost, method=method, reg=reg)


def library_otdd(xa: Tensor, ya: Tensor, xb: Tensor, yb: Tensor, *, reg: float = 0.1, ridge: float = 1e-6,
                 label_weight: float = 1.0) -> float:
    """OTDD as the otdd library computes it with its defaults (`DatasetDistance()`: p = 2,
    Gaussian label distances, debiased Sinkhorn, entreg 0.1, min_labelcount 2), which the
    reference RIB code vendors. Its ground cost is half of `otdd`'s (p = 2 costs are divided
    by p, the label term too):

        c((x, y), (x', y')) = (||x - x'||^2 + label_weight * W2^2(y, y')) / 2,

    classes with fewer than 2 examples are left out, and the value is the Sinkhorn divergence

        S = OT_e(A, B) - OT_e(A, A) / 2 - OT_e(B, B) / 2,

    OT_e the entropic OT cost <P, c> + e KL(P | a b^T) with e = reg (absolute, in cost units).
    It is >= 0 up to the solver's tolerance, 0 for identical sets, and tends to the exact cost / 2
    as reg -> 0.

    Solved as the library solves it: geomloss's `SamplesLoss("sinkhorn", p=2, blur=reg ** 1/2,
    debias=True, backend="tensorized")` (its default epsilon-annealing, scaling 0.5) on the
    examples as points (features, then the label's index) under that cost, the label indices
    running over both sets' classes (A's, then B's) as the library numbers them for its
    debiased loss. The annealing stops at e rather than iterating there to convergence, so the
    value is within a few tenths of a percent of the converged divergence (the tests bound it)."""
    geomloss = _import_geomloss()
    xa, ya = _classes_with_two(xa, ya, "first")
    xb, yb = _classes_with_two(xb, yb, "second")
    gaussians_a, gaussians_b = class_gaussians(xa, ya), class_gaussians(xb, yb)
    if label_weight:
        between = label_distances(gaussians_a, gaussians_b, ridge)
        labels = torch.cat([torch.cat([label_distances(gaussians_a, gaussians_a, ridge), between], 1),
                            torch.cat([between.T, label_distances(gaussians_b, gaussians_b, ridge)], 1)])
    index_a = torch.searchsorted(gaussians_a.labels, ya)
    index_b = len(gaussians_a.labels) + torch.searchsorted(gaussians_b.labels, yb)
    points_a = torch.cat([xa.to(torch.float64), index_a.to(torch.float64)[:, None]], 1)
    points_b = torch.cat([xb.to(torch.float64), index_b.to(torch.float64)[:, None]], 1)

    def cost(z1: Tensor, z2: Tensor) -> Tensor:  # geomloss's batches: (B, N, D + 1), (B, M, D + 1)
        found = squared_distances(z1[..., :-1], z2[..., :-1])
        if label_weight:
            found = found + label_weight * labels[z1[..., -1].long()[..., :, None], z2[..., -1].long()[..., None, :]]
        return found / 2

    loss = geomloss.SamplesLoss("sinkhorn", p=2, blur=reg ** 0.5, debias=True, cost=cost, backend="tensorized")
    with torch.no_grad():
        return max(0.0, float(loss(points_a, points_b)))


def _classes_with_two(features: Tensor, labels: Tensor, which: str) -> tuple[Tensor, Tensor]:
    """The examples of classes with at least 2 of them (the otdd library's min_labelcount)."""
    classes, inverse, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    keep = counts[inverse] >= 2
    if not bool(keep.any()):
        raise RibrayError(f"the {which} set has no class with 2 or more examples: the otdd estimator "
                          "leaves such classes out (raise max_images)")
    return features[keep], labels[keep]


def subsample_per_class(features: Tensor, labels: Tensor, max_samples: int | None,
                        seed: int) -> tuple[Tensor, Tensor]:
    """At most about `max_samples` examples, the same fraction of every class (at least
    one each); the set itself when it is small enough or max_samples is None."""
    if features.shape[0] != labels.shape[0] or features.shape[0] == 0:
        raise RibrayError(f"features {tuple(features.shape)} and labels {tuple(labels.shape)} "
                          "must describe the same, non-zero number of examples")
    features = features.reshape(features.shape[0], -1)
    if max_samples is None or features.shape[0] <= max_samples:
        return features, labels.long()
    fraction = max_samples / features.shape[0]
    keep = torch.as_tensor(select_subset(labels.tolist(), seed, fraction=fraction), device=labels.device)
    return features[keep], labels[keep].long()


def class_gaussians(features: Tensor, labels: Tensor) -> ClassGaussians:
    """Mean and covariance of every class (sample covariance, n - 1 denominator; a class
    with one example has zero covariance, i.e. only the ridge)."""
    features = features.to(torch.float64)
    classes, inverse, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    means = torch.zeros(len(classes), features.shape[1], dtype=torch.float64, device=features.device)
    means.index_add_(0, inverse, features)
    means /= counts.unsqueeze(1)
    # factors[c] @ factors[c].T is class c's sample covariance; at most D columns each.
    factors = torch.zeros(len(classes), features.shape[1], min(int(counts.max()), features.shape[1]),
                          dtype=torch.float64, device=features.device)
    for c in range(len(classes)):
        factor = _covariance_factor(features[inverse == c] - means[c])
        factors[c, :, : factor.shape[1]] = factor
    directions, singular_values, _ = torch.linalg.svd(factors, full_matrices=False)
    return ClassGaussians(labels=classes, means=means, directions=directions, variances=singular_values**2)


def label_distances(gaussians_a: ClassGaussians, gaussians_b: ClassGaussians, ridge: float = 1e-6) -> Tensor:
    """W2^2 between every class Gaussian of A and of B: a float64 tensor (C_a, C_b)."""
    distances = squared_distances(gaussians_a.means, gaussians_b.means)
    rows_per_chunk = _rows_per_chunk(gaussians_a, gaussians_b)
    for start in range(0, len(gaussians_a.labels), rows_per_chunk):
        rows = slice(start, start + rows_per_chunk)
        overlaps = torch.einsum("adi,bdj->abij", gaussians_a.directions[rows], gaussians_b.directions)
        distances[rows] += bures_squared(overlaps, gaussians_a.variances[rows, None],
                                         gaussians_b.variances[None], ridge)
    return distances


def bures_squared(overlaps: Tensor, variances_a: Tensor, variances_b: Tensor, ridge: float) -> Tensor:
    """tr(S_a) + tr(S_b) - 2 tr((S_b^1/2 S_a S_b^1/2)^1/2) for S = V diag(lam) V^T + e I
    (e = ridge), from O = V_a^T V_b (..., r_a, r_b) and lam_a (..., r_a), lam_b (..., r_b).

    With P = diag(lam_a^1/2) O, S_b^1/2 S_a S_b^1/2 = Y Y^T + e^2 I where Y has r_a + r_b
    columns and the Gram matrix (k = r_a + r_b)

        Y^T Y = [[e diag(lam_a) + P diag(lam_b) P^T,  e^1/2 P diag((lam_b (lam_b + e))^1/2)],
                 [its transpose,                      e diag(lam_b)                        ]],

    so with mu = eigenvalues of Y^T Y, tr((.)^1/2) = sum_k (mu + e^2)^1/2 + (D - k) e and
    the D-dimensional ridge terms cancel:
        W2^2 - ||mean_a - mean_b||^2 = sum lam_a + sum lam_b + 2 k e - 2 sum_k (mu + e^2)^1/2."""
    variances_a, variances_b = variances_a.expand(overlaps.shape[:-1]), variances_b.expand(
        overlaps.shape[:-2] + overlaps.shape[-1:])
    scaled = variances_a.sqrt().unsqueeze(-1) * overlaps
    top_left = torch.diag_embed(ridge * variances_a) + (scaled * variances_b.unsqueeze(-2)) @ scaled.mT
    top_right = ridge**0.5 * scaled * (variances_b * (variances_b + ridge)).sqrt().unsqueeze(-2)
    bottom_right = torch.diag_embed(ridge * variances_b)
    gram = torch.cat([torch.cat([top_left, top_right], -1), torch.cat([top_right.mT, bottom_right], -1)], -2)
    eigenvalues = torch.linalg.eigvalsh(gram).clamp(min=0)
    k = gram.shape[-1]
    cross = (eigenvalues + ridge**2).sqrt().sum(-1)
    return (variances_a.sum(-1) + variances_b.sum(-1) + 2 * k * ridge - 2 * cross).clamp(min=0)


def squared_distances(x: Tensor, y: Tensor) -> Tensor:
    """||x_i - y_j||^2 for rows of x (..., N, D) and y (..., M, D), float64, without an (N, M, D)
    tensor (leading batch dimensions, as geomloss passes, stay)."""
    x, y = x.to(torch.float64), y.to(torch.float64)
    distances = (x * x).sum(-1)[..., :, None] + (y * y).sum(-1)[..., None, :] - 2 * x @ y.mT
    return distances.clamp(min=0)


def transport_cost(cost: Tensor, *, method: str = "exact", reg: float = 0.05) -> float:
    """min over couplings P with uniform marginals of <P, cost> for a cost matrix (N, M).

    'exact': network simplex (`ot.emd2`, on the CPU). 'sinkhorn': log-domain Sinkhorn
    (`ot.sinkhorn2`, on the cost's device), stopping when the marginal error is 1e-3 of
    the marginal's norm, returning <P*, cost>. Its entropic regularization is reg * s with
    s = the mean over rows of the row's cheapest cost (a lower bound of the answer; at
    least 1e-3 of the mean cost, so identical sets still converge): the result exceeds the
    exact value by roughly reg (about 2% at reg=0.05, 0.3% at 0.01 on separated blobs) and
    smaller reg needs many more iterations. On a CPU the exact solver is usually faster."""
    ot = _import_pot()
    cost = cost.to(torch.float64)
    a = torch.full((cost.shape[0],), 1.0 / cost.shape[0], dtype=torch.float64, device=cost.device)
    b = torch.full((cost.shape[1],), 1.0 / cost.shape[1], dtype=torch.float64, device=cost.device)
    if method == "exact":
        max_iterations = max(100_000, 50 * cost.numel())  # POT's default stops short on large sets
        return float(ot.emd2(a.cpu().numpy(), b.cpu().numpy(), cost.cpu().numpy(), numItermax=max_iterations))
    if method == "sinkhorn":
        if reg <= 0:
            raise RibrayError(f"sinkhorn needs reg > 0, got {reg}")
        scale = max(float(cost.min(dim=1).values.mean()), 1e-3 * float(cost.mean())) or 1.0
        stop = 1e-3 / cost.shape[1] ** 0.5  # relative to ||b||_2 = 1 / sqrt(M)
        return float(ot.sinkhorn2(a, b, cost, reg * scale, method="sinkhorn_log", stopThr=stop,
                                  numItermax=10_000))
    raise RibrayError(f"unknown OTDD method {method!r} (known: exact, sinkhorn, {DEBIASED_SINKHORN})")


def _covariance_factor(centered: Tensor) -> Tensor:
    """F (D, min(n, D)) with F F^T = centered^T centered / (n - 1); zero for n = 1."""
    count, dim = centered.shape
    if count == 1:
        return torch.zeros(dim, 1, dtype=centered.dtype, device=centered.device)
    if count <= dim:
        return centered.T / (count - 1) ** 0.5
    eigenvalues, eigenvectors = torch.linalg.eigh(centered.T @ centered / (count - 1))
    return eigenvectors * eigenvalues.clamp(min=0).sqrt()


def _rows_per_chunk(gaussians_a: ClassGaussians, gaussians_b: ClassGaussians) -> int:
    k = gaussians_a.variances.shape[1] + gaussians_b.variances.shape[1]
    bytes_per_row = 8 * len(gaussians_b.labels) * 6 * k * k  # the Gram matrix and its parts
    return max(1, _CHUNK_BYTES // bytes_per_row)


def _import_geomloss():
    try:
        import geomloss
    except ImportError as error:
        raise RibrayError("the otdd library's estimator (debiased_sinkhorn) needs geomloss: "
                          "pip install 'ribray[analysis]' (or pip install geomloss)") from error
    return geomloss


def _import_pot():
    try:
        import ot
    except ImportError as error:
        raise RibrayError("OTDD needs POT: pip install 'ribray[analysis]' (or pip install pot)") from error
    return ot
