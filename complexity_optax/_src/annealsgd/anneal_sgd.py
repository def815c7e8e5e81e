# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""AnnealSGD (Chaudhari & Soatto 2015) as one optax chain: annealed field, SGD, optional sphere."""

from __future__ import annotations

from typing import Any

import optax

from complexity_optax._src.annealsgd.field import add_annealed_field, check_scale
from complexity_optax._src.common import checks, sgd
from complexity_optax._src.complexity_annealing.sphere import project_onto_sphere

__all__ = ["anneal_sgd"]


def anneal_sgd(
    learning_rate: optax.ScalarOrSchedule,
    *,
    field_scale: optax.ScalarOrSchedule,
    key: Any,
    relative_to: str | None = "grad",
    resample: bool = False,
    momentum: float | None = None,
    sphere: bool = False,
    radius: float | str | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""AnnealSGD: SGD on the loss tilted by an annealed external field.

    $$
    \theta_{t+1} = \theta_t - \eta_t\,(\nabla L(\theta_t) + \gamma(t)\,c_t\,h),
    \qquad h \sim \mathcal N(0, I_N) \text{ drawn once},
    $$

    i.e. the chain

    ```py
    optax.chain(add_annealed_field(field_scale, key=key, relative_to=relative_to,
                                   resample=resample),
                [optax.trace(momentum)], optax.scale_by_learning_rate(learning_rate),
                [project_onto_sphere(radius)])          # with sphere=True
    ```

    `field_scale` is $\gamma(t)$: a float or an optax schedule; anneal it to 0, e.g.
    `optax.linear_schedule(0.5, 0.0, total_steps // 2)`. By default (`relative_to="grad"`)
    $c_t = \lVert g_t\rVert/\lVert h\rVert$: $\gamma$ is the field's strength relative to the
    gradient, which needs no tuning per model size (on a small MNIST CNN, $\gamma_0 = 0.5$
    annealed over half the run trains like SGD; the paper's absolute field, `relative_to=None`,
    with $\gamma_0 = 1$ leaves the same CNN at chance). See `add_annealed_field`.

    Args:
      learning_rate: $\eta > 0$ or an optax schedule.
      field_scale: $\gamma \ge 0$ or an optax schedule of the step count.
      key: a `jax.random` key or an int seed for the field.
      relative_to: `"grad"` (default), `"params"` or `None` (absolute field).
      resample: draw a fresh field every step (annealed-noise baseline).
      momentum: heavy-ball momentum in [0, 1) (`optax.trace`), or `None`.
      sphere: project onto the sphere after each step (the spin-glass setting).
      radius: the sphere's radius, only with `sphere=True`: `"init"` (default: the norm of the
        initial params), `"sqrt_n"` or a float; see `project_onto_sphere`.

    Returns:
      An `optax.GradientTransformationExtraArgs`; `update` needs `params` only with
      `sphere=True` or `relative_to="params"`.

    Raises:
      ValueError: a bad hyperparameter (the message starts with its name), or `radius` without
        `sphere=True`.

    Examples:
      >>> import jax.numpy as jnp, optax
      >>> import complexity_optax as co
      >>> tx = co.anneal_sgd(0.1, field_scale=optax.linear_schedule(0.5, 0.0, 100), key=0)
      >>> params = jnp.ones(4)
      >>> state = tx.init(params)
      >>> grads = 2.0 * params
      >>> updates, state = tx.update(grads, state, params)  # -0.1 (g + 0.5 ‖g‖ h/‖h‖)
      >>> h = state[0].field
      >>> expected = -0.1 * (grads + 0.5 * 4.0 * h / jnp.linalg.norm(h))
      >>> print(bool(jnp.allclose(updates, expected)))
      True

    References:
      Chaudhari & Soatto, [On the energy landscape of deep networks](
      https://arxiv.org/abs/1511.06485), 2017 (AnnealSGD).
    """
    checks.check_positive("learning_rate", learning_rate)
    learning_rate = checks.scalar_schedule("learning_rate", learning_rate)
    field_scale = checks.scalar_schedule("field_scale", field_scale)
    checks.check_bool("sphere", sphere)
    sgd.check_momentum(momentum)
    check_scale(field_scale, "field_scale")
    for name, value in (("learning_rate", learning_rate), ("momentum", momentum)):
        checks.check_scalar(name, value)
    if radius is not None and not sphere:
        raise ValueError(f"radius is only used with sphere=True, got radius={radius!r}")
    field = add_annealed_field(field_scale, key=key, relative_to=relative_to, resample=resample)
    projection = [project_onto_sphere("init" if radius is None else radius)] if sphere else []
    return optax.chain(field, *sgd.sgd_scaling(learning_rate, momentum), *projection)
