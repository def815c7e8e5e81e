# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""orbax client: a training run of complexity_sgd (matched annealing, sphere radius from init)
and of anneal_sgd (a PRNG key in the state) saved mid-run with orbax and resumed in a fresh
process state is bit-identical to the uninterrupted run."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

ocp = pytest.importorskip("orbax.checkpoint")

import complexity_optax as co  # noqa: E402

PARAMS = {"kernel": jnp.arange(1.0, 7.0).reshape(2, 3) / 4.0, "bias": jnp.array([0.5, -1.0, 2.0])}
X = jnp.asarray(np.random.default_rng(0).normal(size=(16, 2)), jnp.float32)
Y = jnp.asarray(np.random.default_rng(1).normal(size=(16, 3)), jnp.float32)


def loss_fn(params):
    return jnp.mean((X @ params["kernel"] + params["bias"] - Y) ** 2)


METHODS = {
    "complexity_sgd": lambda: co.complexity_sgd(0.1, strength=co.matched_annealing(1e-2, memory=3),
                                                momentum=0.5),
    "anneal_sgd": lambda: co.anneal_sgd(0.1, field_scale=optax.linear_schedule(0.5, 0.0, 6),
                                        key=jax.random.key(0), resample=True),
}


def _is_key(x):
    return jax.dtypes.issubdtype(getattr(x, "dtype", None), jax.dtypes.prng_key)


def to_storable(tree):
    """Typed PRNG keys as their uint32 data (orbax stores plain arrays)."""
    return jax.tree.map(lambda x: jax.random.key_data(x) if _is_key(x) else x, tree)


def from_storable(tree, like):
    return jax.tree.map(lambda x, ref: jax.random.wrap_key_data(x) if _is_key(ref) else x,
                        tree, like)


@pytest.mark.parametrize("name", list(METHODS))
def test_resume_is_bit_identical(name, tmp_path):
    tx = METHODS[name]()

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(loss_fn)(params)
        updates, state = tx.update(grads, state, params, value=value)
        return optax.apply_updates(params, updates), state

    params, state = PARAMS, tx.init(PARAMS)
    for _ in range(3):
        params, state = step(params, state)
    storable = to_storable({"params": params, "state": state})
    with ocp.StandardCheckpointer() as checkpointer:
        checkpointer.save(tmp_path / "ckpt", storable)
        checkpointer.wait_until_finished()
        abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(np.shape(x), np.asarray(x).dtype),
                                storable)
        restored = checkpointer.restore(tmp_path / "ckpt", abstract)
    template = {"params": params, "state": tx.init(PARAMS)}
    restored = from_storable(restored, template)
    r_params, r_state = restored["params"], restored["state"]
    for _ in range(3):
        params, state = step(params, state)
        r_params, r_state = step(r_params, r_state)
    for a, b in zip(jax.tree.leaves(to_storable((params, state))),
                    jax.tree.leaves(to_storable((r_params, r_state)))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert loss_fn(params) < loss_fn(PARAMS)
