# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`python -m complexity_optax spectrum`: the Hessian spectrum of a trained network.

Trains the demo's digits MLP (64-64-10, tanh, 4810 parameters) with one of the demo's methods,
then, at the trained weights θ*, studies the Hessian H = ∇²L(θ*) of the full-batch training loss
through exact Hessian-vector products (`value_grad_and_hvp`: one `jax.linearize`, replayed):

* the eigenvalue density by stochastic Lanczos quadrature (SLQ): P random probes, m Lanczos steps
  each, nodes θ_pj and weights w_pj, smoothed with a Gaussian kernel;
* the top eigenvalues (Lanczos Ritz values);
* the index fraction α(τ) = #{λ < −τ}/N with τ = 1e-3·‖H‖, from the same Lanczos runs, with a
  Gauss–Radau bracket for the quadrature's bias (`landscape.spectral_index`); the report prints
  τ and the spectral mass within ±τ (the sign count at 0 is ill-conditioned on trained nets);
* the mean eigenvalue λ̄ = tr(H)/N by Hutchinson's estimator;
* the diagonal share Σ|H_ii| / Σ|H_ij| (sampled columns), against a Wigner matrix's 1/N-ish value.

The figure overlays the Wigner semicircle with the SLQ mean m₁ = (1/P) Σ w θ and variance
m₂ − m₁² (radius R = 2√(m₂ − m₁²)), and its caption says, from the numbers, how the two compare.

References:
  Ghorbani, Krishnan & Xiao, *An investigation into neural net optimization via Hessian eigenvalue
  density*, ICML 2019; Sagun, Bottou & LeCun, *Eigenvalues of the Hessian in deep learning:
  singularity and beyond*, arXiv:1611.07476; Lin, Saad & Yang, *Approximating spectral densities
  of large matrices*, SIAM Review 2016; Kohler, Adolphs & Lucchi, arXiv:1905.09201 (diagonal
  share).
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
from collections.abc import Callable
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
from complexity_optax.demo import train as train_lib
from complexity_optax.demo.arguments import (
    add_output_options,
    demo_method,
    int_at_least,
    positive_int,
)
from complexity_optax.demo.progress import Progress

TOP_K = 5
# (epochs, probes, lanczos steps, Hutchinson samples, diagonal-share columns)
DEFAULT = {"epochs": 30, "probes": 8, "lanczos_steps": 80, "hutchinson": 100, "columns": 64}
QUICK = {"epochs": 10, "probes": 4, "lanczos_steps": 40, "hutchinson": 30, "columns": 32}
BULK_WIDTH = 0.01  # "near 0": |λ| < BULK_WIDTH·λ_max
SMOOTHING_STEPS = 4  # Gaussian kernel width (λ_max − λ_min)/(SMOOTHING_STEPS·m)
GRID_POINTS = 2000


@dataclasses.dataclass(frozen=True)
class SpectrumConfig:
    """What to run and where to write it."""

    epochs: int = DEFAULT["epochs"]
    method: str = "adam"
    probes: int = DEFAULT["probes"]
    lanczos_steps: int = DEFAULT["lanczos_steps"]
    hutchinson_samples: int = DEFAULT["hutchinson"]
    diagonal_columns: int = DEFAULT["columns"]
    seed: int = 0
    output_dir: str = os.path.join("outputs", "spectrum")
    as_json: bool = False
    progress: bool = True
    quick: bool = False


