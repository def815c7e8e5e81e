# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`python -m complexity_optax spin-glass`: where descent stops on a spherical p-spin glass.

On pure spherical p-spin glasses in the Auffinger-Ben Arous-Cerny normalisation,

    H(σ) = N^(−(p−1)/2) Σ_{i1..ip} J_{i1..ip} σ_i1 ⋯ σ_ip,   J i.i.d. N(0, 1),   ‖σ‖² = N,

two optimizers run from random starts on the sphere until the Riemannian gradient vanishes:

* projected gradient descent: ``optax.chain(tangent_projection(), optax.sgd(lr),
  project_onto_sphere())``;
* AnnealSGD: `anneal_sgd(lr, field_scale=linear_schedule(γ₀, 0, τ), key=key, relative_to=None,
  sphere=True, radius="sqrt_n")`, the gradient tilted by a random field γ(t)·h (‖h‖ ≈ √N, one
  field per start) annealed linearly to 0 at step τ, then plain descent.

The energies per spin H/N at the minima are compared with the theory: the threshold −E_∞(p)
(where descent from random starts stops as N → ∞) and the ground state −E_0(p).

Then the field-trivialisation regimes: the same descent on H(σ) + ⟨h, σ⟩ with a static field,
‖h‖² = N·h², for h² = 0, an intermediate and a strong value, in units of p(p−2), the threshold
above which a single minimum is expected (Belius, Cerny, Nakajima & Schmidt; stated in the notes
from memory, so the strong value is taken well above it). For each, the number of distinct minima
among the starts (clusters of overlap σ_a·σ_b/N > 0.99) and the mean pairwise overlap, and a
figure of the minima of one instance in each regime (`plot_regimes`): a classical
multidimensional-scaling embedding (`classical_mds`) of the overlap distance d_ab = 1 − σ_a·σ_b/N,
coloured by H/N, in the spirit of Chaudhari & Soatto's exponential / polynomial / trivial regimes.

Every descent is one jitted `lax.while_loop`, `vmap`-ped over the starts.

References:
  Auffinger, Ben Arous & Cerny, *Random matrices and complexity of spin glasses*, CPAM 2013
  (arXiv:1003.1129); Sellke, *The threshold energy of low temperature Langevin dynamics for pure
  spherical spin glasses*, arXiv:2305.07956; Chaudhari & Soatto, *On the energy landscape of deep
  networks*, arXiv:1511.06485 (AnnealSGD); Belius, Cerny, Nakajima & Schmidt, *Triviality of the
  geometry of mixed p-spin spherical Hamiltonians with external field*, arXiv:2104.06345.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import complexity_optax as co
from complexity_optax import landscape
from complexity_optax.demo import report
from complexity_optax.demo.arguments import add_output_options, int_at_least
from complexity_optax.demo.progress import Progress

LEARNING_RATE = 0.1
TOLERANCE = 1e-4  # stop when ‖∇_sph H‖/√N < TOLERANCE (H/N is then converged to ~1e-8)
MAX_STEPS = 20_000
ANNEAL_STEPS = 500  # τ: AnnealSGD's field reaches 0 at this step
OVERLAP_CLUSTER = 0.99
# Static-field regimes: h² as a multiple of p(p−2) (of 1 for p = 2, where p(p−2) = 0).
FIELD_RATIOS = (0.0, 0.5, 4.0)
FIELD_NAMES = ("none", "intermediate", "strong")
# Chaudhari & Soatto's names of the three regimes; the mapping of our h² values to them is ours
# (see `plot_regimes`).
PAPER_REGIMES = {"none": "exponential", "intermediate": "polynomial", "strong": "trivial"}
FIELD_LABELS = {"none": "no field", "intermediate": "intermediate field", "strong": "strong field"}
EMBEDDED_INSTANCE = 0  # the instance whose minima `plot_regimes` embeds
MAX_COUPLINGS = 2**27  # n**p entries (512 MiB of float32)


