# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Hessian-vector products against a dense float64 Hessian."""

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from complexity_optax import hvp, value_grad_and_hvp


def _loss(params, x, y):
    """A small non-quadratic pytree function with a cross term between leaves."""
    pred = jnp.tanh(x @ params["w"] + params["b"])
    return jnp.mean((pred - y) ** 2) + 0.1 * jnp.sum(params["b"] ** 4) + jnp.sum(
        params["w"][0] * params["b"]
    )


def _problem():
    rng = np.random.default_rng(0)
    params = {
        "w": jnp.asarray(rng.normal(size=(3, 2))),
        "b": jnp.asarray(rng.normal(size=(2,))),
    }
    vector = {
        "w": jnp.asarray(rng.normal(size=(3, 2))),
        "b": jnp.asarray(rng.normal(size=(2,))),
    }
    x = jnp.asarray(rng.normal(size=(5, 3)))
    y = jnp.asarray(rng.normal(size=(5, 2)))
    return params, vector, x, y


def _dense_reference(params, vector, x, y):
    flat, unravel = ravel_pytree(params)
    flat_fun = lambda f: _loss(unravel(f), x, y)
    hessian = np.asarray(jax.hessian(flat_fun)(flat))
    v_flat = np.asarray(ravel_pytree(vector)[0])
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12)
    return float(flat_fun(flat)), np.asarray(jax.grad(flat_fun)(flat)), hessian @ v_flat


def test_hvp_equals_dense_hessian_times_vector():
    with jax.enable_x64(True):
        params, vector, x, y = _problem()
        _, _, expected = _dense_reference(params, vector, x, y)
        got = hvp(_loss, params, vector, x, y)
        assert jax.tree.structure(got) == jax.tree.structure(params)
        np.testing.assert_allclose(ravel_pytree(got)[0], expected, rtol=1e-12, atol=1e-12)


def test_value_grad_and_hvp_equal_dense_reference():
    with jax.enable_x64(True):
        params, vector, x, y = _problem()
        value_ref, grad_ref, hv_ref = _dense_reference(params, vector, x, y)
        value, grad, hvp_fn = value_grad_and_hvp(_loss, params, x, y)
        np.testing.assert_allclose(value, value_ref, rtol=1e-13)
        np.testing.assert_allclose(ravel_pytree(grad)[0], grad_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ravel_pytree(hvp_fn(vector))[0], hv_ref, rtol=1e-12, atol=1e-12)
        # Linear in v: H(2v) = 2 Hv, H(0) = 0.
        twice = jax.tree.map(lambda a: 2 * a, vector)
        np.testing.assert_allclose(ravel_pytree(hvp_fn(twice))[0], 2 * hv_ref, rtol=1e-12)
        zero = jax.tree.map(jnp.zeros_like, vector)
        np.testing.assert_array_equal(ravel_pytree(hvp_fn(zero))[0], 0.0)


def test_hvp_fn_works_inside_jit_and_while_loop():
    """hvp_fn is reused inside a lax loop (as CG does): H^3 v for H = diag(1, 2, 3)."""
    diag = jnp.array([1.0, 2.0, 3.0])
    fun = lambda p: 0.5 * jnp.sum(diag * p**2) + jnp.sum(p)

    @jax.jit
    def cubed(p, v):
        _, _, hvp_fn = value_grad_and_hvp(fun, p)
        return jax.lax.fori_loop(0, 3, lambda _, u: hvp_fn(u), v)

    np.testing.assert_allclose(cubed(jnp.ones(3), jnp.ones(3)), diag**3, rtol=1e-6)
