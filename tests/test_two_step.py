# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Two-step annealing (Algorithm 3) against a hand computation on a quadratic loss."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co

A = {"w": np.array([1.0, 2.0, 0.5]), "b": np.array([3.0, 0.25])}
B = {"w": np.array([0.5, -1.0, 2.0]), "b": np.array([1.0, 0.0])}
THETA0 = {"w": np.array([1.0, -0.5, 0.25]), "b": np.array([-1.0, 2.0])}
MASK = {"w": True, "b": False}
LR = optax.piecewise_constant_schedule(0.1, {1: 0.5})  # η_0 = 0.1, η_1 = 0.05


def strength(count):
    """λ_0 = 0.5, λ_1 = 3.0: a large jump so that the M step is clearly visible."""
    return 0.5 + 2.5 * count


def loss(params, batch):
    """L(θ) = ½ Σ a θ² − batch·θ (batch plays the role of b)."""
    return sum(
        jnp.sum(0.5 * a * p**2 - c * p)
        for a, c, p in zip(jax.tree.leaves(A), jax.tree.leaves(batch), jax.tree.leaves(params))
    )


GRAD_FN = jax.jit(jax.grad(loss))  # one object, so that jit sees one static function
VALUE_AND_GRAD = jax.jit(jax.value_and_grad(loss))
APPLY = jax.jit(optax.apply_updates)


def _np_grad(theta):
    return {k: A[k] * theta[k] - B[k] for k in theta}


def _np_two_step(theta, lam, lam_prev, eta, mask, second_gradient):
    """θ⁺ of Algorithm 3 in numpy float64; the M gradient at θ_E or the reused g."""
    on = {k: float(mask is None or mask[k]) for k in theta}
    g = _np_grad(theta)
    theta_e = {k: theta[k] - eta * (g[k] + 2 * lam * on[k] * theta[k]) for k in theta}
    g_m = _np_grad(theta_e) if second_gradient else g
    return {
        k: theta_e[k] - (lam - lam_prev) * eta * (g_m[k] + 2 * lam * on[k] * theta_e[k])
        for k in theta
    }


@functools.partial(jax.jit, static_argnums=0, static_argnames=("value_fn", "grad_fn"))
def _update(tx, updates, state, params, **extra_args):
    return tx.update(updates, state, params, **extra_args)


def _run(tx, steps, **extra_args):
    params = jax.tree.map(jnp.float32, THETA0)
    batch = jax.tree.map(jnp.float32, B)
    state = tx.init(params)
    for i in range(steps):
        grads = GRAD_FN(params, batch)
        updates, state = _update(tx, grads, state, params, **extra_args)
        if i == 0:
            compiled = _update._cache_size()  # pylint: disable=protected-access
        params = APPLY(params, updates)
    assert _update._cache_size() == compiled  # no recompilation  # pylint: disable=protected-access
    return params, state


def _np_run(steps, mask, second_gradient):
    theta, lam_prev = THETA0, strength(0)
    for i in range(steps):
        lam = strength(i)
        theta = _np_two_step(theta, lam, lam_prev, float(LR(i)), mask, second_gradient)
        lam_prev = lam
    return theta


def _assert_close(actual, expected, rtol=2e-6):
    jax.tree.map(lambda a, e: np.testing.assert_allclose(a, e, rtol=rtol, atol=1e-7), actual,
                 dict(expected))


@pytest.mark.parametrize("mask", [None, MASK])
def test_value_fn_m_step_uses_gradient_at_e_point(mask):
    tx = co.two_step_annealing(LR, strength, mask=mask)
    params, state = _run(tx, 3, value_fn=loss, batch=jax.tree.map(jnp.float32, B), unused=1.0)
    _assert_close(params, _np_run(3, mask, second_gradient=True))
    assert float(state.strength) == pytest.approx(strength(2))
    assert int(state.count) == 3
    # The reused-gradient variant gives a different point (so the comparison above can fail).
    reused = _np_run(3, mask, second_gradient=False)
    assert np.max(np.abs(np.asarray(params["w"]) - reused["w"])) > 1e-3


