# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""First-call and second-call wall time of the public spectral tools, called eagerly.

Each public function of ``complexity_optax.landscape``'s Hessian tools (and the two
trust-region subproblem solvers) is called twice, outside ``jax.jit``, on a small problem: an
8 × 8 symmetric matrix ``a`` with ``matvec = lambda v: a @ v``, or, for the curvature operators,
a 4-parameter least-squares loss on two batches of 4 examples. The first call pays the tracing
and XLA compilation; the second call repeats it with the same arguments. Every function runs in
a fresh interpreter (``--in-process`` to run them all in this one, where earlier functions
warm the caches of later ones), after a warm-up that pays the backend's start-up. Times are
wall seconds including ``block_until_ready``. This is a benchmark, not a test. Usage::

    python benchmarks/landscape_first_call.py                 # every function
    python benchmarks/landscape_first_call.py --only lanczos top_eigenvalues
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

DIMENSION = 8


def _problem():
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((DIMENSION, DIMENSION)))
    values = np.linspace(-2.0, 3.0, DIMENSION)
    a = jnp.asarray((q * values) @ q.T, jnp.float32)
    psd = jnp.asarray((q * np.abs(values) + 1e-2) @ q.T, jnp.float32)
    return a, psd


def _regression():
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(1)
    params = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    batches = [(jnp.asarray(rng.standard_normal((4, 3)), jnp.float32),
                jnp.asarray(rng.standard_normal(4), jnp.float32)) for _ in range(2)]
    return params, batches