@dataclasses.dataclass(frozen=True)
class SpinGlassConfig:
    """What to run and where to write it."""

    n: int = 100
    p: int = 3
    starts: int = 32
    instances: int = 2
    seed: int = 0
    output_dir: str = os.path.join("outputs", "spin-glass")
    as_json: bool = False
    progress: bool = True
    quick: bool = False


QUICK = {"n": 50, "starts": 16, "instances": 1}
DEFAULT = {"n": 100, "starts": 32, "instances": 2}


# ------------------------------------------------------------------------------------ numerics
def field_unit(p: int) -> float:
    """The unit of h² for the regimes: p(p−2), the trivialisation threshold (1 when p = 2).

    Examples:
      >>> field_unit(3), field_unit(2)
      (3.0, 1.0)
    """
    return float(p * (p - 2)) if p > 2 else 1.0


def anneal_init_scale(p: int) -> float:
    """AnnealSGD's γ₀: the strong regime, γ₀² = 4·p(p−2), so that it starts on a trivial landscape.

    Examples:
      >>> round(anneal_init_scale(3), 4)
      3.4641
    """
    return math.sqrt(FIELD_RATIOS[-1] * field_unit(p))


def _spherical_gradient_norm(ham: landscape.PSpinHamiltonian, sigma: jax.Array) -> jax.Array:
    """‖∇_sph H(σ)‖/√N."""
    g = landscape.p_spin_spherical_gradient(ham, sigma)
    return jnp.linalg.norm(g) / jnp.sqrt(sigma.shape[-1])


