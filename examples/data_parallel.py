# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Data-parallel training of a small MLP on scikit-learn digits with complexity_optax.

A mesh over all local devices; the batch is sharded along its first axis; the params are
replicated (default) or FSDP-sharded along their first axis (``--fsdp``). Try on CPU with

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python examples/data_parallel.py --quick
"""

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from sklearn.datasets import load_digits

import complexity_optax as co


def init_params(key, hidden):
    k1, k2 = jax.random.split(key)
    return {"w1": jax.random.normal(k1, (64, hidden)) / 8.0, "b1": jnp.zeros(hidden),
            "w2": jax.random.normal(k2, (hidden, 16)) / np.sqrt(hidden)}


def loss_fn(params, batch):
    x, y = batch
    logits = jnp.tanh(x @ params["w1"] + params["b1"]) @ params["w2"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 epochs on a subset")
    parser.add_argument("--fsdp", action="store_true", help="shard params along axis 0")
    parser.add_argument("--optimizer", choices=("complexity_sgd", "trust_region"),
                        default="complexity_sgd")
    args = parser.parse_args()

    devices = jax.devices()
    n_dev = len(devices)
    mesh = Mesh(np.array(devices), ("data",))
    rows, replicated = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    epochs, batch_size = (2, 16 * n_dev) if args.quick else (10, 32 * n_dev)
    if args.quick:
        x, y = x[:512], y[:512]
    hidden = 16 * n_dev  # divisible by the device count (FSDP shards w2 by rows)

    params = init_params(jax.random.key(0), hidden)
    param_sh = jax.tree.map(lambda _: rows if args.fsdp else replicated, params)
    param_sh["b1"] = rows if args.fsdp else replicated
    if args.fsdp:  # w1 is (64, hidden): 64 rows shard over up to 64 devices
        param_sh["w1"] = rows if 64 % n_dev == 0 else replicated
    params = jax.device_put(params, param_sh)

    if args.optimizer == "complexity_sgd":
        tx = co.complexity_sgd(0.5, 1e-3, annealing="matched", sphere=False)
    else:
        tx = co.trust_region(ellipsoid="rmsprop", max_cg_iters=10)
    state = tx.init(params)

    @jax.jit
    def train_step(params, state, batch):
        value, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, state = tx.update(grads, state, params, value=value, value_fn=loss_fn,
                                   batch=batch)
        params = optax.apply_updates(params, updates)
        params = jax.lax.with_sharding_constraint(params, param_sh)
        return params, state, value

    rng = np.random.default_rng(0)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x))
        losses = []
        for start in range(0, len(x) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            batch = jax.device_put((x[idx], y[idx].astype(np.int32)), (rows, rows))
            params, state, value = train_step(params, state, batch)
            losses.append(float(value))
        print(f"epoch {epoch}: loss {np.mean(losses):.4f} ({args.optimizer}, "
              f"{'fsdp' if args.fsdp else 'replicated'}, {n_dev} devices)")


if __name__ == "__main__":
    main()
