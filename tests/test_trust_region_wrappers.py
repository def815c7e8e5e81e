# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`trust_region` under optax wrappers: masked, multi_transform, MultiSteps, chain(clip, .)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co

_RNG = np.random.default_rng(0)
_X = jnp.asarray(_RNG.normal(size=(32, 3)), jnp.float32)
_Y = jnp.asarray(_RNG.normal(size=32), jnp.float32)
_PARAMS = {"w": jnp.array([0.5, -0.5, 0.25]), "b": jnp.array([0.3])}
_MASK = {"w": True, "b": False}


def _loss(p, x=_X, y=_Y):
    return jnp.mean((x @ p["w"] + p["b"][0] - y) ** 2 + 0.1 * (x @ p["w"]) ** 4)


def _tx():
    return co.trust_region(ellipsoid="identity", initial_radius=0.5)


def test_masked_trains_the_subset_with_the_frozen_leaves_held_fixed():
    masked = optax.masked(_tx(), _MASK)
    state = masked.init(_PARAMS)
    grads = jax.grad(_loss)(_PARAMS)
    updates, _ = masked.update(grads, state, _PARAMS, value_fn=_loss, full_params=_PARAMS)
    np.testing.assert_array_equal(updates["b"], grads["b"])  # masked.update passes them on
    # Reference: the same trust region on w alone, with b fixed inside the loss.
    loss_w = lambda w: _loss({"w": w, "b": _PARAMS["b"]})
    ref_tx = _tx()
    ref, _ = ref_tx.update(grads["w"], ref_tx.init(_PARAMS["w"]), _PARAMS["w"], value_fn=loss_w)
    np.testing.assert_allclose(updates["w"], ref, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="^full_params"):
        masked.update(grads, state, _PARAMS, value_fn=_loss)


def test_multi_transform_trust_region_on_w_sgd_on_b():
    tx = optax.multi_transform({"tr": _tx(), "sgd": optax.sgd(0.1)}, {"w": "tr", "b": "sgd"})
    params, state = _PARAMS, tx.init(_PARAMS)

    @jax.jit
    def step(params, state):
        grads = jax.grad(_loss)(params)
        updates, state = tx.update(grads, state, params, value_fn=_loss, full_params=params)
        return optax.apply_updates(params, updates), state

    for _ in range(20):
        params, state = step(params, state)
    assert float(_loss(params)) < 0.8 * float(_loss(_PARAMS))
    assert not np.allclose(params["b"], _PARAMS["b"])


def test_multi_steps_and_clipping_give_the_trust_region_step_of_value_fn():
    """The step's model comes from value_fn's own linearisation: clipping before it has no
    effect, MultiSteps(k) makes one trust-region step on the last batch every k calls."""
    grads = jax.grad(_loss)(_PARAMS)
    plain = _tx()
    ref, _ = plain.update(grads, plain.init(_PARAMS), _PARAMS, value_fn=_loss)
    clipped = optax.chain(optax.clip_by_global_norm(1e-3), _tx())
    out, _ = clipped.update(grads, clipped.init(_PARAMS), _PARAMS, value_fn=_loss)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), out, ref)
    ms = optax.MultiSteps(_tx(), every_k_schedule=2)
    state = ms.init(_PARAMS)
    first, state = ms.update(grads, state, _PARAMS, value_fn=_loss)
    second, state = ms.update(grads, state, _PARAMS, value_fn=_loss)
    jax.tree.map(lambda a: np.testing.assert_array_equal(a, 0.0), first)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), second, ref)
