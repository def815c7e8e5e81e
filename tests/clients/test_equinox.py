# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Equinox client: an `eqx.nn.MLP` on real MNIST (flattened), trained with the
`complexity_optax.equinox` helpers by complexity_sgd, anneal_sgd and trust_region, beside
optax.sgd/optax.adam on the same budget (5 epochs of 1,000 images; the trust region 20 steps)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

eqx = pytest.importorskip("equinox")

import complexity_optax as co  # noqa: E402
from complexity_optax import equinox as co_eqx  # noqa: E402

from client_helpers import batches, cross_entropy, mnist_subset  # noqa: E402

EPOCHS, BATCH = 5, 100
STEPS = EPOCHS * 1000 // BATCH


class Model(eqx.Module):
    """An MLP with a static part (the activation, an int) that the optimizer must not see."""

    mlp: eqx.nn.MLP
    num_classes: int = eqx.field(static=True)

    def __init__(self, key):
        self.mlp = eqx.nn.MLP(784, 10, width_size=32, depth=1, activation=jax.nn.tanh, key=key)
        self.num_classes = 10

    def __call__(self, x):
        return jax.vmap(self.mlp)(x.reshape(x.shape[0], -1))


def loss_fn(model, x, y):
    return cross_entropy(model(x), y)


def accuracy(model, x, y):
    return float(jnp.mean(jnp.argmax(model(x), -1) == y))


METHODS = {
    "sgd": lambda: optax.sgd(0.1, momentum=0.9),
    "adam": lambda: optax.adam(3e-3),
    "complexity_sgd": lambda: co.complexity_sgd(
        0.1, strength=co.matched_annealing(1e-3), momentum=0.9),
    "anneal_sgd": lambda: co.anneal_sgd(
        0.1, field_scale=optax.linear_schedule(0.5, 0.0, STEPS // 2), key=0, momentum=0.9),
    "trust_region": lambda: co.trust_region(initial_radius=0.1, max_cg_iters=20),
}


@functools.lru_cache(maxsize=None)
def train(name: str, steps: int = STEPS) -> tuple[float, float, float]:
    """``(first loss, final loss, test accuracy)``."""
    xtr, ytr, xte, yte = mnist_subset()
    tx = METHODS[name]()
    model = Model(jax.random.key(0))
    opt_state = co_eqx.init(tx, model)

    @eqx.filter_jit
    def step(model, opt_state, x, y):
        loss, grads, value_fn = co_eqx.value_and_grad(loss_fn, model, x, y)
        model, opt_state = co_eqx.update(tx, grads, opt_state, model, value=loss,
                                         value_fn=value_fn)
        return model, opt_state, loss

    losses = []
    for idx in batches(len(xtr), BATCH, EPOCHS)[:steps]:
        model, opt_state, loss = step(model, opt_state, xtr[idx], ytr[idx])
        losses.append(float(loss))
    assert model.num_classes == 10  # the static part is untouched
    return losses[0], float(np.mean(losses[-3:])), accuracy(model, xte, yte)


def test_params_are_the_inexact_arrays_and_value_fn_is_the_loss():
    xtr, ytr, _, _ = mnist_subset()
    model = Model(jax.random.key(0))
    params = co_eqx.params_of(model)
    leaves = jax.tree.leaves(params)
    assert len(leaves) == 4 and all(jnp.issubdtype(x.dtype, jnp.floating) for x in leaves)
    assert sum(x.size for x in leaves) == 784 * 32 + 32 + 32 * 10 + 10
    loss, grads, value_fn = co_eqx.value_and_grad(loss_fn, model, xtr[:50], ytr[:50])
    assert float(value_fn(params)) == pytest.approx(float(loss), rel=1e-6)
    reference = eqx.filter_grad(loss_fn)(model, xtr[:50], ytr[:50])
    for g, r in zip(jax.tree.leaves(grads), jax.tree.leaves(eqx.filter(reference,
                                                                        eqx.is_inexact_array))):
        np.testing.assert_allclose(np.asarray(g), np.asarray(r), rtol=1e-5, atol=1e-7)


def test_stateful_loss_holds_the_state_fixed_in_value_fn():
    model = eqx.nn.Linear(3, 2, key=jax.random.key(0))
    counter = jnp.zeros([])

    def stateful_loss(m, state, x):
        return jnp.sum(m(x) ** 2) + state, state + 1.0

    loss, grads, value_fn, new_state = co_eqx.value_and_grad(
        stateful_loss, model, jnp.ones(3), state=counter)
    assert float(new_state) == 1.0
    assert float(value_fn(co_eqx.params_of(model))) == pytest.approx(float(loss))


@pytest.mark.integration
@pytest.mark.parametrize("name", ["complexity_sgd", "anneal_sgd", "trust_region"])
def test_methods_train_the_mlp_beside_sgd_and_adam(name):
    _, sgd_loss, sgd_acc = train("sgd")
    _, adam_loss, adam_acc = train("adam")
    steps = 20 if name == "trust_region" else STEPS
    first, loss, acc = train(name, steps)
    print(f"\nEquinox MLP: {name} ({steps} steps) loss {first:.3f} -> {loss:.3f} acc {acc:.3f} | "
          f"sgd {sgd_loss:.3f} {sgd_acc:.3f} | adam {adam_loss:.3f} {adam_acc:.3f} "
          f"({STEPS} steps)")
    assert sgd_acc > 0.8 and adam_acc > 0.8
    assert loss < 0.5 * first
    assert acc > (0.7 if name == "trust_region" else max(0.75, sgd_acc - 0.1))