def _descend(
    tx: optax.GradientTransformation, ham: landscape.PSpinHamiltonian, sigma0: jax.Array,
    min_steps: int,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Runs `tx` on H from `sigma0` until ‖∇_sph H‖/√N < TOLERANCE (after `min_steps`).

    Returns `(sigma, steps, gradient_norm)`."""
    energy = landscape.p_spin_energy

    def cond(carry):
        _, _, step, gnorm = carry
        return (step < MAX_STEPS) & ((step < min_steps) | (gnorm >= TOLERANCE))

    def body(carry):
        sigma, state, step, _ = carry
        grad = jax.grad(energy, argnums=1)(ham, sigma)
        updates, state = tx.update(grad, state, sigma)
        sigma = optax.apply_updates(sigma, updates)
        return sigma, state, step + 1, _spherical_gradient_norm(ham, sigma)

    init = (sigma0, tx.init(sigma0), jnp.asarray(0, jnp.int32),
            _spherical_gradient_norm(ham, sigma0))
    sigma, _, steps, gnorm = jax.lax.while_loop(cond, body, init)
    return sigma, steps, gnorm


def _projected_gd(ham, sigma0, key):
    del key
    tx = optax.chain(co.tangent_projection(), optax.sgd(LEARNING_RATE),
                     co.project_onto_sphere(radius="sqrt_n"))
    return _descend(tx, ham, sigma0, min_steps=0)


def _anneal(ham, sigma0, key):
    p = ham.couplings[0].ndim
    tx = co.anneal_sgd(
        LEARNING_RATE,
        field_scale=optax.linear_schedule(anneal_init_scale(p), 0.0, ANNEAL_STEPS),
        key=key, relative_to=None, sphere=True, radius="sqrt_n")
    return _descend(tx, ham, sigma0, min_steps=ANNEAL_STEPS)


METHODS: dict[str, tuple[str, Callable]] = {
    "projected_gd": ("projected GD", _projected_gd),
    "anneal_sgd": ("AnnealSGD (sphere)", _anneal),
}


def _make_runner(method: Callable) -> Callable:
    def run(ham, keys):
        """All starts of one instance: `keys[s]` gives start s and its field key."""

        def one(key):
            init_key, field_key = jax.random.split(key)
            sigma0 = co.sphere_init(init_key, jnp.zeros((ham.n,), jnp.float32))
            sigma, steps, gnorm = method(ham, sigma0, field_key)
            return sigma, landscape.p_spin_energy_per_spin(ham, sigma), steps, gnorm

        return jax.vmap(one)(keys)

    return jax.jit(run)


_RUNNERS = {name: _make_runner(fn) for name, (_, fn) in METHODS.items()}


def cluster_labels(sigmas: np.ndarray, threshold: float = OVERLAP_CLUSTER) -> np.ndarray:
    """The cluster of each configuration under `cluster_minima`'s greedy rule (0, 1, … in order
    of first appearance).

    Examples:
      >>> import numpy as np
      >>> cluster_labels(np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]))
      array([0, 1, 0])
    """
    sigmas = np.asarray(sigmas, dtype=np.float64)
    q = sigmas @ sigmas.T / sigmas.shape[-1]
    representatives: list[int] = []
    labels = np.empty(sigmas.shape[0], dtype=np.int64)
    for a in range(sigmas.shape[0]):
        joined = next((k for k, r in enumerate(representatives) if q[a, r] > threshold), None)
        if joined is None:
            joined = len(representatives)
            representatives.append(a)
        labels[a] = joined
    return labels


def cluster_minima(sigmas: np.ndarray, threshold: float = OVERLAP_CLUSTER) -> tuple[int, float]:
    """Distinct minima and mean pairwise overlap among configurations on the √N sphere.

    Overlap q_ab = σ_a·σ_b/N. Greedy single-linkage: each configuration joins the first cluster
    whose representative it overlaps by more than `threshold`. Returns ``(clusters, mean q_ab
    over a < b)``.

    Examples:
      >>> import numpy as np
      >>> s = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, -1.0]])
      >>> cluster_minima(s)  # q_01 = 1, q_02 = q_12 = 0
      (2, 0.3333333333333333)
    """
    sigmas = np.asarray(sigmas, dtype=np.float64)
    q = sigmas @ sigmas.T / sigmas.shape[-1]
    clusters = int(cluster_labels(sigmas, threshold).max()) + 1 if sigmas.shape[0] else 0
    upper = q[np.triu_indices(sigmas.shape[0], k=1)]
    return clusters, float(np.mean(upper)) if upper.size else 1.0


def overlap_distances(sigmas: np.ndarray) -> np.ndarray:
    """The overlap distance d_ab = 1 − σ_a·σ_b/N between configurations on the √N sphere.

    d_ab = ‖σ_a − σ_b‖²/(2N) ∈ [0, 2]: 0 for the same configuration, 1 for orthogonal ones.

    Examples:
      >>> import numpy as np
      >>> overlap_distances(np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]]))
      array([[0., 1., 2.],
             [1., 0., 1.],
             [2., 1., 0.]])
    """
    sigmas = np.asarray(sigmas, dtype=np.float64)
    return 1.0 - sigmas @ sigmas.T / sigmas.shape[-1]


def _double_centred_eigh(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition (ascending) of B = −½ J D^{∘2} J, J = I − 11ᵀ/M."""
    m = d.shape[0]
    centring = np.eye(m) - np.full((m, m), 1.0 / m)
    b = -0.5 * centring @ (d * d) @ centring
    return np.linalg.eigh((b + b.T) / 2)


def mds_explained(distances: np.ndarray, dims: int = 2) -> float:
    """The share of the embedding's scatter that `classical_mds` keeps in `dims` dimensions:
    Σ_{k ≤ dims} max(λ_k, 0) / Σ_k max(λ_k, 0) (1 when all points coincide).

    Examples:
      >>> import numpy as np
      >>> round(mds_explained(1.0 - np.eye(4), dims=2), 6)  # a regular simplex in R^3
      0.666667
    """
    d = np.asarray(distances, dtype=np.float64)
    positive = np.maximum(_double_centred_eigh(d)[0][::-1], 0.0)
    total = float(positive.sum())
    # All points (numerically) together: nothing is lost; relative to the scale of D.
    if total <= np.finfo(np.float64).eps * max(float(np.abs(d).max()), 1.0) ** 2 * d.shape[0]:
        return 1.0
    return float(positive[:dims].sum() / total)


