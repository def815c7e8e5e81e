# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""One meaning of the incoming gradient for the three second-order transformations.

`trust_region`, `cubic_regularization` and `saddle_free_newton` all build their model (value,
gradient, Hessian-vector products) from one linearisation of `value_fn`; the incoming updates are
only checked to be finite. So a transformation before them in a chain (clipping, scaling) does
not change their step, and under `optax.masked` / `multi_transform` they take `full_params=`.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co

_A = jnp.asarray(np.random.default_rng(0).normal(size=(16, 5)), jnp.float32)
_B = jnp.asarray(np.random.default_rng(1).normal(size=16), jnp.float32)


def batch_loss(params, a, b):
    r = a @ params["w"] + params["c"] - b
    return jnp.mean(r**2) + 0.1 * jnp.sum(params["w"] ** 4)


PARAMS = {"w": jnp.linspace(-1.0, 1.0, 5), "c": jnp.asarray(0.5)}
METHODS = {
    "trust_region": lambda: co.trust_region(),
    "cubic_regularization": lambda: co.cubic_regularization(),
    "saddle_free_newton": lambda: co.saddle_free_newton(),
}


def _update(tx, grads, params=PARAMS, **kwargs):
    loss = batch_loss(params, _A, _B)
    return tx.update(grads, tx.init(params), params, value=loss, value_fn=batch_loss, a=_A, b=_B,
                     **kwargs)[0]


@pytest.mark.parametrize("name", list(METHODS))
def test_clipping_before_does_not_change_the_step(name):
    grads = jax.grad(batch_loss)(PARAMS, _A, _B)
    alone = _update(METHODS[name](), grads)
    clipped = _update(optax.chain(optax.clip_by_global_norm(1e-3), METHODS[name]()), grads)
    for u, v in zip(jax.tree.leaves(alone), jax.tree.leaves(clipped)):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    new = optax.apply_updates(PARAMS, alone)
    assert float(batch_loss(new, _A, _B)) < float(batch_loss(PARAMS, _A, _B))


@pytest.mark.parametrize("name", list(METHODS))
def test_non_finite_incoming_updates_skip_the_step(name):
    grads = jax.tree.map(lambda g: g.at[...].set(jnp.nan), jax.grad(batch_loss)(PARAMS, _A, _B))
    update = _update(METHODS[name](), grads)
    assert all(bool(jnp.all(u == 0)) for u in jax.tree.leaves(update))


@pytest.mark.parametrize("name", list(METHODS))
def test_multi_transform_with_set_to_zero_freezes_leaves(name):
    labels = {"w": "train", "c": "frozen"}
    tx = optax.multi_transform({"train": METHODS[name](), "frozen": optax.set_to_zero()}, labels)
    grads = jax.grad(batch_loss)(PARAMS, _A, _B)
    update = _update(tx, grads, full_params=PARAMS)
    assert float(update["c"]) == 0.0
    new = optax.apply_updates(PARAMS, update)
    assert float(batch_loss(new, _A, _B)) < float(batch_loss(PARAMS, _A, _B))
    # The curvature is that of the trainable subset: the same step as a model whose c is a
    # constant.
    fixed = lambda p, a, b: batch_loss({"w": p["w"], "c": PARAMS["c"]}, a, b)
    sub = METHODS[name]()
    only_w = {"w": PARAMS["w"]}
    loss = fixed(only_w, _A, _B)
    ref = sub.update({"w": grads["w"]}, sub.init(only_w), only_w, value=loss, value_fn=fixed,
                     a=_A, b=_B)[0]
    np.testing.assert_allclose(np.asarray(update["w"]), np.asarray(ref["w"]), rtol=1e-5,
                               atol=1e-7)


@pytest.mark.parametrize("name", list(METHODS))
def test_masked_without_full_params_names_the_parameter(name):
    tx = optax.masked(METHODS[name](), {"w": True, "c": False})
    grads = jax.grad(batch_loss)(PARAMS, _A, _B)
    with pytest.raises(ValueError, match="full_params"):
        _update(tx, grads)
