# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Results agree across dtypes: float64 (x64 mode), float32 and bfloat16.

Every transformation of the shared registry (``tests/contract.py``) is run for a few steps from the
same starting point in the three dtypes, and the public numerical functions (HVP, Steihaug CG, the
full-batch trust-region solver, sphere_init, the p-spin energy, the complexity formulas and the
Hessian tools) are evaluated on the same inputs. The stated tolerances:

* float32 against float64: relative 1e-4 (absolute 1e-5) for transformations and functions;
* bfloat16 against float32: absolute 5e-2 relative to the parameters' scale (bfloat16 keeps 8 bits
  of mantissa, ~4e-3 relative per rounding, a few roundings per step).

Random draws (the AnnealSGD field, sphere_init) are made in float32 whatever the dtype, so one key
gives the same field in every dtype.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import complexity_optax as co
from complexity_optax import landscape

from complexity_optax.testing import contract as C

NAMES = [e.name for e in C.REGISTRY]


def _as_f64(tree):
    return jax.tree.map(lambda x: np.asarray(x, np.float64), tree)


def _run(name, dtype, num_steps=C.NUM_STEPS):
    params, batch = C.make_problem(dtype=np.float32)
    params = jax.tree.map(lambda x: x.astype(dtype), params)
    batch = jax.tree.map(lambda x: x.astype(dtype), batch)
    out, _ = C.run(name, params, batch, num_steps=num_steps)
    return _as_f64(out)


def _close(a, b, rtol, atol):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", C.tiered(NAMES))
def test_transformation_agrees_across_dtypes(name):
    f32 = _run(name, jnp.float32)
    with jax.enable_x64(True):
        f64 = _run(name, jnp.float64)
    _close(f32, f64, rtol=1e-4, atol=1e-5)
    bf16 = _run(name, jnp.bfloat16)
    scale = max(float(np.max(np.abs(x))) for x in jax.tree.leaves(f32))
    _close(bf16, f32, rtol=0.0, atol=5e-2 * scale)


def _quadratic(n=6, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, n))
    a = q @ q.T / n + np.eye(n)
    b = rng.normal(size=n)
    return a, b


def _numerics(dtype):
    """The public numerical functions on fixed inputs, cast to ``dtype``; results as float64."""
    a, b = _quadratic()
    a_, b_ = jnp.asarray(a, dtype), jnp.asarray(b, dtype)
    fun = lambda x: 0.5 * x @ a_ @ x - b_ @ x
    x0 = jnp.zeros(6, dtype)
    out = {}
    out["hvp"] = co.hvp(fun, x0 + 1, jnp.ones(6, dtype))
    out["steihaug"] = co.steihaug_cg(lambda v: a_ @ v, -b_, 0.5, rtol=1e-3).step
    out["minimize"] = co.minimize_trust_region(fun, x0, gtol=1e-3).params
    out["sphere_init"] = co.sphere_init(jax.random.key(0), {"w": jnp.zeros((4, 5), dtype)})["w"]
    ham = landscape.pure_p_spin(jax.random.key(1), 20, 3, dtype=dtype)
    sigma = co.sphere_init(jax.random.key(2), jnp.zeros(20, dtype))
    out["p_spin_energy"] = ham.energy(sigma)
    out["p_spin_gradient"] = ham.gradient(sigma)
    u = jnp.asarray([-1.70, -1.65, -1.60], dtype)
    out["complexity"] = landscape.complexity(u, 3, k=0)
    out["index_at_energy"] = landscape.index_at_energy(u, 3)
    matvec = lambda v: a_ @ v
    out["hutchinson"] = landscape.hutchinson_trace(matvec, x0, jax.random.key(3),
                                                   num_samples=64).estimate
    out["top_eigenvalues"] = landscape.top_eigenvalues(matvec, x0, jax.random.key(4), k=2,
                                                       num_steps=6).eigenvalues
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


def test_public_functions_agree_float32_float64():
    f32 = _numerics(jnp.float32)
    with jax.enable_x64(True):
        f64 = _numerics(jnp.float64)
    # The solver stops where ‖g‖ < gtol = 1e-3, so each dtype's minimiser is within
    # gtol / λ_min(A) ≤ 1e-3 of the exact one (A ⪰ I): compare both with it at that tolerance.
    # (float32 cannot go much lower here: the predicted decrease ½gᵀA⁻¹g drowns in the rounding
    # of f ≈ 1 once ‖g‖ ≈ √(ε₃₂·|f|·‖A‖) ≈ 3e-4, and the solver then stops with status 2.)
    a, b = _quadratic()
    exact = np.linalg.solve(a, b)
    for result in (f32, f64):
        np.testing.assert_allclose(result.pop("minimize"), exact, rtol=0, atol=1e-3)
    for key in f32:
        np.testing.assert_allclose(f32[key], f64[key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_public_functions_keep_the_input_dtype():
    with jax.enable_x64(True):
        a, b = _quadratic()
        fun = lambda x: 0.5 * x @ jnp.asarray(a) @ x - jnp.asarray(b) @ x
        x0 = jnp.zeros(6)
        assert co.minimize_trust_region(fun, x0).params.dtype == jnp.float64
        assert co.hvp(fun, x0, x0).dtype == jnp.float64
    x16 = jnp.zeros(6, jnp.bfloat16)
    assert co.sphere_init(jax.random.key(0), x16).dtype == jnp.bfloat16
    ham = landscape.pure_p_spin(jax.random.key(1), 20, 3, dtype=jnp.bfloat16)
    assert ham.energy(co.sphere_init(jax.random.key(2), jnp.zeros(20, jnp.bfloat16))).dtype in (
        jnp.bfloat16, jnp.float32)