# -------------------------------------------------------------------------------------- train
def train(config: SpectrumConfig, data, on_epoch: Callable[[int, float], None]) -> tuple[Any, Any,
                                                                                        list]:
    """Trains the MLP with the demo's method; returns `(graphdef, params, train_losses)`."""
    method = methods_lib.METHODS[config.method]
    graphdef, params = model_lib.init_model(config.seed)
    loss_fn = model_lib.make_loss_fn(graphdef)
    n = data.x_train.shape[0]
    steps = math.ceil(n / method.batch_size)
    context = methods_lib.BuildContext(
        key=jax.random.fold_in(jax.random.key(config.seed), 0x5EED),
        steps_per_epoch=steps,
        total_steps=steps * config.epochs,
        init_norm=float(optax.tree.norm(model_lib.init_model(0)[1])),
    )
    tx = optax.with_extra_args_support(method.build(context))
    epoch = jax.jit(train_lib.make_epoch_fn(loss_fn, tx, method))
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    opt_state = tx.init(params)
    losses = [float(jax.jit(loss_fn)(params, x, y))]
    for e in range(config.epochs):
        idx = train_lib.epoch_batches(n, method.batch_size, config.seed, e)
        params, opt_state, loss = epoch(params, opt_state, x, y, idx)
        losses.append(float(loss))
        on_epoch(e + 1, losses[-1])
    return graphdef, params, losses


# ------------------------------------------------------------------------------------ analyse
def analyse_hessian(params, x, y, key, *, loss_fn, probes, steps, samples, columns):
    """Every Hessian statistic at `params` in one compiled program (see the module docstring).

    `loss_fn` is passed to the program as a pytree (`common.functions.as_pytree`): a new closure
    of the same code over arrays of the same shapes reuses the compiled program.

    Returns a dict of arrays: `loss`, `grad_norm`, the `density` (grid, density, nodes,
    weights, sigma), `top` eigenvalues and residuals, `index` and its standard error, the
    `mean` eigenvalue and its standard error, the `share` and the SLQ moments `m1`, `m2`.
    """
    return _analyse_hessian(functions.as_pytree(loss_fn), params, x, y, key, probes=probes,
                            steps=steps, samples=samples, columns=columns)


@functools.partial(jax.jit, static_argnames=("probes", "steps", "samples", "columns"))
def _analyse_hessian(loss_fn, params, x, y, key, *, probes, steps, samples, columns):
    loss, grad, hvp = co.value_grad_and_hvp(loss_fn, params, x, y)
    k_density, k_top, k_trace, k_share = jax.random.split(key, 4)
    tridiagonals = landscape.lanczos_tridiagonals(hvp, params, k_density, num_probes=probes,
                                                  num_steps=steps)
    quadrature = landscape.gauss_quadrature(tridiagonals)
    # The index below −τ, τ = 1e-3·‖H‖, bracketed by Gauss–Radau (one run serves all).
    thresholded = landscape.spectral.index.index_from_tridiagonals(tridiagonals, params)
    low, high = jnp.min(quadrature.nodes), jnp.max(quadrature.nodes)
    # A kernel SMOOTHING_STEPS times narrower than the library's default (range/m): the Gauss
    # nodes crowd where the mass is, so a narrow bulk near 0 stays resolved.
    sigma = jnp.maximum((high - low) / (SMOOTHING_STEPS * steps), 1e-12)
    m1 = jnp.mean(jnp.sum(quadrature.weights * quadrature.nodes, axis=1))
    m2 = jnp.mean(jnp.sum(quadrature.weights * quadrature.nodes**2, axis=1))
    radius = 2.0 * jnp.sqrt(jnp.maximum(m2 - m1**2, 0.0))  # the comparison semicircle's
    grid = jnp.linspace(jnp.minimum(low - 4.0 * sigma, m1 - 1.02 * radius),
                        jnp.maximum(high + 4.0 * sigma, m1 + 1.02 * radius), GRID_POINTS)
    density = landscape.SpectralDensity(
        grid, landscape.gaussian_smoothed_density(grid, *quadrature, sigma), *quadrature, sigma)
    index_at_zero = jnp.mean(jnp.sum(jnp.where(density.nodes < 0.0, density.weights, 0.0),
                                     axis=1))
    top = landscape.top_eigenvalues(hvp, params, k_top, k=TOP_K, num_steps=max(steps, 3 * TOP_K))
    mean = landscape.mean_eigenvalue(hvp, params, k_trace, num_samples=samples)
    share = landscape.diagonal_share(hvp, params, k_share, num_columns=columns)
    return {
        "loss": loss, "grad_norm": optax.tree.norm(grad), "grid": density.grid,
        "density": density.density, "nodes": density.nodes, "weights": density.weights,
        "sigma": density.sigma, "top": top.eigenvalues, "top_residuals": top.residuals,
        "index": thresholded.estimate, "index_se": thresholded.standard_error,
        "index_bias": thresholded.bias_bound, "index_lower": thresholded.lower,
        "index_upper": thresholded.upper, "tau": thresholded.tau,
        "near_zero_mass": thresholded.near_zero_mass,
        "near_zero_lower": thresholded.near_zero_lower,
        "near_zero_upper": thresholded.near_zero_upper, "top_converged": top.converged,
        "index_ill_conditioned": thresholded.ill_conditioned, "index_at_zero": index_at_zero,
        "mean": mean.estimate, "mean_se": mean.standard_error, "share": share.share,
        "m1": m1, "m2": m2,
    }


