# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Pytree helpers that `optax.tree` does not provide (one home each)."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["all_finite", "compute_dtype", "upcast", "tree_dimension"]


def all_finite(tree: Any) -> jax.Array:
    """Whether every leaf of `tree` is finite (a scalar bool; `True` for an empty tree).

    Examples:
      >>> import jax.numpy as jnp
      >>> bool(all_finite({"a": jnp.ones(2), "b": jnp.array([1.0, jnp.nan])}))
      False
    """
    leaves = jax.tree.leaves(tree)
    if not leaves:
        return jnp.asarray(True)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


def compute_dtype(dtype: Any) -> Any:
    """At least float32: bfloat16/float16 are promoted, float32 and float64 are kept.

    Examples:
      >>> import jax.numpy as jnp
      >>> compute_dtype(jnp.bfloat16)
      dtype('float32')
    """
    return jnp.promote_types(dtype, jnp.float32)


def upcast(tree: Any) -> Any:
    """`tree` with every leaf in `compute_dtype` of its own dtype."""
    return jax.tree.map(lambda x: jnp.asarray(x).astype(compute_dtype(jnp.asarray(x).dtype)), tree)


def tree_dimension(like: Any) -> int:
    """The total number of scalars in `like` (a static Python int).

    Counted from the shapes, not with `optax.tree.size`: `like` may hold
    `jax.ShapeDtypeStruct` templates, on which `jnp.size` is deprecated.

    Examples:
      >>> import jax.numpy as jnp
      >>> tree_dimension({"w": jnp.zeros((3, 4)), "b": jnp.zeros(4)})
      16
    """
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(like))
