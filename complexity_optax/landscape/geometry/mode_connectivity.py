# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Mode connectivity: a trained curve between two minima and the loss barrier along it.

Garipov et al. (2018) connect two independently trained minima $w_1$, $w_2$ by a curve
$\phi_\theta(t)$, $t \in [0, 1]$, with $\phi_\theta(0) = w_1$, $\phi_\theta(1) = w_2$ and a free
control point $\theta$ (a pytree like the parameters), trained to minimise the loss averaged
along the curve,

$$
\ell(\theta) = \int_0^1 L(\phi_\theta(t))\,dt
 \approx \frac1m \sum_{i=1}^m L\big(\phi_\theta(t_i)\big),
 \qquad t_i = \frac{i - 1 + u_i}{m},\; u_i \sim U(0, 1)
$$

(a stratified draw of $m$ points per step, fresh at every step). The curves:

* quadratic Bezier: $\phi_\theta(t) = (1-t)^2 w_1 + 2t(1-t)\,\theta + t^2 w_2$;
* polygonal chain with one bend: $\phi_\theta(t) = w_1 + 2t(\theta - w_1)$ for
  $t \le \tfrac12$, $\theta + (2t - 1)(w_2 - \theta)$ above.

$\theta$ starts at the midpoint $(w_1 + w_2)/2$, where both curves are the straight line. The
training is one jitted `lax.scan` of an optax optimizer. Compare the barrier (`loss_barrier`)
of `curve_losses` with that of `linear_path_losses` on the same `ts`.

References:
  Garipov, Izmailov, Podoprikhin, Vetrov and Wilson, *Loss surfaces, mode connectivity, and
  fast ensembling of DNNs*, NeurIPS 2018 (arXiv:1802.10026); Draxler, Veschgini, Salmhofer and
  Hamprecht, *Essentially no barriers in neural network energy landscape*, ICML 2018.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks, functions
from complexity_optax._src.common import tree as tree_lib
from complexity_optax._src.common.convolutions import on_cpu_backend
from complexity_optax._src.common.types import PyTree
from complexity_optax.landscape.geometry import interpolation

__all__ = ["CURVES", "CurveFit", "curve_losses", "curve_point", "fit_connecting_curve"]

CURVES = ("bezier", "polychain")


class CurveFit(NamedTuple):
    """The result of `fit_connecting_curve`.

    Attributes:
      control: the trained control point $\\theta$ (a pytree like the parameters).
      train_losses: shape `(num_steps,)`, the sampled curve loss $\\ell$ at each step (before
        that step's update).
    """

    control: PyTree
    train_losses: jax.Array


def _check_kind(kind: str) -> None:
    checks.check_choice("kind", kind, CURVES)


def curve_point(start: PyTree, control: PyTree, end: PyTree, t: Any, *,
                kind: str = "bezier") -> PyTree:
    r"""The point $\phi_\theta(t)$ of a quadratic Bezier curve or a one-bend polygonal chain.

    Bezier: $(1-t)^2 w_1 + 2t(1-t)\theta + t^2 w_2$; polygonal chain: the segments
    $w_1 \to \theta \to w_2$, each traversed in half the time. Both give $w_1$ at $t = 0$ and
    $w_2$ at $t = 1$ exactly.

    Args:
      start: $w_1$.
      control: $\theta$.
      end: $w_2$ (all three with the same structure).
      t: scalar in $[0, 1]$ (may be traced).
      kind: `"bezier"` or `"polychain"`.

    Returns:
      A pytree like `start`.

    Examples:
      >>> import jax.numpy as jnp
      >>> a, c, b = jnp.zeros(1), jnp.ones(1), jnp.zeros(1)
      >>> float(curve_point(a, c, b, 0.5)[0]), float(curve_point(a, c, b, 0.5, kind="polychain")[0])
      (0.5, 1.0)

    References:
      Garipov et al., NeurIPS 2018, §3.1.
    """
    _check_kind(kind)
    if kind == "bezier":
        def one(a, c, b):
            s = 1 - t
            return (s * s * a + 2 * t * s * c + t * t * b).astype(jnp.result_type(a))

        return jax.tree.map(one, start, control, end)
    first = interpolation.interpolate_params(start, control, 2 * t)
    second = interpolation.interpolate_params(control, end, 2 * t - 1)
    return jax.tree.map(lambda x, y: jnp.where(t <= 0.5, x, y), first, second)


