# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""`python -m complexity_optax landscape`: what the minima of the demo's MLP look like.

Trains the demo's digits MLP (64-64-10, tanh, 4810 parameters) twice, from seeds $s$ and $s+1$,
with one of the demo's methods, then draws (all from `complexity_optax.landscape`):

* 1D slices $L(\theta_A + \alpha d)$ through the first minimum along a filter-normalised random
  direction (Li et al. 2018, $\alpha \in [-1, 1]$) and along the top Hessian eigenvector $e_1$
  ($\alpha \in [-r, r]$, chosen from the curvature by `quadratic_range`: $r =
  \sqrt{2\Delta/\lambda_1}$, where the quadratic model $\tfrac12\lambda_1\alpha^2$ rises by
  $\Delta$, for the largest $\Delta \in \{1, \tfrac12, \tfrac14, \dots\}$ at which the mean
  of the loss measured at $\pm r$ does rise by $\Delta$ to within 25% (the mean cancels the
  gradient's linear term); so the eigen slices show the region where the loss is quadratic,
  and at their edges it rises by about $\Delta$ on average, recorded with the measured rise in
  `results.json`. On a trained cross-entropy net that region is small: the curvature scales
  with the loss itself, and $\Delta$ ends up a fraction of the loss at the minimum);
* 2D contours on the plane of two random filter-normalised directions and on the plane of the
  two top Hessian eigenvectors;
* the loss along the straight line from $\theta_A$ to $\theta_B$ and along a quadratic Bezier
  curve trained between them (Garipov et al. 2018), with the loss barrier of each: the largest
  rise above the chord between the two ends.

Writes `results.json` (every number) and `landscape.png` (four panels) to the output folder.

References:
  Li, Xu, Taylor, Studer and Goldstein, *Visualizing the loss landscape of neural nets*,
  NeurIPS 2018; Garipov, Izmailov, Podoprikhin, Vetrov and Wilson, *Loss surfaces, mode
  connectivity, and fast ensembling of DNNs*, NeurIPS 2018; Draxler et al., *Essentially no
  barriers in neural network energy landscape*, ICML 2018.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import os
import sys
import textwrap
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import complexity_optax as co
from complexity_optax import landscape
from complexity_optax._src.common import functions
from complexity_optax.demo import methods as methods_lib
from complexity_optax.demo import model as model_lib
from complexity_optax.demo import report
from complexity_optax.demo.arguments import (
    add_output_options,
    demo_method,
    int_at_least,
    positive_int,
)
from complexity_optax.demo.progress import Progress

# (epochs, points per 1D slice, points per 2D axis, points on the paths, curve training steps)
DEFAULT = dict(epochs=30, points_1d=41, points_2d=25, path_points=41, curve_steps=1000)
QUICK = dict(epochs=8, points_1d=21, points_2d=13, path_points=21, curve_steps=200)
CURVE_LEARNING_RATE = 1e-2
CURVE_POINTS_PER_STEP = 4
RANDOM_RANGE = 1.0  # Li et al.: α ∈ [−1, 1] along filter-normalised directions
QUADRATIC_RISE = 1.0  # the largest rise Δ of the quadratic model tried for the eigen slices
QUADRATIC_TOLERANCE = 0.25  # |measured rise / Δ − 1| accepted as "quadratic"
RANGE_HALVINGS = 40  # Δ down to 2⁻⁴⁰: far below float32 resolution of the loss
CURVE_OPTIMIZER = optax.adam(CURVE_LEARNING_RATE)  # one object: the curve fit compiles once


@dataclasses.dataclass(frozen=True)
class LandscapeConfig:
    """What to run and where to write it."""

    epochs: int = DEFAULT["epochs"]
    method: str = "adam"
    points_1d: int = DEFAULT["points_1d"]
    points_2d: int = DEFAULT["points_2d"]
    path_points: int = DEFAULT["path_points"]
    curve_steps: int = DEFAULT["curve_steps"]
    seed: int = 0
    output_dir: str = os.path.join("outputs", "landscape")
    as_json: bool = False
    progress: bool = True
    quick: bool = False


# --------------------------------------------------------------------------------------- run
def _train(config: LandscapeConfig, data, seed: int):
    from complexity_optax.demo import spectrum

    spec = spectrum.SpectrumConfig(epochs=config.epochs, method=config.method, seed=seed)
    return spectrum.train(spec, data, lambda epoch, loss: None)


# `loss_fn` is a pytree (`functions.as_pytree`): a new closure of the same code over arrays of the
# same shapes reuses the compiled program.
@jax.jit
def _top_eigenpairs(loss_fn, params, x, y, key):
    _, _, hvp = co.value_grad_and_hvp(loss_fn, params, x, y)
    # The library's default stopping rule: Ritz residuals ≤ 1e-4·‖H‖.
    ritz = landscape.top_eigenvalues(hvp, params, key, k=2, return_vectors=True)
    return ritz.eigenvalues, ritz.eigenvectors


@jax.jit
def _loss_at_alpha(loss_fn, params, direction, x, y, alpha):
    return loss_fn(jax.tree.map(lambda p, d: p + (alpha * d).astype(p.dtype), params,
                                direction), x, y)


def _loss_along(loss_fn, params, direction, x, y, alpha: float) -> float:
    """`L(θ + α d)` for one float `alpha` (one compiled program for every α)."""
    return float(_loss_at_alpha(functions.as_pytree(loss_fn), params, direction, x, y,
                                jnp.float32(alpha)))


def _top_eigen_directions(loss_fn, params, x, y, key):
    """The two top Hessian eigenpairs at `params` (Lanczos, one compiled program), vectors as
    parameter pytrees."""
    eigenvalues, eigenvectors = _top_eigenpairs(functions.as_pytree(loss_fn), params, x, y, key)
    return np.asarray(eigenvalues), landscape.eigenvector_directions(eigenvectors)


def quadratic_range(loss_at, curvature: float, *, rise: float = QUADRATIC_RISE,
                    tolerance: float = QUADRATIC_TOLERANCE,
                    halvings: int = RANGE_HALVINGS) -> dict[str, float]:
    r"""The half-width $r$ of a slice along an eigenvector where the loss is still quadratic.

    For $\Delta = 	ext{rise}\cdot 2^{-j}$, $j = 0, 1, \dots$, takes $r = \sqrt{2\Delta/\lambda}$
    (where the quadratic model $	frac12\lambdalpha^2$ rises by $\Delta$) and measures the
    symmetric rise $\delta(r) = 	frac12[L(r) + L(-r)] - L(0)$ (the gradient's linear term and
    the cubic term cancel); returns the first (largest) $r$ with
    $|\delta(r)/\Delta - 1| \le$ `tolerance`, or the last one tried. Two loss evaluations per
    try.

    Args:
      loss_at: `alpha -> L(θ + α e)` for a float `alpha`.
      curvature: $\lambda > 0$, the curvature along $e$ (its Hessian eigenvalue).
      rise: the largest $\Delta$ tried.
      tolerance: the accepted relative departure of the measured rise from $\Delta$.
      halvings: the most halvings of $\Delta$.

    Returns:
      `{"radius": r, "quadratic_rise": Δ, "measured_rise": δ(r), "quadratic": bool}`.

    Examples:
      >>> quartic = lambda a: 0.5 * a**2 + 10.0 * a**4  # quadratic only for |α| ≪ 0.2
      >>> out = quadratic_range(quartic, 1.0)
      >>> (round(out["radius"], 4), out["quadratic"],
      ...  round(out["measured_rise"] / out["quadratic_rise"], 3))
      (0.0884, True, 1.156)
    """
    if not curvature > 0.0 or not math.isfinite(curvature):
        raise ValueError(f"curvature must be a positive finite number, got {curvature}")
    base = float(loss_at(0.0))
    out = {}
    for j in range(halvings + 1):
        delta = rise * 2.0**-j
        radius = math.sqrt(2.0 * delta / curvature)
        measured = 0.5 * (float(loss_at(radius)) + float(loss_at(-radius))) - base
        out = {"radius": radius, "quadratic_rise": delta, "measured_rise": measured,
               "quadratic": bool(abs(measured / delta - 1.0) <= tolerance)}
        if out["quadratic"]:
            break
    return out


def symmetric_coordinates(radius: float, points: int) -> jax.Array:
    """`points` evenly spaced coordinates on [−radius, radius] (rounded up to an odd count) whose
    middle one is exactly 0, so that every slice passes through the minimum itself.

    Examples:
      >>> symmetric_coordinates(1.0, 4).tolist()
      [-1.0, -0.5, 0.0, 0.5, 1.0]
    """
    half = points // 2
    return (jnp.arange(-half, half + 1, dtype=jnp.float32) * (radius / max(half, 1)))


def run_landscape(config: LandscapeConfig) -> dict[str, Any]:
    """Trains twice, computes slices, paths and barriers; writes `results.json` and
    `landscape.png`; returns the JSON document (to stdout with `config.as_json`, the report
    then goes to stderr)."""
    from complexity_optax.demo.data import load_digits_split

    out = sys.stderr if config.as_json else sys.stdout
    bar = Progress(enabled=config.progress, unit="phase")
    progress = bar.message

    start = time.perf_counter()
    data = load_digits_split()
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    progress(f"training {config.method} from seed {config.seed} ...")
    graphdef, params_a, losses_a = _train(config, data, config.seed)
    progress(f"training {config.method} from seed {config.seed + 1} ...")
    _, params_b, losses_b = _train(config, data, config.seed + 1)
    train_time = time.perf_counter() - start
    loss_fn = model_lib.make_loss_fn(graphdef)
    keys = jax.random.split(jax.random.fold_in(jax.random.key(config.seed), 0x1A4D), 4)

    progress("slices along random and eigen directions ...")
    d1 = landscape.random_direction(keys[0], params_a)
    d2 = landscape.random_direction(keys[1], params_a)
    eigenvalues, (e1, e2) = _top_eigen_directions(loss_fn, params_a, x, y, keys[2])
    along_e1 = functools.partial(_loss_along, loss_fn, params_a, e1, x, y)
    quadratic = quadratic_range(along_e1, float(eigenvalues[0]))
    eigen_range = quadratic["radius"]
    alphas = symmetric_coordinates(RANDOM_RANGE, config.points_1d)
    eig_alphas = symmetric_coordinates(eigen_range, config.points_1d)
    grid = symmetric_coordinates(RANDOM_RANGE, config.points_2d)
    eig_grid = symmetric_coordinates(eigen_range, config.points_2d)
    slice_random = landscape.loss_slice_1d(loss_fn, params_a, d1, alphas, x, y)
    slice_eigen = landscape.loss_slice_1d(loss_fn, params_a, e1, eig_alphas, x, y)
    plane_random = landscape.loss_slice_2d(loss_fn, params_a, d1, d2, grid, grid, x, y)
    plane_eigen = landscape.loss_slice_2d(loss_fn, params_a, e1, e2, eig_grid, eig_grid, x, y)

    progress("straight line and trained Bezier curve between the two minima ...")
    ts = jnp.linspace(0.0, 1.0, config.path_points)
    line = landscape.linear_path_losses(loss_fn, params_a, params_b, ts, x, y)
    curve_start = time.perf_counter()
    fit = landscape.fit_connecting_curve(
        loss_fn, params_a, params_b, keys[3], x, y, optimizer=CURVE_OPTIMIZER,
        num_steps=config.curve_steps, num_points=CURVE_POINTS_PER_STEP)
    curve = landscape.curve_losses(loss_fn, params_a, fit.control, params_b, ts, x, y)
    curve_time = time.perf_counter() - curve_start
    bar.close()

    def floats(a) -> list:
        return np.asarray(a, np.float64).tolist()

    line_barrier = float(landscape.loss_barrier(ts, line))
    curve_barrier = float(landscape.loss_barrier(ts, curve))
    distance = float(optax.tree.norm(jax.tree.map(lambda a, b: b - a, params_a, params_b)))
    document = {
        "config": {
            "method": config.method, "epochs": config.epochs, "seeds": [config.seed,
                                                                          config.seed + 1],
            "quick": config.quick, "points_1d": config.points_1d,
            "points_2d": config.points_2d, "path_points": config.path_points,
            "curve": "quadratic Bezier", "curve_steps": config.curve_steps,
            "curve_optimizer": f"adam({CURVE_LEARNING_RATE})",
            "curve_points_per_step": CURVE_POINTS_PER_STEP,
            "normalization": "filter (Li et al. 2018), biases ignored",
            "model": "MLP 64-64-10, tanh", "parameters": model_lib.num_params(params_a),
            "loss": "full-batch mean cross-entropy on the 1347 training digits",
        },
        "train_loss": {"a": losses_a, "b": losses_b},
        "loss_a": float(line[0]),
        "loss_b": float(line[-1]),
        "distance": distance,
        "top_eigenvalues": floats(eigenvalues),
        "eigen_range": eigen_range,
        "eigen_range_rule": (f"r = sqrt(2Δ/λ1), the largest Δ in {QUADRATIC_RISE:g}·2^-j whose "
                             f"measured rise along e1 is Δ within {100 * QUADRATIC_TOLERANCE:g}%"),
        "eigen_quadratic_rise": quadratic["quadratic_rise"],
        "eigen_measured_rise": quadratic["measured_rise"],
        "eigen_range_quadratic": quadratic["quadratic"],
        "slices": {
            "random": {"alphas": floats(alphas), "losses": floats(slice_random)},
            "eigen": {"alphas": floats(eig_alphas), "losses": floats(slice_eigen)},
        },
        "planes": {
            "random": {"coordinates": floats(grid), "losses": floats(plane_random)},
            "eigen": {"coordinates": floats(eig_grid), "losses": floats(plane_eigen)},
        },
        "paths": {
            "ts": floats(ts),
            "line": floats(line),
            "curve": floats(curve),
            "curve_train_losses": floats(fit.train_losses),
        },
        "barrier": {"line": line_barrier, "curve": curve_barrier},
        "train_time": train_time,
        "curve_time": curve_time,
    }
    os.makedirs(config.output_dir, exist_ok=True)
    figure = os.path.abspath(os.path.join(config.output_dir, "landscape.png"))
    json_path = os.path.abspath(os.path.join(config.output_dir, "results.json"))
    document["figure"] = plot_landscape(document, figure)
    document["total_time"] = time.perf_counter() - start
    report.publish(document, format_report(document), json_path, as_json=config.as_json,
                   out=out)
    return document


# ------------------------------------------------------------------------------------ report
def _caption(document: dict[str, Any]) -> str:
    b = document["barrier"]
    ratio = b["curve"] / b["line"] if b["line"] > 0 else float("nan")
    return (f"The straight line between the two minima (distance {document['distance']:.3g}) "
            f"rises {b['line']:.3g} above the chord between its ends; the trained Bezier curve "
            f"rises {b['curve']:.3g} ({100 * ratio:.1f}% of the line's barrier).")


def format_report(document: dict[str, Any]) -> str:
    """The numbers as text."""
    c, s = document["config"], document["slices"]
    top = ", ".join(f"{v:.4g}" for v in document["top_eigenvalues"])
    return "\n".join([
        f"Loss landscape of the digits MLP ({c['parameters']} parameters), {c['epochs']} epochs "
        f"of {c['method']} from seeds {c['seeds'][0]} and {c['seeds'][1]}",
        f"  loss at the minima        {document['loss_a']:.4g} and {document['loss_b']:.4g}",
        f"  top Hessian eigenvalues   {top}   (eigen slices over ±{document['eigen_range']:.3g}: "
        f"the quadratic model rises {document['eigen_quadratic_rise']:.3g} there, the loss "
        f"{document['eigen_measured_rise']:.3g})",
        f"  1D random slice           max {max(s['random']['losses']):.4g} at |α| = "
        f"{RANDOM_RANGE:g} (filter-normalised)",
        f"  1D eigen slice            max {max(s['eigen']['losses']):.4g}",
        f"  barrier, straight line    {document['barrier']['line']:.4g}",
        f"  barrier, Bezier curve     {document['barrier']['curve']:.4g}   "
        f"({c['curve_steps']} steps of {c['curve_optimizer']})",
        textwrap.fill(_caption(document), width=100, initial_indent="  ",
                      subsequent_indent="  "),
    ])


def plot_landscape(document: dict[str, Any], path: str) -> str:
    """Four panels: 1D slices, two contour plots, line vs curve. Returns `path`."""
    c, s, p = document["config"], document["slices"], document["planes"]
    fig, axes = report.new_figure(2, 2, figsize=(12, 9.5))
    ax = axes[0, 0]
    r = document["eigen_range"]
    ax.plot(s["random"]["alphas"], s["random"]["losses"], label="random direction (filter-norm.)")
    ax.plot(np.asarray(s["eigen"]["alphas"]) / r, s["eigen"]["losses"], "--",
            label=f"top eigenvector, α/{r:.3g}")
    ax.set_yscale("log")
    ax.set_xlabel("α (eigen slice rescaled to [−1, 1])")
    ax.set_ylabel("training loss")
    ax.set_title("1D slices through minimum A")
    ax.legend(fontsize=8)
    for ax, name, title in ((axes[0, 1], "random", "two random filter-normalised directions"),
                            (axes[1, 0], "eigen", "top-2 Hessian eigenvectors")):
        coords = np.asarray(p[name]["coordinates"])
        z = np.log10(np.maximum(np.asarray(p[name]["losses"]), 1e-12))
        cs = ax.contourf(coords, coords, z.T, levels=20, cmap="viridis")
        ax.contour(coords, coords, z.T, levels=10, colors="k", linewidths=0.4)
        fig.colorbar(cs, ax=ax, label="log10 training loss")
        ax.plot([0], [0], "r*", ms=10)
        ax.set_title(f"2D slice: {title}")
        ax.set_xlabel("α")
        ax.set_ylabel("β")
    ax = axes[1, 1]
    ts = document["paths"]["ts"]
    b = document["barrier"]
    ax.plot(ts, document["paths"]["line"], label=f"straight line (barrier {b['line']:.3g})")
    ax.plot(ts, document["paths"]["curve"],
            label=f"trained Bezier curve (barrier {b['curve']:.3g})")
    ax.set_yscale("log")
    ax.set_xlabel("t (A at 0, B at 1)")
    ax.set_ylabel("training loss")
    ax.set_title("between the two minima")
    ax.legend(fontsize=8)
    fig.suptitle(f"Loss landscape of the digits MLP ({c['parameters']} parameters) after "
                 f"{c['epochs']} epochs of {c['method']}", fontsize=11)
    fig.text(0.01, 0.01, textwrap.fill(_caption(document), width=150), fontsize=9, va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    report.save_figure(fig, path, dpi=100)
    return path


# ----------------------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `landscape`."""
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['epochs']} epochs, {QUICK['points_2d']}x{QUICK['points_2d']} "
                             f"grids, {QUICK['curve_steps']} curve steps (unless given explicitly)")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help=f"training epochs per network (default {DEFAULT['epochs']}, "
                             f"{QUICK['epochs']} with --quick)")
    parser.add_argument("--method", type=demo_method, default="adam",
                        help=f"the demo method that trains both networks (default adam): "
                             f"{', '.join(methods_lib.METHODS)}")
    parser.add_argument("--points", type=int_at_least(3), default=None,
                        help=f"points per axis of the 2D slices, odd (even counts are rounded "
                             f"up; default {DEFAULT['points_2d']}, {QUICK['points_2d']} with "
                             "--quick)")
    parser.add_argument("--curve-steps", type=positive_int, default=None,
                        help=f"training steps of the Bezier curve (default "
                             f"{DEFAULT['curve_steps']}, {QUICK['curve_steps']} with --quick)")
    parser.add_argument("--seed", type=int_at_least(0), default=0,
                        help="seed of the first network; the second uses seed + 1 (default 0)")
    add_output_options(parser, "landscape", "results.json and landscape.png")


def config_from_args(args: argparse.Namespace) -> LandscapeConfig:
    """The `LandscapeConfig` of parsed options (`--quick` fills what is not given)."""
    base = QUICK if args.quick else DEFAULT
    return LandscapeConfig(
        epochs=args.epochs if args.epochs is not None else base["epochs"],
        method=args.method,
        points_1d=base["points_1d"],
        points_2d=(args.points // 2 * 2 + 1) if args.points is not None else base["points_2d"],
        path_points=base["path_points"],
        curve_steps=args.curve_steps if args.curve_steps is not None else base["curve_steps"],
        seed=args.seed, output_dir=args.output_dir, as_json=args.json,
        progress=not args.no_progress, quick=args.quick,
    )


def run_command(args: argparse.Namespace) -> int:
    """Runs `landscape`; returns 0."""
    run_landscape(config_from_args(args))
    return 0


__all__ = [
    "LandscapeConfig",
    "add_arguments",
    "format_report",
    "plot_landscape",
    "quadratic_range",
    "run_command",
    "run_landscape",
    "symmetric_coordinates",
]