def compare_with_semicircle(stats: dict[str, Any]) -> dict[str, Any]:
    """How the SLQ density compares with the semicircle of the same mean and variance.

    Returns the semicircle's centre and radius, the L1 distance ∫|ρ − ρ_sc| on the grid, the
    spectral mass near 0 (|λ| < `BULK_WIDTH`·λ_max) from the quadrature and from the
    semicircle, the number of top eigenvalues beyond the semicircle's right edge, and the
    `caption`.
    """
    grid = np.asarray(stats["grid"], np.float64)
    rho = np.asarray(stats["density"], np.float64)
    nodes = np.asarray(stats["nodes"], np.float64).ravel()
    weights = np.asarray(stats["weights"], np.float64).ravel()
    weights = weights / weights.sum()
    m1, m2 = float(stats["m1"]), float(stats["m2"])
    radius = 2.0 * math.sqrt(max(m2 - m1 * m1, 1e-30))
    rho_sc = np.asarray(landscape.semicircle_density(grid - m1, radius), np.float64)
    dx = float(grid[1] - grid[0])
    l1 = float(np.sum(np.abs(rho - rho_sc)) * dx)
    top = np.asarray(stats["top"], np.float64)
    width = BULK_WIDTH * max(abs(float(top[0])), 1e-12)
    mass_near_zero = float(np.sum(weights[np.abs(nodes) < width]))
    cdf = landscape.semicircle_cdf
    sc_near_zero = float(cdf(width - m1, radius) - cdf(-width - m1, radius))
    edge = m1 + radius
    outliers = int(np.sum(top > edge))
    # A semicircle has no eigenvalues beyond its edge (up to O(N^(-2/3)) fluctuations).
    semicircle_like = l1 < 0.3 and outliers == 0
    facts = (
        f"SLQ puts {100 * mass_near_zero:.0f}% of the spectral mass within ±{width:.2g} of 0 "
        f"(1% of λ_max), the semicircle {100 * sc_near_zero:.0f}%; {outliers} of the top "
        f"{len(top)} eigenvalues lie beyond the semicircle's edge {edge:.3g}, up to "
        f"λ_max = {top[0]:.3g} ({top[0] / edge:.3g}× the edge); L1 distance {l1:.2f} (of 2)."
    )
    spiked = mass_near_zero > max(2.0 * sc_near_zero, 0.5)
    if semicircle_like:
        verdict = " So here the density is close to a semicircle: a GOE-like bulk, no outliers."
    elif outliers and spiked:
        verdict = (" So this is not a semicircle: a bulk concentrated near 0 plus a few large "
                   "outliers, as is typical of trained networks.")
    elif outliers:
        verdict = " So this is not a semicircle: a bulk plus outliers beyond its edge."
    else:
        verdict = (" So the bulk's shape differs from a semicircle, though nothing lies beyond "
                   "its edge.")
    return {"center": m1, "radius": radius, "variance": m2 - m1 * m1, "l1_distance": l1,
            "near_zero_width": width, "mass_near_zero": mass_near_zero,
            "semicircle_mass_near_zero": sc_near_zero, "semicircle_edge": edge,
            "outliers_beyond_edge": outliers, "semicircle_like": semicircle_like,
            "caption": facts + verdict}


