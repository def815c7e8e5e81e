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


def test_langevin_loop_that_used_to_diverge_now_converges_to_the_gaussian_mean():
    """η′(γ + q) = 102 ≫ 2 (γ = 100, η′ = 1) used to overflow; the adapted inner step
    η′_k = min(η′, 1/(γ + λ̂)) keeps it stable, and noise-free the mean is the closed form
    γθ/(Q + γ); the secant estimate λ̂ is a curvature of Q (between its extremes)."""
    gamma = 100.0
    tx = co.scale_by_local_entropy(key=0, gamma=gamma, inner_steps=200, inner_lr=1.0,
                                   noise=0.0, scoping=0.0)
    theta = jnp.asarray(THETA, jnp.float32)
    u, state = tx.update(jax.grad(_quadratic)(theta), tx.init(theta), theta,
                         value_fn=_quadratic)
    mean = gamma * THETA / (Q + gamma)
    np.testing.assert_allclose(np.asarray(state.mean), mean, rtol=1e-5)
    # u = γ(θ − μ): a difference of O(1) numbers, absolute error γ·(a few float32 ulps of θ).
    np.testing.assert_allclose(np.asarray(u), gamma * (THETA - mean),
                               atol=gamma * 8 * np.finfo(np.float32).eps * np.abs(THETA).max())
    assert Q.min() - 1e-3 <= float(state.curvature) <= Q.max() + 1e-3


def test_stiff_problem_beyond_the_inner_step_limit():
    """λ_max = 40 with the default η′ = 0.1 (η′λ_max = 4 > 2): the secant estimate finds the
    stiff curvature and the noise-free mean is still γθ/(Q + γ)."""
    q = np.array([0.5, 1.0, 40.0])
    quad = lambda p: 0.5 * jnp.sum(jnp.asarray(q, p.dtype) * p * p)
    gamma = 0.7
    tx = co.scale_by_local_entropy(key=0, gamma=gamma, inner_steps=400, noise=0.0,
                                   scoping=0.0)
    theta = jnp.asarray(THETA, jnp.float32)
    _, state = tx.update(jax.grad(quad)(theta), tx.init(theta), theta, value_fn=quad)
    np.testing.assert_allclose(np.asarray(state.mean), gamma * THETA / (q + gamma), rtol=1e-4)
    # The iterates are dominated by the stiff mode early on: λ̂ is within a few % of 40.
    assert 30.0 <= float(state.curvature) <= 40.0 * (1 + 1e-3)


def test_non_finite_langevin_loop_never_reaches_params_or_state():
    """A loss that is NaN away from θ: the inner loop's mean is NaN; the update is zero and μ
    is kept."""
    theta = jnp.asarray(THETA, jnp.float32)

    def loss(p):
        return _quadratic(p) + jnp.sum(p * jnp.where(p == theta, 0.0, jnp.nan))

    tx = co.scale_by_local_entropy(key=0, gamma=1.0, inner_steps=5, scoping=0.0)
    state = tx.init(theta)
    u, state2 = tx.update(jax.grad(_quadratic)(theta), state, theta, value_fn=loss)
    np.testing.assert_array_equal(np.asarray(u), 0.0)
    np.testing.assert_array_equal(np.asarray(state2.mean), np.asarray(state.mean))
    assert co._src.common.tree.all_finite(jax.random.key_data(state2.key))
    assert co._src.common.tree.all_finite(state2._replace(key=None))
    assert int(state2.gradient_count) == 0


