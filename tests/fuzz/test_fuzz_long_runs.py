# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The fuzz campaign, part 7: long runs of every schedule and method inside `lax.scan`.

* **Schedules**: 10⁶ consecutive counts of `cosine_annealing`, `power_law_annealing`,
  `lr_matched_annealing`, `scoping_schedule` and the stateful `matched_annealing` (fed a loss
  for 10⁶ steps, with NaN losses mixed in): every value finite, in its range, and at the end
  equal to the closed form (float32 at count 10⁶ − 1).
* **First-order transformations** (`complexity_weight_decay`, `two_step_annealing`,
  `project_onto_sphere`, `tangent_projection`, `add_annealed_field`, `complexity_sgd`,
  `anneal_sgd`, `entropy_sgd`/`scale_by_local_entropy` with one inner step): 10⁶ steps on a
  tiny pytree, with the invariant each keeps checked at the end (the sphere's radius to a few
  ulps, the exact step count, the minimiser of the quadratic).
* **Second-order methods** (`trust_region`, `cubic_regularization`, `saddle_free_newton`):
  10⁴ steps, most of them at the minimiser, where the gradient vanishes and the radius or
  regularisation is pushed to its limit: everything stays finite and within its bounds.

Each run is one compiled `lax.scan`. The runs that cost more than a second of CPU are `slow`
(`pytest -m slow`): the 10⁶-step runs of the Langevin loop and of a field redrawn at every step,
and the 10⁵-step second-order runs; a 10⁴-step version of each is in the default suite.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co
from complexity_optax.testing import contract as C

LONG = 1_000_000
SHORT = 10_000
KEY = jax.random.key(0)
EPS32 = float(jnp.finfo(jnp.float32).eps)


def _scan_schedule(schedule, steps):
    def body(carry, t):
        value = jnp.asarray(schedule(t), jnp.float32)
        lo, hi, finite = carry
        return (jnp.minimum(lo, value), jnp.maximum(hi, value),
                finite & jnp.isfinite(value)), None

    init = (jnp.asarray(jnp.inf, jnp.float32), jnp.asarray(-jnp.inf, jnp.float32),
            jnp.asarray(True))
    (lo, hi, finite), _ = jax.jit(lambda: jax.lax.scan(
        body, init, jnp.arange(steps, dtype=jnp.int32)))()
    return float(lo), float(hi), bool(finite), float(jnp.asarray(schedule(
        jnp.asarray(steps - 1, jnp.int32))))