# --------------------------------------------------------------------------------------- run
def run_spectrum(config: SpectrumConfig) -> dict[str, Any]:
    """Trains, analyses, writes `results.json` and `hessian_spectrum.png`; returns the JSON
    document (to stdout with `config.as_json`; the report then goes to stderr)."""
    from complexity_optax.demo.data import load_digits_split

    out = sys.stderr if config.as_json else sys.stdout
    bar = Progress(config.epochs, enabled=config.progress, unit="epoch")
    start = time.perf_counter()
    data = load_digits_split()

    def on_epoch(epoch: int, loss: float) -> None:
        bar.update(description=f"{config.method}", postfix=f"loss={loss:.4f}")

    graphdef, params, losses = train(config, data, on_epoch)
    train_time = time.perf_counter() - start
    bar.message("computing the Hessian spectrum ...")
    n_params = model_lib.num_params(params)
    steps = min(config.lanczos_steps, n_params)
    raw = analyse_hessian(
        params, jnp.asarray(data.x_train), jnp.asarray(data.y_train),
        jax.random.fold_in(jax.random.key(config.seed), 0x5EC7),
        loss_fn=model_lib.make_loss_fn(graphdef), probes=config.probes, steps=steps,
        samples=max(config.hutchinson_samples, 2),
        columns=min(config.diagonal_columns, n_params),
    )
    stats = jax.tree.map(np.asarray, raw)
    bar.close()
    comparison = compare_with_semicircle(stats)
    grid = stats["grid"]
    document = {
        "config": {
            "method": config.method, "epochs": config.epochs, "seed": config.seed,
            "probes": config.probes, "lanczos_steps": steps,
            "hutchinson_samples": max(config.hutchinson_samples, 2),
            "diagonal_columns": min(config.diagonal_columns, n_params), "quick": config.quick,
            "model": "MLP 64-64-10, tanh", "parameters": n_params,
            "loss": "full-batch mean cross-entropy on the 1347 training digits",
        },
        "train_loss": losses,
        "loss": float(stats["loss"]),
        "grad_norm": float(stats["grad_norm"]),
        "top_eigenvalues": stats["top"].tolist(),
        "top_residuals": stats["top_residuals"].tolist(),
        "index_fraction": float(stats["index"]),
        "index_fraction_se": float(stats["index_se"]),
        "index_bias_bound": float(stats["index_bias"]),
        "index_bracket": [float(stats["index_lower"]), float(stats["index_upper"])],
        "index_tau": float(stats["tau"]),
        "index_relative_tau": landscape.spectral.index.DEFAULT_RELATIVE_TAU,
        "near_zero_mass": float(stats["near_zero_mass"]),
        "near_zero_bracket": [float(stats["near_zero_lower"]), float(stats["near_zero_upper"])],
        "top_converged": bool(stats["top_converged"]),
        "index_ill_conditioned": bool(stats["index_ill_conditioned"]),
        "index_at_zero_unreliable": float(stats["index_at_zero"]),
        "mean_eigenvalue": float(stats["mean"]),
        "mean_eigenvalue_se": float(stats["mean_se"]),
        "slq_mean": float(stats["m1"]),
        "slq_second_moment": float(stats["m2"]),
        "diagonal_share": float(stats["share"]),
        "wigner_diagonal_share": landscape.wigner_diagonal_share(n_params),
        "density": {
            "grid": grid.tolist(), "density": stats["density"].tolist(),
            "sigma": float(stats["sigma"]),
            "integral": float(np.sum(stats["density"]) * (grid[1] - grid[0])),
            "nodes": stats["nodes"].tolist(), "weights": stats["weights"].tolist(),
        },
        "semicircle": comparison,
        "train_time": train_time,
    }
    os.makedirs(config.output_dir, exist_ok=True)
    figure = os.path.abspath(os.path.join(config.output_dir, "hessian_spectrum.png"))
    json_path = os.path.abspath(os.path.join(config.output_dir, "results.json"))
    document["figure"] = plot_spectrum(document, figure)
    document["total_time"] = time.perf_counter() - start
    report.publish(document, format_report(document), json_path, as_json=config.as_json,
                   out=out)
    return document