def test_scope_cap():
    """γ_t = min(γ₀(1 + γ₁)^t, γ_max), γ_max = max(γ₀, 1/(2η′)) by default (5 for the paper's
    η′ = 0.1, reached at t = log(5/0.03)/log(1.001) ≈ 5118)."""
    from complexity_optax._src.entropy_sgd.entropy_sgd import _gamma_schedule, default_max_gamma
    assert float(default_max_gamma(0.03, 0.1)) == 5.0
    assert float(default_max_gamma(30.0, 0.1)) == 30.0        # never below γ₀
    sched = _gamma_schedule(0.03, None, None, 0.1)
    t_cap = np.log(5 / 0.03) / np.log1p(1e-3)
    assert float(sched(int(t_cap) - 5)) < 5.0
    assert float(sched(int(t_cap) + 5)) == 5.0
    assert float(sched(10 ** 9)) == 5.0
    assert float(_gamma_schedule(0.03, None, 2.0, 0.1)(10 ** 6)) == 2.0
    assert float(_gamma_schedule(optax.linear_schedule(1.0, 9.0, 10), None, 3.0, 0.1)(10)) == 3.0
    with pytest.raises(ValueError, match="max_gamma"):
        co.entropy_sgd(0.1, key=0, max_gamma=-1.0)
    with pytest.raises(ValueError, match="max_gamma"):
        co.entropy_sgd(0.1, key=0, max_gamma=float("nan"))


_RNG = np.random.default_rng(0)
_A = _RNG.normal(size=(20, 5))
_B = _RNG.normal(size=20)
_LSQ_MIN = 0.5 * np.mean((_A @ np.linalg.lstsq(_A, _B, rcond=None)[0] - _B) ** 2)


def _least_squares(p):
    return 0.5 * jnp.mean((jnp.asarray(_A, p.dtype) @ p - jnp.asarray(_B, p.dtype)) ** 2)


def _scan_run(tx, steps):
    p0 = jnp.zeros(5, jnp.float32)

    def step(carry, _):
        p, s = carry
        u, s = tx.update(jax.grad(_least_squares)(p), s, p, value_fn=_least_squares)
        p = optax.apply_updates(p, u)
        return (p, s), _least_squares(p)

    (p, s), losses = jax.jit(lambda: jax.lax.scan(step, (p0, tx.init(p0)), None,
                                                  length=steps))()
    return p, s, np.asarray(losses)


def test_defaults_stay_stable_for_a_long_run():
    """The issue: the defaults reached the minimum by ~2,300 steps, then the unbounded scope
    (γ = 4.85e3 at 12,000 steps) made the inner loop diverge and the loss inf by 7,000. Now the
    final loss of 20,000 steps is within 10% of the best one, which is the least-squares minimum
    (Langevin noise ε√η′ = 3e-5 moves the loss by ~λ_max·n·1e-9, far below 1e-4 relative)."""
    _, state, losses = _scan_run(co.entropy_sgd(0.1, key=jax.random.key(0)), 20_000)
    assert np.all(np.isfinite(losses))
    best = losses.min()
    assert best == pytest.approx(_LSQ_MIN, rel=1e-4)
    assert losses[-1] <= 1.1 * best
    assert float(state[0].gamma) == 5.0                       # the cap 1/(2η′)


def test_one_inner_step_for_a_million_steps_stays_finite():
    """inner_steps=1 for 1e6 outer steps (γ would have passed float32's max at ~92,000): the
    parameters stay finite and at the minimum."""
    p, state, losses = _scan_run(co.entropy_sgd(0.1, key=jax.random.key(1), inner_steps=1),
                                 1_000_000)
    assert np.all(np.isfinite(np.asarray(p)))
    assert np.all(np.isfinite(losses))
    assert losses[-1] == pytest.approx(_LSQ_MIN, rel=1e-4)
    assert int(state[0].count) == 1_000_000


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
@pytest.mark.parametrize("name", ["gamma", "inner_lr", "noise", "scoping", "mean_decay",
                                  "max_gamma"])
def test_negative_or_non_finite_hyperparameters_are_rejected(name, bad):
    with pytest.raises(ValueError, match=name):
        co.entropy_sgd(0.1, key=0, **{name: bad})
    with pytest.raises(ValueError, match=name):
        co.scale_by_local_entropy(key=0, **{name: bad})


@pytest.mark.parametrize("bad", [-1, 0, 2.5])
def test_inner_steps_is_validated(bad):
    with pytest.raises((ValueError, TypeError), match="inner_steps"):
        co.entropy_sgd(0.1, key=0, inner_steps=bad)