LAM0 = 0.25
SCHEDULES = {
    # name: (schedule, (lower bound, upper bound), closed form at t = LONG − 1)
    "cosine_annealing": (co.cosine_annealing(LAM0, period=1000), (0.0, 2 * LAM0),
                         LAM0 * (1 + np.cos(2 * np.pi * ((LONG - 1) % 1000) / 1000))),
    "cosine_annealing_fractional_period": (
        co.cosine_annealing(LAM0, period=333.5), (0.0, 2 * LAM0),
        LAM0 * (1 + np.cos(2 * np.pi * (((LONG - 1) * 2) % 667) / 667))),
    "power_law_annealing": (co.power_law_annealing(LAM0, exponent=0.5), (0.0, LAM0),
                            LAM0 * LONG ** -0.5),
    "power_law_annealing_zero": (co.power_law_annealing(LAM0, exponent=0.0), (LAM0, LAM0), LAM0),
    "lr_matched_exponential": (
        co.lr_matched_annealing(LAM0, optax.exponential_decay(0.1, 1000, 0.5)), (0.0, LAM0),
        LAM0 * 0.5 ** ((LONG - 1) / 1000)),
    "lr_matched_cosine": (
        co.lr_matched_annealing(LAM0, optax.cosine_decay_schedule(0.1, LONG)), (0.0, LAM0),
        LAM0 * 0.5 * (1 + np.cos(np.pi * (LONG - 1) / LONG))),
    "lr_matched_constant": (co.lr_matched_annealing(LAM0, 0.1), (LAM0, LAM0), LAM0),
    "scoping_schedule": (co.scoping_schedule(0.03, 1e-3, max_gamma=5.0), (0.03, 5.0), 5.0),
    "scoping_schedule_uncapped": (co.scoping_schedule(0.03, 1e-3),
                                  (0.03, float(np.finfo(np.float32).max)),
                                  float(np.finfo(np.float32).max)),
    "optax_linear_field_scale": (optax.linear_schedule(1.0, 0.0, 1000), (0.0, 1.0), 0.0),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_over_a_million_steps(name):
    schedule, (low, high), final = SCHEDULES[name]
    lo, hi, finite, last = _scan_schedule(schedule, LONG)
    assert finite, "a non-finite value"
    tol = 4 * EPS32 * max(abs(high), 1e-30)
    assert low - tol <= lo and hi <= high + tol, (lo, hi)
    # The closed form at the last count, to float32 rounding of the formula's inputs (the
    # phase of the cosine is exact in integers; exp/pow lose a few ulps of their argument).
    np.testing.assert_allclose(last, final, rtol=64 * EPS32, atol=64 * EPS32 * abs(high))


@pytest.mark.parametrize("loss", ["constant", "decaying", "with_nan"])
def test_matched_annealing_over_a_million_losses(loss):
    """λ_t = λ₀ · min(L̄_t / L̄_0, max_ratio) (the smoothed loss relative to the first): with a
    constant loss λ stays λ₀ exactly; with L_t = 1/(1 + t/1000) it ends near λ₀/1001 (the
    smoothing lags by ~memory steps); NaN losses are skipped."""
    schedule = co.matched_annealing(LAM0, memory=10)
    state0 = schedule.init()

    def value_at(t):
        base = {"constant": 1.0, "decaying": 1.0 / (1.0 + t / 1000.0),
                "with_nan": 1.0}[loss]
        base = jnp.asarray(base, jnp.float32)
        if loss == "with_nan":
            base = jnp.where(t % 7 == 3, jnp.nan, base)
        return base

    def body(carry, t):
        state, lo, hi = carry
        value = value_at(t.astype(jnp.float32))
        lam = schedule(state, value=value)
        state = schedule.update(state, value=value)
        return (state, jnp.minimum(lo, lam), jnp.maximum(hi, lam)), None

    init = (state0, jnp.asarray(jnp.inf), jnp.asarray(-jnp.inf))
    (state, lo, hi), _ = jax.jit(lambda: jax.lax.scan(body, init, jnp.arange(LONG)))()
    assert C.all_finite(state) and np.isfinite(float(lo)) and np.isfinite(float(hi))
    final = float(schedule(state, value=value_at(jnp.asarray(LONG, jnp.float32))))
    if loss in ("constant", "with_nan"):
        assert float(lo) == float(hi) == final == np.float32(LAM0)
    else:
        expected = LAM0 / (1.0 + LONG / 1000.0)
        assert 0.0 <= float(lo) and float(hi) <= LAM0 * (1 + 4 * EPS32)
        np.testing.assert_allclose(final, expected, rtol=0.05)


# ------------------------------------------------------------------ first-order transformations
PARAMS = {"w": jnp.asarray([3.0, -1.0]), "b": jnp.asarray(0.5)}


def _loss(params, *args, **kwargs):
    return sum((jnp.sum((x - 1.0) ** 2) for x in jax.tree.leaves(params)), jnp.zeros(()))


def _run(tx, steps, params=PARAMS, loss=_loss):
    """`steps` steps of `tx` on `loss` in one `lax.scan`; returns `(params, state)`."""
    def body(carry, _):
        p, s = carry
        value, grads = jax.value_and_grad(loss)(p)
        updates, s = tx.update(grads, s, p, value=value, value_fn=loss)
        return (optax.apply_updates(p, updates), s), None

    run = jax.jit(lambda p: jax.lax.scan(body, (p, tx.init(p)), None, length=steps)[0])
    return run(params)


def _norm(tree):
    return float(np.sqrt(sum(np.sum(np.asarray(x, np.float64) ** 2)
                             for x in jax.tree.leaves(tree))))


def _count(state):
    counts = [int(x) for x in jax.tree.leaves(state) if hasattr(x, "dtype")
              and x.dtype == jnp.int32 and x.shape == ()]
    return counts


def _check_weight_decay(params, state, steps):
    # Gradient descent on Σ(x − 1)² + λ‖x‖² (λ = 0.1): the fixed point is 1/(1 + λ).
    np.testing.assert_allclose(np.concatenate([np.ravel(x) for x in jax.tree.leaves(params)]),
                               1.0 / 1.1, rtol=8 * EPS32)
    assert steps in _count(state)


def _check_on_sphere(radius):
    def check(params, state, steps):
        np.testing.assert_allclose(_norm(params), radius, rtol=8 * EPS32)
    return check


def _check_minimum(tol):
    def check(params, state, steps):
        x = np.concatenate([np.ravel(np.asarray(v, np.float64)) for v in jax.tree.leaves(params)])
        assert np.max(np.abs(x - 1.0)) <= tol, x
    return check


def _check_finite(params, state, steps):
    pass


RADIUS = float(np.sqrt(3.0))  # ‖(1, 1, 1)‖: the minimiser lies on this sphere
FIRST_ORDER = {
    # name: (transformation, check at the end)
    "complexity_weight_decay": (optax.chain(co.complexity_weight_decay(0.1), optax.sgd(0.05)),
                                _check_weight_decay),
    "complexity_weight_decay_cosine": (
        optax.chain(co.complexity_weight_decay(co.cosine_annealing(0.05, 100)), optax.sgd(0.05)),
        _check_finite),
    "two_step_annealing": (co.two_step_annealing(0.05, co.power_law_annealing(0.1)),
                           _check_minimum(0.05)),
    "project_onto_sphere": (optax.chain(optax.sgd(0.05), co.project_onto_sphere(RADIUS)),
                            _check_on_sphere(RADIUS)),
    "tangent_projection": (optax.chain(co.tangent_projection(), optax.sgd(0.05)),
                           _check_finite),
    "add_annealed_field": (optax.chain(co.add_annealed_field(
        optax.linear_schedule(1.0, 0.0, 1000), key=KEY), optax.sgd(0.05)), _check_minimum(1e-5)),
    "add_annealed_field_resample": (optax.chain(co.add_annealed_field(
        optax.linear_schedule(1.0, 0.0, 1000), key=KEY, resample=True), optax.sgd(0.05)),
        _check_minimum(1e-5)),
    "complexity_sgd": (co.complexity_sgd(0.05, strength=co.power_law_annealing(0.01),
                                         radius=RADIUS), _check_on_sphere(RADIUS)),
    "complexity_sgd_matched": (co.complexity_sgd(0.05, strength=co.matched_annealing(0.01),
                                                 sphere=False), _check_minimum(0.05)),
    "anneal_sgd": (co.anneal_sgd(0.05, field_scale=optax.linear_schedule(1.0, 0.0, 1000),
                                 key=0, momentum=0.5), _check_minimum(1e-5)),
    "anneal_sgd_sphere": (co.anneal_sgd(0.05, field_scale=optax.linear_schedule(1.0, 0.0, 1000),
                                        key=0, sphere=True, radius=RADIUS),
                          _check_on_sphere(RADIUS)),
    "entropy_sgd": (co.entropy_sgd(0.5, key=KEY, gamma=1.0, inner_steps=1, scoping=0.0,
                                   noise=0.0), _check_minimum(1e-3)),
    "scale_by_local_entropy": (optax.chain(co.scale_by_local_entropy(
        key=KEY, gamma=1.0, inner_steps=1, scoping=0.0, noise=0.0), optax.sgd(0.5)),
        _check_minimum(1e-3)),
}
# 10⁶-step runs that cost more than ~1 s of CPU: slow (a 10⁴-step run of each is in the
# default suite).
HEAVY = {"entropy_sgd", "scale_by_local_entropy", "add_annealed_field_resample"}


def _first_order_cases():
    out = []
    for name in FIRST_ORDER:
        out.append(pytest.param(name, SHORT, id=f"{name}-1e4"))
        marks = [pytest.mark.slow] if name in HEAVY else []
        out.append(pytest.param(name, LONG, marks=marks, id=f"{name}-1e6"))
    return out


@pytest.mark.parametrize("name, steps", _first_order_cases())
def test_first_order_long_run(name, steps):
    tx, check = FIRST_ORDER[name]
    params, state = _run(tx, steps)
    assert C.all_finite((params, state))
    assert all(0 <= c for c in _count(state)), "an int32 counter wrapped"
    check(params, state, steps)


# --------------------------------------------------------------------------- second order
SECOND_ORDER = {
    "trust_region": lambda: co.trust_region(max_cg_iters=3),
    "trust_region_rmsprop": lambda: co.trust_region(ellipsoid="rmsprop", max_cg_iters=3),
    "cubic_regularization": lambda: co.cubic_regularization(max_krylov=3),
    "saddle_free_newton": lambda: co.saddle_free_newton(krylov_dim=3, num_damping=2),
}


@pytest.mark.parametrize("steps", [SHORT, pytest.param(100_000, marks=pytest.mark.slow)],
                         ids=["1e4", "1e5"])
@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order_long_run(name, steps):
    """From (3, −1, 0.5) the methods reach the minimiser (1, 1, 1) in a few steps and then sit
    on it for the rest of the run: zero gradients, the radius/σ at its bound, nothing drifts."""
    params, state = _run(SECOND_ORDER[name](), steps)
    assert C.all_finite((params, state))
    assert all(0 <= c for c in _count(state)), "an int32 counter wrapped"
    x = np.concatenate([np.ravel(np.asarray(v, np.float64)) for v in jax.tree.leaves(params)])
    assert np.max(np.abs(x - 1.0)) <= 1e-3, x
