# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The demo's training loop: functional, one compiled epoch per method, Python once per epoch.

The model is split once into `(graphdef, params)`. For each method, one pure step function

    (params, opt_state), (x_batch, y_batch) -> (params, opt_state)

computes the mini-batch loss and gradient, calls `tx.update` with the extra arguments the method
needs (`value=`, `value_fn=`), and applies the update. An epoch is a `lax.scan` of that step
over the epoch's batches followed by the full training loss; it is compiled ahead of time (the
compile time is reported on its own), so the recorded wall times exclude compilation.

Batches: every epoch draws a fresh permutation of the training set from the run's seed and cuts
it into `ceil(n / batch_size)` batches of the same size, wrapping around to the start of the
permutation for the last one (fixed shapes: nothing recompiles, and every example is seen).

Backpropagation accounting (Kohler et al.): one gradient or one Hessian-vector product counts as
one backprop. First-order methods make `gradients_per_step` gradients and no HVPs per step; the
trust-region methods count both in their state.

References:
  Kohler, Adolphs & Lucchi, Adaptive norms for deep learning with regularized Newton methods,
  arXiv:1905.09201, 2019 (backpropagation accounting; trust-region batches of 512).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from complexity_optax._src.common.convolutions import on_cpu_backend
from complexity_optax.demo import methods as methods_lib
from complexity_optax.demo import model as model_lib
from complexity_optax.demo.data import DigitsData


@dataclasses.dataclass
class RunResult:
    """The record of one (method, seed) run. Lists have one entry per epoch, epoch 0 first.

    `wall_time` is cumulative training time without compilation; `compile_time` is the time
    spent compiling this run's epoch function (0 when it was reused from an earlier seed).
    """

    method: str
    seed: int
    train_loss: list[float]
    gradients: list[int]
    hvps: list[int]
    wall_time: list[float]
    compile_time: float
    test_accuracy: float
    test_loss: float

    @property
    def backprops(self) -> list[int]:
        return [g + h for g, h in zip(self.gradients, self.hvps, strict=False)]


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> np.ndarray:
    """`[steps, batch_size]` example indices of one epoch: a permutation, cut and wrapped.

    Examples:
      >>> idx = epoch_batches(5, 2, seed=0, epoch=0)
      >>> idx.shape, sorted(set(idx.ravel().tolist()))
      ((3, 2), [0, 1, 2, 3, 4])
    """
    rng = np.random.default_rng([seed, epoch])
    steps = math.ceil(n / batch_size)
    return np.resize(rng.permutation(n), steps * batch_size).reshape(steps, batch_size).astype(
        np.int32
    )


def make_epoch_fn(
    loss_fn: Callable[..., jax.Array], tx: Any, method: methods_lib.Method
) -> Callable[..., tuple[Any, Any, jax.Array]]:
    """Returns the pure `epoch(params, opt_state, x, y, idx) -> (params, opt_state, loss)`."""
    value_and_grad = on_cpu_backend(jax.value_and_grad(loss_fn))  # a `lax.scan` body

    def step(carry, batch):
        params, opt_state = carry
        xb, yb = batch
        value, grads = value_and_grad(params, xb, yb)
        extra = {}
        if method.pass_value:
            extra["value"] = value
        if method.pass_value_fn:
            extra["value_fn"] = lambda p: loss_fn(p, xb, yb)
        updates, opt_state = tx.update(grads, opt_state, params, **extra)
        return (optax.apply_updates(params, updates), opt_state), value

    def epoch(params, opt_state, x, y, idx):
        (params, opt_state), _ = jax.lax.scan(step, (params, opt_state), (x[idx], y[idx]))
        return params, opt_state, loss_fn(params, x, y)

    return epoch


