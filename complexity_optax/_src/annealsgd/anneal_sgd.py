# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""AnnealSGD (Chaudhari & Soatto 2015) as one optax chain: annealed field, SGD, optional sphere."""

from __future__ import annotations

from typing import Any

import optax

from complexity_optax._src.annealsgd.field import add_annealed_field
from complexity_optax._src.common import checks
from complexity_optax._src.common import sgd
from complexity_optax._src.complexity_annealing.sphere import project_onto_sphere

__all__ = ["anneal_sgd"]


def anneal_sgd(
    learning_rate: optax.ScalarOrSchedule,
    key: Any,
    init_scale: float | None,
    timescale: float | None,
    *,
    schedule: str | optax.Schedule = "linear",
    sphere: bool = False,
    resample: bool = False,
    momentum: float | None = None,
    radius: float | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""AnnealSGD: SGD on the loss tilted by an annealed external field.

    .. math::
        \theta_{t+1} = \theta_t - \eta_t\,(\nabla L(\theta_t) + \gamma(t)\,h),
        \qquad h \sim \mathcal N(0, I_N) \text{ drawn once},

    i.e. ``optax.chain(add_annealed_field(key, init_scale, timescale, schedule=schedule,
    resample=resample), [optax.trace(momentum)], optax.scale_by_learning_rate(learning_rate),
    [project_onto_sphere(radius)])``. See :func:`add_annealed_field` for the schedules (with a
    callable ``schedule``, pass ``init_scale=None, timescale=None``) and the resampled baseline.

    Args:
      learning_rate: :math:`\eta > 0` or an optax schedule.
      key: a ``jax.random`` key (or int seed) for the field.
      init_scale: :math:`\gamma(0) \ge 0`.
      timescale: :math:`\tau > 0` in steps.
      schedule: ``"linear"`` (default), ``"exponential"``, ``"inverse"`` or an optax schedule.
      sphere: project onto the sphere after each step (the spin-glass setting).
      resample: draw a fresh field every step (annealed-noise baseline).
      momentum: heavy-ball momentum in [0, 1), or ``None``.
      radius: the sphere's radius (``None``: :math:`\sqrt N`); only with ``sphere=True``.

    Returns:
      An ``optax.GradientTransformationExtraArgs``.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> import complexity_optax as co
      >>> tx = co.anneal_sgd(0.1, jax.random.key(0), init_scale=1.0, timescale=100.0)
      >>> params = jnp.zeros(4)
      >>> state = tx.init(params)
      >>> updates, state = tx.update(2.0 * params - 1.0, state, params)
      >>> params = optax.apply_updates(params, updates)

    References:
      Chaudhari & Soatto, `On the energy landscape of deep networks
      <https://arxiv.org/abs/1511.06485>`_, 2017 (AnnealSGD).
    """
    checks.check_positive("learning_rate", learning_rate)
    if not isinstance(sphere, bool):
        raise TypeError(f"sphere must be a bool, got {sphere!r}")
    sgd.check_momentum(momentum)
    if radius is not None:
        checks.check_positive("radius", radius)
    field = add_annealed_field(key, init_scale, timescale, schedule=schedule, resample=resample)
    projection = [project_onto_sphere(radius)] if sphere else []
    return optax.chain(field, *sgd.sgd_scaling(learning_rate, momentum), *projection)
