# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Plain optax client: complexity_sgd and anneal_sgd inside optax's wrappers (masked,
multi_transform, MultiSteps, apply_if_finite, inject_hyperparams), each checked against a closed
form or the unwrapped transformation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co

PARAMS = {"kernel": jnp.arange(1.0, 7.0).reshape(2, 3) / 4.0, "bias": jnp.array([0.5, -1.0, 2.0])}
X = jnp.asarray(np.random.default_rng(0).normal(size=(16, 2)), jnp.float32)
Y = jnp.asarray(np.random.default_rng(1).normal(size=(16, 3)), jnp.float32)


def loss_fn(params, x=X, y=Y):
    return jnp.mean((x @ params["kernel"] + params["bias"] - y) ** 2)


def run(tx, steps=5, params=PARAMS, grads_fn=None):
    state = tx.init(params)

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(loss_fn)(params)
        if grads_fn is not None:
            grads = grads_fn(grads)
        updates, state = tx.update(grads, state, params, value=value)
        return optax.apply_updates(params, updates), state, value

    values = []
    for _ in range(steps):
        params, state, value = step(params, state)
        values.append(float(value))
    return params, state, values


def complexity():
    return co.complexity_sgd(0.1, strength=co.matched_annealing(1e-2), momentum=0.5)


def anneal():
    return co.anneal_sgd(0.1, field_scale=optax.linear_schedule(0.5, 0.0, 4), key=0)


@pytest.mark.parametrize("make", [complexity, anneal], ids=["complexity_sgd", "anneal_sgd"])
def test_masked_trains_only_the_selected_leaves(make):
    tx = optax.masked(make(), {"kernel": True, "bias": False})
    params, _, values = run(optax.chain(tx, optax.masked(optax.set_to_zero(),
                                                         {"kernel": False, "bias": True})))
    np.testing.assert_array_equal(params["bias"], PARAMS["bias"])  # frozen
    assert values[-1] < values[0]
    if make is complexity:  # the sphere of the masked subset: ‖kernel‖ = ‖kernel₀‖
        assert float(jnp.linalg.norm(params["kernel"])) == pytest.approx(
            float(jnp.linalg.norm(PARAMS["kernel"])), rel=1e-5)


def test_multi_transform_equals_each_part_alone():
    tx = optax.multi_transform({"sphere": complexity(), "plain": optax.sgd(0.1)},
                               {"kernel": "sphere", "bias": "plain"})
    params, _, _ = run(tx, steps=1)
    value, grads = jax.value_and_grad(loss_fn)(PARAMS)
    alone = complexity()
    updates, _ = alone.update({"kernel": grads["kernel"]}, alone.init({"kernel": PARAMS["kernel"]}),
                              {"kernel": PARAMS["kernel"]}, value=value)
    np.testing.assert_allclose(params["kernel"], PARAMS["kernel"] + updates["kernel"], rtol=1e-6)
    np.testing.assert_allclose(params["bias"], PARAMS["bias"] - 0.1 * grads["bias"], rtol=1e-6)


def test_multisteps_applies_the_mean_gradient_every_k_steps():
    """MultiSteps(k=2) on a fixed gradient: nothing on odd steps, then the inner step on the mean
    gradient (= the gradient itself), with the inner state advanced once."""
    inner = co.complexity_sgd(0.1, strength=0.01)  # a float λ: no value= needed
    tx = optax.MultiSteps(inner, every_k_schedule=2)
    grads = jax.grad(loss_fn)(PARAMS)
    state = tx.init(PARAMS)
    u1, state = tx.update(grads, state, PARAMS)
    assert all(float(jnp.max(jnp.abs(u))) == 0.0 for u in jax.tree.leaves(u1))
    u2, state = tx.update(grads, state, PARAMS)
    expected, _ = inner.update(grads, inner.init(PARAMS), PARAMS)
    # The update is a difference of O(1) points on the sphere (the projection of θ + u, minus
    # θ): two programs may round it differently by an ulp of θ's scale (1.2e-7).
    for a, b in zip(jax.tree.leaves(u2), jax.tree.leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=5e-7)


@pytest.mark.parametrize("make", [complexity, anneal], ids=["complexity_sgd", "anneal_sgd"])
def test_apply_if_finite_skips_nan_steps_and_goes_on(make):
    tx = optax.apply_if_finite(make(), max_consecutive_errors=3)
    def grads_fn(grads):  # NaN in the gradient of every step: all skipped
        return jax.tree.map(lambda g: g.at[..., 0].set(jnp.nan), grads)

    params, state, _ = run(tx, steps=2, grads_fn=grads_fn)
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(PARAMS)):
        np.testing.assert_array_equal(a, b)
    assert int(state.notfinite_count) == 2
    params, state, values = run(tx, steps=5)
    assert values[-1] < values[0] and int(state.notfinite_count) == 0


@pytest.mark.parametrize("factory, kwargs, hyper, new_value", [
    (co.complexity_sgd, {"learning_rate": 0.1, "strength": co.matched_annealing(1e-2, memory=3),
                         "momentum": 0.5, "sphere": False}, "learning_rate", 0.05),
    (co.anneal_sgd, {"learning_rate": 0.1, "field_scale": 0.5, "key": 3}, "field_scale", 0.0),
])
def test_inject_hyperparams_out_of_the_box(factory, kwargs, hyper, new_value):
    """No static_args: the ints and strings (memory inside the schedule, an int key) are not
    traced; the injected float can be changed in the state without recompiling."""
    tx = optax.inject_hyperparams(factory)(**kwargs)
    direct = factory(**kwargs)
    p_inj, s_inj, v_inj = run(tx, steps=3)
    p_dir, _, v_dir = run(direct, steps=3)
    np.testing.assert_allclose(v_inj, v_dir, rtol=1e-5)
    value, grads = jax.value_and_grad(loss_fn)(p_inj)
    before, _ = tx.update(grads, s_inj, p_inj, value=value)
    s_inj.hyperparams[hyper] = jnp.asarray(new_value)
    updates, _ = tx.update(grads, s_inj, p_inj, value=value)
    if hyper == "learning_rate":  # no sphere: the update is linear in the learning rate
        for u, b in zip(jax.tree.leaves(updates), jax.tree.leaves(before)):
            np.testing.assert_allclose(u, 0.5 * b, rtol=1e-5)
    else:  # no field: plain SGD
        for u, g in zip(jax.tree.leaves(updates), jax.tree.leaves(grads)):
            np.testing.assert_allclose(u, -0.1 * g, rtol=1e-6)