class Trainer:
    """Runs the methods on one data set; compiled functions are shared across seeds.

    Args:
      data: the digits split.
      epochs: number of epochs per run.
      on_epoch: called after every epoch with `(method_name, seed, epoch, train_loss)`.
    """

    def __init__(
        self,
        data: DigitsData,
        epochs: int,
        on_epoch: Callable[[str, int, int, float], None] | None = None,
    ):
        self.data = data
        self.epochs = epochs
        self.on_epoch = on_epoch or (lambda *a: None)
        self.graphdef, params0 = model_lib.init_model(0)
        self.init_norm = float(optax.tree.norm(params0))
        self.loss_fn = model_lib.make_loss_fn(self.graphdef)
        accuracy_fn = model_lib.make_accuracy_fn(self.graphdef)
        self.evaluate = jax.jit(lambda p, x, y: (self.loss_fn(p, x, y), accuracy_fn(p, x, y)))
        self.x_train = jnp.asarray(data.x_train)
        self.y_train = jnp.asarray(data.y_train)
        self.x_test = jnp.asarray(data.x_test)
        self.y_test = jnp.asarray(data.y_test)
        self._compiled: dict[str, tuple[Any, Any, float]] = {}

    def _context(self, method: methods_lib.Method, seed: int) -> methods_lib.BuildContext:
        steps = math.ceil(self.data.x_train.shape[0] / method.batch_size)
        return methods_lib.BuildContext(
            key=jax.random.fold_in(jax.random.key(seed), 0x5EED),
            steps_per_epoch=steps,
            total_steps=steps * self.epochs,
            init_norm=self.init_norm,
        )

    def _compile(self, method: methods_lib.Method, seed: int, params: Any):
        """Builds and compiles the method's epoch (once, or once per seed if it is seeded)."""
        cache_key = f"{method.name}/{seed}" if method.seeded else method.name
        if cache_key not in self._compiled:
            tx = optax.with_extra_args_support(method.build(self._context(method, seed)))
            epoch = make_epoch_fn(self.loss_fn, tx, method)
            opt_state = tx.init(params)
            idx = epoch_batches(self.data.x_train.shape[0], method.batch_size, seed, 0)
            start = time.perf_counter()
            compiled = (
                jax.jit(epoch).lower(params, opt_state, self.x_train, self.y_train, idx).compile()
            )
            self._compiled[cache_key] = (tx, compiled, time.perf_counter() - start)
            return self._compiled[cache_key]
        tx, compiled, _ = self._compiled[cache_key]
        return tx, compiled, 0.0

    def run(self, method: methods_lib.Method, seed: int) -> RunResult:
        """Trains the MLP from `seed` with `method` and records every epoch."""
        _, params = model_lib.init_model(seed)
        tx, compiled, compile_time = self._compile(method, seed, params)
        opt_state = tx.init(params)
        n = self.data.x_train.shape[0]
        steps = math.ceil(n / method.batch_size)
        loss0, _ = self.evaluate(params, self.x_train, self.y_train)
        losses, grads, hvps, walls = [float(loss0)], [0], [0], [0.0]
        elapsed = 0.0
        for epoch in range(1, self.epochs + 1):
            idx = epoch_batches(n, method.batch_size, seed, epoch - 1)
            start = time.perf_counter()
            params, opt_state, loss = compiled(params, opt_state, self.x_train, self.y_train, idx)
            loss = float(loss)  # waits for the epoch to finish
            elapsed += time.perf_counter() - start
            if method.counts_in_state:
                counts = methods_lib.state_counters(opt_state)
                if counts is None:
                    raise RuntimeError(f"{method.name}: no gradient/HVP counters in its state")
            else:
                counts = (epoch * steps * method.gradients_per_step, 0)
            losses.append(loss)
            grads.append(counts[0])
            hvps.append(counts[1])
            walls.append(elapsed)
            self.on_epoch(method.name, seed, epoch, loss)
        test_loss, test_acc = self.evaluate(params, self.x_test, self.y_test)
        return RunResult(
            method=method.name,
            seed=seed,
            train_loss=losses,
            gradients=grads,
            hvps=hvps,
            wall_time=walls,
            compile_time=compile_time,
            test_accuracy=float(test_acc),
            test_loss=float(test_loss),
        )
