# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Per-iteration cost of the Lanczos trust-region subproblem against Steihaug CG.

    python benchmarks/lanczos_iteration_cost.py [--n 1e4 1e5 1e6] [--repeats 7] [--function mlp]
        [--mode call|loop|both]

The record `benchmarks/results/lanczos_iteration_cost_cpu.txt` is this script's output.

One linearisation of a strictly convex chained function of n parameters (radius 1e6, rtol = 0,
so that neither solver stops at the boundary), then each solver jitted with a cap of 10 and of
50 iterations; the per-iteration cost is the slope of the time over the HVPs used (median of
repeats, the four programs' calls alternated, after a compiling warm-up, `block_until_ready`).
Here both solvers stay in the interior (a convex function, a huge radius): Lanczos then runs as
CG in Lanczos form (no small eigenproblem) and, above 4,096 parameters, without
reorthogonalisation, so both are O(n) per iteration beyond the HVP. Prints both and the ratio.
(CG may stop before its cap: its residual reaches 0.)

Two modes (`--mode both`, the default, prints each):

* `call`: one solve per jitted call, as an optax update that runs one step per call. Every call
  allocates its buffers afresh (the page faults of a new allocation are paid per call).
* `loop`: five solves in one jitted `fori_loop` (each from a slightly moved point), as the
  full-batch solvers and a scanned training loop run them: the buffers are allocated once.

`--function mlp` runs the same on a one-hidden-layer MLP with about n parameters (784-h-10,
softmax cross-entropy on 256 fixed random inputs, weight decay 1), where a product costs a
forward and a backward pass rather than the chained function's few memory passes. What Lanczos
pays beyond CG is its basis: `max_iters` stored vectors, zero-initialised at every solve (XLA
has no uninitialised buffers), about one memory pass per row whether it is used or not, and, in
the `call` mode, the page faults of that fresh allocation. Those faults are the operating
system's: with glibc >= 2.35, `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` in the environment (set
before Python starts) backs large allocations with transparent huge pages, 2 MB per fault
instead of 4 kB; the record has a run with and one without it.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp

from complexity_optax import lanczos_subproblem, steihaug_cg, value_grad_and_hvp

#: Solves per call in the loop mode.
LOOP_SOLVES = 5


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


def _times(fns, repeats):
    """Median seconds of each zero-argument function, the calls alternated (after warm-ups)."""
    for fn in fns:
        jax.block_until_ready(fn())  # compile
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, record in zip(fns, times, strict=True):
            start = time.perf_counter()
            jax.block_until_ready(fn())
            record.append(time.perf_counter() - start)
    return [statistics.median(record) for record in times]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=float, nargs="+", default=[1e4])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--function", choices=("chain", "mlp"), default="chain")
    parser.add_argument("--mode", choices=("call", "loop", "both"), default="both")
    args = parser.parse_args()
    print(f"device: {jax.devices()[0].device_kind}; function: {args.function}")
    modes = ("call", "loop") if args.mode == "both" else (args.mode,)
    for n in (int(v) for v in args.n):
        for mode in modes:
            _one_size(n, args.repeats, args.function, mode)


def _one_size(n: int, repeats: int, function: str = "chain", mode: str = "call") -> None:
    if function == "mlp":
        fun, x = _mlp(n)
        n = sum(leaf.size for leaf in jax.tree.leaves(x))
    else:
        fun, x = _fun, jnp.linspace(-1.0, 1.0, n)
    solves = 1 if mode == "call" else LOOP_SOLVES

    def solver(kind, k):
        def solve(x):
            _, g, hvp_fn = value_grad_and_hvp(fun, x)
            if kind == "steihaug":
                return steihaug_cg(hvp_fn, g, 1e6, max_iters=k, rtol=0.0)
            return lanczos_subproblem(hvp_fn, g, 1e6, max_iters=k, rtol=0.0)

        @jax.jit
        def run(x):
            def body(_, carry):  # a tiny move: each solve starts from a new point
                x, hvps = carry
                res = solve(x)
                x = jax.tree.map(lambda a, s: a + 1e-9 * s, x, res.step)
                return x, hvps + res.iterations
            return jax.lax.fori_loop(0, solves, body, (x, jnp.zeros((), jnp.int32)))
        return lambda: run(x)

    label = "one solve per call" if mode == "call" else f"{solves} solves in one jitted loop"
    print(f"n = {n} ({label})")
    runs = {(kind, k): solver(kind, k) for kind in ("steihaug", "lanczos") for k in (10, 50)}
    seconds = dict(zip(runs, _times(list(runs.values()), repeats), strict=True))
    hvps = {key: int(fn()[1]) for key, fn in runs.items()}
    slopes = {}
    for kind in ("steihaug", "lanczos"):
        t10, t50 = seconds[kind, 10], seconds[kind, 50]
        i10, i50 = hvps[kind, 10], hvps[kind, 50]
        slopes[kind] = (t50 - t10) / (i50 - i10)
        print(f"  {kind:9s}: t(10) = {t10 * 1e3:8.3f} ms ({i10} HVPs), "
              f"t(50) = {t50 * 1e3:8.3f} ms ({i50} HVPs), "
              f"per iteration {slopes[kind] * 1e6:8.2f} us")
    ratio = slopes["lanczos"] / slopes["steihaug"]
    print(f"  per-iteration cost ratio lanczos / steihaug: {ratio:.2f}")


if __name__ == "__main__":
    main()
