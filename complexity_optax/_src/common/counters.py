# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""int32 counters that saturate: the step, gradient and HVP counts of the transformations' states
and the full-batch solvers' results (a long run stops counting instead of wrapping negative)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from complexity_optax._src.common.checks import INT32_MAX

__all__ = ["INT32_MAX", "saturating_add", "step_counts"]


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


def step_counts(state: Any, accepted: jax.Array, hvps: Any) -> dict[str, jax.Array]:
    """The four counters of the second-order transformations' states after one `update`:
    calls, accepted steps, gradients (one per call) and Hessian-vector products (saturating).

    Examples:
      >>> import types, jax.numpy as jnp
      >>> zero = jnp.int32(0)
      >>> state = types.SimpleNamespace(step_count=zero, accepted_count=zero,
      ...                               gradient_count=zero, hvp_count=zero)
      >>> {k: int(v) for k, v in step_counts(state, True, 7).items()}
      {'step_count': 1, 'accepted_count': 1, 'gradient_count': 1, 'hvp_count': 7}
    """
    return {"step_count": saturating_add(state.step_count, 1),
            "accepted_count": saturating_add(state.accepted_count, accepted),
            "gradient_count": saturating_add(state.gradient_count, 1),
            "hvp_count": saturating_add(state.hvp_count, hvps)}
