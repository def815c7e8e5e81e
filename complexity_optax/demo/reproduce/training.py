# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Shared jitted training and evaluation loops of the reproductions, with backprop accounting.

One epoch is one `jax.lax.scan` over the shuffled mini-batches of the training set (the last
incomplete batch is dropped), compiled once per (network, optimizer, batch shape) and reused for
every seed and every learning rate of a grid (the learning rate lives in the optimizer state,
through `optax.inject_hyperparams`). Compilation is timed apart from training.

**Backprops.** A first-order step costs one gradient; a trust-region step costs one gradient plus
its Hessian-vector products (read from the optimizer state), i.e. backprops = gradients + HVPs,
with one HVP counted as one backprop as in Kohler et al.'s code. Epochs count the samples drawn.

Examples:
  >>> import numpy as np, optax
  >>> from complexity_optax.demo.reproduce import training
  >>> x = np.random.default_rng(0).normal(size=(64, 28, 28, 1)).astype(np.float32)
  >>> y = (x.reshape(64, -1).sum(1) > 0).astype(np.int32)
  >>> task = training.make_task("fc", "ce", x, y, x, y, eval_size=64)
  >>> spec = training.MethodSpec("sgd", lambda: optax.inject_hyperparams(optax.sgd)(
  ...     learning_rate=0.1), batch_size=16)
  >>> run = training.train(task, spec, seed=0, epochs=2)
  >>> run["backprops"]   # 4 steps per epoch, one gradient each
  [0, 4, 8]
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from complexity_optax._src.common.convolutions import on_cpu_backend
from complexity_optax.demo.reproduce import architectures

__all__ = [
    "MethodSpec",
    "Task",
    "find_field",
    "make_task",
    "progress",
    "train",
    "trust_region_counts",
    "with_split",
]

Probe = Callable[[Any, Any, Any, Any], dict]  # (params, opt_state, grads, value) -> scalars


@dataclasses.dataclass
class Task:
    """A network, its loss and its data (numpy arrays), with jitted evaluation."""

    network: str
    loss_kind: str  # "ce" (softmax cross-entropy, metric: accuracy) or "mse" (reconstruction)
    graphdef: Any
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    eval_size: int
    loss_fn: Callable[[Any, tuple], jax.Array]
    evaluate: Callable[[Any, jax.Array, jax.Array], tuple]
    chunk: int = 1
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    @property
    def n_train(self) -> int:
        return len(self.x_train)


def _loss(graphdef: Any, kind: str) -> Callable[[Any, tuple], jax.Array]:
    r"""`loss(params, batch)` with `batch = (x, y)`: mean CE, or the mean squared error of the
    reconstruction ($\frac1{B}\sum_b \frac1{784}\lVert \hat x_b - x_b\rVert^2$) for `"mse"`."""

    def loss_fn(params, batch):
        x, y = batch
        out = nnx.merge(graphdef, params)(x)
        if kind == "ce":
            return optax.losses.softmax_cross_entropy_with_integer_labels(out, y).mean()
        return jnp.mean((out - y.reshape(out.shape)) ** 2)

    return loss_fn


def _evaluator(graphdef: Any, kind: str, chunk: int) -> Callable:
    """Jitted `(params, x, y) -> (mean loss, metric)` over chunks of `chunk` samples
    (metric: accuracy for CE, the mean squared reconstruction error for MSE)."""
    loss_fn = _loss(graphdef, kind)

    def per_chunk(params, xy):
        x, y = xy
        loss = loss_fn(params, (x, y))
        if kind == "ce":
            out = nnx.merge(graphdef, params)(x)
            return loss, jnp.mean(jnp.argmax(out, -1) == y)
        return loss, loss

    @jax.jit
    def evaluate(params, x, y):
        n = x.shape[0] // chunk
        xs = x[: n * chunk].reshape((n, chunk) + x.shape[1:])
        ys = y[: n * chunk].reshape((n, chunk) + y.shape[1:])
        losses, metrics = jax.lax.map(lambda xy: per_chunk(params, xy), (xs, ys))
        return jnp.mean(losses), jnp.mean(metrics)

    return evaluate


