# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Landscape benchmarks: the overhead of SLQ over raw HVPs, and of the p-spin over one contraction.

Rows:

* ``slq``: stochastic Lanczos quadrature (``complexity_optax.landscape.spectral_density``) on the
  Hessian of an MLP (about 1M parameters; a small one with ``--quick``). It costs
  ``probes × steps`` HVPs; the table reports the time per HVP inside SLQ (total SLQ time / HVP
  count: the Lanczos recurrence at `spectral_density`'s default (the three-term recurrence, no
  reorthogonalisation), the tridiagonal eigendecompositions and the one-off linearisation are
  all charged to the HVPs) against one standalone jitted HVP
  (forward-over-reverse at the same point), as a ratio.
* ``ggn``, ``fisher``, ``hessian-op``: one product of the library's curvature operators
  (``gauss_newton_operator``, ``fisher_operator``, ``hessian_operator``) on the same batch,
  against the standalone HVP, as a ratio.
* ``buffers``: the XLA temporary memory of each compiled call in parameter-sized float32
  buffers (SLQ must hold its ``steps``-row Krylov basis).
* ``p-spin``: energy and gradient of a pure p = 3 spherical spin glass at N = 400
  (``jax.value_and_grad`` of ``p_spin_energy``) against one raw N³ contraction
  ``tensordot(J, σ, axes=1)`` (``J_ijk σ_k``), as a ratio: the energy needs one such pass over
  the N³ couplings and its gradient about one more, so a ratio near 2 means no overhead.

Every timing is the median of several calls of an already compiled function, with
``block_until_ready``; each row times its two functions alternately. Usage::

    python benchmarks/landscape.py            # full sizes
    python benchmarks/landscape.py --quick    # small sizes, a few seconds on a CPU
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from complexity_optax import landscape
from complexity_optax._src.common.hvp import hvp, value_grad_and_hvp

FULL = dict(widths=(784, 1024, 256, 10), batch=256, probes=4, steps=32, n=400, p=3, repeats=5)
QUICK = dict(widths=(32, 64, 10), batch=32, probes=2, steps=8, n=100, p=3, repeats=3)


def _seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


def median_seconds_pair(
    fn: Callable[[], Any], reference: Callable[[], Any], repeats: int
) -> tuple[float, float]:
    """Median wall times of ``fn()`` and ``reference()``, timed alternately after a warm-up.

    Alternating the two keeps a drifting machine load from biasing their ratio.
    """
    jax.block_until_ready(fn())  # Compile / warm up.
    jax.block_until_ready(reference())
    pairs = [(_seconds(fn), _seconds(reference)) for _ in range(repeats)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def init_mlp(key: jax.Array, widths: tuple[int, ...]) -> dict:
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        key, sub = jax.random.split(key)
        params[f"w{i}"] = jax.random.normal(sub, (fan_in, fan_out)) / math.sqrt(fan_in)
        params[f"b{i}"] = jnp.zeros((fan_out,))
    return params


def mlp_loss(params: dict, x: jax.Array, labels: jax.Array) -> jax.Array:
    """Softmax cross-entropy of a tanh MLP."""
    depth = len(params) // 2
    h = x
    for i in range(depth):
        h = h @ params[f"w{i}"] + params[f"b{i}"]
        if i < depth - 1:
            h = jnp.tanh(h)
    log_probs = jax.nn.log_softmax(h)
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=1))


def slq_row(config: dict) -> dict:
    key = jax.random.key(0)
    k_params, k_x, k_y, k_v, k_slq = jax.random.split(key, 5)
    widths = config["widths"]
    params = init_mlp(k_params, widths)
    x = jax.random.normal(k_x, (config["batch"], widths[0]))
    labels = jax.random.randint(k_y, (config["batch"],), 0, widths[-1])
    num_params = sum(leaf.size for leaf in jax.tree.leaves(params))
    probes, steps = config["probes"], config["steps"]

    @jax.jit
    def slq(params, x, labels, key):
        _, _, hvp_fn = value_grad_and_hvp(mlp_loss, params, x, labels)
        return landscape.spectral_density(
            hvp_fn, params, key, num_probes=probes, num_steps=steps, num_points=200
        )

    standalone = jax.jit(lambda params, v, x, labels: hvp(mlp_loss, params, v, x, labels))
    v = jax.tree.map(lambda leaf: jax.random.normal(k_v, leaf.shape, leaf.dtype), params)
    t_slq, t_hvp = median_seconds_pair(
        lambda: slq(params, x, labels, k_slq),
        lambda: standalone(params, v, x, labels),
        config["repeats"],
    )
    count = probes * steps
    hvp_buffers = _buffers(standalone, params, v, x, labels, num_params=num_params)
    return dict(
        buffers=_buffers(slq, params, x, labels, k_slq, num_params=num_params),
        hvp_buffers=hvp_buffers,
        row="slq",
        size=f"{num_params:,} params",
        work=f"{count} HVPs ({probes}x{steps})",
        total_ms=1e3 * t_slq,
        unit_ms=1e3 * t_slq / count,
        reference_ms=1e3 * t_hvp,
        ratio=t_slq / count / t_hvp,
    )


def _buffers(compiled_fn, *args, num_params: int) -> float:
    """Temporary memory of a compiled function, in parameter-sized (float32) buffers."""
    try:
        analysis = compiled_fn.lower(*args).compile().memory_analysis()
        return analysis.temp_size_in_bytes / (4.0 * num_params)
    except Exception:  # pragma: no cover - memory analysis is backend dependent
        return math.nan


