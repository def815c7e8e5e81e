# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Second-order methods under `optax.masked` / `optax.multi_transform`: the frozen leaves.

Inside those wrappers a transformation sees only its own leaves; the others are
`optax.MaskedNode`s. A method that evaluates the loss (`value_fn`) needs the whole model, so the
caller passes `full_params=` and the frozen leaves are filled in from it, held fixed
(`stop_gradient`): the curvature is that of the trainable subset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import optax

__all__ = ["completion", "fill_masked", "has_masked_nodes"]


def _is_masked_node(x: Any) -> bool:
    return isinstance(x, optax.MaskedNode)


def has_masked_nodes(tree: Any) -> bool:
    """Whether `tree` holds `optax.MaskedNode` leaves (it is a masked subset of the params)."""
    return any(_is_masked_node(x) for x in jax.tree.leaves(tree, is_leaf=_is_masked_node))


def fill_masked(params: Any, full_params: Any) -> Any:
    """`params` with its `optax.MaskedNode` leaves taken from `full_params` (held fixed).

    Examples:
      >>> import jax.numpy as jnp, optax
      >>> fill_masked({"a": jnp.ones(1), "b": optax.MaskedNode()},
      ...             {"a": jnp.zeros(1), "b": jnp.array([2.0])})
      {'a': Array([1.], dtype=float32), 'b': Array([2.], dtype=float32)}
    """
    return jax.tree.map(
        lambda p, f: jax.lax.stop_gradient(f) if _is_masked_node(p) else p,
        params, full_params, is_leaf=_is_masked_node)


def completion(params: Any, full_params: Any, method: str) -> Callable[[Any], Any]:
    """The map from the method's parameters to the whole model's: the identity, or (under
    `optax.masked` / `multi_transform`) `fill_masked(·, full_params)`.

    Raises:
      ValueError: `params` is a masked subset and `full_params` is missing.
    """
    if not has_masked_nodes(params):
        return lambda p: p
    if full_params is None:
        raise ValueError(
            f"full_params: {method} under optax.masked/multi_transform receives only the "
            "trainable parameters (MaskedNode for the others); pass full_params=<all parameters> "
            "so that value_fn sees the frozen ones")
    return lambda p: fill_masked(p, full_params)