def cases() -> dict[str, Callable[[], Callable[[], Any]]]:
    """Name -> a setup returning the zero-argument call to time (setup is not timed)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    import complexity_optax as co
    from complexity_optax import landscape as ls

    def dense(fn: Callable[..., Any], psd: bool = False, **kwargs):
        def setup():
            a, b = _problem()
            m = b if psd else a
            matvec = lambda v: m @ v
            like, key = jnp.zeros(DIMENSION), jax.random.key(0)
            return lambda: fn(matvec, like, key, **kwargs)
        return setup

    def gauss_quadrature():
        rng = np.random.default_rng(2)
        t = ls.LanczosResult(jnp.asarray(rng.standard_normal((4, 6)), jnp.float32),
                             jnp.asarray(rng.random((4, 5)) + 0.5, jnp.float32),
                             jnp.asarray(rng.random(4), jnp.float32))
        return lambda: ls.gauss_quadrature(t)

    def smoothed():
        grid = jnp.asarray(np.linspace(-3.0, 3.0, 100), jnp.float32)
        nodes = jnp.asarray(np.linspace(-2.0, 2.0, 24).reshape(4, 6), jnp.float32)
        weights = jnp.full((4, 6), 1.0 / 6.0)
        return lambda: ls.gaussian_smoothed_density(grid, nodes, weights, 0.1)

    def diagonal_share(exact: bool):
        def setup():
            a, _ = _problem()
            matvec = lambda v: a @ v
            like, key = jnp.zeros(DIMENSION), jax.random.key(0)
            if exact:
                return lambda: ls.diagonal_share(matvec, like, exact=True)
            return lambda: ls.diagonal_share(matvec, like, key, num_columns=4)
        return setup

    def operator(kind: str):
        def setup():
            params, batches = _regression()
            v = {"w": jnp.ones(3), "b": jnp.ones(())}

            def loss(p, x, y):
                return 0.5 * jnp.mean((x @ p["w"] + p["b"] - y) ** 2)

            def model(p, x):
                return x @ p["w"] + p["b"]

            def output_loss(z, y):
                return 0.5 * jnp.mean((z - y) ** 2)

            def per_example(p, x, y):
                return 0.5 * (x @ p["w"] + p["b"] - y) ** 2

            def run():
                if kind == "hessian":
                    op = ls.hessian_operator(loss, params, batches)
                elif kind == "gauss_newton":
                    op = ls.gauss_newton_operator(model, output_loss, params, batches)
                elif kind == "fisher":
                    op = ls.fisher_operator(per_example, params, batches)
                elif kind == "block":
                    op = ls.block_operator(ls.hessian_operator(loss, params, batches), None,
                                           lambda path: "w" in path)
                    return op({"['w']": v["w"]})
                else:  # layer_blocks
                    blocks = ls.layer_blocks(ls.hessian_operator(loss, params, batches), None)
                    return [b({k: v[k.strip("[]'")] for k in b.like}) for b in blocks.values()]
                return op(v)
            return run
        return setup

    def linear_operator():
        a, _ = _problem()
        op = ls.LinearOperator(lambda v: a @ v, jnp.zeros(DIMENSION))
        v = jnp.ones(DIMENSION)
        return lambda: op(v)

    def solver(fn):
        def setup():
            _, b = _problem()
            g = jnp.asarray(np.linspace(-1.0, 1.0, DIMENSION), jnp.float32)
            return lambda: fn(lambda v: b @ v, g, 0.5, rtol=1e-3)
        return setup

    return {
        "lanczos": dense(ls.lanczos, num_steps=6),
        "eigenpairs": dense(ls.eigenpairs, k=2, num_steps=6),
        "top_eigenvalues": dense(ls.top_eigenvalues, k=2, num_steps=6),
        "bottom_eigenvalues": dense(ls.bottom_eigenvalues, k=2, num_steps=6),
        "hutchinson_trace": dense(ls.hutchinson_trace, num_samples=64),
        "hutchinson_diagonal": dense(ls.hutchinson_diagonal, num_samples=64),
        "hutchpp_trace": dense(ls.hutchpp_trace, num_matvecs=12),
        "hutchpp_diagonal": dense(ls.hutchpp_diagonal, num_matvecs=12),
        "mean_eigenvalue": dense(ls.mean_eigenvalue, num_samples=64),
        "lanczos_tridiagonals": dense(ls.lanczos_tridiagonals, num_probes=4, num_steps=6),
        "lanczos_quadrature": dense(ls.lanczos_quadrature, num_probes=4, num_steps=6),
        "gauss_quadrature": gauss_quadrature,
        "gaussian_smoothed_density": smoothed,
        "spectral_density": dense(ls.spectral_density, num_probes=4, num_steps=6,
                                  num_points=100),
        "log_spectral_density": dense(ls.log_spectral_density, psd=True, num_probes=4,
                                      num_steps=6, num_points=100),
        "index_fraction": dense(ls.index_fraction, num_probes=4, num_steps=6),
        "spectral_index": dense(ls.spectral_index, num_probes=4, num_steps=6),
        "diagonal_share": diagonal_share(False),
        "diagonal_share (exact)": diagonal_share(True),
        "wigner_diagonal_share": lambda: lambda: ls.wigner_diagonal_share(DIMENSION),
        "ols_diagonal_share": lambda: lambda: ls.ols_diagonal_share(DIMENSION, 4),
        "LinearOperator (call)": linear_operator,
        "hessian_operator (+product)": operator("hessian"),
        "gauss_newton_operator (+product)": operator("gauss_newton"),
        "fisher_operator (+product)": operator("fisher"),
        "block_operator (+product)": operator("block"),
        "layer_blocks (+products)": operator("layer_blocks"),
        "steihaug_cg": solver(co.steihaug_cg),
        "lanczos_subproblem": solver(co.lanczos_subproblem),
    }


def _seconds(fn: Callable[[], Any]) -> float:
    import jax

    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


def _warm_up() -> None:
    import jax
    import jax.numpy as jnp

    jax.block_until_ready(jnp.ones(2) + 1.0)
    jax.block_until_ready(jax.jit(lambda x: x * 2.0)(jnp.ones(2)))


def time_one(name: str) -> tuple[float, float]:
    """`(first, second)` wall seconds of the case `name` in this interpreter."""
    call = cases()[name]()
    return _seconds(call), _seconds(call)


def _time_isolated(name: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, __file__, "--child", name], check=True,
                         capture_output=True, text=True).stdout
    first, second = json.loads(out.strip().splitlines()[-1])
    return first, second


def main(argv: list[str] | None = None) -> dict[str, tuple[float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="case names (default: all)")
    parser.add_argument("--in-process", action="store_true",
                        help="run every case in this interpreter (later cases find warm caches)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _warm_up()
        print(json.dumps(time_one(args.child)))
        return {}
    names = args.only or list(cases())
    if args.in_process:
        _warm_up()
    rows = {}
    width = max(len(n) for n in names)
    print(f"{'function':<{width}}  first call s  second call s", flush=True)
    for name in names:
        rows[name] = time_one(name) if args.in_process else _time_isolated(name)
        print(f"{name:<{width}}  {rows[name][0]:12.3f}  {rows[name][1]:13.3f}", flush=True)
    total_first = sum(r[0] for r in rows.values())
    total_second = sum(r[1] for r in rows.values())
    print(f"{'total':<{width}}  {total_first:12.3f}  {total_second:13.3f}")
    return rows


if __name__ == "__main__":
    main()