# `loss_fn` (and `_fit`'s `optimizer`) is a pytree (`functions.as_pytree`): its code is static,
# its arrays are traced.
@functools.partial(jax.jit, static_argnames=("kind",))
def _curve_losses(loss_fn, start, control, end, ts, args, *, kind):
    loss = on_cpu_backend(loss_fn)  # a `lax.map` body: convolutions in XLA CPU's fast layout
    return jax.lax.map(lambda t: loss(curve_point(start, control, end, t, kind=kind), *args), ts)


def curve_losses(loss_fn: Callable[..., jax.Array], start: PyTree, control: PyTree,
                 end: PyTree, ts: Any, *args: Any, kind: str = "bezier") -> jax.Array:
    r"""The loss along a curve: $L(\phi_\theta(t))$ for every $t$ in `ts` (one jitted `lax.map`).

    Args:
      loss_fn: `loss_fn(params, *args) -> scalar`. Passed to the jitted program as a pytree
        (`common.functions.as_pytree`): a new closure of the same code over arrays of the same
        shapes reuses the compiled program.
      start: $w_1$.
      control: $\theta$ (e.g. `fit_connecting_curve(...).control`).
      end: $w_2$.
      ts: 1-d array of curve coordinates in $[0, 1]$.
      *args: passed to `loss_fn`.
      kind: `"bezier"` or `"polychain"`.

    Returns:
      The losses, shape `ts.shape`.

    Examples:
      >>> import jax.numpy as jnp
      >>> def loss(p):
      ...     return jnp.sum(p ** 2)
      >>> curve_losses(loss, jnp.zeros(1), jnp.ones(1), jnp.zeros(1),
      ...              jnp.array([0.0, 0.5])).tolist()
      [0.0, 0.25]

    References:
      Garipov et al., NeurIPS 2018.
    """
    _check_kind(kind)
    interpolation._check_same_structure(start, end)
    interpolation._check_same_structure(start, control)
    ts = jnp.asarray(ts)
    if ts.ndim != 1 or ts.shape[0] < 1:
        raise ValueError(f"ts must be a non-empty 1-d array, got shape {ts.shape}")
    if not jnp.issubdtype(ts.dtype, jnp.floating):
        ts = ts.astype(jnp.float32)
    return _curve_losses(functions.as_pytree(loss_fn), start, control, end, ts, tuple(args),
                         kind=kind)


@functools.partial(jax.jit, static_argnames=("num_steps", "num_points", "kind"))
def _fit(loss_fn, optimizer, start, end, control, key, args, *, num_steps, num_points, kind):
    def curve_loss(theta, ts):
        values = jax.vmap(lambda t: loss_fn(curve_point(start, theta, end, t, kind=kind),
                                            *args))(ts)
        return jnp.mean(values)

    def step(carry, step_key):
        theta, state = carry
        ts = (jnp.arange(num_points) + jax.random.uniform(step_key, (num_points,))) / num_points
        # The gradient through a convolutional `loss_fn` inside the scan's loop body: in the
        # layout XLA's CPU backend runs fast (`common.convolutions`).
        value, grad = on_cpu_backend(jax.value_and_grad(curve_loss))(theta, ts)
        updates, new_state = optimizer.update(grad, state, theta)
        finite = jnp.isfinite(value) & tree_lib.all_finite((updates, new_state))
        keep = functools.partial(jax.tree.map, lambda new, old: jnp.where(finite, new, old))
        theta = keep(jax.tree.map(lambda p, u: p + u, theta, updates), theta)
        return (theta, keep(new_state, state)), value

    (control, _), losses = jax.lax.scan(step, (control, optimizer.init(control)),
                                        jax.random.split(key, num_steps))
    return control, losses


