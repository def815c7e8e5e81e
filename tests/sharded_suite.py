# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Sharded runs of every registry entry on an 8-device mesh (run by ``test_sharding.py``).

Not collected by the main session (no ``test_`` prefix); skipped unless 8 devices are visible:
``XLA_FLAGS=--xla_force_host_platform_device_count=8 JAX_PLATFORMS=cpu python -m pytest
tests/sharded_suite.py``.

(a) data parallel: params replicated, batch sharded along its first axis; (b) FSDP-style: params
sharded along their first axis ((8, 16) kernel, (16,) bias), batch sharded too. A few jitted
steps with in/out shardings equal the single-device run (1e-5 relative), and the state's leaf
shardings after step 2 equal those after step 1. The default run covers ``C.CORE`` (one entry per
public constructor); ``-m slow`` covers every entry.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import complexity_optax as co
from complexity_optax.testing import contract as C

if jax.device_count() != 8:
    pytest.skip("needs 8 devices (XLA_FLAGS=--xla_force_host_platform_device_count=8)",
                allow_module_level=True)

MESH = Mesh(np.array(jax.devices()), ("data",))
REPLICATED = NamedSharding(MESH, P())
BY_ROWS = NamedSharding(MESH, P("data"))
PARAMS, BATCH = C.make_problem(d_in=8, d_out=16, batch=16)
NAMES = [e.name for e in C.REGISTRY]


def _param_shardings(mode):
    if mode == "data_parallel":
        return {"kernel": REPLICATED, "bias": REPLICATED}
    return {"kernel": BY_ROWS, "bias": BY_ROWS}


def _sharded_step(name, mode, state):
    entry = C.ENTRIES[name]
    tx = entry.optimizer()
    params_sh = _param_shardings(mode)
    batch_sh = (BY_ROWS, BY_ROWS)
    state_sh = jax.tree.map(lambda x: x.sharding, state)

    def step(params, state, batch):
        value, grads = jax.value_and_grad(C.loss_fn)(params, batch)
        updates, state = tx.update(grads, state, params, **C.update_kwargs(entry, value, batch))
        return optax.apply_updates(params, updates), state

    return jax.jit(step, in_shardings=(params_sh, state_sh, batch_sh),
                   out_shardings=(params_sh, state_sh)), params_sh, batch_sh


@functools.cache
def _single_device_run(name):
    """Three steps on one device, shared by both layouts."""
    return C.run(name, PARAMS, BATCH, 3)[0]


@pytest.mark.parametrize("mode", ["data_parallel", "fsdp"])
@pytest.mark.parametrize("name", C.tiered(NAMES))  # every entry under -m slow
def test_sharded_matches_single_device(name, mode):
    reference = _single_device_run(name)
    params_sh = _param_shardings(mode)
    params = jax.device_put(PARAMS, params_sh)
    batch = jax.device_put(BATCH, (BY_ROWS, BY_ROWS))
    state = jax.jit(C.wrap(C.ENTRIES[name], None).init)(params)
    # Scalars (counters, keys, λ) come out on one device: replicate them over the mesh; leaves
    # like the params (the field h, second moments) keep the params' sharding.
    state = jax.tree.map(
        lambda x: jax.device_put(x, REPLICATED) if len(x.sharding.device_set) == 1 else x,
        state)
    step, _, _ = _sharded_step(name, mode, state)
    shardings = []
    for _ in range(3):
        params, state = step(params, state, batch)
        shardings.append(jax.tree.map(lambda x: x.sharding, state))
    assert jax.tree.leaves(shardings[1]) == jax.tree.leaves(shardings[0])
    assert jax.tree.leaves(shardings[2]) == jax.tree.leaves(shardings[1])
    assert params["kernel"].sharding == params_sh["kernel"]
    for x, y in zip(jax.tree.leaves(params), jax.tree.leaves(reference)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)


def _mlp_loss(params, batch):
    x, y = batch
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return jnp.mean((h @ params["w2"] - y) ** 2)


