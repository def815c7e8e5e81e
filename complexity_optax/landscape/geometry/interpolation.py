# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Linear interpolation between two parameter pytrees and the loss barrier along a path.

$\theta(t) = (1 - t)\,\theta_A + t\,\theta_B$, written so that $t = 0$ and $t = 1$ give
$\theta_A$ and $\theta_B$ bit for bit (so the loss at both ends is reproduced exactly).

References:
  Goodfellow, Vinyals and Saxe, *Qualitatively characterizing neural network optimization
  problems*, ICLR 2015; Frankle, Dziugaite, Roy and Carbin, *Linear mode connectivity and the
  lottery ticket hypothesis*, ICML 2020; Garipov et al., *Loss surfaces, mode connectivity, and
  fast ensembling of DNNs*, NeurIPS 2018.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from complexity_optax._src.common import functions
from complexity_optax._src.common.convolutions import on_cpu_backend
from complexity_optax._src.common.types import PyTree

__all__ = ["interpolate_params", "linear_path_losses", "loss_barrier"]


def _check_same_structure(a: PyTree, b: PyTree) -> None:
    sa, sb = jax.tree.structure(a), jax.tree.structure(b)
    if sa != sb:
        raise ValueError(f"params_b must have the structure of params_a, got {sb} and {sa}")
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=False):
        if jnp.shape(x) != jnp.shape(y):
            raise ValueError(
                f"params_b must have the leaf shapes of params_a, got {jnp.shape(y)} and "
                f"{jnp.shape(x)}")


def interpolate_params(params_a: PyTree, params_b: PyTree, t: Any) -> PyTree:
    r"""The point $(1 - t)\,\theta_A + t\,\theta_B$ of the segment (any pytrees, leaf by leaf).

    Exact at the ends: $t = 0$ gives `params_a`, $t = 1$ gives `params_b` (for finite
    parameters). $t$ outside $[0, 1]$ extrapolates.

    Args:
      params_a: $\theta_A$.
      params_b: $\theta_B$, same structure and shapes.
      t: a scalar (may be traced).

    Returns:
      A pytree like `params_a` (each leaf in its own dtype).

    Examples:
      >>> import jax.numpy as jnp
      >>> interpolate_params({"w": jnp.zeros(2)}, {"w": jnp.array([2.0, 4.0])}, 0.25)["w"].tolist()
      [0.5, 1.0]
    """
    _check_same_structure(params_a, params_b)
    return jax.tree.map(
        lambda a, b: ((1 - t) * a + t * b).astype(jnp.result_type(a)), params_a, params_b)


@jax.jit
def _path_losses(loss_fn, params_a, params_b, ts, args):
    # `loss_fn` is a pytree (`functions.as_pytree`): its code is static, its arrays are traced.
    loss = on_cpu_backend(loss_fn)  # a `lax.map` body: convolutions in XLA CPU's fast layout
    return jax.lax.map(lambda t: loss(interpolate_params(params_a, params_b, t), *args), ts)


def linear_path_losses(loss_fn: Callable[..., jax.Array], params_a: PyTree, params_b: PyTree,
                       ts: Any, *args: Any) -> jax.Array:
    r"""The loss along the segment: $L((1 - t)\theta_A + t\theta_B)$ for every $t$ in `ts`.

    One jitted `lax.map` over `ts`. At $t = 0$ and $t = 1$ the values equal
    `loss_fn(params_a, *args)` and `loss_fn(params_b, *args)`.

    Args:
      loss_fn: `loss_fn(params, *args) -> scalar`. Passed to the jitted program as a pytree
        (`common.functions.as_pytree`): a new closure of the same code over arrays of the same
        shapes reuses the compiled program.
      params_a: $\theta_A$.
      params_b: $\theta_B$.
      ts: 1-d array of path coordinates.
      *args: passed to `loss_fn`.

    Returns:
      The losses, shape `ts.shape`.

    Examples:
      >>> import jax.numpy as jnp
      >>> def loss(p):
      ...     return jnp.sum((p ** 2 - 1.0) ** 2)  # minima at ±1
      >>> linear_path_losses(loss, jnp.array([-1.0]), jnp.array([1.0]),
      ...                    jnp.array([0.0, 0.5, 1.0])).tolist()
      [0.0, 1.0, 0.0]

    References:
      Goodfellow, Vinyals and Saxe, ICLR 2015.
    """
    _check_same_structure(params_a, params_b)
    ts = jnp.asarray(ts)
    if ts.ndim != 1 or ts.shape[0] < 1:
        raise ValueError(f"ts must be a non-empty 1-d array, got shape {ts.shape}")
    if not jnp.issubdtype(ts.dtype, jnp.floating):
        ts = ts.astype(jnp.float32)
    return _path_losses(functions.as_pytree(loss_fn), params_a, params_b, ts, tuple(args))


def loss_barrier(ts: Any, losses: Any) -> jax.Array:
    r"""The loss barrier of a path: its largest rise above the chord between its two ends.

    $$
    B = \max_t \big[L(t) - \big((1 - t)\,L(0) + t\,L(1)\big)\big],
    $$

    with $t$ rescaled to $[0, 1]$ from the first and last entries of `ts` (Frankle et al. 2020;
    0 for a path that never rises above the chord, e.g. a convex one). Use the same `ts` for the
    straight line and a curve to compare them.

    Args:
      ts: 1-d increasing path coordinates (at least two).
      losses: the losses at `ts`.

    Returns:
      $B \ge 0$ (NaN if a loss is NaN).

    Examples:
      >>> import jax.numpy as jnp
      >>> float(loss_barrier(jnp.array([0.0, 0.5, 1.0]), jnp.array([1.0, 3.0, 2.0])))
      1.5

    References:
      Frankle, Dziugaite, Roy and Carbin, ICML 2020 (error barrier); Garipov et al., NeurIPS 2018.
    """
    ts, losses = jnp.asarray(ts), jnp.asarray(losses)
    if ts.ndim != 1 or ts.shape != losses.shape or ts.shape[0] < 2:
        raise ValueError(
            f"losses must have the shape of ts, a 1-d array of at least 2 points, got "
            f"{losses.shape} and {ts.shape}")
    u = (ts - ts[0]) / (ts[-1] - ts[0])
    chord = (1 - u) * losses[0] + u * losses[-1]
    return jnp.maximum(jnp.max(losses - chord), 0.0)