def fit_connecting_curve(loss_fn: Callable[..., jax.Array], start: PyTree, end: PyTree,
                         key: jax.Array, *args: Any, kind: str = "bezier",
                         optimizer: optax.GradientTransformation | None = None,
                         num_steps: int = 500, num_points: int = 4,
                         init_control: PyTree | None = None) -> CurveFit:
    r"""Trains the control point of a curve from `start` to `end` to minimise the loss along it.

    Minimises $\frac1m\sum_i L(\phi_\theta(t_i))$ with fresh stratified $t_i$ at each step
    (module docstring), starting from the midpoint (the straight line) unless `init_control` is
    given. A step whose loss, update or optimizer state is not finite is skipped (control point
    and optimizer state are kept as they were).

    Args:
      loss_fn: `loss_fn(params, *args) -> scalar` (full-batch `args`). Passed to the jitted
        program as a pytree (`common.functions.as_pytree`): a new closure of the same code over
        arrays of the same shapes reuses the compiled program.
      start: the first minimum $w_1$.
      end: the second minimum $w_2$ (same structure and shapes).
      key: a `jax.random` key for the $t_i$.
      *args: passed to `loss_fn`.
      kind: `"bezier"` (default) or `"polychain"`.
      optimizer: an optax transformation (default `optax.adam(1e-2)`), passed as a pytree
        too: a new object of the same code and hyper-parameters (`optax.adam(1e-2)` written
        again) reuses the compiled program, and the arrays its functions close over are traced.
      num_steps: optimisation steps, >= 1.
      num_points: points $m$ on the curve per step, >= 1.
      init_control: the initial $\theta$ (default $(w_1 + w_2)/2$).

    Returns:
      A `CurveFit(control, train_losses)`.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> def loss(p):  # a ring of minima |p| = 1; the straight line crosses the bump at 0
      ...     return (jnp.sum(p ** 2) - 1.0) ** 2
      >>> a, b = jnp.array([-1.0, 0.0]), jnp.array([1.0, 0.0])
      >>> fit = fit_connecting_curve(loss, a, b, jax.random.key(0),
      ...                            init_control=jnp.array([0.0, 0.5]),
      ...                            optimizer=optax.adam(0.05), num_steps=300)
      >>> ts = jnp.linspace(0.0, 1.0, 21)
      >>> line = float(jnp.max(interpolation.linear_path_losses(loss, a, b, ts)))
      >>> curve = float(jnp.max(curve_losses(loss, a, fit.control, b, ts)))
      >>> line, curve < 0.2
      (1.0, True)

    References:
      Garipov et al., *Loss surfaces, mode connectivity, and fast ensembling of DNNs*, NeurIPS
      2018, §3.
    """
    _check_kind(kind)
    checks.check_int("num_steps", num_steps, minimum=1)
    checks.check_int("num_points", num_points, minimum=1)
    interpolation._check_same_structure(start, end)
    if optimizer is None:
        optimizer = _default_optimizer()
    if init_control is None:
        init_control = interpolation.interpolate_params(start, end, 0.5)
    else:
        interpolation._check_same_structure(start, init_control)
    control, losses = _fit(functions.as_pytree(loss_fn), functions.as_pytree(optimizer), start,
                           end, init_control, key, tuple(args), num_steps=num_steps,
                           num_points=num_points, kind=kind)
    return CurveFit(control, losses)


@functools.lru_cache(maxsize=1)
def _default_optimizer() -> optax.GradientTransformation:
    """One `optax.adam(1e-2)` object, so that default calls reuse their compiled program."""
    return optax.adam(1e-2)
