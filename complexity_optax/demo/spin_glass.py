# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`python -m complexity_optax spin-glass`: where descent stops on a spherical p-spin glass.

On pure spherical p-spin glasses in the Auffinger-Ben Arous-Cerny normalisation,

    H(σ) = N^(−(p−1)/2) Σ_{i1..ip} J_{i1..ip} σ_i1 ⋯ σ_ip,   J i.i.d. N(0, 1),   ‖σ‖² = N,

two optimizers run from random starts on the sphere until the Riemannian gradient vanishes:

* projected gradient descent: ``optax.chain(tangent_projection(), optax.sgd(lr),
  project_onto_sphere())``;
* AnnealSGD: `anneal_sgd(lr, field_scale=linear_schedule(γ₀, 0, τ), key=key, relative_to=None, sphere=True, radius="sqrt_n")`, the gradient tilted by a random field
  γ(t)·h (‖h‖ ≈ √N, one field per start) annealed linearly to 0 at step τ, then plain descent.

The energies per spin H/N at the minima are compared with the theory: the threshold −E_∞(p)
(where descent from random starts stops as N → ∞) and the ground state −E_0(p).

Then the field-trivialisation regimes: the same descent on H(σ) + ⟨h, σ⟩ with a static field,
‖h‖² = N·h², for h² = 0, an intermediate and a strong value, in units of p(p−2), the threshold
above which a single minimum is expected (Belius, Cerny, Nakajima & Schmidt; stated in the notes
from memory, so the strong value is taken well above it). For each, the number of distinct minima
among the starts (clusters of overlap σ_a·σ_b/N > 0.99) and the mean pairwise overlap.

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
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

import complexity_optax as co
from complexity_optax import landscape
from complexity_optax.demo.arguments import int_at_least
from complexity_optax.demo import report


LEARNING_RATE = 0.1
TOLERANCE = 1e-4  # stop when ‖∇_sph H‖/√N < TOLERANCE (H/N is then converged to ~1e-8)
MAX_STEPS = 20_000
ANNEAL_STEPS = 500  # τ: AnnealSGD's field reaches 0 at this step
OVERLAP_CLUSTER = 0.99
# Static-field regimes: h² as a multiple of p(p−2) (of 1 for p = 2, where p(p−2) = 0).
FIELD_RATIOS = (0.0, 0.5, 4.0)
FIELD_NAMES = ("none", "intermediate", "strong")
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


QUICK = dict(n=50, starts=16, instances=1)
DEFAULT = dict(n=100, starts=32, instances=2)


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
    tx = optax.chain(co.tangent_projection(), optax.sgd(LEARNING_RATE), co.project_onto_sphere(radius="sqrt_n"))
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
    n = sigmas.shape[-1]
    q = sigmas @ sigmas.T / n
    representatives: list[int] = []
    for a in range(sigmas.shape[0]):
        if not any(q[a, r] > threshold for r in representatives):
            representatives.append(a)
    upper = q[np.triu_indices(sigmas.shape[0], k=1)]
    return len(representatives), float(np.mean(upper)) if upper.size else 1.0


def _summary(energies: np.ndarray) -> dict[str, float]:
    e = np.asarray(energies, dtype=np.float64)
    return {"mean": float(e.mean()), "std": float(e.std()), "best": float(e.min()),
            "worst": float(e.max())}


