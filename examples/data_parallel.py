# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Data-parallel training of a small MLP on scikit-learn digits with complexity_optax.

A mesh over all devices; the batch is sharded along its first axis; the params are replicated
(default) or FSDP-sharded along their first axis (``--fsdp``). Try on CPU with

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python examples/data_parallel.py --quick

**Multi-process (one process per host).** On a cluster, start this script once per host with
the same coordinator address (host 0, any free port), the number of processes and each one's
index; the mesh then spans the devices of every host, each process feeds its own slice of every
batch (``jax.make_array_from_process_local_data``) and XLA all-reduces the gradients:

    # on host i of H (i = 0 … H-1)
    python examples/data_parallel.py --coordinator host0.example.org:1234 \
        --num-processes H --process-id i

Under SLURM, Open MPI or on Cloud TPU ``jax.distributed.initialize()`` finds these by itself:
pass ``--coordinator auto``. On CPU-only hosts the collectives go through gloo (set here). To
try it on one machine, ``--local-processes 2`` starts 2 processes on the loopback interface
(the same code path; ``tests/test_multiprocess.py`` checks that the result equals one process).
"""

import argparse
import os
import socket
import subprocess
import sys

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


def _spawn_local(args) -> int:
    """Starts ``args.local_processes`` copies of this script on 127.0.0.1 and waits for them."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    forwarded = [a for a in sys.argv[1:] if not a.startswith("--local-processes")]
    if "--local-processes" in sys.argv:  # "--local-processes N" as two words
        i = sys.argv.index("--local-processes")
        forwarded = sys.argv[1:i] + sys.argv[i + 2:]
    env = {**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    procs = [subprocess.Popen([sys.executable, __file__, *forwarded,
                               "--coordinator", f"127.0.0.1:{port}",
                               "--num-processes", str(args.local_processes),
                               "--process-id", str(i)], env=env)
             for i in range(args.local_processes)]
    return max(p.wait() for p in procs)


def _initialize_distributed(args) -> None:
    """Joins the job's processes (one per host) before any other jax call."""
    # CPU collectives across processes (gloo); GPU/TPU backends use their own (NCCL, ICI).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if args.coordinator == "auto":  # SLURM, Open MPI, Cloud TPU: found from the environment
        jax.distributed.initialize()
    else:
        jax.distributed.initialize(coordinator_address=args.coordinator,
                                   num_processes=args.num_processes,
                                   process_id=args.process_id)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 epochs on a subset")
    parser.add_argument("--fsdp", action="store_true", help="shard params along axis 0")
    parser.add_argument("--optimizer", choices=("complexity_sgd", "trust_region"),
                        default="complexity_sgd")
    parser.add_argument("--coordinator", default=None,
                        help="host:port of process 0 (multi-process), or 'auto'")
    parser.add_argument("--num-processes", type=int, default=1)
    parser.add_argument("--process-id", type=int, default=0)
    parser.add_argument("--local-processes", type=int, default=0,
                        help="start this many processes on this machine (loopback) and wait")
    args = parser.parse_args()
    if args.local_processes:
        raise SystemExit(_spawn_local(args))
    if args.coordinator is not None:
        _initialize_distributed(args)
    is_main = jax.process_index() == 0

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
    if jax.process_count() == 1:
        params = jax.device_put(params, param_sh)
    else:  # the same values on every process -> one global array per leaf
        params = jax.tree.map(
            lambda a, sh: jax.make_array_from_callback(a.shape, sh, lambda i: np.asarray(a)[i]),
            params, param_sh)

    if args.optimizer == "complexity_sgd":
        tx = co.complexity_sgd(0.5, strength=co.matched_annealing(1e-3), sphere=False)
    else:
        tx = co.trust_region(ellipsoid="rmsprop", max_cg_iters=10)
    state = jax.jit(tx.init)(params)  # jitted: works on global (multi-process) arrays

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
            batch = _global_batch((x[idx], y[idx].astype(np.int32)), rows)
            params, state, value = train_step(params, state, batch)
            losses.append(float(np.asarray(value.addressable_shards[0].data)))
        if is_main:
            print(f"epoch {epoch}: loss {np.mean(losses):.4f} ({args.optimizer}, "
                  f"{'fsdp' if args.fsdp else 'replicated'}, {n_dev} devices, "
                  f"{jax.process_count()} process{'es' if jax.process_count() > 1 else ''})")
    if args.coordinator is not None:
        jax.distributed.shutdown()


def _global_batch(batch, sharding):
    """The global batch from this process's rows (every process draws the same permutation here;
    on a real cluster each host would read only its own shard from storage)."""
    if jax.process_count() == 1:
        return jax.device_put(batch, (sharding, sharding))
    n, i = jax.process_count(), jax.process_index()
    local = tuple(a[i * (len(a) // n):(i + 1) * (len(a) // n)] for a in batch)
    return tuple(jax.make_array_from_process_local_data(sharding, a) for a in local)


if __name__ == "__main__":
    main()
