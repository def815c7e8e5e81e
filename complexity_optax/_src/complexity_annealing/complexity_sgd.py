# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Complexity gradient descent (Richemond & Guo 2019, Algorithms 1-3) as one optax chain.

Each one is only an ``optax.chain`` of this package's pieces; the docstrings give the chain, so that
it can be rebuilt by hand and changed.
"""

from __future__ import annotations

from typing import Any

import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common import sgd
from complexity_optax._src.complexity_annealing.schedules import cosine_annealing
from complexity_optax._src.complexity_annealing.schedules import lr_matched_annealing
from complexity_optax._src.complexity_annealing.schedules import power_law_annealing
from complexity_optax._src.complexity_annealing.matched import matched_annealing
from complexity_optax._src.complexity_annealing.sphere import project_onto_sphere
from complexity_optax._src.complexity_annealing.two_step import two_step_annealing
from complexity_optax._src.complexity_annealing.weight_decay import complexity_weight_decay

ANNEALINGS = ("matched", "cosine", "power_law", "lr_matched", "two_step")
_STRENGTH_SCHEDULES = ("matched", "cosine", "power_law", "lr_matched")


def _strength_schedule(
    name: str,
    learning_rate: optax.ScalarOrSchedule,
    init_strength: float,
    period: float | None,
    exponent: float,
    memory: int,
    smoothing: str,
    warmup_steps: int,
    loss_floor: float,
) -> Any:
    """The λ schedule named ``name`` (a step-count schedule or a stateful one)."""
    if name == "matched":
        return matched_annealing(
            init_strength,
            memory=memory,
            smoothing=smoothing,
            warmup_steps=warmup_steps,
            loss_floor=loss_floor,
        )
    if name == "cosine":
        if period is None:
            raise ValueError("period must be given (> 0, in steps) for cosine annealing")
        return cosine_annealing(init_strength, period)
    if name == "power_law":
        return power_law_annealing(init_strength, exponent)
    return lr_matched_annealing(init_strength, learning_rate)


def complexity_sgd(
    learning_rate: optax.ScalarOrSchedule,
    init_strength: float,
    *,
    annealing: str = "matched",
    sphere: bool = True,
    period: float | None = None,
    exponent: float = 0.5,
    memory: int = 10,
    smoothing: str = "ema",
    warmup_steps: int = 0,
    loss_floor: float = 0.0,
    mask: Any = None,
    radius: float | None = None,
    momentum: float | None = None,
    two_step_schedule: str = "power_law",
) -> optax.GradientTransformationExtraArgs:
    r"""Complexity gradient descent: SGD on :math:`f_i(\theta) = L(\theta) + \lambda_i\lVert\theta
    \rVert^2` with an annealed :math:`\lambda_i`, projected back onto the N-sphere.

    .. math::
        \theta_{i+1} = \Pi_r\!\left(\theta_i - \eta_i\,(\nabla L(\theta_i) + 2\lambda_i\theta_i)
        \right), \qquad \Pi_r(x) = r\,x/\lVert x\rVert,\ r = \sqrt N \text{ by default}.

    The chain (Algorithms 1-2) is::

        optax.chain(complexity_weight_decay(schedule, mask=mask),
                    [optax.trace(momentum)], optax.scale_by_learning_rate(learning_rate),
                    [project_onto_sphere(radius, mask=mask)])

    with ``schedule`` chosen by ``annealing``:

    * ``"matched"`` (Algorithm 1): :math:`\lambda_i = \lambda_0 S_K((L_i - L^*)/(L_0 - L^*))`, see
      :func:`matched_annealing` (``memory``, ``smoothing``, ``warmup_steps``, ``loss_floor``).
      **Needs the loss**: call ``update(grads, state, params, value=loss)``.
    * ``"cosine"`` (Algorithm 2): :math:`\lambda_0(1 + \cos(2\pi i/T))`, ``period`` = T required.
    * ``"power_law"``: :math:`\lambda_0 (1 + i)^{-\text{exponent}}`.
    * ``"lr_matched"``: :math:`\lambda_0\,\eta_i/\eta_0`.
    * ``"two_step"`` (Algorithm 3): ``optax.chain(two_step_annealing(learning_rate, schedule,
      mask=mask), [project_onto_sphere(radius, mask=mask)])``, where ``schedule`` is the one named
      by ``two_step_schedule`` (default ``"power_law"``; ``"matched"`` then needs ``value=``). Pass
      ``value_fn=``/``grad_fn=`` to ``update`` for the exact M step. No ``momentum``.

    ``mask`` selects the leaves that are penalised *and* projected (e.g. leave out biases); the
    others take plain SGD steps. Initialise the parameters with :func:`sphere_init`.

    Args:
      learning_rate: :math:`\eta > 0` or an optax schedule.
      init_strength: :math:`\lambda_0 \ge 0` (strength of :math:`\lambda\lVert\theta\rVert^2`;
        the optax weight decay is :math:`2\lambda`).
      annealing: ``"matched"``, ``"cosine"``, ``"power_law"``, ``"lr_matched"`` or ``"two_step"``.
      sphere: project onto the sphere after each step.
      period: the cosine period T (steps).
      exponent: the power-law exponent (default 0.5).
      memory: the smoother's memory K for ``"matched"``.
      smoothing: ``"ema"``, ``"window"`` or ``"none"`` for ``"matched"``.
      warmup_steps: plain steps that define :math:`L_0` for ``"matched"``.
      loss_floor: :math:`L^*` for ``"matched"``.
      mask: ``None``, a pytree of bools or a callable ``params -> mask``.
      radius: the sphere's radius; ``None`` means :math:`\sqrt N` (N = masked scalars).
      momentum: heavy-ball momentum in [0, 1) (``optax.trace``), or ``None``.
      two_step_schedule: the λ schedule of ``"two_step"``: one of the four names above.

    Returns:
      An ``optax.GradientTransformationExtraArgs``; ``update`` needs ``params``.

    Raises:
      ValueError: unknown ``annealing``/``two_step_schedule``, missing ``period`` for cosine,
        ``momentum`` with ``"two_step"``, or a bad value of any hyperparameter (message starts with
        its name).

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> import complexity_optax as co
      >>> loss_fn = lambda p: jnp.sum((p - 1.0) ** 2)
      >>> params = co.sphere_init(jax.random.key(0), jnp.zeros(8))
      >>> tx = co.complexity_sgd(0.1, 1e-3, annealing="matched")
      >>> state = tx.init(params)
      >>> loss, grads = jax.value_and_grad(loss_fn)(params)
      >>> updates, state = tx.update(grads, state, params, value=loss)
      >>> params = optax.apply_updates(params, updates)
      >>> print(round(float(jnp.linalg.norm(params)) ** 2, 4))
      8.0

    References:
      Richemond & Guo, `Combining learning rate decay and weight decay with complexity gradient
      descent - Part I <https://arxiv.org/abs/1902.02881>`_, 2019 (Algorithms 1-3, eq. 17).
    """
    checks.check_positive("learning_rate", learning_rate)
    checks.check_choice("annealing", annealing, ANNEALINGS)
    checks.check_choice("two_step_schedule", two_step_schedule, _STRENGTH_SCHEDULES)
    if not isinstance(sphere, bool):
        raise TypeError(f"sphere must be a bool, got {sphere!r}")
    sgd.check_momentum(momentum)
    if annealing == "two_step" and momentum is not None:
        raise ValueError("momentum is not supported with annealing='two_step' (a complete step)")
    schedule = _strength_schedule(
        two_step_schedule if annealing == "two_step" else annealing,
        learning_rate,
        init_strength,
        period,
        exponent,
        memory,
        smoothing,
        warmup_steps,
        loss_floor,
    )
    projection = [project_onto_sphere(radius, mask=mask)] if sphere else []
    if radius is not None and not sphere:
        checks.check_positive("radius", radius)
    if annealing == "two_step":
        return optax.chain(two_step_annealing(learning_rate, schedule, mask=mask), *projection)
    return optax.chain(
        complexity_weight_decay(schedule, mask=mask),
        *sgd.sgd_scaling(learning_rate, momentum),
        *projection,
    )