def classical_mds(distances: np.ndarray, dims: int = 2) -> np.ndarray:
    """Classical (Torgerson) multidimensional scaling: points in `dims` dimensions whose
    Euclidean distances approximate `distances`.

    With D the symmetric (M, M) distance matrix and J = I − 11ᵀ/M the centring matrix,

        B = −½ J D^{∘2} J,   B = Σ_k λ_k v_k v_kᵀ (λ_1 ≥ λ_2 ≥ …),   x_k = √max(λ_k, 0) · v_k,

    the coordinates are the top `dims` eigenvectors scaled by the square roots of their
    eigenvalues (negative ones, from a D that is not Euclidean, clipped to 0). When D is the
    distance matrix of points in R^dims, the embedding recovers it exactly, up to a rigid motion.
    Each axis's sign is fixed so that its largest-magnitude coordinate is positive.

    Args:
      distances: (M, M) symmetric matrix of non-negative distances, zero diagonal.
      dims: number of output dimensions, >= 1.

    Returns:
      (M, dims) float64 coordinates, centred at the origin.

    Raises:
      ValueError: `distances` not a square matrix, or `dims` not in [1, M].

    Examples:
      Points on a line at 0, 1 and 3 come back with their distances:

      >>> import numpy as np
      >>> x = np.array([0.0, 1.0, 3.0])
      >>> y = classical_mds(np.abs(x[:, None] - x[None, :]), dims=1)[:, 0]
      >>> np.round(np.abs(y[:, None] - y[None, :]), 12)
      array([[0., 1., 3.],
             [1., 0., 2.],
             [3., 2., 0.]])

    References:
      Torgerson, *Multidimensional scaling: I. Theory and method*, Psychometrika 1952;
      Borg & Groenen, *Modern Multidimensional Scaling*, Springer 2005, ch. 12.
    """
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distances must be a square matrix, got shape {d.shape}")
    m = d.shape[0]
    if not 1 <= dims <= m:
        raise ValueError(f"dims must be in [1, {m}] (the number of points), got {dims}")
    eigenvalues, eigenvectors = _double_centred_eigh(d)
    top = np.argsort(eigenvalues)[::-1][:dims]
    coordinates = eigenvectors[:, top] * np.sqrt(np.maximum(eigenvalues[top], 0.0))
    rows = np.argmax(np.abs(coordinates), axis=0)
    signs = np.where(coordinates[rows, np.arange(dims)] < 0, -1.0, 1.0)
    return coordinates * signs


def _summary(energies: np.ndarray) -> dict[str, float]:
    e = np.asarray(energies, dtype=np.float64)
    return {"mean": float(e.mean()), "std": float(e.std()), "best": float(e.min()),
            "worst": float(e.max())}


def _embedding(sigmas: np.ndarray, energies: np.ndarray) -> dict[str, Any]:
    """The 2-D MDS embedding of one instance's minima, with their H/N and cluster count."""
    labels = cluster_labels(sigmas)
    distances = overlap_distances(sigmas)
    points = classical_mds(distances, dims=2)
    return {
        "instance": EMBEDDED_INSTANCE,
        "distance": "1 - s_a.s_b/N",
        "coordinates": points.tolist(),
        "energies_per_spin": np.asarray(energies, dtype=np.float64).tolist(),
        "cluster_of_start": labels.tolist(),
        "clusters": int(labels.max()) + 1,
        "explained": mds_explained(distances, dims=2),
    }