# ------------------------------------------------------------------------------------ report
def format_report(document: dict[str, Any]) -> str:
    """The numbers as text."""
    c, sc = document["config"], document["semicircle"]
    top = ", ".join(f"{v:.4g}" for v in document["top_eigenvalues"])
    return "\n".join([
        (f"Hessian of the full-batch training loss of the digits MLP ({c['parameters']} "
        f"parameters) after {c['epochs']} epochs of {c['method']}"),
        (f"  training loss             {document['loss']:.4g}   (gradient norm "
        f"{document['grad_norm']:.3g})"),
        f"  top {len(document['top_eigenvalues'])} eigenvalues         {top}",
        (f"  index fraction (λ < −τ)   {document['index_fraction']:.4f} ± "
        f"{document['index_fraction_se']:.4f} (sampling) ± {document['index_bias_bound']:.4f} "
        f"(quadrature bound)   (SLQ + Gauss–Radau, {c['probes']} probes x "
        f"{c['lanczos_steps']} steps)"),
        (f"  threshold τ               {document['index_tau']:.3g}   "
        f"(= {document['index_relative_tau']:g}·‖H‖)"),
        f"  near-zero mass |λ| ≤ τ    {document['near_zero_mass']:.4f}   (Gauss–Radau bracket "
        f"[{document['near_zero_bracket'][0]:.4f}, {document['near_zero_bracket'][1]:.4f}])"
        + ("   WARNING: the count below −τ is ill-conditioned at this τ and step count"
           if document["index_ill_conditioned"] else "")
        + f"   (the sign count at 0, {document['index_at_zero_unreliable']:.3f}, is not "
        "meaningful)",
        (f"  mean eigenvalue tr(H)/N   {document['mean_eigenvalue']:.4g} ± "
        f"{document['mean_eigenvalue_se']:.2g}   (Hutchinson, {c['hutchinson_samples']} "
        f"probes; SLQ mean {document['slq_mean']:.4g})"),
        (f"  diagonal share            {document['diagonal_share']:.4f}   (Wigner matrix: "
        f"{document['wigner_diagonal_share']:.2g}; {c['diagonal_columns']} sampled columns)"),
        (f"  semicircle (same mean and variance): centre {sc['center']:.4g}, radius "
        f"{sc['radius']:.4g}"),
        textwrap.fill(sc["caption"], width=100, initial_indent="  ", subsequent_indent="  "),
    ])


def index_title(document: dict[str, Any]) -> str:
    """The index as a figure shows it: the estimate with its τ, its bracket and, when set, the
    ill-conditioning warning (the same facts as the text report).

    Examples:
      >>> index_title({"index_fraction": 0.135, "index_tau": 0.0021, "index_relative_tau": 1e-3,
      ...              "index_bracket": [0.12, 0.15], "index_ill_conditioned": True})
      'index α(τ) = #{λ < −τ}/N = 0.135 [0.120, 0.150] at τ = 0.0021 (1e-03·‖H‖), ILL-CONDITIONED at this τ'
    """  # noqa: E501 (the expected output of the example is one 102-character line)
    low, high = document["index_bracket"]
    text = (f"index α(τ) = #{{λ < −τ}}/N = {document['index_fraction']:.3f} "
            f"[{low:.3f}, {high:.3f}] at τ = {document['index_tau']:.2g} "
            f"({document['index_relative_tau']:.0e}·‖H‖)")
    if document["index_ill_conditioned"]:
        text += ", ILL-CONDITIONED at this τ"
    return text


