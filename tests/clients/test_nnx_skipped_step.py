# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""A bad batch (a NaN or an inf row) through the NNX and Equinox helpers, for every second-order
method: the step is skipped (the methods see a non-finite value and gradient), and the helpers
must then leave the model's mutable state exactly as it was too. Before the fix the running
statistics took the NaN through the forward pass, and the next clean forward passes spread it to
every output: five clean steps later the whole model (and the loss) was NaN.

The model is tiny (4 -> 8 -> BatchNorm -> ReLU -> Dropout -> 1, 49 parameters) so each method
compiles in a few seconds; each method's step is compiled once and reused for both bad values.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import complexity_optax as co

SECOND_ORDER = {
    "trust_region": lambda: co.trust_region(max_cg_iters=8),
    "cubic_regularization": lambda: co.cubic_regularization(max_krylov=8),
    "saddle_free_newton": lambda: co.saddle_free_newton(krylov_dim=8),
}
BAD = {"nan": jnp.nan, "inf": jnp.inf, "-inf": -jnp.inf}
BATCH, CLEAN_AFTER = 16, 5


def _batch(i: int, bad: float | None = None):
    """Batch `i` of a fixed regression problem; with `bad`, row 3 holds it in one entry."""
    kx, kn = jax.random.split(jax.random.key(100 + i))
    x = jax.random.normal(kx, (BATCH, 4))
    y = jnp.sin(x[:, :1]) + 0.5 * x[:, 1:2] + 0.1 * jax.random.normal(kn, (BATCH, 1))
    if bad is not None:
        x = x.at[3, 2].set(bad)
    return x, y


@functools.cache
def _tx(name: str):
    """One transformation object per method, so that `nnx.jit`'s cache (keyed on the graph,
    which holds the optimizer's transformation) compiles each method's step once."""
    return SECOND_ORDER[name]()


def _leaves(tree) -> list[np.ndarray]:
    return [np.asarray(jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key)
                       else x) for x in jax.tree.leaves(tree)]


# ------------------------------------------------------------------------------------ Flax NNX
nnx = pytest.importorskip("flax.nnx")
from complexity_optax import nnx as co_nnx


class Net(nnx.Module):
    def __init__(self, rngs):
        self.lin = nnx.Linear(4, 8, rngs=rngs)
        self.bn = nnx.BatchNorm(8, momentum=0.9, rngs=rngs)
        self.drop = nnx.Dropout(0.2, rngs=rngs)
        self.out = nnx.Linear(8, 1, rngs=rngs)

    def __call__(self, x):
        return self.out(self.drop(nnx.relu(self.bn(self.lin(x)))))


def _mse(model, x, y):
    return jnp.mean((model(x) - y) ** 2)


@nnx.jit
def _nnx_step(model, optimizer, x, y):
    loss, grads, value_fn = co_nnx.value_and_grad(_mse, model, x, y)
    optimizer.update(model, grads, value=loss, value_fn=value_fn)
    return loss


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("method", list(SECOND_ORDER))
def test_nnx_bad_batch_leaves_batch_stats_and_rng_exactly_unchanged(method, bad):
    model = Net(nnx.Rngs(0, dropout=1))
    optimizer = nnx.Optimizer(model, _tx(method), wrt=nnx.Param)
    losses = [float(_nnx_step(model, optimizer, *_batch(i))) for i in range(2)]
    assert np.all(np.isfinite(losses))
    before = _leaves(nnx.state(model))  # parameters, BatchStat mean/var, dropout RNG key/count
    mean, var = np.asarray(model.bn.mean[...]), np.asarray(model.bn.var[...])
    assert not np.allclose(mean, 0.0)  # the clean steps moved the statistics: a real check

    bad_loss = _nnx_step(model, optimizer, *_batch(2, BAD[bad]))
    assert not np.isfinite(float(bad_loss))
    np.testing.assert_array_equal(np.asarray(model.bn.mean[...]), mean)  # exactly
    np.testing.assert_array_equal(np.asarray(model.bn.var[...]), var)
    after = _leaves(nnx.state(model))
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)  # the step was skipped: nothing moved at all

    clean = [float(_nnx_step(model, optimizer, *_batch(3 + i))) for i in range(CLEAN_AFTER)]
    assert np.all(np.isfinite(clean)), clean
    for leaf in _leaves(nnx.state(model, nnx.Param, nnx.BatchStat)):
        assert np.all(np.isfinite(leaf))
    assert not np.array_equal(np.asarray(model.bn.mean[...]), mean)  # clean batches commit again
    model.eval()
    assert np.all(np.isfinite(np.asarray(model(_batch(9)[0]))))  # eval mode: running statistics


