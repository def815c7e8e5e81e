# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Eager calls of the spectral tools against the same call under `jax.jit`, after the first.

    python benchmarks/landscape_eager.py [--repeats 7] [--hidden 64]

A notebook calls the tools eagerly, each time with a new closure: `hessian_operator(loss,
params, batches)` over the current parameters. The tools compile their program once per code
and shapes (the function and the operator travel as pytrees, `common.functions`), so from the
second call an eager call should cost what the jitted call costs. For each tool this prints the
first eager call (compilation included), the median of later eager calls (each over a new
operator built from perturbed parameters) and the median of the same computation jitted with
the parameters as its argument, and the ratio eager / jitted (the issue's target: <= 1.5).
The network is an MLP on the 5,000 bundled MNIST digits (a 512-image batch).

The record `benchmarks/results/landscape_eager_cpu.txt` is this script's output.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from complexity_optax import datasets, landscape


def _mlp(hidden: int):
    def init(key):
        k1, k2 = jax.random.split(key)
        return {"w1": jax.random.normal(k1, (784, hidden)) / 28.0, "b1": jnp.zeros(hidden),
                "w2": jax.random.normal(k2, (hidden, 10)) / np.sqrt(hidden), "b2": jnp.zeros(10)}

    def loss(params, x, y):
        h = jnp.tanh(x @ params["w1"] + params["b1"])
        logits = h @ params["w2"] + params["b2"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

    return init, loss


TOOLS = {
    "operator product": lambda op, like, key: op(like),
    "hutchinson_trace (30)": lambda op, like, key: landscape.hutchinson_trace(
        op, like, key, num_samples=30).estimate,
    "hutchpp_trace (30)": lambda op, like, key: landscape.hutchpp_trace(
        op, like, key, num_matvecs=30).estimate,
    "top_eigenvalues (k=5)": lambda op, like, key: landscape.top_eigenvalues(
        op, like, key, k=5).eigenvalues,
    "spectral_density (4x30)": lambda op, like, key: landscape.spectral_density(
        op, like, key, num_probes=4, num_steps=30).density,
}


def _median_time(fn, repeats: int) -> float:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(i))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args()
    data = datasets.load_mnist()
    x = jnp.asarray(data.x_train[:512].reshape(512, -1), jnp.float32)
    y = jnp.asarray(data.y_train[:512])
    init, loss = _mlp(args.hidden)
    params = init(jax.random.key(0))
    n = sum(leaf.size for leaf in jax.tree.leaves(params))
    key = jax.random.key(1)
    print(f"devices: {jax.devices()}; MLP 784-{args.hidden}-10, {n:,} parameters, batch 512")
    print(f"{'tool':26s} {'first eager s':>14s} {'eager s':>10s} {'jitted s':>10s} "
          f"{'eager/jitted':>13s}")

    def perturbed(i):
        return jax.tree.map(lambda p: p * (1.0 + 1e-3 * (i + 1)), params)

    for name, tool in TOOLS.items():
        def eager(i, tool=tool):
            p = perturbed(i)
            op = landscape.hessian_operator(loss, p, [(x, y)])  # a new closure every call
            return tool(op, p, key)

        @jax.jit
        def jitted_call(p, tool=tool):
            op = landscape.hessian_operator(loss, p, [(x, y)])
            return tool(op, p, key)

        start = time.perf_counter()
        jax.block_until_ready(eager(100))
        first = time.perf_counter() - start
        jax.block_until_ready(jitted_call(perturbed(100)))  # compile the reference
        eager_s = _median_time(eager, args.repeats)
        jitted_s = _median_time(lambda i, f=jitted_call: f(perturbed(i)), args.repeats)
        print(f"{name:26s} {first:14.3f} {eager_s:10.4f} {jitted_s:10.4f} "
              f"{eager_s / jitted_s:13.2f}")


if __name__ == "__main__":
    main()
