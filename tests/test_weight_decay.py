# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""complexity_weight_decay: u + 2λθ, the gradient of λ‖θ‖², with constant and annealed λ."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co

PARAMS = {"w": jnp.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]), "b": jnp.array([0.5, -0.25, 2.0])}
GRADS = {"w": jnp.full((2, 3), 0.1), "b": jnp.array([1.0, 2.0, 3.0])}
MASK = {"w": True, "b": False}


@functools.partial(jax.jit, static_argnums=0)
def _update(tx, updates, state, params, **extra_args):
    return tx.update(updates, state, params, **extra_args)


def _penalty_grad(params, lam, mask):
    """jax.grad of λ Σ_{masked leaves} ‖θ‖²."""

    def penalty(p):
        return lam * sum(jnp.sum(x**2) for x, m in zip(jax.tree.leaves(p), jax.tree.leaves(mask))
                         if m)

    return jax.grad(penalty)(params)


@pytest.mark.parametrize("mask", [None, MASK, lambda p: jax.tree.map(lambda x: x.ndim == 2, p)])
def test_added_gradient_is_grad_of_penalty(mask):
    lam = 0.35
    tx = co.complexity_weight_decay(lam, mask=mask)
    updates, state = _update(tx, GRADS, tx.init(PARAMS), PARAMS)
    leaf_mask = MASK if mask is not None else {"w": True, "b": True}
    expected = jax.tree.map(jnp.add, GRADS, _penalty_grad(PARAMS, lam, leaf_mask))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), updates, expected)
    if mask is not None:  # the unmasked leaf is passed through untouched
        np.testing.assert_array_equal(updates["b"], GRADS["b"])
    assert float(state.strength) == pytest.approx(lam)


def test_matches_optax_add_decayed_weights_with_twice_the_strength():
    ours, _ = _update(co.complexity_weight_decay(0.2), GRADS, co.complexity_weight_decay(0.2).init(
        PARAMS), PARAMS)
    ref = optax.add_decayed_weights(0.4)
    theirs, _ = ref.update(GRADS, ref.init(PARAMS), PARAMS)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), ours, theirs)


def test_step_count_schedule_and_no_recompilation():
    schedule = co.cosine_annealing(0.1, period=4)  # 0.2, 0.1, 0.0, 0.1, 0.2, ...
    tx = co.complexity_weight_decay(schedule)
    state = tx.init(PARAMS)
    assert float(state.strength) == pytest.approx(0.2)
    zeros = jax.tree.map(jnp.zeros_like, PARAMS)
    for i, lam in enumerate([0.2, 0.1, 0.0, 0.1, 0.2]):
        updates, state = _update(tx, zeros, state, PARAMS)
        if i == 0:
            compiled = _update._cache_size()  # pylint: disable=protected-access
        np.testing.assert_allclose(updates["w"], 2 * lam * PARAMS["w"], atol=1e-7)
        assert float(state.strength) == pytest.approx(lam, abs=1e-7)
        assert int(state.count) == i + 1
    assert _update._cache_size() == compiled  # pylint: disable=protected-access


def test_matched_annealing_strength_gets_value_and_logs_lambda():
    tx = co.complexity_weight_decay(co.matched_annealing(0.1, smoothing="none"), mask=MASK)
    state = tx.init(PARAMS)
    zeros = jax.tree.map(jnp.zeros_like, PARAMS)
    trajectory = []
    for loss in [2.0, 1.0, float("nan"), 0.5]:
        updates, state = _update(tx, zeros, state, PARAMS, value=jnp.float32(loss),
                                 batch=jnp.ones(3))
        trajectory.append(float(state.strength))
        np.testing.assert_allclose(updates["w"], 2 * trajectory[-1] * PARAMS["w"], rtol=1e-6)
    np.testing.assert_allclose(trajectory, [0.1, 0.05, 0.05, 0.025], rtol=1e-6)


def test_in_chain_apply_if_finite_and_multisteps():
    inner = optax.chain(
        co.complexity_weight_decay(co.matched_annealing(0.1, smoothing="none")), optax.sgd(1.0)
    )
    # (optax.apply_if_finite(optax.MultiSteps(...)) would drop the extra args: MultiSteps is not a
    # GradientTransformationExtraArgs; this order keeps them.)
    tx = optax.MultiSteps(optax.apply_if_finite(inner, 3), every_k_schedule=2)
    state = tx.init(PARAMS)
    zeros = jax.tree.map(jnp.zeros_like, PARAMS)
    for loss in [4.0, 4.0, 1.0, 1.0]:
        updates, state = _update(tx, zeros, state, PARAMS, value=jnp.float32(loss))
    # The inner update ran twice (L0 = 4, then L = 1): λ = 0.1 · 1/4 and sgd(1) gives −2λθ.
    assert float(optax.tree.get(state, "strength")) == pytest.approx(0.025)
    np.testing.assert_allclose(updates["w"], -0.05 * PARAMS["w"], rtol=1e-6)