# --------------------------------------------------------------------------------------- run
def run_spin_glass(config: SpinGlassConfig) -> dict[str, Any]:
    """Runs the experiment; writes `results.json`, `minima_energies.png` and `field_regimes.png`;
    returns the JSON document (to stdout with `config.as_json`, the tables then go to stderr)."""
    out = sys.stderr if config.as_json else sys.stdout
    start = time.perf_counter()
    e_inf = landscape.threshold_energy(config.p)
    e_0 = landscape.ground_state_energy(config.p)
    root = jax.random.key(config.seed)
    bar = Progress(config.instances * (len(METHODS) + len(FIELD_RATIOS)),
                   enabled=config.progress, unit="run")

    energies = {name: [] for name in METHODS}
    steps = {name: [] for name in METHODS}
    gnorms = {name: [] for name in METHODS}
    regimes = {name: {"clusters": [], "mean_overlap": [], "energies": [], "minima": []}
               for name in FIELD_NAMES}
    unit = field_unit(config.p)
    for i in range(config.instances):
        inst_key, start_key = jax.random.split(jax.random.fold_in(root, i))
        ham = landscape.pure_p_spin(inst_key, config.n, config.p)
        keys = jax.random.split(start_key, config.starts)
        for name in METHODS:
            _, e, s, g = _RUNNERS[name](ham, keys)
            bar.update(description=f"instance {i + 1}/{config.instances}: {METHODS[name][0]}")
            energies[name].extend(np.asarray(e).tolist())
            steps[name].extend(np.asarray(s).tolist())
            gnorms[name].extend(np.asarray(g).tolist())
        for ratio, regime in zip(FIELD_RATIOS, FIELD_NAMES, strict=False):
            h = math.sqrt(ratio * unit)
            # The same couplings (same key) plus a field of strength h along a fixed direction.
            tilted = landscape.pure_p_spin(inst_key, config.n, config.p, field=h)
            sigmas, e, _, _ = _RUNNERS["projected_gd"](tilted, keys)
            clusters, overlap = cluster_minima(np.asarray(sigmas))
            regimes[regime]["clusters"].append(clusters)
            regimes[regime]["mean_overlap"].append(overlap)
            regimes[regime]["energies"].extend(np.asarray(e).tolist())
            regimes[regime]["minima"].append((np.asarray(sigmas), np.asarray(e)))
            bar.update(description=f"instance {i + 1}/{config.instances}: field regime {regime}")
    bar.close()

    document = {
        "config": {
            "n": config.n, "p": config.p, "starts": config.starts,
            "instances": config.instances, "seed": config.seed, "quick": config.quick,
            "learning_rate": LEARNING_RATE, "tolerance": TOLERANCE, "max_steps": MAX_STEPS,
            "anneal_init_scale": anneal_init_scale(config.p), "anneal_steps": ANNEAL_STEPS,
            "anneal_schedule": "linear", "overlap_cluster_threshold": OVERLAP_CLUSTER,
            "normalisation": "ABC: E[H(s)H(s')] = N (s.s'/N)^p, |s|^2 = N",
        },
        "theory": {"threshold": -e_inf, "ground_state": -e_0, "E_inf": e_inf, "E_0": e_0},
        "methods": {
            name: {
                "label": METHODS[name][0],
                **_summary(energies[name]),
                "gap_to_threshold": float(np.mean(energies[name]) + e_inf),
                "energies": energies[name],
                "steps_mean": float(np.mean(steps[name])),
                "steps_max": int(np.max(steps[name])),
                "converged": int(np.sum(np.asarray(gnorms[name]) < TOLERANCE)),
                "runs": len(energies[name]),
            }
            for name in METHODS
        },
        "field_regimes": {
            regime: {
                "h2": ratio * unit,
                "h2_over_p_p_minus_2": ratio if config.p > 2 else None,
                "clusters_per_instance": regimes[regime]["clusters"],
                "clusters_mean": float(np.mean(regimes[regime]["clusters"])),
                "mean_overlap": float(np.mean(regimes[regime]["mean_overlap"])),
                "energy_mean": float(np.mean(regimes[regime]["energies"])),
                "energy_min": float(np.min(regimes[regime]["energies"])),
                "energy_max": float(np.max(regimes[regime]["energies"])),
                "paper_regime": PAPER_REGIMES[regime],
                "embedding": _embedding(*regimes[regime]["minima"][EMBEDDED_INSTANCE]),
            }
            for ratio, regime in zip(FIELD_RATIOS, FIELD_NAMES, strict=False)
        },
    }
    os.makedirs(config.output_dir, exist_ok=True)
    figure = os.path.abspath(os.path.join(config.output_dir, "minima_energies.png"))
    regimes_figure = os.path.abspath(os.path.join(config.output_dir, "field_regimes.png"))
    json_path = os.path.abspath(os.path.join(config.output_dir, "results.json"))
    document["figure"] = plot_minima(document, figure)
    document["regimes_figure"] = plot_regimes(document, regimes_figure)
    document["total_time"] = time.perf_counter() - start
    report.publish(document, format_tables(document), json_path, as_json=config.as_json,
                   out=out)
    return document