def curvature_rows(config: dict) -> list[dict]:
    """GGN and empirical-Fisher products against one HVP, at the same point and batch.

    All three are built by the library's operators (``hessian_operator``,
    ``gauss_newton_operator``, ``fisher_operator``) on one batch, jitted, and timed alternately
    with the standalone HVP of ``slq_row``.
    """
    key = jax.random.key(0)
    k_params, k_x, k_y, k_v = jax.random.split(key, 4)
    widths = config["widths"]
    params = init_mlp(k_params, widths)
    x = jax.random.normal(k_x, (config["batch"], widths[0]))
    labels = jax.random.randint(k_y, (config["batch"],), 0, widths[-1])
    num_params = sum(leaf.size for leaf in jax.tree.leaves(params))
    v = jax.tree.map(lambda leaf: jax.random.normal(k_v, leaf.shape, leaf.dtype), params)

    def logits_fn(p, inputs):
        depth = len(p) // 2
        h = inputs
        for i in range(depth):
            h = h @ p[f"w{i}"] + p[f"b{i}"]
            if i < depth - 1:
                h = jnp.tanh(h)
        return h

    def output_loss(logits, y):
        log_probs = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(log_probs, y[:, None], axis=1))

    def per_example(p, inputs, y):
        log_probs = jax.nn.log_softmax(logits_fn(p, inputs))
        return -jnp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]

    standalone = jax.jit(lambda params, v, x, labels: hvp(mlp_loss, params, v, x, labels))
    products = {
        "ggn": jax.jit(lambda p, v, x, y: landscape.gauss_newton_operator(
            logits_fn, output_loss, p, [(x, y)])(v)),
        "fisher": jax.jit(lambda p, v, x, y: landscape.fisher_operator(
            per_example, p, [(x, y)])(v)),
        "hessian-op": jax.jit(lambda p, v, x, y: landscape.hessian_operator(
            mlp_loss, p, [(x, y)])(v)),
    }
    rows = []
    for name, fn in products.items():
        t_fn, t_hvp = median_seconds_pair(lambda: fn(params, v, x, labels),
                                          lambda: standalone(params, v, x, labels),
                                          config["repeats"])
        rows.append(dict(row=name, size=f"{num_params:,} params", work="1 product",
                         total_ms=1e3 * t_fn, unit_ms=1e3 * t_fn, reference_ms=1e3 * t_hvp,
                         ratio=t_fn / t_hvp,
                         buffers=_buffers(fn, params, v, x, labels, num_params=num_params)))
    return rows


def p_spin_row(config: dict) -> dict:
    n, p = config["n"], config["p"]
    if not hasattr(landscape, "pure_p_spin"):  # pragma: no cover - depends on the other module.
        return dict(row="p-spin", size=f"N={n}, p={p}", work="skipped: pure_p_spin not available",
                    total_ms=math.nan, unit_ms=math.nan, reference_ms=math.nan, ratio=math.nan)
    key_h, key_s = jax.random.split(jax.random.key(1))
    hamiltonian = landscape.pure_p_spin(key_h, n, p)
    sigma = jax.random.normal(key_s, (n,))
    sigma = sigma * jnp.sqrt(n) / jnp.linalg.norm(sigma)

    energy_and_grad = jax.jit(jax.value_and_grad(landscape.p_spin_energy, argnums=1))
    raw = jax.jit(lambda j, s: jnp.tensordot(j, s, axes=1))  # N^p multiply-adds, one pass.
    couplings = hamiltonian.couplings[0]
    t_model, t_raw = median_seconds_pair(
        lambda: energy_and_grad(hamiltonian, sigma),
        lambda: raw(couplings, sigma),
        config["repeats"],
    )
    return dict(
        row="p-spin",
        size=f"N={n}, p={p}",
        work="energy + gradient",
        total_ms=1e3 * t_model,
        unit_ms=1e3 * t_model,
        reference_ms=1e3 * t_raw,
        ratio=t_model / t_raw,
    )


def format_table(rows: list[dict]) -> str:
    header = ("row", "size", "work", "total ms", "per unit ms", "reference ms", "ratio",
              "buffers")
    lines = [rows_to_line(header)]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append(rows_to_line((
            r["row"], r["size"], r["work"], f"{r['total_ms']:.3f}", f"{r['unit_ms']:.3f}",
            f"{r['reference_ms']:.3f}", f"{r['ratio']:.2f}", f"{r.get('buffers', math.nan):.1f}",
        )))
    return "\n".join(lines)


def rows_to_line(cells) -> str:
    widths = (10, 20, 30, 10, 12, 13, 6, 8)
    return " | ".join(str(c).ljust(w) for c, w in zip(cells, widths))


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    print(f"devices: {jax.devices()}; x64: {jax.config.jax_enable_x64}")
    rows = [slq_row(config), *curvature_rows(config), p_spin_row(config)]
    print(format_table(rows))
    print("slq ratio: time per HVP inside SLQ at its default / one standalone HVP (includes the "
          "Lanczos work)")
    print("ggn/fisher/hessian-op ratio: one operator product / one standalone HVP")
    print("buffers: XLA temporary memory of the compiled call, in parameter-sized float32 buffers"
          f" (a standalone HVP: {rows[0]['hvp_buffers']:.1f})")
    print("p-spin ratio: energy+gradient / one raw N^p contraction J.sigma (about 2 is ideal)")
    return rows


if __name__ == "__main__":
    main()