# --------------------------------------------------------------------------------------- run
def run_spin_glass(config: SpinGlassConfig) -> dict[str, Any]:
    """Runs the experiment; writes `results.json` and `minima_energies.png`; returns the
    JSON document (to stdout with `config.as_json`, the tables then go to stderr)."""
    out = sys.stderr if config.as_json else sys.stdout
    start = time.perf_counter()
    e_inf = landscape.threshold_energy(config.p)
    e_0 = landscape.ground_state_energy(config.p)
    root = jax.random.key(config.seed)
    show = config.progress and sys.stderr.isatty()

    def progress(text: str) -> None:
        if show:
            print(f"\r{text:<70}", end="", file=sys.stderr, flush=True)

    energies = {name: [] for name in METHODS}
    steps = {name: [] for name in METHODS}
    gnorms = {name: [] for name in METHODS}
    regimes = {name: {"clusters": [], "mean_overlap": [], "energies": []} for name in FIELD_NAMES}
    unit = field_unit(config.p)
    for i in range(config.instances):
        inst_key, start_key = jax.random.split(jax.random.fold_in(root, i))
        ham = landscape.pure_p_spin(inst_key, config.n, config.p)
        keys = jax.random.split(start_key, config.starts)
        for name in METHODS:
            progress(f"instance {i + 1}/{config.instances}: {METHODS[name][0]}")
            _, e, s, g = _RUNNERS[name](ham, keys)
            energies[name].extend(np.asarray(e).tolist())
            steps[name].extend(np.asarray(s).tolist())
            gnorms[name].extend(np.asarray(g).tolist())
        for ratio, regime in zip(FIELD_RATIOS, FIELD_NAMES):
            progress(f"instance {i + 1}/{config.instances}: field regime {regime}")
            h = math.sqrt(ratio * unit)
            # The same couplings (same key) plus a field of strength h along a fixed direction.
            tilted = landscape.pure_p_spin(inst_key, config.n, config.p, field=h)
            sigmas, e, _, _ = _RUNNERS["projected_gd"](tilted, keys)
            clusters, overlap = cluster_minima(np.asarray(sigmas))
            regimes[regime]["clusters"].append(clusters)
            regimes[regime]["mean_overlap"].append(overlap)
            regimes[regime]["energies"].extend(np.asarray(e).tolist())
    progress("")
    if show:
        print("\r", end="", file=sys.stderr)

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
            }
            for ratio, regime in zip(FIELD_RATIOS, FIELD_NAMES)
        },
    }
    os.makedirs(config.output_dir, exist_ok=True)
    figure = os.path.abspath(os.path.join(config.output_dir, "minima_energies.png"))
    json_path = os.path.abspath(os.path.join(config.output_dir, "results.json"))
    document["figure"] = plot_minima(document, figure)
    document["total_time"] = time.perf_counter() - start
    report.publish(document, format_tables(document), json_path, as_json=config.as_json,
                   out=out)
    return document


# ------------------------------------------------------------------------------------ report
def format_tables(document: dict[str, Any]) -> str:
    """The minima table and the field-regime table as fixed-width text."""
    c, th = document["config"], document["theory"]
    lines = [
        f"pure spherical {c['p']}-spin, N = {c['n']}, {c['instances']} instance(s) x "
        f"{c['starts']} starts (ABC normalisation)",
        f"{'method':<22} {'mean H/N ± std':>20} {'best':>9} {'worst':>9} {'mean − (−E_∞)':>14} "
        f"{'steps':>8}",
    ]
    lines.append("-" * len(lines[-1]))
    for m in document["methods"].values():
        lines.append(
            f"{m['label']:<22} {m['mean']:>11.4f} ± {m['std']:.4f} {m['best']:>9.4f} "
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
    return "\n".join(lines)


def plot_minima(document: dict[str, Any], path: str) -> str:
    """Histogram of H/N at the minima per method, with −E_∞ and −E_0 marked; returns `path`."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    c, th = document["config"], document["theory"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    all_e = [e for m in document["methods"].values() for e in m["energies"]]
    low = min(min(all_e), th["ground_state"]) - 0.01
    high = max(all_e) + 0.01
    bins = np.linspace(low, high, 31)
    for m, colour in zip(document["methods"].values(), ("tab:blue", "tab:orange")):
        ax.hist(m["energies"], bins=bins, alpha=0.55, color=colour,
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
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
    parser.add_argument("--output-dir", default=os.path.join("outputs", "spin-glass"),
                        help="folder for results.json and minima_energies.png "
                             "(default: ./outputs/spin-glass)")
    parser.add_argument("--json", action="store_true",
                        help="print the JSON document to stdout (tables go to stderr)")
    parser.add_argument("--no-progress", action="store_true", help="no progress line")


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


__all__ = ["SpinGlassConfig", "cluster_minima", "run_spin_glass", "add_arguments", "run_command"]