# ------------------------------------------------------------------------------------ report
def format_tables(document: dict[str, Any]) -> str:
    """The minima table and the field-regime table as fixed-width text."""
    c, th = document["config"], document["theory"]
    lines = [
        (f"pure spherical {c['p']}-spin, N = {c['n']}, {c['instances']} instance(s) x "
         f"{c['starts']} starts (ABC normalisation)"),
        (f"{'method':<22} {'mean H/N ± std':>20} {'best':>9} {'worst':>9} "
         f"{'mean − (−E_∞)':>14} {'steps':>8}"),
    ]
    lines.append("-" * len(lines[-1]))
    one_run = c["instances"] * c["starts"] < 2

    def spread(std: float) -> str:
        return f"{'–':<6}" if one_run else f"{std:.4f}"

    for m in document["methods"].values():
        lines.append(
            f"{m['label']:<22} {m['mean']:>11.4f} ± {spread(m['std'])} {m['best']:>9.4f} "
            f"{m['worst']:>9.4f} {m['gap_to_threshold']:>14.4f} {m['steps_mean']:>8.0f}"
        )
    lines.append(f"{'threshold −E_∞':<22} {th['threshold']:>11.4f}")
    lines.append(f"{'ground state −E_0':<22} {th['ground_state']:>11.4f}")
    lines.append("")
    unit = f"p(p−2) = {c['p'] * (c['p'] - 2)}" if c["p"] > 2 else "1 (p = 2)"
    lines.append(f"field trivialisation: projected GD on H + <h, s>, |h|^2 = N h^2, "
                 f"h^2 in units of {unit}")
    header = (f"{'field':<14} {'h^2':>7} {'h^2/unit':>9} {'distinct minima':>16} "
              f"{'mean overlap':>13} {'mean H/N incl. field':>21}")
    lines += [header, "-" * len(header)]
    for name, r in document["field_regimes"].items():
        ratio = r["h2"] / field_unit(c["p"])
        clusters = "/".join(str(k) for k in r["clusters_per_instance"])
        lines.append(
            f"{name:<14} {r['h2']:>7.2f} {ratio:>9.2f} {clusters + ' of ' + str(c['starts']):>16} "
            f"{r['mean_overlap']:>13.3f} {r['energy_mean']:>21.4f}"
        )
    lines.append("")
    lines.append("regimes (Chaudhari & Soatto's names; the mapping of h^2 to them is ours):")
    for name, r in document["field_regimes"].items():
        clusters = "/".join(str(k) for k in r["clusters_per_instance"])
        label = f"{r['paper_regime']} ({FIELD_LABELS[name]}):"
        lines.append(
            f"  {label:<34} distinct minima {clusters} of {c['starts']} starts, "
            f"mean overlap {r['mean_overlap']:.3f}, "
            f"H/N in [{r['energy_min']:.4f}, {r['energy_max']:.4f}]"
        )
    if document.get("regimes_figure"):
        lines.append(f"regimes figure: {document['regimes_figure']}")
    return "\n".join(lines)