def test_grad_fn_gives_the_same_step():
    tx = co.two_step_annealing(LR, strength, mask=MASK)
    batch = jax.tree.map(jnp.float32, B)
    params, _ = _run(tx, 3, grad_fn=GRAD_FN, batch=batch)
    _assert_close(params, _np_run(3, MASK, second_gradient=True))


def test_without_value_fn_reuses_gradient():
    tx = co.two_step_annealing(LR, strength, mask=MASK)
    params, _ = _run(tx, 3, other=2.0)
    _assert_close(params, _np_run(3, MASK, second_gradient=False))


def test_constant_strength_is_plain_gradient_descent_on_f():
    # λ constant: the M step has size 0 and the update is −η (g + 2λθ), like sgd + weight decay.
    tx = co.two_step_annealing(0.1, 0.3)
    params = jax.tree.map(jnp.float32, THETA0)
    grads = jax.grad(loss)(params, jax.tree.map(jnp.float32, B))
    updates, _ = _update(tx, grads, tx.init(params), params, value_fn=loss,
                         batch=jax.tree.map(jnp.float32, B))
    ref = optax.chain(optax.add_decayed_weights(0.6), optax.sgd(0.1))
    expected, _ = ref.update(grads, ref.init(params), params)
    _assert_close(updates, expected)


def test_matched_annealing_strength_receives_value():
    tx = co.two_step_annealing(0.05, co.matched_annealing(0.2, smoothing="none"))
    params = jax.tree.map(jnp.float32, THETA0)
    batch = jax.tree.map(jnp.float32, B)
    state = tx.init(params)
    trajectory = []
    for _ in range(3):
        value, grads = VALUE_AND_GRAD(params, batch)
        updates, state = _update(tx, grads, state, params, value=value, value_fn=loss,
                                 batch=batch)
        params = APPLY(params, updates)
        trajectory.append((float(value), float(state.strength)))
    losses = np.array([v for v, _ in trajectory])
    np.testing.assert_allclose([s for _, s in trajectory], 0.2 * losses / losses[0], rtol=1e-5)


def test_bfloat16_params_give_bfloat16_updates():
    tx = co.two_step_annealing(0.1, strength)
    params = jax.tree.map(lambda x: jnp.asarray(x, jnp.bfloat16), THETA0)
    batch = jax.tree.map(lambda x: jnp.asarray(x, jnp.bfloat16), B)
    state = tx.init(params)
    for _ in range(2):
        grads = GRAD_FN(params, batch)
        updates, state = _update(tx, grads, state, params, value_fn=loss, batch=batch)
        assert all(u.dtype == jnp.bfloat16 for u in jax.tree.leaves(updates))
        params = APPLY(params, updates)
    assert all(p.dtype == jnp.bfloat16 for p in jax.tree.leaves(params))
    expected = THETA0
    for i in range(2):
        expected = _np_two_step(expected, strength(i), strength(max(i - 1, 0)), 0.1, None, True)
    _assert_close(jax.tree.map(lambda x: np.asarray(x, np.float32), params), expected, rtol=5e-2)


def test_requires_params_and_validates_hyperparameters():
    tx = co.two_step_annealing(0.1, 0.1)
    with pytest.raises(ValueError, match="params"):
        tx.update(jax.tree.map(jnp.float32, THETA0), tx.init(THETA0))
    with pytest.raises(ValueError, match="^learning_rate"):
        co.two_step_annealing(0.0, 0.1)
    with pytest.raises(ValueError, match="^learning_rate"):
        co.two_step_annealing(-0.1, 0.1)
    with pytest.raises(ValueError, match="^strength"):
        co.two_step_annealing(0.1, -0.1)
    with pytest.raises(TypeError, match="^learning_rate"):
        co.two_step_annealing("fast", 0.1)


