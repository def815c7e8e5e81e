# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Per-iteration cost of the Lanczos trust-region subproblem against Steihaug CG.

    python benchmarks/lanczos_iteration_cost.py [--n 1e4 1e5 1e6] [--repeats 7] [--function mlp]

The record `benchmarks/results/lanczos_iteration_cost_cpu.txt` is this script's output.

One linearisation of a strictly convex chained function of n parameters (radius 1e6, rtol = 0,
so that neither solver stops at the boundary), then each solver jitted with a cap of 10 and of
50 iterations; the per-iteration cost is the slope of the time over the HVPs used (median of
repeats, after a compiling warm-up, `block_until_ready`). Here both solvers stay in the interior
(a convex function, a huge radius): Lanczos then runs as CG in Lanczos form (no small
eigenproblem) and, above 4,096 parameters, without reorthogonalisation, so both are O(n) per
iteration beyond the HVP. Prints both and the ratio. (CG may stop before its cap: its residual
reaches 0.)

`--function mlp` runs the same on a one-hidden-layer MLP with about n parameters (784-h-10,
softmax cross-entropy on 256 fixed random inputs, weight decay 1), where a product costs a forward and a
backward pass rather than the chained function's few memory passes. What Lanczos pays beyond
CG is its basis: `max_iters` stored vectors, zero-initialised on every call (XLA has no
uninitialised buffers, and a fresh allocation is page-faulted), about one memory pass per row.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp

from complexity_optax import lanczos_subproblem, steihaug_cg, value_grad_and_hvp


def _fun(x):
    # Curvatures from 1e-3 to 1e3: neither solver converges within 50 iterations.
    c = jnp.logspace(-3.0, 3.0, x.shape[0], dtype=x.dtype)
    return jnp.sum(jax.nn.softplus(x[1:] - x[:-1])) + 0.5 * jnp.sum(c * x * x)


def _mlp(n):
    """(loss, params) of a 784-h-10 MLP with about n parameters (h = n / 795)."""
    h = max(1, round((n - 10) / 795))
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    params = {"w1": jax.random.normal(k1, (784, h)) / 28.0, "b1": jnp.zeros(h),
              "w2": jax.random.normal(k2, (h, 10)) / jnp.sqrt(h), "b2": jnp.zeros(10)}
    x = jax.random.normal(k3, (256, 784))
    y = jnp.arange(256) % 10

    def loss(p):
        logits = jnp.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
        penalty = 0.5 * sum(jnp.sum(w * w) for w in jax.tree.leaves(p))
        # The penalty (weight decay 1) keeps H positive definite, so neither solver stops at
        # negative curvature on the boundary.
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(256), y]) + penalty

    return loss, params


def _time(fn, repeats):
    jax.block_until_ready(fn())  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=float, nargs="+", default=[1e4])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--function", choices=("chain", "mlp"), default="chain")
    args = parser.parse_args()
    print(f"device: {jax.devices()[0].device_kind}; function: {args.function}")
    for n in (int(v) for v in args.n):
        _one_size(n, args.repeats, args.function)


def _one_size(n: int, repeats: int, function: str = "chain") -> None:
    if function == "mlp":
        fun, x = _mlp(n)
        n = sum(leaf.size for leaf in jax.tree.leaves(x))
    else:
        fun, x = _fun, jnp.linspace(-1.0, 1.0, n)

    def solver(kind, k):
        @jax.jit
        def run(x):
            _, g, hvp_fn = value_grad_and_hvp(fun, x)
            if kind == "steihaug":
                res = steihaug_cg(hvp_fn, g, 1e6, max_iters=k, rtol=0.0)
            else:
                res = lanczos_subproblem(hvp_fn, g, 1e6, max_iters=k, rtol=0.0)
            return res.step, res.iterations
        return lambda: run(x)

    print(f"n = {n}")
    slopes = {}
    for kind in ("steihaug", "lanczos"):
        t10 = _time(solver(kind, 10), repeats)
        t50 = _time(solver(kind, 50), repeats)
        i10, i50 = int(solver(kind, 10)()[1]), int(solver(kind, 50)()[1])
        slopes[kind] = (t50 - t10) / (i50 - i10)
        print(f"  {kind:9s}: t(10) = {t10 * 1e3:8.3f} ms ({i10} HVPs), "
              f"t(50) = {t50 * 1e3:8.3f} ms ({i50} HVPs), "
              f"per iteration {slopes[kind] * 1e6:8.2f} us")
    ratio = slopes["lanczos"] / slopes["steihaug"]
    print(f"  per-iteration cost ratio lanczos / steihaug: {ratio:.2f}")


if __name__ == "__main__":
    main()
