# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Trust-region benchmark: cost ratios measured side by side in one run.

    python benchmarks/trust_region.py [--quick] [--repeats N]
    python benchmarks/trust_region.py --sizes 1e3,1e4,1e5,1e6 [--repeats N] [--repeats-large M]
    python benchmarks/trust_region.py --profile 1e6
    python benchmarks/trust_region.py --problems 1000,100000
    python benchmarks/trust_region.py --solve-cost 1e4,1e5,1e6

Prints the device, then a table of ratios (median of repeats, after a warm-up call that compiles,
every call closed by ``jax.block_until_ready``):

* HVP / gradient time on a full-batch MLP loss;
* one CG iteration / one ``hvp_fn`` call of a linearisation (slopes over the iteration count);
* one ``trust_region`` step / (gradient + k tangent HVPs + one evaluation), k = CG iterations used;
* scipy ``minimize(method="trust-ncg")`` (jitted JAX callbacks) / ``minimize_trust_region``
  (scipy's constants) on Rosenbrock and a full-batch MLP, with both iteration counts;
* temporary memory of the compiled trust-region step, in parameter-sized buffers.

``--sizes`` is a size sweep instead (`size_sweep`): per n and for chained Rosenbrock (n
parameters) and a two-hidden-layer tanh MLP of about n parameters on a fixed batch of 256
samples, one default `trust_region` step (the sphere) against its parts, HVP / gradient and
the compiled step's peak memory. ``--profile`` splits one step into cumulative stages
(`profile_step`); ``--problems`` runs the Moré-Garbow-Hillstrom set against scipy.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from complexity_optax import hvp, steihaug_cg, trust_region, value_grad_and_hvp
from complexity_optax._src.trust_region.minimize import minimize_trust_region


def median_time(fn: Callable[..., Any], *args: Any, repeats: int = 5) -> float:
    """Median wall time of ``fn(*args)`` in seconds, after one warm-up (compiling) call."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ------------------------------------------------------------------------------------------------
# Problems.

def mlp_problem(sizes: tuple[int, ...], n: int, seed: int = 0, dtype=jnp.float32):
    """A tanh MLP with cross-entropy on synthetic data: (loss, params, x, y)."""
    key = jax.random.PRNGKey(seed)
    keys = jax.random.split(key, len(sizes) + 1)
    params = [{"w": (jax.random.normal(k, (a, b)) / np.sqrt(a)).astype(dtype),
               "b": jnp.zeros(b, dtype)}
              for k, a, b in zip(keys, sizes[:-1], sizes[1:])]
    x = jax.random.normal(keys[-1], (n, sizes[0]), dtype)
    y = jax.random.randint(keys[-2], (n,), 0, sizes[-1])

    def loss(p, xb, yb):
        h = xb
        for layer in p[:-1]:
            h = jnp.tanh(h @ layer["w"] + layer["b"])
        logits = h @ p[-1]["w"] + p[-1]["b"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    return loss, params, x, y


def rosenbrock(x: jax.Array) -> jax.Array:
    """The n-dimensional Rosenbrock function (scipy's ``rosen``)."""
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def param_bytes(params: Any) -> int:
    return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(params))


# ------------------------------------------------------------------------------------------------
# Measurements.

def hvp_over_grad(loss, params, batch, repeats):
    """(standalone HVP time / gradient time, gradient time); `loss(params, *batch)`."""
    grad_fn = jax.jit(jax.grad(loss))
    hvp_fn = jax.jit(lambda p, v, *b: hvp(loss, p, v, *b))
    t_grad = median_time(grad_fn, params, *batch, repeats=repeats)
    t_hvp = median_time(hvp_fn, params, params, *batch, repeats=repeats)
    return t_hvp / t_grad, t_grad


def _tangent_loop(loss, k):
    """Linearise once, then apply hvp_fn k times (normalised power iteration)."""

    @jax.jit
    def run(p, *batch):
        _, _, hvp_fn = value_grad_and_hvp(loss, p, *batch)

        def body(_, v):
            hv = hvp_fn(v)
            return optax.tree.scale(1.0 / (optax.tree.norm(hv) + 1e-30), hv)

        return jax.lax.fori_loop(0, k, body, p)

    return run


def _cg_solve(loss, k):
    @jax.jit
    def run(p, xb, yb):
        _, grad, hvp_fn = value_grad_and_hvp(loss, p, xb, yb)
        res = steihaug_cg(hvp_fn, grad, 1e10, max_iters=k, rtol=0.0)  # pure truncation
        return res.step, res.iterations

    return run


def cg_iteration_over_hvp(loss, params, x, y, k1, k2, repeats):
    """Per-iteration slope of CG over the per-call slope of a linearisation's hvp_fn."""
    # A ridge (H + I) keeps the Hessian positive definite, so that CG with rtol=0 runs the k
    # iterations asked (0.05 was too small: negative curvature stopped CG after 5-9 iterations).
    # It still stops early once the float32 residual underflows (~24 iterations at full size), so
    # the slope uses the iteration counts actually run.
    ridged = lambda p, xb, yb: loss(p, xb, yb) + 0.5 * optax.tree.norm(p, squared=True)
    t_cg, its = [], []
    for k in (k1, k2):
        fn = _cg_solve(ridged, k)
        its.append(int(fn(params, x, y)[1]))
        t_cg.append(median_time(fn, params, x, y, repeats=repeats))
    t_lin = [median_time(_tangent_loop(ridged, k), params, x, y, repeats=repeats)
             for k in (k1, k2)]
    cg_slope = (t_cg[1] - t_cg[0]) / max(its[1] - its[0], 1)
    tangent_slope = (t_lin[1] - t_lin[0]) / (k2 - k1)
    return cg_slope / tangent_slope, tangent_slope, its


def _tr_step(loss, tx):
    """One jitted optax loop step: the caller's value and gradient, then `tx.update`.

    `loss(params, *batch)`; the step is `step(params, state, batch) -> (params, state)`.
    """
    value_fn = lambda p, batch: loss(p, *batch)

    @jax.jit
    def step(p, state, batch):
        value, grads = jax.value_and_grad(value_fn)(p, batch)
        updates, state = tx.update(grads, state, p, value=value, value_fn=value_fn, batch=batch)
        return optax.apply_updates(p, updates), state

    return step


def step_over_parts(t_step, t_grad, t_tangent, t_eval, k):
    """TR step time / (gradient + k tangent HVPs + one evaluation)."""
    return t_step / (t_grad + k * t_tangent + t_eval)


def tr_step_over_parts(loss, params, batch, t_grad, t_tangent, repeats, tx=None):
    """(ratio, k, memory analysis) of one `trust_region` step, k = the CG iterations it used."""
    if tx is None:
        tx = trust_region(ellipsoid="rmsprop", initial_radius=1.0, cg_rtol=0.01)
    state = tx.init(params)
    step = _tr_step(loss, tx).lower(params, state, batch).compile()
    k = int(step(params, state, batch)[1].hvp_count)
    t_step = median_time(step, params, state, batch, repeats=repeats)
    t_eval = median_time(jax.jit(loss), params, *batch, repeats=repeats)
    return step_over_parts(t_step, t_grad, t_tangent, t_eval, k), k, step.memory_analysis()


def rosenbrock_tr_memory(n):
    tx = trust_region(ellipsoid="rmsprop")
    x = jnp.full((n,), 0.5, jnp.float32)

    @jax.jit
    def step(p, state):
        value, grads = jax.value_and_grad(rosenbrock)(p)
        return tx.update(grads, state, p, value=value, value_fn=rosenbrock)

    return step.lower(x, tx.init(x)).compile().memory_analysis(), param_bytes(x)


def scipy_vs_ours(fun, x0, max_steps, gtol):
    """Times scipy trust-ncg with jitted callbacks and minimize_trust_region (float64)."""
    from jax.flatten_util import ravel_pytree
    from scipy.optimize import minimize

    flat0, unravel = ravel_pytree(x0)
    flat_fun = lambda v: fun(unravel(v))
    f_jit = jax.jit(flat_fun)
    g_jit = jax.jit(jax.grad(flat_fun))
    hp_jit = jax.jit(lambda v, d: hvp(flat_fun, v, d))
    callbacks = {
        "fun": lambda v: float(f_jit(v)),
        "jac": lambda v: np.asarray(g_jit(v)),
        "hessp": lambda v, d: np.asarray(hp_jit(v, d)),
    }

    def run_scipy():
        return minimize(x0=np.asarray(flat0), method="trust-ncg",
                        options={"maxiter": max_steps, "gtol": gtol}, **callbacks)

    def run_ours():
        return minimize_trust_region(fun, x0, max_steps=max_steps, gtol=gtol)

    t_scipy = median_time(run_scipy, repeats=1)
    t_ours = median_time(run_ours, repeats=3)
    ours = run_ours()
    sc = run_scipy()
    return t_scipy / t_ours, int(sc.nit), int(ours.num_steps), float(sc.fun), float(ours.value)


SOLVERS = ("tr", "tr_rmsprop", "arc", "sfn")  # the columns of `problem_set`


def _one_problem(problem, n: int, max_steps: int, minimize) -> str:
    """One row of `problem_set`: scipy trust-ncg, then each of `SOLVERS`."""
    from complexity_optax import minimize_cubic, minimize_saddle_free_newton

    x0 = jnp.asarray(problem.x0(n), jnp.float64)
    f = jax.jit(problem.fun)
    g = jax.jit(jax.grad(problem.fun))
    hp = jax.jit(lambda x, v: jax.jvp(jax.grad(problem.fun), (x,), (v,))[1])
    hvps = [0]

    def hessp(x, v):
        hvps[0] += 1
        return np.asarray(hp(x, v))

    def run_scipy():
        hvps[0] = 0
        return minimize(lambda x: float(f(x)), np.asarray(x0), method="trust-ncg",
                        jac=lambda x: np.asarray(g(x)), hessp=hessp,
                        options={"gtol": 1e-5, "maxiter": max_steps})

    solvers = {
        "tr": lambda: minimize_trust_region(problem.fun, x0, gtol=1e-5, max_steps=max_steps),
        "tr_rmsprop": lambda: minimize_trust_region(problem.fun, x0, gtol=1e-5,
                                                    max_steps=max_steps, ellipsoid="rmsprop"),
        "arc": lambda: minimize_cubic(problem.fun, x0, gtol=1e-5, max_steps=max_steps),
        "sfn": lambda: minimize_saddle_free_newton(problem.fun, x0, gtol=1e-5,
                                                   max_steps=max_steps),
    }
    jax.block_until_ready((f(x0), g(x0), hp(x0, x0)))
    start = time.perf_counter()
    sc = run_scipy()
    t_scipy = time.perf_counter() - start
    row = f"{problem.name:26s} n={n:>7d} | scipy {sc.nit:5d} {hvps[0]:6d} {t_scipy:8.3f}s"
    for name in SOLVERS:
        jax.block_until_ready(solvers[name]())  # compile first
        start = time.perf_counter()
        res = jax.block_until_ready(solvers[name]())
        seconds = time.perf_counter() - start
        row += (f" | {int(res.num_steps):5d} {int(res.num_hvps):6d} {int(res.status)} "
                f"{t_scipy / seconds:7.1f}x")
    return row


PROBLEM_HEADER = (
    f"{'problem':26s} {'n':>9s} | scipy trust-ncg: steps HVPs time"
    + "".join(f" | {name}: steps HVPs status scipy/ours" for name in SOLVERS))


def problem_set(sizes: tuple[int, ...], max_steps: int = 5000) -> list[str]:
    """The Moré-Garbow-Hillstrom set (the tests' definitions): solvers x problems, float64.

    Per problem and size: scipy trust-ncg's steps, HVPs and time (jitted callbacks), then for
    `minimize_trust_region` (sphere and RMSProp ellipsoid), `minimize_cubic` and
    `minimize_saddle_free_newton` (defaults, gtol 1e-5) their steps, HVPs, `SolverStatus`
    and the time ratio scipy / ours (our compile excluded).
    """
    from scipy.optimize import minimize

    from complexity_optax.testing.mgh_problems import PROBLEMS

    print(PROBLEM_HEADER, flush=True)
    lines = [PROBLEM_HEADER]
    for problem in PROBLEMS.values():
        for n in (sizes if problem.scalable else (problem.n,)):
            if problem.name == "extended_powell_singular":
                n = 4 * max(n // 4, 1)
            line = _one_problem(problem, n, max_steps, minimize)
            print(line, flush=True)
            lines.append(line)
    return lines


def alternated_medians(fns: tuple[Callable[..., Any], ...], *args: Any,
                       repeats: int = 5) -> list[float]:
    """Median wall times of each of `fns` on `args`, called in turn in each round (compiled
    before), so that the machine's load moves them alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times, strict=True):
            start = time.perf_counter()
            jax.block_until_ready(fn(*args))
            ts.append(time.perf_counter() - start)
    return [statistics.median(ts) for ts in times]


def _parts_loop(x: jax.Array, *, steps: int, products: int) -> jax.Array:
    """`steps` x (one linearisation of `rosenbrock`, `products` HVPs of it, one evaluation at a
    moved point) and a final linearisation, in one loop: the work of a solve without its logic.
    The point moves by 1e-30 of that work, below float64 resolution: XLA cannot know it, so
    nothing is hoisted or dropped."""
    def step(i, x):
        value, grad, hvp_fn = value_grad_and_hvp(rosenbrock, x)
        hv = jax.lax.fori_loop(0, products, lambda j, v: hvp_fn(v), grad)
        trial_value = rosenbrock(x + 1e-30 * hv)
        return x - 1e-30 * (value + trial_value) * hv

    x = jax.lax.fori_loop(0, steps, step, x)
    return value_grad_and_hvp(rosenbrock, x)[1]


def solve_cost(sizes: tuple[int, ...], max_steps: int = 50, repeats: int = 3) -> list[str]:
    """`minimize_trust_region` against scipy trust-ncg on chained Rosenbrock, float64, per n.

    Both from (-1.2, 1, -1.2, ...) with scipy's constants, gtol 1e-5 and `max_steps` steps at
    most; scipy's callbacks are jitted JAX (value, gradient, HVP; compiled before timing). Per
    n: steps and HVPs of both, the medians of `repeats` timed solves, their ratio scipy / ours,
    and our solve over its parts (target <= 1.5): the same work, (steps + 1) linearisations,
    the HVPs as tangent products and one evaluation per step, in one jitted loop without the
    solver's logic (`_parts_loop`), timed alternately with the solve.
    """
    from scipy.optimize import minimize

    lines = [f"{'n':>9s} | scipy steps HVPs seconds | ours steps HVPs seconds status | "
             "scipy/ours | ours/parts"]
    print(lines[0], flush=True)
    for n in sizes:
        x0 = jnp.tile(jnp.array([-1.2, 1.0], jnp.float64), (n + 1) // 2)[:n]
        f = jax.jit(rosenbrock)
        g = jax.jit(jax.grad(rosenbrock))
        hp = jax.jit(lambda x, v: hvp(rosenbrock, x, v))
        hvps = [0]

        def hessp(x, v, hvps=hvps, hp=hp):
            hvps[0] += 1
            return np.asarray(hp(x, v))

        def run_scipy(f=f, g=g, hessp=hessp, x0=x0, hvps=hvps):
            hvps[0] = 0
            return minimize(lambda x: float(f(x)), np.asarray(x0), method="trust-ncg",
                            jac=lambda x: np.asarray(g(x)), hessp=hessp,
                            options={"gtol": 1e-5, "maxiter": max_steps})

        def run_ours(x0=x0):
            return minimize_trust_region(rosenbrock, x0, gtol=1e-5, max_steps=max_steps)

        jax.block_until_ready((f(x0), g(x0), hp(x0, x0)))
        t_scipy = median_time(run_scipy, repeats=repeats)
        t_ours = median_time(run_ours, repeats=repeats)
        sc, ours = run_scipy(), run_ours()
        # The parts, as one jitted loop of the same work without the solver's logic: per step
        # one linearisation (value, gradient, residuals), the step's share of the HVPs (tangent
        # products of that linearisation) and one evaluation at a moved point, then the final
        # linearisation. Timing each part as its own program does not measure this: a
        # standalone program allocates fresh parameter-sized outputs every call (page faults
        # a loop does not pay), and XLA drops what it does not return (at n = 1e6
        # `linearise + product` ran in 0.47 ms against 1.19 ms for the linearisation alone).
        steps, products = int(ours.num_steps), int(ours.num_hvps)
        per_step = max(round(products / max(steps, 1)), 1)
        parts_loop = jax.jit(functools.partial(_parts_loop, steps=steps, products=per_step))
        jax.block_until_ready(parts_loop(x0))
        t_ours_alt, t_parts = alternated_medians((run_ours, parts_loop), x0, repeats=repeats)
        line = (f"{n:9d} | scipy {sc.nit:5d} {hvps[0]:5d} {t_scipy:8.3f} | ours {steps:5d} "
                f"{products:5d} {t_ours:8.3f} {int(ours.status)} | {t_scipy / t_ours:10.2f} | "
                f"{t_ours_alt / t_parts:10.2f}")
        print(line, flush=True)
        lines.append(line)
    return lines


# ------------------------------------------------------------------------------------------------
# Size sweep: n = 1e3 ... 1e6, Rosenbrock and an MLP of about n parameters, side by side.

def parse_sizes(text: str) -> tuple[int, ...]:
    """``"1e3,1e4"`` -> ``(1000, 10000)``."""
    sizes = tuple(int(float(v)) for v in text.split(",") if v.strip())
    if not sizes or min(sizes) < 2:
        raise ValueError(f"sizes must be integers >= 2, got {text!r}")
    return sizes


def mlp_widths(n_params: int, d_in: int = 32, d_out: int = 10) -> tuple[int, int, int, int]:
    """Layer widths ``(d_in, h, h, d_out)`` of a two-hidden-layer MLP with about `n_params`.

    The count is ``h**2 + (d_in + d_out + 2) h + d_out``; `h` is the root, rounded down.
    """
    b = d_in + d_out + 2
    h = int((-b + np.sqrt(b * b + 4 * max(n_params - d_out, 1))) / 2)
    return (d_in, max(h, 1), max(h, 1), d_out)


def sweep_problems(n: int, n_data: int = 256):
    """``{name: (loss, params, batch)}`` at size `n`, ``loss(params, *batch)``."""
    rosen_x0 = jnp.tile(jnp.array([-1.2, 1.0], jnp.float32), (n + 1) // 2)[:n]
    loss, params, x, y = mlp_problem(mlp_widths(n), n_data)
    return {"rosenbrock": (lambda p: rosenbrock(p), rosen_x0, ()),
            "mlp": (loss, params, (x, y))}


def interleaved_times(fns: dict[str, tuple], repeats: int) -> dict[str, list[float]]:
    """Wall times of each ``fn(*args)`` (``fns[name] = (fn, *args)``), `repeats` each, seconds.

    All are warmed up (compiled) first; the repeats then go round-robin over the functions, so
    that a change in the machine's load hits every measurement alike.
    """
    for fn, *args in fns.values():
        jax.block_until_ready(fn(*args))
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, (fn, *args) in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn(*args))
            times[name].append(time.perf_counter() - start)
    return times


def sweep_row(loss, params, batch, repeats: int, tx=None, k_tangent=(1, 9)) -> dict[str, Any]:
    """One row of the size sweep: TR step / its parts, HVP / gradient, peak memory.

    The step is the public `trust_region` (default settings, the sphere) in an optax loop
    (`_tr_step`: the caller's `jax.value_and_grad`, then `update`). Its parts are one value and
    gradient (`jax.value_and_grad`: the step needs f(θ) for its ratio), one evaluation (at the
    trial point) and k tangent HVPs, k the CG iterations the step used; the tangent HVP is the
    per-call slope of a linearisation's `hvp_fn` (`_tangent_loop` at two counts). HVP /
    gradient is one standalone HVP over one `jax.grad`. Peak memory is the compiled step's
    temp + argument + output bytes over the parameters' bytes (`None` when the backend gives
    no analysis). The ratio is from the medians of the interleaved repeats; the same ratio
    from the fastest repeats (``step_over_parts_min``) is the one less moved by other load.
    """
    if tx is None:
        tx = trust_region(ellipsoid="identity")
    state = tx.init(params)
    step = _tr_step(loss, tx).lower(params, state, batch).compile()
    k = int(step(params, state, batch)[1].hvp_count)
    k1, k2 = k_tangent
    fns = {
        "step": (step, params, state, batch),
        "grad": (jax.jit(jax.grad(loss)), params, *batch),
        "value_and_grad": (jax.jit(jax.value_and_grad(loss)), params, *batch),
        "hvp": (jax.jit(lambda p, v, *b: hvp(loss, p, v, *b)), params, params, *batch),
        "eval": (jax.jit(loss), params, *batch),
        "tangent1": (_tangent_loop(loss, k1), params, *batch),
        "tangent2": (_tangent_loop(loss, k2), params, *batch),
    }
    times = interleaved_times(fns, repeats)
    t = {name: statistics.median(v) for name, v in times.items()}
    fastest = {name: min(v) for name, v in times.items()}
    t_tangent = max((t["tangent2"] - t["tangent1"]) / (k2 - k1), 0.0)
    fastest_tangent = max((fastest["tangent2"] - fastest["tangent1"]) / (k2 - k1), 0.0)
    memory = step.memory_analysis()
    peak = None
    if memory is not None:
        peak = (memory.temp_size_in_bytes + memory.argument_size_in_bytes
                + memory.output_size_in_bytes) / param_bytes(params)
    return {"k": k, "step_over_parts": step_over_parts(t["step"], t["value_and_grad"],
                                                       t_tangent, t["eval"], k),
            "step_over_parts_min": step_over_parts(fastest["step"], fastest["value_and_grad"],
                                                   fastest_tangent, fastest["eval"], k),
            "hvp_over_grad": t["hvp"] / t["grad"], "peak_buffers": peak,
            "t_step": t["step"], "t_value_and_grad": t["value_and_grad"], "t_grad": t["grad"],
            "t_tangent": t_tangent, "t_eval": t["eval"], "t_hvp": t["hvp"]}


def profile_step(loss, params, batch, repeats: int) -> dict[str, tuple[float, float]]:
    """Where a sphere `trust_region` step spends its time: cumulative stages, (min, median) s.

    Each stage is a jitted prefix of the step, built from the library's own pieces and
    returning what the next stage needs (so that XLA cannot drop it): the linearisation (value,
    gradient, HVP residuals), + the finiteness checks, + Steihaug CG at the default radius,
    + the step's checks and the value at the trial point, + the radius floor, + the rule and
    the masked update; then the public step itself and its parts. A diagnostic: it mirrors
    `trust_region.update` for the sphere, float32, unmasked parameters.
    """
    from complexity_optax._src.common.tree import all_finite
    from complexity_optax._src.trust_region.rule import (
        assess_step,
        evaluate_if_moved,
        radius_floor,
        step_checks,
    )
    from complexity_optax._src.trust_region.shape import tree_norm_in
    from complexity_optax._src.trust_region.transformation import LIBRARY_DEFAULTS

    rule = LIBRARY_DEFAULTS
    tx = trust_region(ellipsoid="identity")
    state = tx.init(params)

    def stage(level):
        def run(p, radius, b):
            value, grad, hvp_fn = value_grad_and_hvp(loss, p, *b)
            out = (value, grad)
            if level < 2:
                return out
            ok = all_finite(grad) & jnp.isfinite(value)
            if level < 3:
                return value, grad, ok
            sub = steihaug_cg(hvp_fn, grad, radius, max_iters=rule.max_cg_iters,
                              rtol=rule.cg_rtol, theta=rule.cg_forcing_exponent)
            if level < 4:
                return value, sub.step, sub.model_decrease, ok
            trial = optax.apply_updates(p, sub.step)
            found = step_checks(sub.step, p, trial)
            trial_value = evaluate_if_moved(lambda t: loss(t, *b), p, sub.step, value, found)
            if level < 5:
                return value, sub.step, sub.model_decrease, trial_value, ok
            floor = radius_floor(tree_norm_in(p, None), jnp.float32, jnp.float32)
            if level < 6:
                return value, sub.step, sub.model_decrease, trial_value, floor, ok
            verdict = assess_step(value=value, trial_value=trial_value,
                                  predicted=sub.model_decrease, step=sub.step, params=p,
                                  trial_params=trial, radius=radius,
                                  hit_boundary=sub.hit_boundary, min_radius=floor, rule=rule,
                                  found=found)
            accepted = ok & verdict.accepted
            updates = optax.tree.where(accepted, sub.step, optax.tree.zeros_like(sub.step))
            return optax.apply_updates(p, updates), verdict.radius, verdict.rho, verdict.outcome

        return jax.jit(run)

    names = ["linearisation", "+ checks", "+ CG", "+ trial value", "+ radius floor",
             "+ rule, update"]
    fns = {name: (stage(level + 1), params, state.radius, batch)
           for level, name in enumerate(names)}
    fns["public step"] = (_tr_step(loss, tx), params, state, batch)
    fns["value_and_grad"] = (jax.jit(jax.value_and_grad(loss)), params, *batch)
    fns["eval"] = (jax.jit(loss), params, *batch)
    fns["tangent x1"] = (_tangent_loop(loss, 1), params, *batch)
    fns["tangent x9"] = (_tangent_loop(loss, 9), params, *batch)
    times = interleaved_times(fns, repeats)
    return {name: (min(t), statistics.median(t)) for name, t in times.items()}


def size_sweep(sizes: tuple[int, ...], repeats: int, repeats_large: int | None = None,
               large: int = 10**6, n_data: int = 256) -> list[dict[str, Any]]:
    """The sweep table, printed row by row; `repeats_large` repeats for n >= `large`.

    `n_data` is the MLP's batch: the step's own work (CG vectors, safeguards) is per
    parameter, the MLP's per sample and parameter, so TR step / parts falls as it grows.
    """
    print(f"{'problem':10s} {'n':>8s} {'params':>8s} {'k':>3s} {'TR/parts':>9s} "
          f"{'(min)':>6s} {'HVP/grad':>9s} {'peak/params':>11s} {'step ms':>9s} "
          f"{'v&g ms':>9s} {'tanHVP ms':>9s} {'eval ms':>9s}  (target TR/parts <= 1.10)",
          flush=True)
    rows = []
    for n in sizes:
        r = repeats if repeats_large is None or n < large else repeats_large
        for name, (loss, params, batch) in sweep_problems(n, n_data).items():
            row = dict(problem=name, n=n, params=param_bytes(params) // 4,
                       **sweep_row(loss, params, batch, r))
            peak = "n/a" if row["peak_buffers"] is None else f"{row['peak_buffers']:.1f}"
            ms = [f"{1e3 * row[key]:9.3g}" for key in ("t_step", "t_value_and_grad",
                                                        "t_tangent", "t_eval")]
            print(f"{name:10s} {n:8d} {row['params']:8d} {row['k']:3d} "
                  f"{row['step_over_parts']:9.3f} {row['step_over_parts_min']:6.3f} "
                  f"{row['hvp_over_grad']:9.3f} {peak:>11s} {' '.join(ms)}", flush=True)
            rows.append(row)
    return rows


# ------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a few seconds)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--solve-cost", type=str, default=None,
                        help="sizes, e.g. 1e4,1e5,1e6: minimize_trust_region vs scipy trust-ncg "
                             "on Rosenbrock, and our solve over its parts (`solve_cost`)")
    parser.add_argument("--problems", type=str, default=None,
                        help="only the MGH problem set at these comma-separated sizes "
                             "(e.g. 1000,100000)")
    parser.add_argument("--sizes", type=str, default=None,
                        help="only the size sweep at these comma-separated sizes "
                             "(e.g. 1e3,1e4,1e5,1e6): Rosenbrock and an MLP of about n "
                             "parameters, TR step / parts, HVP / gradient, peak memory")
    parser.add_argument("--repeats-large", type=int, default=None,
                        help="repeats at n >= 1e6 in the size sweep (default: --repeats)")
    parser.add_argument("--batch", type=int, default=256,
                        help="samples in the MLP's fixed batch (size sweep and profile)")
    parser.add_argument("--profile", type=str, default=None,
                        help="only the stage profile of one sphere TR step at this size "
                             "(e.g. 1e6), both sweep problems")
    args = parser.parse_args(argv)
    if args.profile:
        repeats = args.repeats or 15
        n = parse_sizes(args.profile)[0]
        print(f"devices: {jax.devices()}, jax {jax.__version__}, "
              f"{time.strftime('%Y-%m-%d %H:%M')}, repeats {repeats}", flush=True)
        for name, (loss, params, batch) in sweep_problems(n, args.batch).items():
            print(f"{name}, n={n}: cumulative stages of one step, ms (min, median)")
            for stage, (t_min, t_med) in profile_step(loss, params, batch, repeats).items():
                print(f"  {stage:16s} {1e3 * t_min:9.3f} {1e3 * t_med:9.3f}", flush=True)
        return {}
    if args.sizes:
        repeats = args.repeats or 7
        print(f"devices: {jax.devices()}, jax {jax.__version__}, "
              f"{time.strftime('%Y-%m-%d %H:%M')}, repeats {repeats} "
              f"({args.repeats_large or repeats} at n >= 1e6), MLP batch {args.batch}", flush=True)
        rows = size_sweep(parse_sizes(args.sizes), repeats, args.repeats_large,
                          n_data=args.batch)
        return {f"{row['problem']} n={row['n']}": row["step_over_parts"] for row in rows}
    if args.solve_cost:
        with jax.enable_x64(True):
            solve_cost(parse_sizes(args.solve_cost), repeats=args.repeats or 3)
        return {}
    if args.problems:
        with jax.enable_x64(True):
            problem_set(tuple(int(v) for v in args.problems.split(",")))
        return {}
    quick = args.quick
    repeats = args.repeats or (3 if quick else 7)
    sizes, n_data = ((16, 16, 10), 64) if quick else ((256, 512, 512, 10), 4096)
    k1, k2 = (2, 6) if quick else (8, 20)
    n_rosen = 200 if quick else 20_000
    steps_rosen, steps_mlp = (20, 5) if quick else (200, 30)

    print(f"devices: {jax.devices()}, jax {jax.__version__}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, repeats {repeats}", flush=True)
    if quick:
        print("--quick: tiny sizes, the timings are dispatch noise (smoke run only)")
    rows: list[tuple[str, float, str]] = []

    class _Rows(list):  # prints each row as soon as it is measured (long runs on CPU)
        def append(self, row):
            super().append(row)
            print(f"  {row[0]}: {row[1]:.3f} (target {row[2]})", flush=True)

    rows = _Rows()
    loss, params, x, y = mlp_problem(sizes, n_data)
    print(f"MLP {sizes}, {n_data} samples, {param_bytes(params) // 4} parameters")

    r_hvp, t_grad = hvp_over_grad(loss, params, (x, y), repeats)
    rows.append(("HVP / gradient (standalone, forward-over-reverse)", r_hvp, "~2-4"))
    r_cg, t_tangent, its = cg_iteration_over_hvp(loss, params, x, y, k1, k2, repeats)
    rows.append((f"CG iteration / standalone HVP (iters {its})",
                 r_cg * t_tangent / (r_hvp * t_grad), "<= 1.2"))
    rows.append((f"CG iteration / linearised hvp_fn call (iters {its})", r_cg, "<= 1.2"))
    r_step, k, memory = tr_step_over_parts(loss, params, (x, y), t_grad, t_tangent, repeats)
    rows.append((f"TR step / (grad + {k} HVP + eval)", r_step, "<= 1.10"))

    with jax.enable_x64(True):
        # A size sweep: scipy pays a Python callback per HVP, we pay the HVP's own compute, so
        # the speed-up is largest where the HVP is cheap and shrinks as n grows on a CPU.
        for n_r in ((200,) if quick else (2_000, n_rosen)):
            x_rosen = jnp.zeros(n_r, jnp.float64)
            speed, nit_s, nit_o, f_s, f_o = scipy_vs_ours(rosenbrock, x_rosen, steps_rosen, 1e-5)
            name = (f"scipy trust-ncg / ours, Rosenbrock n={n_r} (iters {nit_s} vs {nit_o}, "
                    f"f {f_s:.2e} vs {f_o:.2e})")
            rows.append((name, speed, ">= 10"))
        if not quick:  # (one more pair of compilations: skipped by the smoke test)
            loss64, params64, x64, y64 = mlp_problem(sizes, n_data, dtype=jnp.float64)
            mlp_fun = lambda p: loss64(p, x64, y64)
            speed, nit_s, nit_o, f_s, f_o = scipy_vs_ours(mlp_fun, params64, steps_mlp, 1e-12)
            name = (f"scipy trust-ncg / ours, MLP full batch (iters {nit_s} vs {nit_o}, "
                    f"f {f_s:.4f} vs {f_o:.4f})")
            rows.append((name, speed, ">= 10"))

    pb = param_bytes(params)
    if memory is not None:
        rows.append(("MLP TR step temp memory / parameter bytes", memory.temp_size_in_bytes / pb,
                     "activations included"))
    # Compiled only (never run), so the quick run can afford the full size. At small n XLA
    # assigns buffers differently: 11.4 parameter buffers at n = 200, 10.1 at 2e3, 8.0 at 2e4
    # and at 1e6 (the unrotated CG loop: 10.0, 9.1, 9.0, 9.0).
    rosen_memory, rosen_pb = rosenbrock_tr_memory(20_000)
    if rosen_memory is not None:
        rows.append(("Rosenbrock n=20000 TR step temp memory / parameter bytes",
                     rosen_memory.temp_size_in_bytes / rosen_pb, "<= 10 (no Hessian)"))

    width = max(len(name) for name, _, _ in rows)
    print(f"{'quantity'.ljust(width)}  {'ratio':>9}  target")
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value:9.3f}  {target}")
    return {name: value for name, value, _ in rows}


if __name__ == "__main__":
    main()
