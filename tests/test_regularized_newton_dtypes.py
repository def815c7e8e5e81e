# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""ARC and saddle-free Newton in bfloat16 and float64: every full-batch and optax entry point
converges to the known minimum within the resolution of the parameters' dtype, bfloat16 through
float32 arithmetic with the parameters kept in bfloat16, float64 kept as float64; and the int32
clamp of the default step limit."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co
from complexity_optax._src.regularized_newton import result as R
from complexity_optax._src.regularized_newton.cubic_regularization import max_steps_limit

# f(x) = ½(x − c)ᵀQ(x − c) + 0.1 Σ(x − c)⁴: minimum at c (not representable in bfloat16),
# Hessian Q there, eigenvalues 1.155 … 3.068.
C = np.array([0.3, -1.7, 2.1])
Q = np.array([[2.0, 0.5, 0.0], [0.5, 1.5, 0.3], [0.0, 0.3, 3.0]])
LAMBDA_MIN = float(np.linalg.eigvalsh(Q).min())


def _loss(x):
    dtype = jnp.promote_types(x.dtype, jnp.float32)
    d = x.astype(dtype) - jnp.asarray(C, dtype)
    return 0.5 * d @ jnp.asarray(Q, dtype) @ d + 0.1 * jnp.sum(d ** 4)


FULL_BATCH = {"minimize_cubic": co.minimize_cubic,
              "minimize_saddle_free_newton": co.minimize_saddle_free_newton}
OPTAX = {"cubic_regularization": co.cubic_regularization,
         "saddle_free_newton": co.saddle_free_newton}


def _bf16_tolerance():
    # The nearest bfloat16 point is within half a unit in the last place of c, |c|·2⁻⁸; the
    # solver stops at a point from which no one-ulp move decreases f: allow one ulp, eps·|c|.
    return float(jnp.finfo(jnp.bfloat16).eps) * np.abs(C)


@pytest.mark.parametrize("name", sorted(FULL_BATCH))
def test_full_batch_bfloat16(name):
    res = FULL_BATCH[name](_loss, jnp.zeros(3, jnp.bfloat16))
    assert res.params.dtype == jnp.bfloat16
    assert res.value.dtype == jnp.float32 and res.grad_norm.dtype == jnp.float32
    assert bool(res.converged), int(res.status)
    # Its float32 gradient cannot reach gtol = 1e-5: it stops at the precision floor.
    assert int(res.status) in (R.STATUS_CONVERGED, R.STATUS_PRECISION_FLOOR)
    err = np.abs(np.asarray(res.params, np.float64) - C)
    assert np.all(err <= _bf16_tolerance()), err


@pytest.mark.parametrize("name", sorted(FULL_BATCH))
def test_full_batch_float16(name):
    res = FULL_BATCH[name](_loss, jnp.zeros(3, jnp.float16))
    assert res.params.dtype == jnp.float16 and res.value.dtype == jnp.float32
    assert bool(res.converged), int(res.status)
    err = np.abs(np.asarray(res.params, np.float64) - C)
    assert np.all(err <= float(jnp.finfo(jnp.float16).eps) * np.abs(C)), err


@pytest.mark.parametrize("name", sorted(FULL_BATCH))
def test_full_batch_float64(name):
    gtol = 1e-10
    with jax.enable_x64(True):
        res = FULL_BATCH[name](_loss, jnp.zeros(3, jnp.float64), gtol=gtol)
        assert res.params.dtype == jnp.float64 and res.value.dtype == jnp.float64
        assert res.regularization.dtype == jnp.float64
        assert int(res.status) == R.STATUS_CONVERGED
        # ‖x − c‖ ≤ ‖g‖/λ_min (strong convexity near c), with 2x for the quartic term.
        err = np.linalg.norm(np.asarray(res.params) - C)
        assert err <= 2 * gtol / LAMBDA_MIN, err


def _optax_run(name, params, steps=30):
    tx = OPTAX[name]()
    state = tx.init(params)
    step = jax.jit(lambda p, s: tx.update(jax.grad(_loss)(p), s, p, value_fn=_loss))
    for _ in range(steps):
        updates, state = step(params, state)
        assert updates.dtype == params.dtype
        params = optax.apply_updates(params, updates)
    return params


@pytest.mark.parametrize("name", sorted(OPTAX))
def test_optax_bfloat16(name):
    params = _optax_run(name, jnp.zeros(3, jnp.bfloat16))
    assert params.dtype == jnp.bfloat16
    err = np.abs(np.asarray(params, np.float64) - C)
    assert np.all(err <= _bf16_tolerance()), err


@pytest.mark.parametrize("name", sorted(OPTAX))
def test_optax_float64(name):
    with jax.enable_x64(True):
        params = _optax_run(name, jnp.zeros(3, jnp.float64))
        assert params.dtype == jnp.float64
        # Quadratic convergence reaches rounding: a few float64 ulps of c, times cond(Q) ≈ 2.7.
        err = np.abs(np.asarray(params) - C)
        assert np.all(err <= 64 * np.finfo(np.float64).eps * np.abs(C).max()), err


def test_default_max_steps_is_clamped_to_int32():
    """200 n overflows int32 above n = 10,737,418 parameters: the limit is clamped (computed from
    the integers, no array is built)."""
    int32_max = int(np.iinfo(np.int32).max)
    assert max_steps_limit(3) == 600
    assert max_steps_limit(10_737_418) == 2_147_483_600
    assert max_steps_limit(10_737_419) == int32_max
    assert max_steps_limit(10 ** 12) == int32_max
    assert max_steps_limit(3, 7) == 7
    assert max_steps_limit(3, 2 ** 40) == int32_max
    with pytest.raises(ValueError, match="max_steps"):
        max_steps_limit(3, 0)
    # A limit beyond int32 passes through both solvers (it used to raise an OverflowError).
    for fn in FULL_BATCH.values():
        res = fn(_loss, jnp.zeros(3), max_steps=2 ** 40)
        assert bool(res.converged)
