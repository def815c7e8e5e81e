# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The fuzz campaign, part 6: the Flax NNX and Equinox helpers.

`complexity_optax.nnx` (`value_and_grad`, `recalibrate_batch_stats`) and
`complexity_optax.equinox` (`value_and_grad`, `update`, `init`, `params_of`) get

* **bad batches**: a NaN or ±inf entry in the inputs, a NaN target, an all-NaN batch. The loss
  is then not finite, the model's non-parameter state (NNX batch statistics and RNG counters, an
  Equinox `State`) is kept bit for bit, and a second-order step on that batch is skipped (the
  parameters do not move), then the next good batch trains normally;
* **bad input**: a loss that is not callable, a model that is not a module, a loss that
  returns a vector, `batches` that are empty or not iterable, gradient trees that do not match.
  Each case asserts an error (a `TypeError`/`ValueError` naming the argument where the helper
  validates it). Cases that fail today are known findings of the helpers' owner (strict
  `xfail`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import complexity_optax as co

nnx = pytest.importorskip("flax.nnx")
eqx = pytest.importorskip("equinox")
from complexity_optax import equinox as co_eqx
from complexity_optax import nnx as co_nnx

X = jnp.asarray(np.random.default_rng(0).normal(size=(8, 4)), jnp.float32)
Y = jnp.asarray(np.random.default_rng(1).normal(size=(8, 3)), jnp.float32)


def _bad(label):
    x, y = X, Y
    if label == "nan_x":
        x = x.at[2, 1].set(jnp.nan)
    elif label == "+inf_x":
        x = x.at[0, 0].set(jnp.inf)
    elif label == "-inf_x":
        x = x.at[5, 3].set(-jnp.inf)
    elif label == "nan_y":
        y = y.at[1, 2].set(jnp.nan)
    elif label == "all_nan":
        x = jnp.full_like(x, jnp.nan)
    return x, y


BAD_BATCHES = ["nan_x", "+inf_x", "-inf_x", "nan_y", "all_nan"]


# ------------------------------------------------------------------------------------- NNX
class Net(nnx.Module):
    def __init__(self, rngs):
        self.lin = nnx.Linear(4, 3, rngs=rngs)
        self.bn = nnx.BatchNorm(3, rngs=rngs)
        self.drop = nnx.Dropout(0.25, rngs=rngs)

    def __call__(self, x):
        return self.drop(self.bn(self.lin(x)))


def _nnx_loss(model, x, y):
    return jnp.mean((model(x) - y) ** 2)


def _leaves(state):
    return [np.asarray(jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key)
                       else x) for x in jax.tree.leaves(nnx.to_pure_dict(state)
                                                         if hasattr(nnx, "to_pure_dict")
                                                         else state)]


@pytest.mark.parametrize("label", BAD_BATCHES)
def test_nnx_bad_batch_keeps_the_non_parameter_state(label):
    model = Net(nnx.Rngs(0))
    before = _leaves(nnx.state(model, nnx.Not(nnx.Param)))
    loss, grads, _ = co_nnx.value_and_grad(_nnx_loss, model, *_bad(label))
    assert not bool(jnp.isfinite(loss)) or not all(
        bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    after = _leaves(nnx.state(model, nnx.Not(nnx.Param)))
    assert len(before) == len(after)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)  # bit for bit, RNG counters included


NNX_METHODS = {
    "trust_region": lambda: co.trust_region(max_cg_iters=4),
    "cubic_regularization": lambda: co.cubic_regularization(max_krylov=4),
    "saddle_free_newton": lambda: co.saddle_free_newton(krylov_dim=4, num_damping=2),
}


