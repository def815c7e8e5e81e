# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Steihaug-Toint CG against dense numpy references (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complexity_optax import SteihaugResult, steihaug_cg

_N = 8


def _solve_m(h, g, radius, m):
    return steihaug_cg(lambda v: h @ v, g, radius, preconditioner=m, max_iters=50, rtol=1e-9)


def _solve_sphere(h, g, radius):
    return steihaug_cg(lambda v: h @ v, g, radius, max_iters=50, rtol=1e-9)


# One compiled solver per (size, preconditioned or not), reused by every matrix case.
_SOLVE_M = jax.jit(_solve_m)
_SOLVE_SPHERE = jax.jit(_solve_sphere)


def _random_symmetric(seed, shift=0.0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(_N, _N))
    return (a + a.T) / 2 + shift * np.eye(_N), rng.normal(size=_N), rng


def _model_decrease(h, g, s):
    return -(g @ s + 0.5 * s @ h @ s)


def _cauchy_decrease(h, g, m, radius):
    """Decrease at the Cauchy point of the M-norm problem: minimise along -M^{-1} g."""
    d = -g / m
    g_minv_g = g @ (g / m)
    t_max = radius / np.sqrt(g_minv_g)  # ||t d||_M = t sqrt(g^T M^{-1} g)
    curvature = d @ h @ d
    t = t_max if curvature <= 0 else min(g_minv_g / curvature, t_max)
    return t * g_minv_g - 0.5 * t**2 * curvature


def test_convex_quadratic_huge_radius_gives_newton_step():
    with jax.enable_x64(True):
        h, g, _ = _random_symmetric(0)
        h = h @ h.T + 0.5 * np.eye(_N)  # SPD
        res = _SOLVE_SPHERE(jnp.asarray(h), jnp.asarray(g), 1e6)
        newton = -np.linalg.solve(h, g)
        np.testing.assert_allclose(res.step, newton, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(res.model_decrease, 0.5 * g @ np.linalg.solve(h, g), rtol=1e-9)
        assert not bool(res.hit_boundary) and not bool(res.negative_curvature)
        assert 1 <= int(res.iterations) <= _N + 2


@pytest.mark.parametrize("seed", range(6))
def test_indefinite_bound_cauchy_and_transformed_problem(seed):
    with jax.enable_x64(True):
        h, g, rng = _random_symmetric(seed, shift=0.5)
        m = np.exp(rng.uniform(np.log(0.1), np.log(10.0), size=_N))
        radius = float(rng.uniform(0.1, 2.0))
        res = _SOLVE_M(jnp.asarray(h), jnp.asarray(g), radius, jnp.asarray(m))
        s = np.asarray(res.step)
        assert np.sqrt(np.sum(m * s**2)) <= radius * (1 + 1e-5)
        # Reported decrease is the true model decrease and beats the M-norm Cauchy point.
        np.testing.assert_allclose(res.model_decrease, _model_decrease(h, g, s), rtol=1e-9)
        assert float(res.model_decrease) >= _cauchy_decrease(h, g, m, radius) * (1 - 1e-10)
        assert float(res.model_decrease) > 0
        # Equivalence with the spherical problem in s_hat = M^{1/2} s.
        a_inv_half = 1.0 / np.sqrt(m)
        h_hat = a_inv_half[:, None] * h * a_inv_half[None, :]
        hat = _SOLVE_SPHERE(jnp.asarray(h_hat), jnp.asarray(a_inv_half * g), radius)
        np.testing.assert_allclose(s, a_inv_half * np.asarray(hat.step), rtol=1e-7, atol=1e-10)
        assert int(hat.iterations) == int(res.iterations)
        assert bool(hat.hit_boundary) == bool(res.hit_boundary)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), shift=st.floats(-3.0, 3.0),
       log_radius=st.floats(-3.0, 2.0))