def plot_minima(document: dict[str, Any], path: str) -> str:
    """Histogram of H/N at the minima per method, with −E_∞ and −E_0 marked; returns `path`."""
    c, th = document["config"], document["theory"]
    fig, ax = report.new_figure(figsize=(7.5, 4.5))
    all_e = [e for m in document["methods"].values() for e in m["energies"]]
    low = min(min(all_e), th["ground_state"]) - 0.01
    high = max(all_e) + 0.01
    bins = np.linspace(low, high, 31)
    styles = report.method_styles(list(document["methods"]))
    for name, m in document["methods"].items():
        ax.hist(m["energies"], bins=bins, alpha=0.55, color=styles[name]["color"],
                label=f"{m['label']}: mean {m['mean']:.3f}")
    ax.axvline(th["threshold"], color="k", ls="--", label=f"threshold −E_∞ = {th['threshold']:.3f}")
    ax.axvline(th["ground_state"], color="tab:red", ls="-",
               label=f"ground state −E_0 = {th['ground_state']:.3f}")
    ax.set_xlabel("H/N at the minimum reached")
    ax.set_ylabel("number of runs")
    ax.set_title(f"pure spherical {c['p']}-spin, N = {c['n']}: "
                 f"{c['instances']} instance(s) × {c['starts']} random starts")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.6)  # room for the legend above the bars
    gd = document["methods"]["projected_gd"]
    below = sum(e < th["threshold"] for e in gd["energies"])
    side = "above" if gd["gap_to_threshold"] > 0 else "below"
    caption = (f"Projected GD stops on average {abs(gd['gap_to_threshold']):.3f} {side} the "
               f"threshold −E_∞ ({below} of {gd['runs']} runs below it): at finite N descent "
               "from random starts typically stops above −E_∞, which it approaches as N → ∞.")
    fig.text(0.01, 0.01, textwrap.fill(caption, width=120), fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    report.save_figure(fig, path, dpi=110)
    return path


def plot_regimes(document: dict[str, Any], path: str) -> str:
    """The minima found by projected GD in the three field regimes, embedded in 2-D; returns
    `path`.

    One panel per regime, named as in Chaudhari & Soatto: *exponential* (no field: exponentially
    many minima), *polynomial* (the intermediate field, h² = ½·p(p−2)) and *trivial* (the strong
    field, h² = 4·p(p−2): a single minimum). This mapping of our h² values to the paper's
    regimes is ours, stated from the regimes' definitions (trivialisation above h² = p(p−2)),
    not taken from the paper's figure. Each panel shows the minima of one instance
    (`EMBEDDED_INSTANCE`) at the classical-MDS coordinates of the overlap distance
    d_ab = 1 − σ_a·σ_b/N (`classical_mds`; minima in one cluster fall on one point), coloured by
    H/N (field term included) on a colour scale shared by the panels, with the number of
    distinct minima (clusters of overlap > `OVERLAP_CLUSTER`) in the title. Reads only the
    document (`field_regimes[*]["embedding"]`), so it can be redrawn from `results.json`.
    """
    c = document["config"]
    regimes = document["field_regimes"]
    energies = [e for r in regimes.values() for e in r["embedding"]["energies_per_spin"]]
    low, high = min(energies), max(energies)
    points = {name: np.asarray(r["embedding"]["coordinates"], dtype=np.float64).reshape(-1, 2)
              for name, r in regimes.items()}
    # One scale for all panels (d is the same distance in each): the spread is comparable.
    stacked = np.concatenate(list(points.values()))
    half = 0.6 * max(float(np.ptp(stacked, axis=0).max()), 0.1)
    fig, axes = report.new_figure(1, len(regimes), figsize=(4.2 * len(regimes), 4.8),
                                  squeeze=False)
    scatter = None
    for ax, (name, r) in zip(axes[0], regimes.items(), strict=False):
        emb, xy = r["embedding"], points[name]
        labels = np.asarray(emb["cluster_of_start"])
        sizes = np.bincount(labels)[labels]  # starts that reached the same minimum
        scatter = ax.scatter(xy[:, 0], xy[:, 1], c=emb["energies_per_spin"], cmap="viridis",
                             vmin=low, vmax=high, s=30 + 25 * np.sqrt(sizes), edgecolors="k",
                             linewidths=0.4, alpha=0.85)
        for k in np.unique(labels):
            first = int(np.argmax(labels == k))
            if sizes[first] > 1:
                ax.annotate(f"×{sizes[first]}", xy[first], xytext=(7, 5),
                            textcoords="offset points", fontsize=7, zorder=4)
        centre = xy.mean(axis=0)
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[1] - half, centre[1] + half)
        ax.set_aspect("equal")
        minima = "distinct minimum" if emb["clusters"] == 1 else "distinct minima"
        ax.set_title(f"{r['paper_regime']}: {FIELD_LABELS[name]}, h² = {r['h2']:.2f}\n"
                     f"{emb['clusters']} {minima} of {len(labels)} starts", fontsize=10)
        e = emb["energies_per_spin"]
        kept = ("one cluster: a single point" if emb["clusters"] == 1 else
                f"2-D keeps {100 * emb['explained']:.0f}% of the MDS scatter")
        ax.text(0.03, 0.03, f"H/N ∈ [{min(e):.3f}, {max(e):.3f}]\n{kept}",
                transform=ax.transAxes, fontsize=8)
        ax.set_xlabel("MDS 1")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("MDS 2")
    fig.suptitle(f"minima of projected GD on a pure spherical {c['p']}-spin + field, "
                 f"N = {c['n']} (instance {EMBEDDED_INSTANCE}): classical MDS of "
                 "d = 1 − σ_a·σ_b/N", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    bar = fig.add_axes((0.915, 0.15, 0.015, 0.7))
    fig.colorbar(scatter, cax=bar, label="H/N at the minimum (field included)")
    report.save_figure(fig, path, dpi=110)
    return path


# ----------------------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `spin-glass`."""
    parser.add_argument("--quick", action="store_true",
                        help="N = 50, 1 instance x 16 starts (unless given explicitly)")
    parser.add_argument("--n", type=int_at_least(2), default=None,
                        help=f"number of spins (default {DEFAULT['n']}, {QUICK['n']} with --quick)")
    parser.add_argument("--p", type=int_at_least(2), default=3,
                        help="degree of the interaction (default 3)")
    parser.add_argument("--starts", type=int_at_least(2), default=None,
                        help=f"random starts per instance (default {DEFAULT['starts']}, "
                             f"{QUICK['starts']} with --quick)")
    parser.add_argument("--instances", type=int_at_least(1), default=None,
                        help=f"disorder instances (default {DEFAULT['instances']}, "
                             f"{QUICK['instances']} with --quick)")
    parser.add_argument("--seed", type=int_at_least(0), default=0, help="random seed (default 0)")
    add_output_options(parser, "spin-glass",
                       "results.json, minima_energies.png and field_regimes.png",
                       "print the JSON document to stdout (tables go to stderr)")


def config_from_args(args: argparse.Namespace) -> SpinGlassConfig:
    """The `SpinGlassConfig` of parsed options (`--quick` fills what is not given)."""
    base = QUICK if args.quick else DEFAULT
    n = args.n if args.n is not None else base["n"]
    if n ** args.p > MAX_COUPLINGS:
        message = (f"--n/--p: the coupling tensor would have n**p = {n ** args.p} entries, "
                   f"more than {MAX_COUPLINGS}")
        raise ValueError(message)
    return SpinGlassConfig(
        n=n, p=args.p,
        starts=args.starts if args.starts is not None else base["starts"],
        instances=args.instances if args.instances is not None else base["instances"],
        seed=args.seed, output_dir=args.output_dir, as_json=args.json,
        progress=not args.no_progress, quick=args.quick,
    )


def run_command(args: argparse.Namespace) -> int:
    """Runs `spin-glass`; a coupling tensor too large exits with status 2, like argparse."""
    try:
        config = config_from_args(args)
    except ValueError as e:
        print(f"complexity-optax spin-glass: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    run_spin_glass(config)
    return 0


__all__ = [
    "SpinGlassConfig",
    "add_arguments",
    "classical_mds",
    "cluster_labels",
    "cluster_minima",
    "mds_explained",
    "overlap_distances",
    "plot_regimes",
    "run_command",
    "run_spin_glass",
]
