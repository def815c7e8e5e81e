# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Regularised-Newton family on Moré–Garbow–Hillstrom problems: ARC, saddle-free Newton, the
trust region and scipy's trust-ncg, side by side.

    python benchmarks/newton_family.py [--repeats N] [--x64]

For each problem and solver: converged (‖g‖ ≤ gtol), outer steps, gradients, HVPs, extra
function values (saddle-free Newton's damping line search), final f, and the wall time (median of
repeats after a compiling warm-up; scipy's time includes its jitted JAX callbacks), plus the time
ratio to ``minimize_trust_region``. Entropy-SGD is a stochastic first-order method and is not in
this table (see the docs page). Problems (MGH numbering): Rosenbrock (1), Freudenstein–Roth (2),
Beale (5), Powell singular (13), extended Rosenbrock (21, n = 100), plus a saddle
f = x₀² − x₁² + x₁⁴/4 started next to its saddle point.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize


def rosenbrock(x):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def freudenstein_roth(x):
    return ((-13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1]) ** 2
            + (-29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1]) ** 2)


def beale(x):
    return ((1.5 - x[0] + x[0] * x[1]) ** 2 + (2.25 - x[0] + x[0] * x[1] ** 2) ** 2
            + (2.625 - x[0] + x[0] * x[1] ** 3) ** 2)


def powell_singular(x):
    return ((x[0] + 10 * x[1]) ** 2 + 5 * (x[2] - x[3]) ** 2 + (x[1] - 2 * x[2]) ** 4
            + 10 * (x[0] - x[3]) ** 4)


def extended_rosenbrock(x):
    odd, even = x[0::2], x[1::2]
    return jnp.sum(100.0 * (even - odd ** 2) ** 2 + (1.0 - odd) ** 2)


def saddle(x):
    return x[0] ** 2 - x[1] ** 2 + 0.25 * x[1] ** 4


PROBLEMS: dict[str, tuple[Callable, list]] = {
    "rosenbrock": (rosenbrock, [-1.2, 1.0]),
    "freudenstein_roth": (freudenstein_roth, [0.5, -2.0]),
    "beale": (beale, [1.0, 1.0]),
    "powell_singular": (powell_singular, [3.0, -1.0, 0.0, 1.0]),
    "ext_rosenbrock_100": (extended_rosenbrock, [-1.2, 1.0] * 50),
    "saddle": (saddle, [1.0, 1e-4]),
}


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    out = fn()  # warm-up (compiles)
    jax.block_until_ready(out)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        jax.block_until_ready(out)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def run_jax(solver, fun, x0, gtol, repeats):
    seconds, res = median_time(lambda: solver(fun, x0, gtol=gtol), repeats)
    return {"converged": bool(res.converged), "steps": int(res.num_steps),
            "grads": int(res.num_grads), "hvps": int(res.num_hvps),
            "values": int(getattr(res, "num_values", 0)), "f": float(res.value), "time": seconds}


def run_scipy(fun, x0, gtol, repeats):
    value_and_grad = jax.jit(jax.value_and_grad(fun))
    hessp = jax.jit(lambda x, p: jax.jvp(jax.grad(fun), (x,), (p,))[1])
    counts = {"grads": 0, "hvps": 0}

    def fg(x):
        counts["grads"] += 1
        v, g = value_and_grad(jnp.asarray(x))
        return float(v), np.asarray(g, np.float64)

    def hp(x, p):
        counts["hvps"] += 1
        return np.asarray(hessp(jnp.asarray(x), jnp.asarray(p)), np.float64)

    x0n = np.asarray(x0, np.float64)

    def solve():
        counts.update(grads=0, hvps=0)
        return scipy.optimize.minimize(fg, x0n, jac=True, hessp=hp, method="trust-ncg",
                                       options={"gtol": gtol, "maxiter": 200 * len(x0n)})

    seconds, res = median_time(solve, repeats)
    return {"converged": bool(np.linalg.norm(res.jac) <= gtol), "steps": int(res.nit),
            "grads": counts["grads"], "hvps": counts["hvps"], "values": 0, "f": float(res.fun),
            "time": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--x64", action="store_true", help="float64 (default float32)")
    args = parser.parse_args()
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    import complexity_optax as co

    dtype = jnp.float64 if args.x64 else jnp.float32
    gtol = 1e-8 if args.x64 else 1e-4
    solvers = {
        "trust_region": co.minimize_trust_region,
        "arc": co.minimize_cubic,
        "saddle_free": co.minimize_saddle_free_newton,
    }
    print(f"device: {jax.devices()[0].device_kind} ({jax.default_backend()}), dtype "
          f"{jnp.dtype(dtype).name}, gtol {gtol:g}, median of {args.repeats} after a warm-up")
    header = (f"{'problem':<20}{'solver':<14}{'conv':>5}{'steps':>7}{'grads':>7}{'hvps':>7}"
              f"{'values':>8}{'f':>12}{'time ms':>10}{'/TR':>7}")
    print(header)
    print("-" * len(header))
    for name, (fun, x0) in PROBLEMS.items():
        x0j = jnp.asarray(x0, dtype)
        rows = {k: run_jax(s, fun, x0j, gtol, args.repeats) for k, s in solvers.items()}
        rows["scipy_trust_ncg"] = run_scipy(fun, x0, gtol, args.repeats)
        base = rows["trust_region"]["time"]
        for solver, r in rows.items():
            print(f"{name:<20}{solver:<14}{'yes' if r['converged'] else 'no':>5}{r['steps']:>7}"
                  f"{r['grads']:>7}{r['hvps']:>7}{r['values']:>8}{r['f']:>12.3e}"
                  f"{1e3 * r['time']:>10.2f}{r['time'] / base:>7.2f}")


if __name__ == "__main__":
    main()