def test_hypothesis_bound_and_cauchy_decrease(seed, shift, log_radius):
    with jax.enable_x64(True):
        h, g, rng = _random_symmetric(seed, shift)
        m = np.exp(rng.uniform(-3.0, 3.0, size=_N))
        radius = float(np.exp(log_radius))
        res = _SOLVE_M(jnp.asarray(h), jnp.asarray(g), radius, jnp.asarray(m))
        s = np.asarray(res.step)
        assert np.sqrt(np.sum(m * s**2)) <= radius * (1 + 1e-5)
        assert float(res.model_decrease) >= _cauchy_decrease(h, g, m, radius) * (1 - 1e-9)
        np.testing.assert_allclose(res.model_decrease, _model_decrease(h, g, s), rtol=1e-8)


@pytest.mark.parametrize("seed", range(3))
def test_negative_definite_goes_to_boundary_along_preconditioned_gradient(seed):
    with jax.enable_x64(True):
        h, g, rng = _random_symmetric(seed)
        h = -(h @ h.T) - 0.1 * np.eye(_N)
        m = rng.uniform(0.5, 2.0, size=_N)
        res = _SOLVE_M(jnp.asarray(h), jnp.asarray(g), 0.7, jnp.asarray(m))
        d = -g / m
        expected = 0.7 * d / np.sqrt(np.sum(m * d**2))
        np.testing.assert_allclose(res.step, expected, rtol=1e-10)
        assert bool(res.hit_boundary) and bool(res.negative_curvature)
        assert int(res.iterations) == 1
        np.testing.assert_allclose(res.model_decrease, _model_decrease(h, g, expected), rtol=1e-10)


def test_zero_gradient_gives_zero_step_and_no_hvp():
    res = steihaug_cg(lambda v: -v, jnp.zeros(3), 1.0)
    np.testing.assert_array_equal(res.step, 0.0)
    assert int(res.iterations) == 0 and float(res.model_decrease) == 0.0
    assert res.iterations.dtype == jnp.int32


def test_stopping_rule_and_max_iters():
    """Residual rule ||r_k|| <= ||r_0|| min(rtol, ||r_0||^theta), and the hard cap."""
    diag = jnp.array([1.0, 10.0, 100.0, 1000.0])
    g = jnp.array([1.0, 1.0, 1.0, 1.0])
    hvp_fn = lambda v: diag * v
    loose = steihaug_cg(hvp_fn, g, 1e6, rtol=0.5)
    r = g + diag * loose.step
    assert float(jnp.linalg.norm(r)) <= 0.5 * 2.0 * (1 + 1e-6)  # ||r_0|| = 2, min(0.5, 2^0.5)
    tight = steihaug_cg(hvp_fn, g, 1e6, rtol=1e-6, max_iters=10)
    assert int(tight.iterations) > int(loose.iterations)
    capped = steihaug_cg(hvp_fn, g, 1e6, rtol=1e-6, max_iters=1)
    assert int(capped.iterations) == 1 and not bool(capped.hit_boundary)
    # One CG step from 0 is the exact line minimiser along -g (Cauchy point, interior).
    t = float(g @ g / (g @ (diag * g)))
    np.testing.assert_allclose(capped.step, -t * g, rtol=1e-6)


def test_rtol_zero_runs_exactly_max_iters():
    """rtol=0 disables the residual test: pure truncation after max_iters CG iterations."""
    with jax.enable_x64(True):
        n, max_iters = 40, 10  # 40 distinct eigenvalues: CG cannot finish in 10 iterations.
        diag = jnp.linspace(1.0, 4.0, n)  # well conditioned, SPD
        g = jnp.ones(n)
        res = steihaug_cg(lambda v: diag * v, g, 1e6, rtol=0.0, max_iters=max_iters)
        assert int(res.iterations) == max_iters
        assert not bool(res.hit_boundary) and not bool(res.negative_curvature)
        # Residual after 10 iterations is tiny but nonzero: any rtol > 0 at this level stops
        # earlier than 10 iterations.
        r = np.asarray(g + diag * res.step)
        assert 0.0 < np.linalg.norm(r) < 1e-3 * np.linalg.norm(g)
        early = steihaug_cg(lambda v: diag * v, g, 1e6, rtol=1e-2, max_iters=max_iters)
        assert int(early.iterations) < max_iters


