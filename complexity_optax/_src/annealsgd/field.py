# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""AnnealSGD's external field: a fixed Gaussian direction h added to the gradient, annealed to 0.

The loss is tilted by a linear term, f(θ) + γ(t)·⟨h, θ⟩, with h drawn once and kept fixed, and the
strength γ(t) annealed from γ(0) to 0: training starts in the relaxed (polynomial/trivial) regime
of the spherical spin glass in a field and ends on the original landscape. The gradient becomes
g + γ(t)·h. The resampled variant draws a fresh h at every step (annealed gradient noise).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common import tree as tree_lib
from complexity_optax._src.common.draws import draw_like

_SCHEDULES = ("linear", "exponential", "inverse")


class AnnealedFieldState(NamedTuple):
    """State of :func:`add_annealed_field`.

    Attributes:
      count: number of updates done so far (int32); γ is evaluated at ``count``.
      field: the field h, a pytree like the params (in their dtypes). In resample mode, the draw
        used by the last update (the initial draw before any update).
      key: the random key; split at every update in resample mode, unused otherwise.
    """

    count: jax.Array
    field: optax.Updates
    key: jax.Array


def _named_schedule(name: str, init_scale: Any, timescale: Any) -> Callable[[jax.Array], jax.Array]:
    """γ(t) in float32 for the named schedules."""

    def schedule(count: jax.Array) -> jax.Array:
        t = jnp.asarray(count, jnp.float32)
        g0 = jnp.asarray(init_scale, jnp.float32)
        tau = jnp.asarray(timescale, jnp.float32)
        if name == "linear":
            return g0 * jnp.maximum(0.0, 1.0 - t / tau)
        if name == "exponential":
            return g0 * jnp.exp(-t / tau)
        return g0 / (1.0 + t / tau)

    return schedule


def annealed_field_schedule(
    init_scale: float, timescale: float, schedule: str = "linear"
) -> Callable[[jax.Array], jax.Array]:
    r"""The field strength γ(t) of :func:`add_annealed_field`, as an optax schedule.

    .. math::
        \gamma_{\rm linear}(t) = \gamma_0 \max(0, 1 - t/\tau), \quad
        \gamma_{\rm exponential}(t) = \gamma_0 e^{-t/\tau}, \quad
        \gamma_{\rm inverse}(t) = \frac{\gamma_0}{1 + t/\tau},

    evaluated in float32.

    Args:
      init_scale: :math:`\gamma_0 \ge 0`.
      timescale: :math:`\tau > 0`, in steps.
      schedule: ``"linear"``, ``"exponential"`` or ``"inverse"``.

    Returns:
      A callable ``count -> γ(count)``.

    Examples:
      >>> from complexity_optax._src.annealsgd.field import annealed_field_schedule
      >>> print(float(annealed_field_schedule(2.0, 10.0, "linear")(5)))
      1.0

    References:
      Chaudhari & Soatto, `On the energy landscape of deep networks
      <https://arxiv.org/abs/1511.06485>`_, 2017.
    """
    checks.check_positive("init_scale", init_scale, allow_zero=True)
    checks.check_positive("timescale", timescale)
    checks.check_choice("schedule", schedule, _SCHEDULES)
    return _named_schedule(schedule, init_scale, timescale)


def _add_scaled(g: jax.Array, gamma: jax.Array, h: jax.Array) -> jax.Array:
    """g + γ·h computed in at least float32, returned in g's dtype."""
    dtype = jnp.promote_types(jnp.result_type(g), jnp.float32)
    out = g.astype(dtype) + gamma.astype(dtype) * h.astype(dtype)
    return out.astype(jnp.result_type(g))


_is_traced = checks.is_traced


def _as_key(key: Any) -> jax.Array:
    if isinstance(key, bool):
        raise TypeError(f"key must be a jax.random key or an int seed, got {key!r}")
    if isinstance(key, int):
        return jax.random.key(key)
    if not isinstance(key, (jax.Array, np.ndarray)):
        raise TypeError(f"key must be a jax.random key or an int seed, got {type(key).__name__}")
    return key


