# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The batch model of the second-order transformations: one linearisation of `value_fn`.

`trust_region`, `cubic_regularization` and `saddle_free_newton` take the value, gradient
and Hessian-vector products of one linearisation of `value_fn` at the current parameters: the
incoming updates are only checked to be finite, so what comes before them in a chain does not
change the step (`docs/conventions.md`, "The incoming gradient of the second-order methods").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import checks, masked
from complexity_optax._src.common.hvp import value_grad_and_hvp
from complexity_optax._src.common.kwargs import fn_kwargs
from complexity_optax._src.common.tree import all_finite, upcast, work_map
from complexity_optax._src.common.types import MatVec, PyTree

__all__ = ["BatchModel", "batch_update", "linearize_batch", "nothing_to_update"]


class BatchModel(NamedTuple):
    """What a step needs of the batch loss at the current parameters.

    Attributes:
      loss: `params -> value_fn(params, **batch)` (frozen leaves filled in under `optax.masked`).
      work: the map applied to a trial point before `loss` is evaluated there: the exact rounding
        to the parameters' dtype for bfloat16/float16 parameters, else the identity.
      value: the loss at the parameters (at least float32).
      grads: its gradient (at least float32), zero when `finite` is false.
      hvp_fn: Hessian-vector products at the parameters (the same linearisation).
      finite: the incoming updates, the value, the gradient and `value=` (if given) are finite.
    """

    loss: Callable[[PyTree], jax.Array]
    work: Callable[[PyTree], PyTree]
    value: jax.Array
    grads: PyTree
    hvp_fn: MatVec
    finite: jax.Array


def linearize_batch(method: str, updates: PyTree, params: PyTree, value: Any,
                    value_fn: Callable[..., Any], full_params: Any,
                    extra_args: dict) -> BatchModel:
    """One linearisation of `value_fn` (with the `extra_args` it names) at `params`, computed in
    at least float32; `method` names the transformation in error messages."""
    kwargs = fn_kwargs(value_fn, extra_args)
    complete = masked.completion(params, full_params, method)

    def loss(p):
        return value_fn(complete(p), **kwargs)

    work = work_map(params)
    lin_value, grads, hvp_fn = value_grad_and_hvp(loss, upcast(params))
    lin_value = jnp.asarray(lin_value)
    grads = upcast(grads)
    finite = all_finite(updates) & all_finite(grads) & jnp.isfinite(lin_value)
    if value is not None:
        finite = finite & jnp.isfinite(jnp.asarray(value))
    grads = optax.tree.where(finite, grads, optax.tree.zeros_like(grads))
    return BatchModel(loss, work, lin_value, grads, hvp_fn, finite)


def nothing_to_update(method: str, params: PyTree, value_fn: Any) -> bool:
    """The checks at the top of a second-order `update`: a `ValueError` naming `params` or
    `value_fn` when one is missing; `True` when `params` holds nothing to optimise (an empty
    pytree or only size-0 leaves), for which the update is a no-op (zero updates, the state
    unchanged, no loss evaluated).

    Examples:
      >>> nothing_to_update("saddle_free_newton", {}, lambda p: 0.0)
      True
    """
    if params is None:
        raise ValueError(checks.NO_PARAMS_MSG)
    if value_fn is None:
        raise ValueError(f"value_fn: {method}.update needs value_fn=, the loss")
    return checks.tree_size(params) == 0


def batch_update(method: str, step: Callable[[BatchModel, Any, PyTree], tuple[PyTree, Any, Any]]
                 ) -> Callable[..., tuple[PyTree, Any]]:
    """The `update` of a second-order transformation around its `step`.

    It checks `params` and `value_fn` (`nothing_to_update`), linearises the batch loss once
    (`linearize_batch`: at least float32 arithmetic for bfloat16/float16 parameters, each trial
    value taken at the rounded point `params + step` the caller gets), calls
    `step(model, state, params) -> (step, accepted, new_state)` and returns the step where it
    was accepted (zeros elsewhere) in the incoming updates' dtypes.
    """
    def update_fn(updates, state, params=None, *, value=None, value_fn=None, full_params=None,
                  **extra_args):
        if nothing_to_update(method, params, value_fn):
            return jax.tree.map(jnp.zeros_like, updates), state
        model = linearize_batch(method, updates, params, value, value_fn, full_params,
                                extra_args)
        new_step, accepted, new_state = step(model, state, params)
        new_updates = optax.tree.where(accepted, new_step, optax.tree.zeros_like(new_step))
        return optax.tree.cast_like(new_updates, updates), new_state

    return update_fn

