# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The geometry tools take `loss_fn` as a pytree: a new closure over new arrays of the same
shapes gets its own values and reuses the compiled program (no new entry in jax's cache)."""

# pylint: disable=protected-access

import jax
import jax.numpy as jnp
import numpy as np
import optax

from complexity_optax.landscape.geometry import directions, interpolation, mode_connectivity


def make(a):
    """A new closure at every call: `loss(p) = sum(a * p**2)`."""
    return lambda p: jnp.sum(a * p ** 2)


A1 = jnp.array([1.0, 2.0], jnp.float32)
A2 = jnp.array([3.0, 0.5], jnp.float32)


def _twice(jitted, run):
    """`run(a)` for A1 then A2 (each with a new closure); the cache must not grow on the second."""
    first = np.asarray(run(A1))
    size = jitted._cache_size()
    second = np.asarray(run(A2))
    assert jitted._cache_size() == size
    return first, second


def test_linear_path_losses_reuses_compilation():
    pa, pb = jnp.array([1.0, 0.0]), jnp.array([0.0, 2.0])
    ts = jnp.array([0.0, 0.5, 1.0])
    first, second = _twice(interpolation._path_losses,
                           lambda a: interpolation.linear_path_losses(make(a), pa, pb, ts))
    for a, got in ((A1, first), (A2, second)):
        want = [float(jnp.sum(a * ((1 - t) * pa + t * pb) ** 2)) for t in (0.0, 0.5, 1.0)]
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_loss_slice_1d_reuses_compilation():
    p, d = jnp.array([1.0, 1.0]), jnp.array([1.0, 0.0])
    alphas = jnp.array([-1.0, 0.0, 1.0])
    first, second = _twice(directions._slice_1d,
                           lambda a: directions.loss_slice_1d(make(a), p, d, alphas))
    # sum(a * (p + α d)^2) = a0 (1 + α)^2 + a1
    np.testing.assert_allclose(first, [2.0, 3.0, 6.0], rtol=1e-6)
    np.testing.assert_allclose(second, [0.5, 3.5, 12.5], rtol=1e-6)


def test_loss_slice_2d_reuses_compilation():
    p = jnp.zeros(2)
    d1, d2 = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
    grid = jnp.array([0.0, 1.0])
    first, second = _twice(directions._slice_2d,
                           lambda a: directions.loss_slice_2d(make(a), p, d1, d2, grid, grid))
    # out[i, j] = a0 α_i² + a1 β_j²
    np.testing.assert_allclose(first, [[0.0, 2.0], [1.0, 3.0]], rtol=1e-6)
    np.testing.assert_allclose(second, [[0.0, 0.5], [3.0, 3.5]], rtol=1e-6)


def test_curve_losses_reuses_compilation():
    start, control, end = jnp.zeros(2), jnp.ones(2), jnp.zeros(2)
    ts = jnp.array([0.0, 0.5])
    first, second = _twice(
        mode_connectivity._curve_losses,
        lambda a: mode_connectivity.curve_losses(make(a), start, control, end, ts))
    # Bezier at t = 1/2: 2 (1/2)(1/2) θ = θ / 2, so loss = sum(a) / 4
    np.testing.assert_allclose(first, [0.0, 0.75], rtol=1e-6)
    np.testing.assert_allclose(second, [0.0, 0.875], rtol=1e-6)


def _fit_reference(a, start, end, key, num_steps, num_points, optimizer):
    """The same training, step by step in Python (a plain optax loop)."""
    control = (start + end) / 2
    state = optimizer.init(control)
    losses = []
    for step_key in jax.random.split(key, num_steps):
        ts = (jnp.arange(num_points) + jax.random.uniform(step_key, (num_points,))) / num_points

        def curve_loss(theta, ts=ts):
            return jnp.mean(jax.vmap(lambda t: make(a)(
                mode_connectivity.curve_point(start, theta, end, t)))(ts))

        value, grad = jax.value_and_grad(curve_loss)(control)
        updates, state = optimizer.update(grad, state, control)
        control = control + updates
        losses.append(float(value))
    return control, np.asarray(losses)


def test_fit_connecting_curve_reuses_compilation():
    start, end = jnp.array([-1.0, 0.0]), jnp.array([1.0, 1.0])
    key = jax.random.key(0)
    results = []
    for a in (A1, A2):  # a new closure and a new optimizer object (same code, same rate)
        fit = mode_connectivity.fit_connecting_curve(make(a), start, end, key, num_steps=5,
                                                     num_points=2, optimizer=optax.adam(1e-2))
        if a is A1:
            size = mode_connectivity._fit._cache_size()
        else:
            assert mode_connectivity._fit._cache_size() == size
        results.append(fit)
    for a, fit in zip((A1, A2), results, strict=True):
        control, losses = _fit_reference(a, start, end, key, 5, 2, optax.adam(1e-2))
        np.testing.assert_allclose(fit.train_losses, losses, rtol=1e-5)
        np.testing.assert_allclose(fit.control, control, rtol=1e-5, atol=1e-6)
    # The default optimizer too: new closures, one compilation.
    for a in (A1, A2):
        mode_connectivity.fit_connecting_curve(make(a), start, end, key, num_steps=5,
                                               num_points=2)
        if a is A1:
            size = mode_connectivity._fit._cache_size()
    assert mode_connectivity._fit._cache_size() == size