def add_annealed_field(
    key: Any,
    init_scale: float | None = None,
    timescale: float | None = None,
    *,
    schedule: str | optax.Schedule = "linear",
    resample: bool = False,
) -> optax.GradientTransformationExtraArgs:
    r"""Adds an annealed external field to the updates (AnnealSGD). Put it before the LR scaling.

    .. math::
        g_t \leftarrow g_t + \gamma(t)\, h, \qquad h \sim \mathcal N(0, I_N)
        \ (\text{so } \lVert h\rVert \approx \sqrt N),

    the gradient of the tilted loss :math:`f(\theta) + \gamma(t)\langle h, \theta\rangle`. The field
    :math:`h` is drawn once at ``init`` from ``key`` (``optax.tree.random_like``, one N(0, 1) entry
    per scalar, in the params' dtype) and kept in the state with the step count :math:`t`
    (starting at 0). The strength :math:`\gamma` (float32) is annealed by ``schedule``:

    * ``"linear"`` (default): :math:`\gamma_0 \max(0, 1 - t/\tau)`, exactly 0 from :math:`t = \tau`;
    * ``"exponential"``: :math:`\gamma_0 e^{-t/\tau}`;
    * ``"inverse"``: :math:`\gamma_0/(1 + t/\tau)`;
    * a callable: any optax schedule ``t -> γ(t)``; then ``init_scale`` and ``timescale`` must be
      left ``None`` (they would be ignored).

    With ``resample=True`` a fresh :math:`h` is drawn at every step from the key kept in the state
    (split at each step): the resampled annealed-noise baseline. Non-finite γ is treated as 0.

    Args:
      key: a ``jax.random`` key (or an int seed) for the field.
      init_scale: :math:`\gamma_0 = \gamma(0) \ge 0` for the named schedules.
      timescale: :math:`\tau > 0` (in steps) for the named schedules.
      schedule: ``"linear"``, ``"exponential"``, ``"inverse"`` or an optax schedule.
      resample: draw a new field at every step instead of keeping it fixed.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` with state :class:`AnnealedFieldState`.

    Raises:
      ValueError: ``init_scale`` < 0 or missing, ``timescale`` <= 0 or missing, unknown
        ``schedule``, or ``init_scale``/``timescale`` given with a callable schedule.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> from complexity_optax import add_annealed_field
      >>> tx = optax.chain(add_annealed_field(jax.random.key(0), 1.0, 100.0), optax.sgd(0.1))
      >>> params = jnp.zeros(3)
      >>> state = tx.init(params)
      >>> updates, state = tx.update(jnp.zeros(3), state, params)  # -0.1 * 1.0 * h
      >>> print(jnp.allclose(updates, -0.1 * state[0].field))
      True

    References:
      Chaudhari & Soatto, `On the energy landscape of deep networks
      <https://arxiv.org/abs/1511.06485>`_, 2017 (AnnealSGD); Neelakantan et al., `Adding gradient
      noise improves learning for very deep networks <https://arxiv.org/abs/1511.06807>`_, 2015
      (resampled noise).
    """
    key = _as_key(key)
    if callable(schedule):
        for name, value in (("init_scale", init_scale), ("timescale", timescale)):
            if value is not None:
                raise ValueError(f"{name} must be None when schedule is a callable, got {value!r}")
        gamma_fn = schedule
    else:
        checks.check_choice("schedule", schedule, _SCHEDULES)
        if init_scale is None:
            raise ValueError("init_scale must be given (>= 0) for a named schedule")
        if timescale is None:
            raise ValueError("timescale must be given (> 0) for a named schedule")
        if not _is_traced(init_scale):  # inject_hyperparams passes traced values at update.
            checks.check_positive("init_scale", init_scale, allow_zero=True)
        if not _is_traced(timescale):
            checks.check_positive("timescale", timescale)
        gamma_fn = _named_schedule(schedule, init_scale, timescale)
    if not isinstance(resample, bool):
        raise TypeError(f"resample must be a bool, got {resample!r}")

    def init_fn(params):
        return AnnealedFieldState(
            count=jnp.zeros([], jnp.int32),
            field=draw_like(key, params),
            key=key,
        )

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        if resample:
            new_key, draw_key = jax.random.split(state.key)
            field = optax.tree.cast_like(draw_like(draw_key, updates), state.field)
        else:
            new_key, field = state.key, state.field
        gamma = jnp.asarray(gamma_fn(state.count), jnp.float32)
        gamma = jnp.where(jnp.isfinite(gamma), gamma, 0.0)
        new_updates = jax.tree.map(lambda g, h: _add_scaled(g, gamma, h), updates, field)
        count = optax.safe_increment(state.count)
        return new_updates, AnnealedFieldState(count=count, field=field, key=new_key)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def _find_field_state(state: Any) -> AnnealedFieldState:
    if isinstance(state, AnnealedFieldState):
        return state
    found = optax.tree.get_all_with_path(state, AnnealedFieldState.__name__)
    found = [s for _, s in found if isinstance(s, AnnealedFieldState)]
    if not found:
        raise ValueError("state: no AnnealedFieldState found (is add_annealed_field in the chain?)")
    if len(found) > 1:
        raise ValueError(
            f"state: {len(found)} AnnealedFieldStates found; pass the one you mean directly"
        )
    return found[0]