def test_learning_rate_and_strength_can_be_injected():
    tx = optax.inject_hyperparams(co.two_step_annealing)(learning_rate=0.1, strength=0.3)
    params = jax.tree.map(jnp.float32, THETA0)
    batch = jax.tree.map(jnp.float32, B)
    grads = GRAD_FN(params, batch)
    updates, state = _update(tx, grads, tx.init(params), params, value_fn=loss, batch=batch)
    expected = {k: -0.1 * (A[k] * THETA0[k] - B[k] + 0.6 * THETA0[k]) for k in THETA0}
    _assert_close(updates, expected)
    assert float(state.hyperparams["learning_rate"]) == pytest.approx(0.1)


# ----------------------------------------------------------------------------------------------
# Issue 13: finite inputs never give NaN parameters (the M step is guarded).
# ----------------------------------------------------------------------------------------------


def _sqrt_loss(params):
    """Defined for θ ≥ 0 only: the E point θ_E = 0.05 − 0.1·(2.236 + 0.001) < 0 leaves it."""
    return jnp.sum(jnp.sqrt(params))


def _exp_loss(params):
    """∇L = 2θ·exp(θ²) = −4.9e4 at θ = −3 (L = 8103): θ_E ≈ 4858, where ∇L overflows to inf."""
    return jnp.sum(jnp.exp(params ** 2))


@pytest.mark.parametrize("wrap", [False, True], ids=["bare", "apply_if_finite"])
@pytest.mark.parametrize("loss_fn, theta, strength", [
    (_sqrt_loss, 0.05, 0.01),        # E point outside the domain, M step of size 0 (0·NaN)
    (_exp_loss, -3.0, co.power_law_annealing(0.5)),  # E-point gradient overflows
])
def test_non_finite_e_point_gradient_skips_the_step(wrap, loss_fn, theta, strength):
    tx = co.two_step_annealing(0.1, strength)
    if wrap:
        tx = optax.apply_if_finite(tx, max_consecutive_errors=10)
    params = jnp.full((2,), theta, jnp.float32)
    grads = jax.grad(loss_fn)(params)
    assert bool(jnp.all(jnp.isfinite(grads))) and bool(jnp.isfinite(loss_fn(params)))
    state = tx.init(params)
    step = jax.jit(lambda p, s: tx.update(jax.grad(loss_fn)(p), s, p, value_fn=loss_fn))
    updates, new_state = step(params, state)
    new_params = optax.apply_updates(params, updates)
    np.testing.assert_array_equal(np.asarray(new_params), np.asarray(params))
    inner = new_state.inner_state if wrap else new_state
    inner0 = state.inner_state if wrap else state
    assert int(inner.count) == int(inner0.count) == 0
    assert float(inner.strength) == float(inner0.strength)


def test_guard_keeps_honest_steps():
    """On a loss with a finite E-point gradient the guarded step is the unguarded formula."""
    tx = co.two_step_annealing(0.1, 0.01)
    params = jnp.asarray([1.0, 4.0], jnp.float32)
    grads = jax.grad(_sqrt_loss)(params)
    updates, state = tx.update(grads, tx.init(params), params, value_fn=_sqrt_loss)
    g = 0.5 / np.sqrt([1.0, 4.0])
    expected = -0.1 * (g + 0.02 * np.array([1.0, 4.0]))  # M step of size 0
    np.testing.assert_allclose(np.asarray(updates), expected, rtol=1e-6)
    assert int(state.count) == 1


@pytest.mark.parametrize("mask, kind", [("abc", TypeError), (1.0, TypeError),
                                        ({"w": "yes", "b": True}, TypeError)])
def test_bad_mask_rejected_at_construction(mask, kind):
    with pytest.raises(kind, match="^mask"):
        co.two_step_annealing(0.1, 0.1, mask=mask)


def test_overflowing_hyperparameters_rejected():
    with pytest.raises(ValueError, match="^strength must fit in float32"):
        co.two_step_annealing(0.1, 1e39)
    with pytest.raises(ValueError, match="^learning_rate must fit in float32"):
        co.two_step_annealing(1e39, 0.1)
    with pytest.raises(ValueError, match="^learning_rate"):
        co.two_step_annealing(jnp.array([0.1, -0.1]), 0.1)  # 1-d arrays are range-checked