@pytest.mark.parametrize("method", list(NNX_METHODS))
def test_nnx_bad_batch_step_is_skipped_then_training_goes_on(method):
    model = Net(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, NNX_METHODS[method](), wrt=nnx.Param)
    params0 = _leaves(nnx.state(model, nnx.Param))
    loss, grads, value_fn = co_nnx.value_and_grad(_nnx_loss, model, *_bad("nan_x"))
    optimizer.update(model, grads, value=loss, value_fn=value_fn)
    for a, b in zip(_leaves(nnx.state(model, nnx.Param)), params0):
        np.testing.assert_array_equal(a, b)  # the step was skipped
    loss, grads, value_fn = co_nnx.value_and_grad(_nnx_loss, model, X, Y)
    optimizer.update(model, grads, value=loss, value_fn=value_fn)
    new_loss = value_fn(nnx.state(model, nnx.Param))
    assert bool(jnp.isfinite(new_loss)) and float(new_loss) <= float(loss)


def test_nnx_recalibrate_with_a_nan_batch_then_good_batches():
    """A NaN batch gives NaN statistics (it is the user's batch: it is averaged in); the helper
    does not crash and the parameters are untouched."""
    model = Net(nnx.Rngs(0))
    params0 = _leaves(nnx.state(model, nnx.Param))
    co_nnx.recalibrate_batch_stats(model, [X, X * 2.0])
    stats = _leaves(nnx.state(model, nnx.BatchStat))
    assert all(np.all(np.isfinite(s)) for s in stats)
    for a, b in zip(_leaves(nnx.state(model, nnx.Param)), params0):
        np.testing.assert_array_equal(a, b)


KNOWN_NNX = {
    "loss_fn_none": "nnx.value_and_grad(loss_fn=None) raises a TypeError that does not name "
                    "loss_fn",
    "loss_fn_int": "nnx.value_and_grad(loss_fn=3) raises a TypeError that does not name loss_fn",
    "model_none": "nnx.value_and_grad(model=None) does not name model",
    "model_array": "nnx.value_and_grad(model=<array>) does not name model",
    "vector_loss": "nnx.value_and_grad with a vector loss raises an error that does not name "
                   "loss_fn",
    "batches_none": "recalibrate_batch_stats(batches=None) raises a TypeError that does not "
                    "name batches",
    "batches_int": "recalibrate_batch_stats(batches=3) does not name batches",
}


def _nnx_bad_calls():
    model = lambda: Net(nnx.Rngs(0))
    return {
        "loss_fn_none": (lambda: co_nnx.value_and_grad(None, model(), X, Y), "loss_fn"),
        "loss_fn_int": (lambda: co_nnx.value_and_grad(3, model(), X, Y), "loss_fn"),
        "model_none": (lambda: co_nnx.value_and_grad(_nnx_loss, None, X, Y), "model"),
        "model_array": (lambda: co_nnx.value_and_grad(_nnx_loss, jnp.ones(3), X, Y), "model"),
        "vector_loss": (lambda: co_nnx.value_and_grad(
            lambda m, x, y: (m(x) - y) ** 2, model(), X, Y), "loss_fn"),
        "batches_empty": (lambda: co_nnx.recalibrate_batch_stats(model(), []), "batches"),
        "batches_none": (lambda: co_nnx.recalibrate_batch_stats(model(), None), "batches"),
        "batches_int": (lambda: co_nnx.recalibrate_batch_stats(model(), 3), "batches"),
    }


NNX_BAD = list(_nnx_bad_calls())


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=f"known: {KNOWN_NNX[c]}"))
    if c in KNOWN_NNX else c for c in NNX_BAD])
def test_nnx_bad_input_is_an_error_naming_it(case):
    call, name = _nnx_bad_calls()[case]
    with pytest.raises((TypeError, ValueError), match=name):
        call()


# ----------------------------------------------------------------------------------- Equinox
class EqxNet(eqx.Module):
    lin: eqx.nn.Linear
    bn: eqx.nn.BatchNorm

    def __init__(self, key):
        self.lin = eqx.nn.Linear(4, 3, key=key)
        self.bn = eqx.nn.BatchNorm(3, axis_name="batch", mode="batch")

    def __call__(self, x, state):
        out, state = self.bn(self.lin(x), state)
        return out, state