def test_non_finite_hvp_never_gives_nan_step():
    h = jnp.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
    g = jnp.array([1.0, 0.5, 0.0])

    def hvp_fn(v):  # NaN as soon as the direction has a third component
        return jnp.where(jnp.abs(v[2]) > 0, jnp.nan, h @ v)

    res = jax.jit(lambda g: steihaug_cg(hvp_fn, g, 10.0, rtol=1e-8))(g)
    assert bool(jnp.all(jnp.isfinite(res.step))) and bool(jnp.isfinite(res.model_decrease))
    assert int(res.iterations) == 2 and bool(res.negative_curvature)
    t = float(g @ g / (g @ h @ g))  # the first (finite) CG step is kept
    np.testing.assert_allclose(res.step, -t * g, rtol=1e-6)
    # Negative curvature with an infinite (traced: a concrete one is a ValueError) radius.
    unbounded = jax.jit(lambda r: steihaug_cg(lambda v: -v, g, r))(jnp.inf)
    assert bool(jnp.all(jnp.isfinite(unbounded.step)))
    first = steihaug_cg(lambda v: v * jnp.inf, g, 1.0)
    np.testing.assert_array_equal(first.step, 0.0)
    assert float(first.model_decrease) == 0.0


def test_pytree_and_dtype():
    g = {"a": jnp.ones(2, jnp.float32), "b": jnp.ones((), jnp.bfloat16)}
    res = steihaug_cg(lambda v: v, g, 0.5, preconditioner=jax.tree.map(jnp.ones_like, g))
    assert isinstance(res, SteihaugResult)
    assert res.step["a"].dtype == jnp.float32 and res.step["b"].dtype == jnp.bfloat16
    norm = jnp.sqrt(jnp.sum(res.step["a"] ** 2) + res.step["b"].astype(jnp.float32) ** 2)
    np.testing.assert_allclose(norm, 0.5, rtol=1e-2)
    assert bool(res.hit_boundary)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="^max_iters"):
        steihaug_cg(lambda v: v, jnp.ones(2), 1.0, max_iters=0)
    with pytest.raises(TypeError, match="^max_iters"):
        steihaug_cg(lambda v: v, jnp.ones(2), 1.0, max_iters=2.5)
    with pytest.raises(ValueError, match="^rtol"):
        steihaug_cg(lambda v: v, jnp.ones(2), 1.0, rtol=-0.1)
    with pytest.raises(ValueError, match="^theta"):
        steihaug_cg(lambda v: v, jnp.ones(2), 1.0, theta=-1.0)


@pytest.mark.parametrize("radius", [-1.0, -1e-30, float("inf"), float("nan")])
def test_concrete_negative_or_non_finite_radius_is_a_value_error(radius):
    """Audit: radius -1 gave an uphill step (tau < 0 along the descent direction)."""
    with pytest.raises(ValueError, match="^radius"):
        steihaug_cg(lambda v: 2.0 * v, jnp.array([2.0, 4.0]), radius)


@pytest.mark.parametrize("radius", [-1.0, -0.5, 0.0])
def test_traced_non_positive_radius_gives_the_zero_step(radius):
    """Under jit the radius is not checked: a non-positive one must give s = 0 (m(s) = m(0)),
    never the uphill step -tau p with tau < 0 (here s = +0.5 g, which raised m by 3.75)."""
    g = jnp.array([2.0, 4.0])
    h = jnp.array([2.0, 4.0])
    for fn in (lambda v: h * v, lambda v: -h * v):  # convex and negative curvature
        res = jax.jit(lambda r, fn=fn: steihaug_cg(fn, g, r, rtol=1e-6))(jnp.float32(radius))
        np.testing.assert_array_equal(res.step, 0.0)
        assert float(res.model_decrease) == 0.0 and not bool(res.hit_boundary)
        assert int(res.iterations) == 0


def test_zero_concrete_radius_gives_the_zero_step():
    res = steihaug_cg(lambda v: 2.0 * v, jnp.array([2.0, 4.0]), 0.0)
    np.testing.assert_array_equal(res.step, 0.0)
    assert float(res.model_decrease) == 0.0