def test_nnx_finite_batch_still_advances_the_statistics_once():
    """The gate does not change a good step: the running mean moves by exactly one EMA update,
    mean <- momentum * mean + (1 - momentum) * batch mean, as in the forward pass."""
    model = Net(nnx.Rngs(0, dropout=1))
    x, y = _batch(0)
    mean0 = np.asarray(model.bn.mean[...])
    batch_mean = np.asarray(jnp.mean(model.lin(x), axis=0))
    co_nnx.value_and_grad(_mse, model, x, y)
    np.testing.assert_allclose(np.asarray(model.bn.mean[...]), 0.9 * mean0 + 0.1 * batch_mean,
                               rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------------ Equinox
@pytest.fixture(scope="module")
def eqx():
    return pytest.importorskip("equinox")


def _eqx_net(eqx):
    class EqxNet(eqx.Module):
        lin: eqx.nn.Linear
        bn: eqx.nn.BatchNorm
        out: eqx.nn.Linear

        def __init__(self, key):
            k1, k2 = jax.random.split(key)
            self.lin = eqx.nn.Linear(4, 8, key=k1)
            self.bn = eqx.nn.BatchNorm(8, axis_name="batch", momentum=0.9, mode="ema")
            self.out = eqx.nn.Linear(8, 1, key=k2)

        def __call__(self, x, state):
            h, state = self.bn(self.lin(x), state)
            return self.out(jax.nn.relu(h)), state

    return eqx.nn.make_with_state(EqxNet)(jax.random.key(0))


def _eqx_loss(model, state, x, y):
    out, state = jax.vmap(model, axis_name="batch", in_axes=(0, None),
                          out_axes=(0, None))(x, state)
    return jnp.mean((out - y) ** 2), state


@pytest.mark.parametrize("bad", ["nan", "inf"])
@pytest.mark.parametrize("method", list(SECOND_ORDER))
def test_equinox_bad_batch_leaves_batch_norm_state_exactly_unchanged(eqx, method, bad):
    from complexity_optax import equinox as co_eqx

    tx = _tx(method)
    model, state = _eqx_net(eqx)
    opt_state = co_eqx.init(tx, model)

    @eqx.filter_jit
    def step(model, opt_state, state, x, y):
        loss, grads, value_fn, state = co_eqx.value_and_grad(_eqx_loss, model, x, y,
                                                             state=state)
        model, opt_state = co_eqx.update(tx, grads, opt_state, model, value=loss,
                                         value_fn=value_fn)
        return model, opt_state, state, loss

    for i in range(2):
        model, opt_state, state, loss = step(model, opt_state, state, *_batch(i))
        assert np.isfinite(float(loss))
    params, stats = _leaves(co_eqx.params_of(model)), _leaves(state)
    assert any(s.dtype.kind == "f" and not np.allclose(s, 0.0) for s in stats)

    model, opt_state, state, loss = step(model, opt_state, state, *_batch(2, BAD[bad]))
    assert not np.isfinite(float(loss))
    for a, b in zip(_leaves(state), stats, strict=True):
        np.testing.assert_array_equal(a, b)  # running mean/var (and flags) exactly as before
    for a, b in zip(_leaves(co_eqx.params_of(model)), params, strict=True):
        np.testing.assert_array_equal(a, b)

    for i in range(CLEAN_AFTER):
        model, opt_state, state, loss = step(model, opt_state, state, *_batch(3 + i))
        assert np.isfinite(float(loss))
    for leaf in _leaves(co_eqx.params_of(model)) + _leaves(state):
        assert np.all(np.isfinite(leaf))
    inference = eqx.nn.inference_mode(model)
    out, _ = jax.vmap(inference, axis_name="batch", in_axes=(0, None),
                      out_axes=(0, None))(_batch(9)[0], state)
    assert np.all(np.isfinite(np.asarray(out)))
