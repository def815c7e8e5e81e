# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""One process of a data-parallel run on JAX's distributed runtime (driven by test_multiprocess).

``python tests/multiprocess_worker.py --process-id I --num-processes N --port P --out DIR``

With N > 1 the process joins ``jax.distributed.initialize`` at ``127.0.0.1:P`` (loopback only),
CPU collectives through gloo. The global batch (8 rows of the contract's least-squares problem)
is sharded over one device per process; parameters and optimizer states are replicated, so the
gradient is the all-reduced global-batch gradient. For ``complexity_sgd``, ``anneal_sgd`` and
``trust_region`` (the first registry entry of each) it runs 5 steps, saves a multi-process orbax
checkpoint after step 3, restores it and replays steps 4-5, and writes (process 0) the final
parameters of both runs to ``DIR/result.npz``. N = 1 is the single-process reference.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

METHODS = ("complexity_sgd", "anneal_sgd", "trust_region")
GLOBAL_BATCH, STEPS, CHECKPOINT_AT = 8, 5, 3


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--process-id", type=int, required=True)
    parser.add_argument("--num-processes", type=int, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    n = args.num_processes
    if n > 1:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(coordinator_address=f"127.0.0.1:{args.port}",
                                   num_processes=n, process_id=args.process_id,
                                   initialization_timeout=60)
    import numpy as np
    import optax
    import orbax.checkpoint as ocp
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    import complexity_optax as co
    from complexity_optax.testing import contract as C

    assert jax.process_count() == n, (jax.process_count(), n)
    mesh = Mesh(np.array(jax.devices()), ("data",))
    rows, replicated = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())

    params_np, batch_np = C.make_problem(batch=GLOBAL_BATCH)
    params_np = jax.tree.map(np.asarray, params_np)
    batch_np = jax.tree.map(np.asarray, batch_np)

    def global_array(x, sharding):  # the same numpy value on every process -> one global array
        return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

    params0 = jax.tree.map(lambda x: global_array(x, replicated), params_np)
    batch = jax.tree.map(lambda x: global_array(x, rows), batch_np)

    def local(x):
        return np.asarray(x.addressable_shards[0].data)

    factories = {"complexity_sgd": co.complexity_sgd, "anneal_sgd": co.anneal_sgd,
                 "trust_region": co.trust_region}
    results, report = {}, {}
    for method in METHODS:
        entry = next(e for e in C.REGISTRY if e.factory is factories[method])
        tx = entry.optimizer()

        def step(params, state, batch, tx=tx, entry=entry):
            value, grads = jax.value_and_grad(C.loss_fn)(params, batch)
            kwargs = C.update_kwargs(entry, value, batch)
            updates, state = tx.update(grads, state, params, **kwargs)
            return optax.apply_updates(params, updates), state, value

        state0 = jax.jit(tx.init, out_shardings=replicated)(params0)
        step = jax.jit(step, out_shardings=(replicated, replicated, replicated))
        params, state = params0, state0
        losses = []
        for i in range(STEPS):
            params, state, value = step(params, state, batch)
            losses.append(float(local(value)))
            if i + 1 == CHECKPOINT_AT:
                saved = (params, state)

        # Multi-process orbax checkpoint of (params, state) after step 3; every process takes
        # part in save and restore. Typed PRNG keys are stored as their key data.
        path = os.path.join(os.path.abspath(args.out), f"ckpt_{method}")
        storable = C.keys_as_data({"params": saved[0], "state": saved[1]})
        leaves, treedef = jax.tree.flatten(storable)
        stored = {str(i): x for i, x in enumerate(leaves)}
        with ocp.StandardCheckpointer() as checkpointer:
            checkpointer.save(path, stored, force=True)
            checkpointer.wait_until_finished()
            abstract = {k: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding)
                        for k, x in stored.items()}
            restored = checkpointer.restore(path, abstract)
        tree = jax.tree.unflatten(treedef, [restored[str(i)] for i in range(len(leaves))])
        like = {"params": saved[0], "state": saved[1]}
        tree = jax.tree.map(
            lambda x, ref: jax.random.wrap_key_data(x, impl=jax.random.key_impl(ref))
            if C.is_key(ref) else x, tree, like)
        r_params, r_state = tree["params"], tree["state"]
        for _ in range(STEPS - CHECKPOINT_AT):
            r_params, r_state, _ = step(r_params, r_state, batch)

        for k, v in params.items():
            results[f"{method}/final/{k}"] = local(v)
            results[f"{method}/resumed/{k}"] = local(r_params[k])
        report[method] = {"entry": entry.name, "losses": losses}

    if jax.process_index() == 0:
        os.makedirs(args.out, exist_ok=True)
        np.savez(os.path.join(args.out, "result.npz"), **results)
        with open(os.path.join(args.out, "report.json"), "w", encoding="utf-8") as f:
            json.dump({"process_count": jax.process_count(),
                       "devices": [str(d) for d in jax.devices()], "methods": report}, f)
    if n > 1:
        jax.distributed.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
