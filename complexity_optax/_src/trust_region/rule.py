# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The trust-region radius rule shared by ``minimize_trust_region`` and ``trust_region``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


from complexity_optax._src.common.tree import all_finite  # noqa: E402,F401  (re-exported)


def update_radius(
    radius: jax.Array,
    rho: jax.Array,
    hit_boundary: jax.Array,
    *,
    eta1: Any,
    eta2: Any,
    increase: Any,
    decrease: Any,
    max_radius: Any,
    shrink_below: Any = 0.0,
    grow_on_boundary_only: bool = False,
    min_radius: Any = 0.0,
) -> jax.Array:
    r"""The next trust-region radius from the ratio :math:`\rho` = actual / predicted decrease.

    .. math::
        \Delta' = \begin{cases}
          \max(\gamma_{dec}\,\Delta,\ \Delta_{min}) & \rho < \max(\eta_1, \rho_{shrink}) \\
          \min(\gamma_{inc}\,\Delta,\ \Delta_{max}) & \rho \ge \eta_2
            \ (\text{and the step reached the boundary, if required}) \\
          \Delta & \text{otherwise.}
        \end{cases}

    Shrinking takes precedence. A rejected step (:math:`\rho < \eta_1`) always shrinks; a
    non-finite :math:`\rho` should be passed as :math:`-\infty` (a rejection).

    * scipy's ``trust-ncg`` (Nocedal & Wright, Alg. 4.1) is ``shrink_below=0.25`` with
      ``grow_on_boundary_only=True``;
    * the authors' stochastic rule (Kohler, Adolphs & Lucchi) is ``shrink_below=0`` (shrink only on
      rejection) with growth on every very successful step.

    Args:
      radius: the current radius :math:`\Delta`.
      rho: the ratio :math:`\rho`.
      hit_boundary: whether the step reached the boundary of the region.
      eta1: acceptance threshold :math:`\eta_1`.
      eta2: very-successful threshold :math:`\eta_2`.
      increase: growth factor :math:`\gamma_{inc} > 1`.
      decrease: shrink factor :math:`0 < \gamma_{dec} < 1`.
      max_radius: :math:`\Delta_{max}`.
      shrink_below: :math:`\rho_{shrink}`, shrink also when accepted with a ratio below it.
      grow_on_boundary_only: grow only when the step reached the boundary.
      min_radius: :math:`\Delta_{min}`, a floor for the shrunk radius.

    Returns:
      The new radius, in the dtype of ``radius``.

    Examples:
      >>> import jax.numpy as jnp
      >>> rule = dict(eta1=0.15, eta2=0.75, increase=2.0, decrease=0.25, max_radius=10.0)
      >>> [float(update_radius(jnp.float32(1.0), jnp.float32(r), True, **rule))
      ...  for r in (0.1, 0.5, 0.9)]
      [0.25, 1.0, 2.0]
    """
    shrink = rho < jnp.maximum(eta1, shrink_below)
    grow = rho >= eta2
    if grow_on_boundary_only:
        grow = grow & hit_boundary
    new_radius = jnp.where(
        shrink,
        jnp.maximum(decrease * radius, min_radius),
        jnp.where(grow, jnp.minimum(increase * radius, max_radius), radius),
    )
    return new_radius.astype(radius.dtype)
