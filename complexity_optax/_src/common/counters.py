# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""int32 counters that saturate: the step, gradient and HVP counts of the transformations' states
and the full-batch solvers' results (a long run stops counting instead of wrapping negative)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from complexity_optax._src.common.checks import INT32_MAX

__all__ = ["INT32_MAX", "saturating_add"]


def saturating_add(count: jax.Array, increment: Any) -> jax.Array:
    """`count + increment` in int32, saturating at the largest int32 (`INT32_MAX`).

    Examples:
      >>> import jax.numpy as jnp
      >>> int(saturating_add(jnp.int32(2**31 - 3), 5)), int(saturating_add(jnp.int32(1), 2))
      (2147483647, 3)
    """
    increment = jnp.asarray(increment, jnp.int32)
    return jnp.where(count <= INT32_MAX - increment, count + increment, INT32_MAX).astype(
        jnp.int32)