def _eqx_model():
    return eqx.nn.make_with_state(EqxNet)(jax.random.key(0))


def _eqx_loss(model, state, x, y):
    out, state = jax.vmap(model, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        x, state)
    return jnp.mean((out - y) ** 2), state


def _eqx_plain_loss(model, x, y):
    return jnp.mean((jax.vmap(model.lin)(x) - y) ** 2)


@pytest.mark.parametrize("label", BAD_BATCHES)
def test_equinox_bad_batch_keeps_the_state(label):
    model, state = _eqx_model()
    loss, grads, _, new_state = co_eqx.value_and_grad(_eqx_loss, model, *_bad(label),
                                                      state=state)
    assert not bool(jnp.isfinite(loss)) or not all(
        bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    for a, b in zip(jax.tree.leaves(new_state), jax.tree.leaves(state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


EQX_METHODS = {
    "trust_region": lambda: co.trust_region(max_cg_iters=4),
    "cubic_regularization": lambda: co.cubic_regularization(max_krylov=4),
}


@pytest.mark.parametrize("method", list(EQX_METHODS))
def test_equinox_bad_batch_step_is_skipped(method):
    model, _ = _eqx_model()
    tx = EQX_METHODS[method]()
    opt_state = co_eqx.init(tx, model)
    loss, grads, value_fn = co_eqx.value_and_grad(_eqx_plain_loss, model, *_bad("all_nan"))
    new_model, new_state = co_eqx.update(tx, grads, opt_state, model, value=loss,
                                         value_fn=value_fn)
    for a, b in zip(jax.tree.leaves(co_eqx.params_of(new_model)),
                    jax.tree.leaves(co_eqx.params_of(model))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    loss, grads, value_fn = co_eqx.value_and_grad(_eqx_plain_loss, new_model, X, Y)
    newer, _ = co_eqx.update(tx, grads, new_state, new_model, value=loss, value_fn=value_fn)
    assert float(_eqx_plain_loss(newer, X, Y)) <= float(loss)


KNOWN_EQX = {
    "loss_fn_none": "equinox.value_and_grad(loss_fn=None) does not name loss_fn",
    "model_none": "equinox.value_and_grad(model=None) gives no error or one that does not name "
                  "model",
    "vector_loss": "equinox.value_and_grad with a vector loss does not name loss_fn",
    "update_mismatched_grads": "equinox.update with gradients of another structure does not "
                               "name grads",
}


def _eqx_bad_calls():
    model, state = _eqx_model()
    tx = optax.sgd(0.1)
    return {
        "loss_fn_none": (lambda: co_eqx.value_and_grad(None, model, X, Y), "loss_fn"),
        "model_none": (lambda: co_eqx.value_and_grad(_eqx_plain_loss, None, X, Y), "model"),
        "vector_loss": (lambda: co_eqx.value_and_grad(
            lambda m, x, y: jax.vmap(m.lin)(x) - y, model, X, Y), "loss_fn"),
        "state_structure": (lambda: co_eqx.value_and_grad(
            lambda m, s, x, y: (_eqx_plain_loss(m, x, y), {"other": jnp.ones(2)}), model, X, Y,
            state=state), "state"),
        "update_mismatched_grads": (lambda: co_eqx.update(
            tx, {"w": jnp.ones(3)}, co_eqx.init(tx, model), model), "grads"),
    }


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=f"known: {KNOWN_EQX[c]}"))
    if c in KNOWN_EQX else c for c in ["loss_fn_none", "model_none", "vector_loss",
                                       "state_structure", "update_mismatched_grads"]])
def test_equinox_bad_input_is_an_error_naming_it(case):
    call, name = _eqx_bad_calls()[case]
    with pytest.raises((TypeError, ValueError), match=name):
        call()
