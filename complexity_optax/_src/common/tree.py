# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Pytree helpers that `optax.tree` does not provide (one home each)."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["all_finite", "compute_dtype", "tree_dimension", "upcast"]


def all_finite(tree: Any) -> jax.Array:
    r"""Whether every entry of `tree` is finite (a scalar bool; `True` for an empty tree).

    One fused reduction per floating leaf: $x - x$ is $0$ for a finite $x$ and NaN for $\pm\infty$
    and NaN (IEEE arithmetic; XLA does not fold it for floats), so $\sum_i (x_i - x_i)$ is NaN
    exactly when some entry is not finite, whatever the order of the sum. XLA fuses the difference
    into the sum (one pass over the leaf), where `jnp.all(jnp.isfinite(x))` becomes a boolean
    array and a chain of reduce-windows on CPU. Integer and boolean leaves are always finite.

    Examples:
      >>> import jax.numpy as jnp
      >>> bool(all_finite({"a": jnp.ones(2), "b": jnp.array([1.0, jnp.nan])}))
      False
      >>> bool(all_finite({"a": jnp.ones(3), "b": jnp.array([1.0, jnp.inf]), "n": jnp.arange(2)}))
      False
      >>> bool(all_finite({}))
      True
    """
    sums = [jnp.sum(x - x) for x in map(jnp.asarray, jax.tree.leaves(tree))
            if jnp.issubdtype(x.dtype, jnp.inexact)]
    if not sums:
        return jnp.asarray(True)
    return jnp.all(jnp.isfinite(jnp.stack([v.astype(jnp.float32) for v in sums])))


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