def make_task(network: str, loss_kind: str, x_train, y_train, x_test, y_test, *,
              eval_size: int = 1000, chunk: int = 250) -> Task:
    """Builds a `Task`; training loss is evaluated on the first `eval_size` training samples."""
    graphdef, _ = _init_fn(network)
    eval_size = min(int(eval_size), len(x_train))
    chunk = math.gcd(math.gcd(chunk, eval_size), len(x_test))
    return Task(network, loss_kind, graphdef, np.asarray(x_train), np.asarray(y_train),
                np.asarray(x_test), np.asarray(y_test), eval_size,
                _loss(graphdef, loss_kind), _evaluator(graphdef, loss_kind, chunk), chunk)


def with_split(task: Task, seed: int, fraction: float) -> Task:
    """`task` with a seed's own validation split carved from its training images
    (`protocol.split_for_seed`; the validation size is rounded to a multiple of the evaluation
    chunk, at least one chunk). The jitted loss and evaluation are shared, so nothing
    recompiles; the test split is unchanged."""
    from complexity_optax.demo.reproduce import protocol

    n = len(task.x_train)
    n_val = max(1, int(round(fraction * n / task.chunk))) * task.chunk
    train_idx, val_idx = protocol.split_for_seed(n, seed, n_val / n)
    x_tr, y_tr = task.x_train[train_idx], task.y_train[train_idx]
    eval_size = min(task.eval_size, (len(train_idx) // task.chunk) * task.chunk)
    return dataclasses.replace(task, x_train=x_tr, y_train=y_tr, eval_size=eval_size,
                               x_val=task.x_train[val_idx], y_val=task.y_train[val_idx])


_INIT_CACHE: dict[str, tuple[Any, Callable]] = {}


def _init_fn(network: str):
    """`(graphdef, jitted seed -> params)`, built once per network (eager init is slow)."""
    if network not in _INIT_CACHE:
        build = architectures.NETWORKS[network]
        graphdef = nnx.graphdef(nnx.eval_shape(lambda: build(nnx.Rngs(0))))
        init = jax.jit(lambda seed: nnx.to_pure_dict(
            nnx.split(build(nnx.Rngs(jax.random.key(seed))))[1]))
        _INIT_CACHE[network] = (graphdef, init)
    return _INIT_CACHE[network]


def init_params(network: str, seed: int):
    """Parameters of `network` for `seed`; the count is checked against `PARAM_COUNTS`."""
    params = _init_fn(network)[1](seed)
    count = architectures.count_params(params)
    if count != architectures.PARAM_COUNTS[network]:
        raise ValueError(f"network: {network!r} has {count} parameters")
    return params


@dataclasses.dataclass
class MethodSpec:
    """One optimizer of an experiment.

    Attributes:
      name: the label in tables and figures.
      build: `() -> optax transformation` (fresh state per seed).
      batch_size: mini-batch size.
      kind: `"first_order"` (one gradient per step) or `"trust_region"` (HVPs from the state).
      grads_per_step: gradients per first-order step (2 for two-step annealing with `value_fn`).
      warm_start: optional `(MethodSpec, epochs)` run first (the authors' first-order epoch).
      probe: optional `(params, opt_state, grads, value) -> dict of scalars`, averaged per epoch.
      key: the compile-cache key (defaults to `name`); methods that differ only in
        injected hyper-parameters (or in the initial state) may share it; anything baked into
        the compiled step (a constant learning rate, a probe's closure) needs its own key.
      config: the hyper-parameters, for the JSON record.
    """

    name: str
    build: Callable[[], Any]
    batch_size: int = 128
    kind: str = "first_order"
    grads_per_step: int = 1
    warm_start: tuple[MethodSpec, int] | None = None
    probe: Probe | None = None
    key: str | None = None
    config: dict = dataclasses.field(default_factory=dict)


def find_field(state: Any, name: str) -> list:
    """All leaves of an optimizer state reached through an attribute called `name`."""
    found = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]:
        if path and getattr(path[-1], "name", None) == name:
            found.append(leaf)
    return found


def trust_region_counts(state: Any) -> tuple[int, int]:
    """`(gradients, HVPs)` recorded in a trust-region state (0, 0 if none is found)."""
    grads = find_field(state, "gradient_count")
    hvps = find_field(state, "hvp_count")
    return (int(sum(int(g) for g in grads)), int(sum(int(h) for h in hvps)))


_EPOCH_CACHE: dict[tuple, Any] = {}


def _epoch_fn(task: Task, spec: MethodSpec, tx: Any, params, state, xb, yb):
    """The compiled epoch of `spec` on `task` for these shapes, and its compile time."""
    # A probe is compiled into the epoch: specs with a probe must have their own key (the
    # probe's presence is part of the key, so a probe-less compile is never reused for one).
    cache_key = (task.network, task.loss_kind, spec.key or spec.name, spec.probe is not None,
                 xb.shape, yb.shape)
    if cache_key in _EPOCH_CACHE:
        return _EPOCH_CACHE[cache_key], 0.0
    loss_fn = task.loss_fn
    probe = spec.probe
    # the step runs in a `lax.scan` body: convolutions in XLA CPU's fast layout
    value_and_grad = on_cpu_backend(jax.value_and_grad(loss_fn))

    def step(carry, batch):
        params, state = carry
        value, grads = value_and_grad(params, batch)
        updates, new_state = tx.update(grads, state, params, value=value, value_fn=loss_fn,
                                       batch=batch)
        new_params = optax.apply_updates(params, updates)
        aux = {"loss": value}
        if probe is not None:
            aux.update(probe(params, new_state, grads, value))
        return (new_params, new_state), aux

    def epoch(params, state, xb, yb):
        (params, state), aux = jax.lax.scan(step, (params, state), (xb, yb))
        return params, state, aux

    start = time.perf_counter()
    compiled = jax.jit(epoch).lower(params, state, xb, yb).compile()
    _EPOCH_CACHE[cache_key] = compiled
    return compiled, time.perf_counter() - start


def _batches(task: Task, batch_size: int, rng: np.random.Generator):
    n = task.n_train // batch_size
    if n < 1:
        raise ValueError(f"batch_size: {batch_size} exceeds the {task.n_train} training samples")
    idx = rng.permutation(task.n_train)[: n * batch_size].reshape(n, batch_size)
    return jnp.asarray(task.x_train[idx]), jnp.asarray(task.y_train[idx])


def left_initial_radius(config: dict, steps: int, accepted: int,
                        final_radius: float | None) -> bool | None:
    r"""Whether a trust-region run left its radius-limited start.

    A run is still radius-limited when every step was accepted as very successful, i.e. its
    radius is exactly $\min(\Delta_0\gamma_{inc}^{steps}, \Delta_{max})$: the radius never met
    a step it had to shrink or keep, so the run measured $\Delta_0$ and $\gamma_{inc}$, not the
    method. None when the constants are not in `config`.
    """
    r0, inc = config.get("initial_radius"), config.get("increase")
    if r0 is None or inc is None or final_radius is None:
        return None
    if steps == 0:
        return False
    rmax = config.get("max_radius", math.inf)
    grown = min(r0 * inc ** steps, rmax)
    limited = accepted == steps and final_radius >= grown * (1.0 - 1e-3)
    return not limited


def progress(message: str) -> None:
    """A progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def train(task: Task, spec: MethodSpec, *, seed: int, epochs: int,
          max_backprops: float | None = None, max_seconds: float | None = None,
          params: Any = None) -> dict:
    """Trains `spec` on `task` for `epochs` epochs (after its warm start, if any).

    Logs after every epoch (and at the start): backprops, epochs, wall seconds (compilation
    excluded), training loss on the evaluation subset, test metric, and the epoch means of the
    probe's scalars. Stops early at `max_backprops` or `max_seconds`, or when the training
    loss is no longer finite (`diverged` is then true).

    Returns:
      A dict of lists and scalars (JSON-ready).
    """
    rng = np.random.default_rng(seed)
    params = init_params(task.network, seed) if params is None else params
    x_eval, y_eval = jnp.asarray(task.x_train[: task.eval_size]), jnp.asarray(
        task.y_train[: task.eval_size])
    x_test, y_test = jnp.asarray(task.x_test), jnp.asarray(task.y_test)
    has_val = task.x_val is not None
    if has_val:
        x_val, y_val = jnp.asarray(task.x_val), jnp.asarray(task.y_val)
    log = {"backprops": [], "gradients": [], "hvps": [], "epochs": [], "wall_s": [],
           "train_loss": [], "test_metric": [], "probes": {}}
    if has_val:
        log.update(val_loss=[], val_metric=[])
    if spec.kind == "trust_region":  # per evaluation: radius, steps and accepted steps so far
        log.update(tr_radius=[], tr_step_count=[], tr_accepted_count=[])
    total = {"grads": 0, "hvps": 0, "samples": 0, "wall": 0.0, "compile": 0.0}
    state = None
    tr_phase = False

    def record():
        loss, _ = task.evaluate(params, x_eval, y_eval)
        _, metric = task.evaluate(params, x_test, y_test)
        if has_val:
            vloss, vmetric = task.evaluate(params, x_val, y_val)
            log["val_loss"].append(float(vloss))
            log["val_metric"].append(float(vmetric))
        if "tr_radius" in log:
            radius = find_field(state, "radius") if tr_phase else []
            log["tr_radius"].append(float(radius[0]) if radius else None)
            log["tr_step_count"].append(
                sum(int(v) for v in find_field(state, "step_count")) if tr_phase else 0)
            log["tr_accepted_count"].append(
                sum(int(v) for v in find_field(state, "accepted_count")) if tr_phase else 0)
        log["backprops"].append(total["grads"] + total["hvps"])
        log["gradients"].append(total["grads"])
        log["hvps"].append(total["hvps"])
        log["epochs"].append(total["samples"] / task.n_train)
        log["wall_s"].append(round(total["wall"], 4))
        log["train_loss"].append(float(loss))
        log["test_metric"].append(float(metric))

    record()
    phases = []
    if spec.warm_start is not None:
        phases.append(spec.warm_start)
    phases.append((spec, epochs))
    diverged = False
    for phase_spec, phase_epochs in phases:
        tx = phase_spec.build()
        state = tx.init(params)
        tr_phase = phase_spec.kind == "trust_region"
        counts_before = (0, 0)
        for _ in range(phase_epochs):
            xb, yb = _batches(task, phase_spec.batch_size, rng)
            fn, compile_s = _epoch_fn(task, phase_spec, tx, params, state, xb, yb)
            total["compile"] += compile_s
            start = time.perf_counter()
            params, state, aux = fn(params, state, xb, yb)
            jax.block_until_ready(params)
            total["wall"] += time.perf_counter() - start
            n_steps = xb.shape[0]
            total["samples"] += n_steps * phase_spec.batch_size
            if phase_spec.kind == "trust_region":
                counts = trust_region_counts(state)
                total["grads"] += counts[0] - counts_before[0]
                total["hvps"] += counts[1] - counts_before[1]
                counts_before = counts
            else:
                total["grads"] += n_steps * phase_spec.grads_per_step
            for k, v in aux.items():  # epoch means; epoch minima for "min_*" probes
                if k != "loss":
                    agg = jnp.min if k.startswith("min_") else jnp.mean
                    log["probes"].setdefault(k, []).append(float(agg(v)))
            record()
            if not math.isfinite(log["train_loss"][-1]):
                diverged = True
                break
            if max_backprops is not None and log["backprops"][-1] >= max_backprops:
                break
            if max_seconds is not None and total["wall"] >= max_seconds:
                break
        if diverged:
            break
    if spec.kind == "trust_region":
        log["tr_steps"] = int(sum(int(v) for v in find_field(state, "step_count")))
        log["tr_accepted"] = int(sum(int(v) for v in find_field(state, "accepted_count")))
        radius = find_field(state, "radius")
        log["tr_final_radius"] = float(radius[0]) if radius else None
        log["tr_left_initial_radius"] = left_initial_radius(
            spec.config, log["tr_steps"], log["tr_accepted"], log["tr_final_radius"])
        # The first evaluation (in backprops) at which the run had left its start.
        log["tr_left_at_backprops"] = next(
            (bp for bp, r, n, a in zip(log["backprops"], log["tr_radius"], log["tr_step_count"],
                                       log["tr_accepted_count"], strict=False)
             if r is not None and n > 0 and left_initial_radius(spec.config, n, a, r)), None)
    log["diverged"] = diverged
    log["compile_s"] = round(total["compile"], 3)
    log["final_train_loss"] = log["train_loss"][-1]
    log["final_test_metric"] = log["test_metric"][-1]
    log["min_train_loss"] = float(np.nanmin(log["train_loss"]))
    return log
