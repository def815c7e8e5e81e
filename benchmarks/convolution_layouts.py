# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Convolutions inside loop bodies on XLA's CPU backend: as written against `canonical_convolutions`.

    python benchmarks/convolution_layouts.py [--repeats 5]

XLA's CPU backend runs a convolution through its fast kernel only in the NHWC/HWIO layout; outside
a loop it transposes other layouts there, inside a `while` body it does not (jax-ml/jax#12868).
A small CNN (two 3x3 convolutions with 16 and 32 channels, average pooling, a dense layer) on 512
of the bundled MNIST digits, in PyTorch's layout (NCHW/OIHW) and in Flax's (NHWC/HWIO), and three
programs each, timed side by side (alternated, median of `--repeats`):

* `hvp alone`: one forward-over-reverse Hessian-vector product, jitted;
* `hvp in loop`: ten products in a `lax.fori_loop` (what every Lanczos or Hutchinson loop does),
  per product;
* `sgd epoch`: eight SGD steps on batches of 64 in a `lax.scan` (a training epoch), per epoch.

Each as written (`plain`) and with the differentiated function wrapped in
`canonical_convolutions` (what the library's products do on CPU); the last column is
plain / canonical (> 1: the rewrite is faster), and `max rel diff` the largest difference between
the two programs' outputs relative to the output's scale (float32 rounding). The record
`benchmarks/results/convolution_layouts_cpu.txt` is this script's output.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from complexity_optax import canonical_convolutions, datasets


def _params(key, layout):
    k1, k2, k3 = jax.random.split(key, 3)

    def conv(k, c_in, c_out):
        w = jax.random.normal(k, (c_out, c_in, 3, 3)) / np.sqrt(9 * c_in)  # OIHW
        return {"w": w if layout == "NCHW" else w.transpose(2, 3, 1, 0), "b": jnp.zeros(c_out)}

    return [conv(k1, 1, 16), conv(k2, 16, 32),
            {"w": jax.random.normal(k3, (32 * 7 * 7, 10)) / np.sqrt(32 * 49), "b": jnp.zeros(10)}]


def _loss_fn(layout):
    dims = ("NCHW", "OIHW", "NCHW") if layout == "NCHW" else ("NHWC", "HWIO", "NHWC")
    channel = 1 if layout == "NCHW" else 3

    def pool(h):  # 2x2 average pooling
        if layout == "NCHW":
            n, c, hh, ww = h.shape
            return h.reshape(n, c, hh // 2, 2, ww // 2, 2).mean(axis=(3, 5))
        n, hh, ww, c = h.shape
        return h.reshape(n, hh // 2, 2, ww // 2, 2, c).mean(axis=(2, 4))

    def loss(params, x, y):
        h = x
        for layer in params[:2]:
            h = jax.lax.conv_general_dilated(h, layer["w"], (1, 1), ((1, 1), (1, 1)),
                                             dimension_numbers=dims)
            shape = [1, 1, 1, 1]
            shape[channel] = -1
            h = pool(jax.nn.relu(h + layer["b"].reshape(shape)))
        logits = h.reshape(h.shape[0], -1) @ params[2]["w"] + params[2]["b"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

    return loss


def _programs(loss, wrap):
    def grad_fn(p, x, y):
        return jax.grad(loss)(p, x, y)

    def value_and_grad(p, x, y):
        return jax.value_and_grad(loss)(p, x, y)

    grad_fn, value_and_grad = wrap(grad_fn), wrap(value_and_grad)

    def hvp(p, v, x, y):
        return jax.jvp(lambda q: grad_fn(q, x, y), (p,), (v,))[1]

    def normalised(w):
        scale = jnp.sqrt(sum(jnp.vdot(a, a) for a in jax.tree.leaves(w)))
        return jax.tree.map(lambda a: a / scale, w)

    def looped(p, v, x, y):
        return jax.lax.fori_loop(0, 10, lambda i, u: normalised(hvp(p, u, x, y)), v)

    def epoch(p, xs, ys):
        def step(q, batch):
            value, g = value_and_grad(q, *batch)
            return jax.tree.map(lambda a, b: a - 0.1 * b, q, g), value

        return jax.lax.scan(step, p, (xs, ys))

    return {"hvp alone": (jax.jit(hvp), 1), "hvp in loop": (jax.jit(looped), 10),
            "sgd epoch": (jax.jit(epoch), 1)}


def _max_relative_difference(a, b):
    leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
    scale = max(float(jnp.max(jnp.abs(x))) for x in leaves_a)
    return max(float(jnp.max(jnp.abs(x - z))) for x, z in zip(leaves_a, leaves_b,
                                                              strict=True)) / scale


def main(argv=None) -> list:
    """Prints the table; returns its rows `(layout, program, plain s, canonical s, rel diff)`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=512, help="digits (a multiple of 8)")
    parser.add_argument("--layouts", default="NCHW,NHWC")
    args = parser.parse_args(argv)
    data = datasets.load_mnist()
    images = jnp.asarray(data.x_train[:args.batch].reshape(args.batch, 1, 28, 28), jnp.float32)
    y = jnp.asarray(data.y_train[:args.batch])
    print(f"jax {jax.__version__} ({jax.devices()[0].platform}); batch {args.batch} MNIST digits "
          f"(epoch: 8 x {args.batch // 8}); medians of {args.repeats}, plain and canonical "
          f"alternated")
    print(f"{'layout':10s} {'program':12s} {'plain s':>10s} {'canonical s':>12s} "
          f"{'plain/canonical':>16s} {'max rel diff':>13s}")
    rows = []
    for layout in args.layouts.split(","):
        x = images if layout == "NCHW" else images.transpose(0, 2, 3, 1)
        params = _params(jax.random.key(0), layout)
        v = jax.tree.map(jnp.ones_like, params)
        loss = _loss_fn(layout)
        plain = _programs(loss, lambda f: f)
        canonical = _programs(loss, canonical_convolutions)
        inputs = {"hvp alone": (params, v, x, y), "hvp in loop": (params, v, x, y),
                  "sgd epoch": (params, x.reshape(8, -1, *x.shape[1:]), y.reshape(8, -1))}
        for name, call_args in inputs.items():
            times = {"plain": [], "canonical": []}
            outputs = [jax.block_until_ready(programs[name][0](*call_args))  # compiles
                       for programs in (plain, canonical)]
            difference = _max_relative_difference(*outputs)
            for _ in range(args.repeats):
                for label, programs in (("plain", plain), ("canonical", canonical)):
                    fn, count = programs[name]
                    start = time.perf_counter()
                    jax.block_until_ready(fn(*call_args))
                    times[label].append((time.perf_counter() - start) / count)
            a, b = statistics.median(times["plain"]), statistics.median(times["canonical"])
            print(f"{layout:10s} {name:12s} {a:10.4f} {b:12.4f} {a / b:16.2f} {difference:13.1e}",
                  flush=True)
            rows.append((layout, name, a, b, difference))
    return rows


if __name__ == "__main__":
    main()
