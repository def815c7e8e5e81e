# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""The trust-region norm of a step: the ellipsoid's diagonal in the chosen radius units.

`trust_region` and `minimize_trust_region` measure steps in $\|s\|_D = \sqrt{\sum_i D_i s_i^2}$:

* `radius_norm="ellipsoid"` (the authors' code): $D = A$, the ellipsoid's diagonal as it is.
  With the RMSProp ellipsoid $A \approx |g|$, so the radius is in units of $\sqrt{f}$ and its
  good value depends on the scale of the gradients.
* `radius_norm="scaled"`: $D = \max(A / \bar A, d_{min})$ with $\bar A$ the mean of $A$ over all
  parameters: the radius is in the units of the parameters, exactly as for the sphere (for
  $A = cI$ the region is the sphere of the same radius), whatever the scale of $f$.
  $d_{min}$ (`diagonal_floor`) bounds the anisotropy, so that an exactly-zero gradient entry
  (a dead unit, $A_i \approx \epsilon$) neither freezes that coordinate nor makes CG
  ill-conditioned.

Preconditioned CG is invariant to a scalar multiple of the preconditioner, so the two choices
differ only in the units of $\Delta$ (and the floor).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks
from complexity_optax._src.common import tree as tree_lib

__all__ = ["RADIUS_NORMS", "check_radius_norm", "norm_diagonal", "tree_norm_in"]

RADIUS_NORMS = ("ellipsoid", "scaled")


def check_radius_norm(radius_norm: str, diagonal_floor: Any) -> None:
    """Construction-time checks of `radius_norm` and `diagonal_floor`."""
    checks.check_choice("radius_norm", radius_norm, RADIUS_NORMS)
    checks.check_in_interval("diagonal_floor", diagonal_floor, 0.0, 1.0)


def norm_diagonal(diagonal: Any, radius_norm: str, diagonal_floor: Any) -> Any:
    """The diagonal $D$ of the trust-region norm from the ellipsoid's $A$ (`None`: identity).

    Examples:
      >>> import jax.numpy as jnp
      >>> [round(float(d), 4) for d in norm_diagonal(jnp.array([1e-8, 2.0, 4.0]), "scaled", 1e-3)]
      [0.001, 1.0, 2.0]
    """
    if diagonal is None:
        return None
    if radius_norm == "ellipsoid":
        if checks.concrete_float(diagonal_floor) == 0.0:
            return diagonal
        top = jnp.max(jnp.stack([jnp.max(d) for d in jax.tree.leaves(diagonal)]))
        return jax.tree.map(lambda d: jnp.maximum(d, (diagonal_floor * top).astype(d.dtype)),
                            diagonal)
    size = sum(d.size for d in jax.tree.leaves(diagonal))
    mean = optax.tree.sum(diagonal) / size
    mean = jnp.where(mean > 0, mean, 1.0)

    def scale(d):
        return jnp.maximum(d / mean.astype(d.dtype), jnp.asarray(diagonal_floor, d.dtype))

    return jax.tree.map(scale, diagonal)


def tree_norm_in(tree: Any, diagonal: Any) -> jax.Array:
    r"""$\|x\|_D$ (Euclidean for `diagonal=None`), scaled so that it cannot overflow: the norm of
    $D^{1/2}x$ by `common.tree.tree_norm` (one pass unless the sum of squares over- or underflows).

    Examples:
      >>> import jax.numpy as jnp
      >>> round(float(tree_norm_in(jnp.array([3e30, 4e30]), None)) / 1e30, 4)
      5.0
    """
    if diagonal is not None:
        tree = jax.tree.map(lambda x, d: x * jnp.sqrt(d).astype(x.dtype), tree, diagonal)
    return tree_lib.tree_norm(tree)