def _mlp_problem():
    rng = np.random.default_rng(3)
    params = {"w1": jnp.asarray(rng.normal(size=(8, 16)) / 3, jnp.float32),
              "b1": jnp.zeros(16, jnp.float32),
              "w2": jnp.asarray(rng.normal(size=(16, 2)) / 4, jnp.float32)}
    batch = (jnp.asarray(rng.normal(size=(32, 8)), jnp.float32),
             jnp.asarray(rng.normal(size=(32, 2)), jnp.float32))
    return params, batch


def test_trust_region_on_data_parallel_mlp():
    params0, batch0 = _mlp_problem()
    tx = co.trust_region(ellipsoid="rmsprop", max_cg_iters=10)

    def step(params, state, batch):
        value, grads = jax.value_and_grad(_mlp_loss)(params, batch)
        updates, state = tx.update(grads, state, params, value=value, value_fn=_mlp_loss,
                                   batch=batch)
        return optax.apply_updates(params, updates), state

    def run(params, batch, shard):
        state = tx.init(params)
        if shard:
            params = jax.device_put(params, REPLICATED)
            batch = jax.device_put(batch, (BY_ROWS, BY_ROWS))
            state = jax.device_put(state, REPLICATED)
        f = jax.jit(step)
        for _ in range(4):
            params, state = f(params, state, batch)
        return params, state

    single, s1 = run(params0, batch0, False)
    sharded, s2 = run(params0, batch0, True)
    assert int(s2.accepted_count) == int(s1.accepted_count) >= 1
    for x, y in zip(jax.tree.leaves(sharded), jax.tree.leaves(single)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-6)
    assert float(_mlp_loss(sharded, batch0)) < float(_mlp_loss(params0, batch0))


def test_minimize_trust_region_on_data_parallel_mlp():
    params0, batch0 = _mlp_problem()
    single = co.minimize_trust_region(_mlp_loss, params0, batch0, max_steps=10)
    batch = jax.device_put(batch0, (BY_ROWS, BY_ROWS))
    params = jax.device_put(params0, REPLICATED)
    sharded = co.minimize_trust_region(_mlp_loss, params, batch, max_steps=10)
    assert float(sharded.value) < float(_mlp_loss(params0, batch0))
    for x, y in zip(jax.tree.leaves(sharded.params), jax.tree.leaves(single.params)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-5)


def _cnn_loss(params, x, y):
    # PyTorch's layout (NCHW/OIHW): the operator computes the convolutions in XLA's canonical
    # layout on the CPU backend, here on a batch split over the 8 devices.
    h = jax.lax.conv_general_dilated(x, params["w"], (1, 1), ((1, 1), (1, 1)),
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
    h = jnp.tanh(h).reshape(h.shape[0], 4, 3, 2, 3, 2).mean(axis=(3, 5))
    logits = h.reshape(h.shape[0], -1) @ params["v"]
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def test_curvature_operator_on_a_sharded_batch_matches_one_device():
    # The advice of the benchmarks page: XLA's CPU backend runs a convolution on one thread,
    # so a batch sharded over CPU devices runs each device's share on its own core. The
    # product and the spectral estimates must not change.
    rng = np.random.default_rng(5)
    params = {"w": jnp.asarray(rng.normal(size=(4, 1, 3, 3)) / 3, jnp.float32),
              "v": jnp.asarray(rng.normal(size=(36, 3)) / 6, jnp.float32)}
    x = jnp.asarray(rng.normal(size=(32, 1, 6, 6)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 3, size=32))
    v = jax.tree.map(lambda a: jnp.asarray(rng.normal(size=a.shape), a.dtype), params)
    landscape = co.landscape
    single = landscape.hessian_operator(_cnn_loss, params, [(x, y)])
    sharded = landscape.hessian_operator(_cnn_loss, jax.device_put(params, REPLICATED),
                                         [(jax.device_put(x, BY_ROWS),
                                           jax.device_put(y, BY_ROWS))])
    ref, out = single(v), sharded(v)
    scale = max(float(jnp.max(jnp.abs(a))) for a in jax.tree.leaves(ref))
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(ref)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6 * scale)
    key = jax.random.key(0)
    top_single = landscape.top_eigenvalues(single, params, key, k=2)
    top_sharded = landscape.top_eigenvalues(sharded, params, key, k=2)
    np.testing.assert_allclose(np.asarray(top_sharded.eigenvalues),
                               np.asarray(top_single.eigenvalues), rtol=1e-4)
