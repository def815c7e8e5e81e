# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Entropy-SGD: the Langevin mean against the closed-form Gaussian mean of the local-entropy
measure, the γ → ∞ limit (SGD's step), the scoping schedule, reproducibility from the key, a
checkpoint round trip of the typed key, and the guards (the shared contract checks the rest)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co

Q = np.array([0.5, 1.0, 2.0])
THETA = np.array([1.0, -2.0, 0.5])


def _quadratic(p):
    return 0.5 * jnp.sum(jnp.asarray(Q, p.dtype) * p * p)


def test_langevin_mean_matches_the_gaussian_mean_within_sampling_error():
    """P(θ′) ∝ exp(−½θ′ᵀQθ′ − γ/2‖θ − θ′‖²) has mean γ(Q + γI)⁻¹θ. 256 independent chains
    (one key each) of L = 400 steps with an average over ~20 samples (α = 0.05): the mean of μ
    is within 4 standard errors of the closed form, and far from θ itself."""
    gamma = 1.0
    tx = co.scale_by_local_entropy(key=jax.random.key(0), gamma=gamma, inner_steps=400,
                                   inner_lr=0.1, noise=0.3, scoping=0.0, mean_decay=0.05)
    theta = jnp.asarray(THETA, jnp.float32)
    grad = jax.grad(_quadratic)(theta)
    state = tx.init(theta)

    def one(key):
        _, s = tx.update(grad, state._replace(key=key), theta, value_fn=_quadratic)
        return s.mean

    means = np.asarray(jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(1), 256)))
    expected = gamma * THETA / (Q + gamma)
    se = means.std(axis=0, ddof=1) / np.sqrt(len(means))
    assert np.all(se > 0)
    assert np.all(np.abs(means.mean(axis=0) - expected) < 4 * se + 1e-6), (
        means.mean(axis=0), expected, se)
    assert np.all(np.abs(expected - THETA) > 20 * se)


def test_noise_free_mean_is_the_exact_gaussian_mean_and_the_update_is_its_gradient():
    gamma = 0.7
    tx = co.scale_by_local_entropy(key=0, gamma=gamma, inner_steps=300, noise=0.0,
                                   scoping=0.0)
    theta = jnp.asarray(THETA, jnp.float32)
    u, state = tx.update(jax.grad(_quadratic)(theta), tx.init(theta), theta,
                         value_fn=_quadratic)
    mean = gamma * THETA / (Q + gamma)
    np.testing.assert_allclose(np.asarray(state.mean), mean, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(u), gamma * (THETA - mean), rtol=1e-4)
    assert int(state.gradient_count) == 300


def _logcosh(p):
    return jnp.sum(jnp.log(jnp.cosh(p)) + 0.1 * p ** 3)


def test_large_gamma_recovers_the_sgd_step():
    """γ = 1e4 (η′γ = 0.1): the Gibbs measure concentrates at θ − ∇f/γ, so the update
    −η·γ(θ − ⟨θ′⟩) → −η∇f(θ) (relative error O(‖∇²f‖/γ) = 1e-4)."""
    with jax.enable_x64(True):
        tx = co.entropy_sgd(0.3, key=jax.random.key(0), gamma=1e4, inner_steps=300,
                            inner_lr=1e-5, noise=0.0, scoping=0.0)
        theta = jnp.asarray(THETA, jnp.float64)
        grad = jax.grad(_logcosh)(theta)
        u, _ = tx.update(grad, tx.init(theta), theta, value_fn=_logcosh)
        np.testing.assert_allclose(np.asarray(u), -0.3 * np.asarray(grad), rtol=1e-3)


def test_scoping_schedule_and_schedule_gamma():
    tx = co.scale_by_local_entropy(key=0, gamma=0.03, inner_steps=1, scoping=0.1, noise=0.0)
    theta = jnp.asarray(THETA, jnp.float32)
    step = jax.jit(lambda s: tx.update(jax.grad(_quadratic)(theta), s, theta,
                                       value_fn=_quadratic)[1])
    state = tx.init(theta)
    gammas = []
    for _ in range(4):
        state = step(state)
        gammas.append(float(state.gamma))
    np.testing.assert_allclose(gammas, 0.03 * 1.1 ** np.arange(4), rtol=1e-6)
    # Any optax schedule as gamma.
    sched = optax.linear_schedule(1.0, 2.0, 10)
    tx = co.scale_by_local_entropy(key=0, gamma=sched, inner_steps=1)
    state = tx.init(theta)
    for _ in range(3):
        _, state = tx.update(jax.grad(_quadratic)(theta), state, theta, value_fn=_quadratic)
    assert float(state.gamma) == pytest.approx(float(sched(2)))
    with pytest.raises(ValueError, match="scoping"):
        co.scale_by_local_entropy(key=0, gamma=sched, scoping=1e-3)


_TX = co.entropy_sgd(0.5, key=jax.random.key(3), gamma=1.0, inner_steps=5, noise=0.1)
_STEP = jax.jit(lambda p, s: _TX.update(jax.grad(_quadratic)(p), s, p, value_fn=_quadratic))


def _run(key, steps=3, params=None, state=None):
    """Three jitted steps from THETA; the key replaces the one in the initial state."""
    params = jnp.asarray(THETA, jnp.float32) if params is None else params
    if state is None:
        state = _TX.init(params)
        state = (state[0]._replace(key=key),) + tuple(state[1:])
    for _ in range(steps):
        u, state = _STEP(params, state)
        params = optax.apply_updates(params, u)
    return params, state


def test_reproducible_from_its_key_and_checkpointable():
    p1, s1 = _run(jax.random.key(3))
    p2, _ = _run(jax.random.key(3))
    p3, _ = _run(jax.random.key(4))
    np.testing.assert_array_equal(np.asarray(p1), np.asarray(p2))
    assert not np.allclose(np.asarray(p1), np.asarray(p3))
    # Round trip through plain numpy arrays (typed key as key_data), then resume: bit-identical.
    leaves, treedef = jax.tree.flatten(s1)
    is_key = [jnp.issubdtype(x.dtype, jax.dtypes.prng_key) for x in leaves]
    assert sum(is_key) == 1
    stored = [np.asarray(jax.random.key_data(x)) if k else np.asarray(x)
              for x, k in zip(leaves, is_key)]
    restored = jax.tree.unflatten(treedef, [
        jax.random.wrap_key_data(jnp.asarray(x), impl=jax.random.key_impl(ref)) if k
        else jnp.asarray(x) for x, ref, k in zip(stored, leaves, is_key)])
    a, _ = _run(None, 2, p1, s1)
    b, _ = _run(None, 2, p1, restored)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    c, _ = _run(jax.random.key(3), 5)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(c))  # = an uninterrupted run


def test_diverging_langevin_loop_never_reaches_params_or_state():
    """η′(γ + q) ≫ 2: the inner loop overflows; the update is zero and μ is kept."""
    tx = co.scale_by_local_entropy(key=0, gamma=100.0, inner_steps=200, inner_lr=1.0,
                                   scoping=0.0)
    theta = jnp.asarray(THETA, jnp.float32)
    state = tx.init(theta)
    u, state2 = tx.update(jax.grad(_quadratic)(theta), state, theta, value_fn=_quadratic)
    np.testing.assert_array_equal(np.asarray(u), 0.0)
    np.testing.assert_array_equal(np.asarray(state2.mean), np.asarray(state.mean))
    assert co._src.common.tree.all_finite(jax.random.key_data(state2.key))
    assert co._src.common.tree.all_finite(state2._replace(key=None))
    assert int(state2.gradient_count) == 0
