# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Train-step overhead of complexity_sgd and anneal_sgd relative to optax.sgd.

A jitted train step (loss gradient + optimizer update + apply) on a ~1.8M-parameter MLP
(784-1024-1024-10, tanh, batch 256) is timed for each optimizer. The optimizers are timed side by
side: every round runs each of them once, in a rotating order, so that machine noise hits all of
them alike; the table reports the median step time of each and its ratio to optax.sgd (target
<= 1.05).

Usage::

    python benchmarks/transform_overhead.py            # full size, 200 rounds
    python benchmarks/transform_overhead.py --quick    # small MLP, a few rounds (smoke test)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import jax
import jax.numpy as jnp
import optax

import complexity_optax as co


def init_mlp(key, sizes):
    """He-style initialised dense layers as a list of dicts (a plain pytree)."""
    params = []
    for k, (fan_in, fan_out) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        params.append(
            {"w": jax.random.normal(k, (fan_in, fan_out)) / jnp.sqrt(fan_in), "b": jnp.zeros(fan_out)}
        )
    return params


def loss_fn(params, x, y):
    h = x
    for layer in params[:-1]:
        h = jnp.tanh(h @ layer["w"] + layer["b"])
    logits = h @ params[-1]["w"] + params[-1]["b"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def make_step(tx):
    """A jitted step: value and gradient, update with value=, apply. Buffers are donated."""

    def step(params, state, x, y):
        value, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, state = tx.update(grads, state, params, value=value)
        return optax.apply_updates(params, updates), state, value

    return jax.jit(step, donate_argnums=(0, 1))


def optimizers(key):
    lr = 0.05
    field = optax.linear_schedule(0.1, 0.0, 1000)
    return {
        "optax.sgd": optax.sgd(lr),
        "complexity_sgd (matched, sphere)": co.complexity_sgd(
            lr, strength=co.matched_annealing(1e-4)),
        "complexity_sgd (cosine, sphere)": co.complexity_sgd(
            lr, strength=co.cosine_annealing(1e-4, 1000)),
        "anneal_sgd (default, relative field)": co.anneal_sgd(lr, field_scale=field, key=key),
        "anneal_sgd (absolute field)": co.anneal_sgd(
            lr, field_scale=optax.linear_schedule(0.01, 0.0, 1000), key=key, relative_to=None),
    }


def run(sizes, batch, rounds, warmup):
    key = jax.random.PRNGKey(0)
    k_params, k_x, k_y, k_field = jax.random.split(key, 4)
    x = jax.random.normal(k_x, (batch, sizes[0]))
    y = jax.random.randint(k_y, (batch,), 0, sizes[-1])
    txs = optimizers(k_field)
    runs = {}
    for name, tx in txs.items():
        params = init_mlp(k_params, sizes)
        runs[name] = [make_step(tx), params, tx.init(params)]
    n_params = sum(p.size for p in jax.tree.leaves(init_mlp(k_params, sizes)))

    def once(name):
        step, params, state = runs[name]
        t0 = time.perf_counter()
        params, state, value = step(params, state, x, y)
        jax.block_until_ready((params, state, value))
        runs[name][1:] = [params, state]
        return time.perf_counter() - t0

    names = list(runs)
    for _ in range(warmup):  # compile and warm caches
        for name in names:
            once(name)
    times = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            times[name].append(once(name))
    return n_params, {name: statistics.median(ts) for name, ts in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small MLP, few rounds (smoke test)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--output", default=None,
                        help="also write the table here (benchmarks/results/"
                             "transform_overhead_cpu.txt is the record docs/benchmarks.md shows)")
    args = parser.parse_args(argv)
    if args.quick:
        sizes, batch, rounds, warmup = (64, 128, 128, 10), 64, args.rounds or 5, 2
    else:
        sizes, batch, rounds, warmup = (784, 1024, 1024, 10), 256, args.rounds or 200, 5
    n_params, medians = run(sizes, batch, rounds, warmup)
    base = medians["optax.sgd"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"device: {jax.devices()[0].device_kind} ({jax.default_backend()}), jax {jax.__version__}"
        f", load average {load:.1f} at the end",
        f"MLP {'-'.join(map(str, sizes))} tanh: {n_params:,} parameters, batch {batch}, "
        f"median of {rounds} side-by-side rounds",
        f"{'optimizer':<38}{'median step (ms)':>18}{'ratio to sgd':>14}",
    ]
    lines += [f"{name:<38}{1e3 * t:>18.3f}{t / base:>14.3f}" for name, t in medians.items()]
    lines.append("target: ratio <= 1.05")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.output:
        folder = os.path.dirname(os.path.abspath(args.output))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, args.output)
    return medians


if __name__ == "__main__":
    main()