def plot_spectrum(document: dict[str, Any], path: str) -> str:
    """SLQ density against the semicircle, linear and log y; the caption below. Returns `path`."""
    c, sc = document["config"], document["semicircle"]
    grid = np.asarray(document["density"]["grid"])
    rho = np.asarray(document["density"]["density"])
    rho_sc = np.asarray(landscape.semicircle_density(grid - sc["center"], sc["radius"]))
    top = np.asarray(document["top_eigenvalues"])
    fig, axes = report.new_figure(1, 2, figsize=(12, 4.8))
    for ax, log in zip(axes, (False, True), strict=False):
        ax.plot(grid, rho, color="tab:blue", lw=1.5, label="SLQ density of the Hessian")
        ax.plot(grid, rho_sc, color="tab:orange", lw=1.5, ls="--",
                label=f"semicircle, same mean and variance (R = {sc['radius']:.3g})")
        ax.plot(top, np.full_like(top, 0.0 if not log else max(rho.max() * 1e-5, 1e-8)),
                "v", color="tab:red", ms=7, label=f"top {len(top)} eigenvalues (Lanczos)")
        ax.axvline(0.0, color="grey", lw=0.6)
        ax.set_xlabel("eigenvalue λ")
        ax.set_ylabel("density")
        if log:
            ax.set_yscale("log")
            ax.set_ylim(max(rho.max() * 1e-6, 1e-9), rho.max() * 3)
            ax.set_title("log scale")
        else:
            ax.set_title("linear scale")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Hessian spectrum of the digits MLP ({c['parameters']} parameters) after "
                 f"{c['epochs']} epochs of {c['method']}\n{index_title(document)}; mean "
                 f"eigenvalue {document['mean_eigenvalue']:.3g}", fontsize=10)
    fig.text(0.01, 0.01, textwrap.fill(sc["caption"], width=170), fontsize=8.5, va="bottom")
    fig.tight_layout(rect=(0, 0.08, 1, 0.92))
    report.save_figure(fig, path, dpi=110)  # atomic: a temporary file, then os.replace
    return path


# ----------------------------------------------------------------------------------------- CLI

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `spectrum`."""
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['epochs']} epochs, {QUICK['probes']} probes x "
                             f"{QUICK['lanczos_steps']} Lanczos steps (unless given explicitly)")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help=f"training epochs (default {DEFAULT['epochs']}, "
                             f"{QUICK['epochs']} with --quick)")
    parser.add_argument("--method", type=demo_method, default="adam",
                        help=f"the demo method that trains the MLP (default adam): "
                             f"{', '.join(methods_lib.METHODS)}")
    parser.add_argument("--probes", type=positive_int, default=None,
                        help=f"SLQ probes (default {DEFAULT['probes']}, {QUICK['probes']} "
                             "with --quick)")
    parser.add_argument("--lanczos-steps", type=int_at_least(TOP_K), default=None,
                        help=f"Lanczos steps per probe, >= {TOP_K} (default "
                             f"{DEFAULT['lanczos_steps']}, {QUICK['lanczos_steps']} with --quick)")
    parser.add_argument("--seed", type=int_at_least(0), default=0,
                        help="random seed (default 0)")
    add_output_options(parser, "spectrum", "results.json and hessian_spectrum.png")


def config_from_args(args: argparse.Namespace) -> SpectrumConfig:
    """The `SpectrumConfig` of parsed options (`--quick` fills what is not given)."""
    base = QUICK if args.quick else DEFAULT
    return SpectrumConfig(
        epochs=args.epochs if args.epochs is not None else base["epochs"],
        method=args.method,
        probes=args.probes if args.probes is not None else base["probes"],
        lanczos_steps=(args.lanczos_steps if args.lanczos_steps is not None
                       else base["lanczos_steps"]),
        hutchinson_samples=base["hutchinson"],
        diagonal_columns=base["columns"],
        seed=args.seed, output_dir=args.output_dir, as_json=args.json,
        progress=not args.no_progress, quick=args.quick,
    )


def run_command(args: argparse.Namespace) -> int:
    """Runs `spectrum`; returns 0."""
    run_spectrum(config_from_args(args))
    return 0


__all__ = [
    "SpectrumConfig",
    "add_arguments",
    "analyse_hessian",
    "compare_with_semicircle",
    "index_title",
    "run_command",
    "run_spectrum",
]