def test_bfloat16_params_give_bfloat16_updates():
    params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), PARAMS)
    grads = jax.tree.map(lambda x: x.astype(jnp.bfloat16), GRADS)
    tx = co.complexity_weight_decay(co.power_law_annealing(0.5))
    updates, state = _update(tx, grads, tx.init(params), params)
    assert all(u.dtype == jnp.bfloat16 for u in jax.tree.leaves(updates))
    assert state.strength.dtype == jnp.float32
    expected = jax.tree.map(lambda g, p: np.float32(g) + 1.0 * np.float32(p), grads, params)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(np.float32(a), b, rtol=1e-2),
                 updates, expected)


def test_non_finite_schedule_value_keeps_previous_strength():
    tx = co.complexity_weight_decay(lambda count: jnp.where(count == 1, jnp.nan, 0.5))
    state = tx.init(PARAMS)
    zeros = jax.tree.map(jnp.zeros_like, PARAMS)
    _, state = _update(tx, zeros, state, PARAMS)
    updates, state = _update(tx, zeros, state, PARAMS)
    assert float(state.strength) == 0.5
    np.testing.assert_allclose(updates["b"], PARAMS["b"], rtol=1e-6)


def test_requires_params():
    tx = co.complexity_weight_decay(0.1)
    with pytest.raises(ValueError, match="params"):
        tx.update(GRADS, tx.init(PARAMS))


def test_invalid_strength():
    with pytest.raises(ValueError, match="^strength"):
        co.complexity_weight_decay(-0.1)
    with pytest.raises(ValueError, match="^strength"):
        co.complexity_weight_decay(float("inf"))
    with pytest.raises(TypeError, match="^strength"):
        co.complexity_weight_decay(True)


def test_strength_can_be_injected():
    tx = optax.inject_hyperparams(co.complexity_weight_decay)(
        strength=co.matched_annealing(0.1, smoothing="none")
    )
    state = tx.init(PARAMS)
    zeros = jax.tree.map(jnp.zeros_like, PARAMS)
    for loss in [2.0, 0.5]:
        updates, state = _update(tx, zeros, state, PARAMS, value=jnp.float32(loss))
    assert float(state.hyperparams["strength"]) == pytest.approx(0.025)
    np.testing.assert_allclose(updates["w"], 0.05 * PARAMS["w"], rtol=1e-6)


# ----------------------------------------------------------------------------------------------
# Issue 13: overflowing strengths, array strengths, masks.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("strength, message", [
    (1e39, "fit in float32"),          # was inf in state and updates
    (2e38, "fit in float32"),          # 2λ = 4e38 overflows
    (jnp.array([0.1, -0.1]), ">= 0"),  # 1-d arrays are range-checked
    (np.array([0.1, np.nan]), "NaN"),
])
def test_bad_strength_rejected(strength, message):
    with pytest.raises(ValueError, match=f"^strength.*{message}"):
        co.complexity_weight_decay(strength)


def test_largest_strength_gives_finite_updates():
    tx = co.complexity_weight_decay(1.7e38)
    params = jnp.asarray([1.0, -0.5])
    updates, state = tx.update(jnp.zeros(2), tx.init(params), params)
    np.testing.assert_allclose(np.asarray(updates), [3.4e38, -1.7e38], rtol=1e-6)
    assert np.isfinite(float(state.strength))


@pytest.mark.parametrize("mask", ["abc", 3, {"w": "yes"}, [None, 1.0]])
def test_bad_mask_rejected_at_construction(mask):
    with pytest.raises(TypeError, match="^mask must be None, a callable"):
        co.complexity_weight_decay(0.1, mask=mask)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_injected_bad_strength_is_checked_at_concrete_init():
    factory = optax.inject_hyperparams(co.complexity_weight_decay)
    with pytest.raises(ValueError, match="^strength"):
        factory(strength=-0.1).init(jnp.ones(2))
    with pytest.raises(ValueError, match="^strength must be finite"):  # optax casts 1e39 to inf
        factory(strength=1e39).init(jnp.ones(2))