def field_alignment(params: Any, state: Any) -> jax.Array:
    r"""Alignment of the weights with the AnnealSGD field: :math:`|h^\top\theta| / (\lVert h\rVert\,
    \lVert\theta\rVert)`.

    The cosine between the field and the weights, in :math:`[0, 1]` (0 if either norm is 0),
    computed in at least float32. Seed 001 (Fig. 4) tracks this overlap during training.

    Args:
      params: the parameters :math:`\theta`: a pytree whose leaves match the field's leaves in
        order and shape (e.g. the params, or ``nnx.state(model, nnx.Param)`` with the
        ``opt_state`` of an ``nnx.Optimizer``).
      state: the :class:`AnnealedFieldState`, or any optax state tree that contains exactly one
        (it is found with ``optax.tree.get_all_with_path`` by the class name, so it may sit at any
        depth of ``chain``/``inject_hyperparams``/``MultiSteps`` states).

    Returns:
      A float scalar.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> from complexity_optax import add_annealed_field, field_alignment
      >>> tx = optax.chain(add_annealed_field(jax.random.key(0), 1.0, 10.0), optax.sgd(0.1))
      >>> state = tx.init(jnp.zeros(4))
      >>> h = state[0].field
      >>> print(round(float(field_alignment(-3.0 * h, state)), 5))
      1.0

    References:
      Chaudhari & Soatto, `On the energy landscape of deep networks
      <https://arxiv.org/abs/1511.06485>`_, 2017.
    """
    h_leaves = [_upcast(x) for x in jax.tree.leaves(_find_field_state(state).field)]
    t_leaves = [_upcast(x) for x in jax.tree.leaves(params)]
    if [x.shape for x in h_leaves] != [x.shape for x in t_leaves]:
        raise ValueError("params: leaves do not match the field's leaves (shapes or count differ)")
    # Leaf lists, not tree_map: the field and params may be wrapped differently (nnx Variables).
    dot = jnp.abs(optax.tree.vdot(h_leaves, t_leaves))
    denom = optax.tree.norm(h_leaves) * optax.tree.norm(t_leaves)
    safe = denom > 0
    return jnp.where(safe, dot / jnp.where(safe, denom, 1.0), 0.0)


def _upcast(x: Any) -> jax.Array:
    return tree_lib.upcast(jnp.asarray(x))
