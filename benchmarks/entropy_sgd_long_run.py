# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Entropy-SGD with its defaults for a long run on the README CNN: does it keep what it reached?

`entropy_sgd(0.1, key=0)` (20 inner Langevin steps per update, the scope gamma growing
0.03 (1.001)^t up to its cap) for `--steps` updates of batch 128 on the README's CNN and the
5,000 real MNIST digits; the full training loss every `--every` updates. Before the scope cap and
the adaptive inner step, the same defaults diverged on least squares after ~7,000 steps. Prints
the best and the final loss and whether the final is within 10% of the best, and writes a JSON
record.

Usage::

    python benchmarks/entropy_sgd_long_run.py                 # 20,000 updates (CPU: long)
    python benchmarks/entropy_sgd_long_run.py --steps 200     # smoke
    python benchmarks/entropy_sgd_long_run.py --resume        # go on from the last chunk

On a 2-core CPU one update costs ~0.4-0.9 s, so 20,000 updates take hours: after every chunk the
run writes its record and a checkpoint (parameters, optimiser state with its key, the batch
sampler's state, the curve) beside it, and `--resume` continues from that checkpoint, so the run
can be spread over several sessions. The record lists the source fingerprint of every segment.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import complexity_optax as co
from complexity_optax import datasets

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from cnn_defaults import _CNN, BATCH, _fingerprint  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint beside --output, if there is one")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results"
                                                / "entropy_sgd_long_run_cpu.json"))
    args = parser.parse_args(argv)
    data = datasets.load_image_data()
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    graphdef, params = nnx.split(_CNN(data.image_shape[0], nnx.Rngs(0)))

    def batch_loss(params, x, y):
        logits = nnx.merge(graphdef, params)(x)
        return optax.losses.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    tx = co.entropy_sgd(0.1, key=0)
    state = tx.init(params)
    n = x.shape[0]
    rng = np.random.default_rng(0)

    @jax.jit
    def chunk(params, state, idx):
        def step(carry, i):
            params, state = carry
            xb, yb = x[i], y[i]
            loss, grads = jax.value_and_grad(batch_loss)(params, xb, yb)
            updates, state = tx.update(grads, state, params, value=loss, value_fn=batch_loss,
                                       x=xb, y=yb)
            return (optax.apply_updates(params, updates), state), None

        (params, state), _ = jax.lax.scan(step, (params, state), idx)
        return params, state

    full_loss = jax.jit(batch_loss)
    checkpoint = _checkpoint_path(args.output)
    if args.resume and os.path.exists(checkpoint):
        params, state, curve, done, seconds, segments = _load(checkpoint, params, state, rng)
        print(f"resumed at {done} updates", file=sys.stderr, flush=True)
    else:
        curve, done, seconds, segments = [(0, float(full_loss(params, x, y)))], 0, 0.0, []
    segments = segments + [{"from_update": done, "source_fingerprint": _fingerprint()}]
    start = time.perf_counter() - seconds
    record = _record(args, curve, done, seconds, segments)
    while done < args.steps:
        k = min(args.every, args.steps - done)
        idx = np.stack([rng.choice(n, BATCH, replace=False) for _ in range(k)])
        params, state = chunk(params, state, jnp.asarray(idx))
        done += k
        curve.append((done, float(full_loss(params, x, y))))
        print(f"{done} updates: training loss {curve[-1][1]:.4f} "
              f"[{time.perf_counter() - start:.0f} s]", file=sys.stderr, flush=True)
        seconds = time.perf_counter() - start
        record = _record(args, curve, done, seconds, segments)
        _save(checkpoint, params, state, rng, curve, done, seconds, segments)
        _write(record, args.output)  # after every chunk: an interrupted run keeps its curve
    print(f"best {record['best']:.4f}, final {record['final']:.4f}: "
          f"{'within' if record['final_within_10_percent_of_best'] else 'NOT within'} 10%")
    return record


def _checkpoint_path(output):
    return os.path.join(os.path.dirname(os.path.abspath(output)),
                        "." + os.path.basename(output) + ".checkpoint.npz")


def _leaves(tree):
    """Host arrays of a pytree's leaves; typed PRNG keys as their raw key data."""
    return [np.asarray(jax.random.key_data(leaf) if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key)
                       else leaf) for leaf in jax.tree.leaves(tree)]


def _save(path, params, state, rng, curve, done, seconds, segments):
    meta = {"curve": curve, "done": done, "seconds": seconds, "segments": segments,
            "rng": rng.bit_generator.state}
    arrays = {f"leaf{i}": leaf for i, leaf in enumerate(_leaves((params, state)))}
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    with os.fdopen(fd, "wb") as f:
        np.savez(f, meta=np.asarray(json.dumps(meta)), **arrays)
    os.replace(tmp, path)


def _load(path, params, state, rng):
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        saved = [data[f"leaf{i}"] for i in range(len(data.files) - 1)]
    like, treedef = jax.tree.flatten((params, state))
    leaves = [jax.random.wrap_key_data(jnp.asarray(a), impl=jax.random.key_impl(old))
              if jnp.issubdtype(old.dtype, jax.dtypes.prng_key) else jnp.asarray(a, old.dtype)
              for a, old in zip(saved, like, strict=True)]
    params, state = jax.tree.unflatten(treedef, leaves)
    rng.bit_generator.state = meta["rng"]
    curve = [tuple(point) for point in meta["curve"]]
    return params, state, curve, meta["done"], meta["seconds"], meta["segments"]


def _record(args, curve, done, seconds, segments):
    losses = np.asarray([v for _, v in curve])
    best, final = float(np.nanmin(losses)), float(losses[-1])
    return {"benchmark": "entropy_sgd_long_run", "version": co.__version__,
            "source_fingerprint": segments[0]["source_fingerprint"], "segments": segments,
            "call": "entropy_sgd(0.1, key=0)",
            "steps_planned": args.steps, "steps_done": done, "batch": BATCH, "curve": curve,
            "best": best, "final": final,
            "final_within_10_percent_of_best": bool(np.isfinite(final) and final <= 1.1 * best),
            "seconds": seconds,
            "platform": f"{jax.default_backend()} ({os.cpu_count()} CPUs), jax {jax.__version__}"}


def _write(record, path):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
