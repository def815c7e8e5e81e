# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Equinox helpers: filtered parameters, and a loss-of-parameters for every `value_fn` method.

An `eqx.Module` mixes arrays to train with static parts (activation functions, integers,
non-float arrays). As in Equinox's own optax recipe, the transformation sees only the inexact
arrays, `params = eqx.filter(model, eqx.is_inexact_array)`, and the static rest is held fixed.
`value_and_grad` returns, with the loss and gradient, the loss as a pure function of those
parameters (`value_fn`), which `trust_region` and `two_step_annealing` evaluate at trial points;
`init` and `update` are the two lines of the Equinox training loop.

Randomness (dropout keys) is explicit in Equinox: pass the key in `*args`, and `value_fn` reuses
it, so it sees the same mask as the gradient. Stateful layers (`eqx.nn.BatchNorm` with an
`eqx.nn.State`): pass `state=`; `value_fn` then holds the incoming state fixed, and the new state
is returned only for a batch with a finite loss and gradient (a skipped step keeps the old one).

Equinox is imported lazily: `import complexity_optax` does not need it.

Examples:
  >>> import jax, jax.numpy as jnp, equinox as eqx
  >>> import complexity_optax as co
  >>> from complexity_optax import equinox as co_eqx
  >>> model = eqx.nn.MLP(2, 1, width_size=8, depth=1, key=jax.random.key(0))
  >>> x, y = jnp.ones((4, 2)), jnp.zeros((4, 1))
  >>> loss_fn = lambda m, x, y: jnp.mean((jax.vmap(m)(x) - y) ** 2)
  >>> tx = co.trust_region()
  >>> opt_state = co_eqx.init(tx, model)
  >>> @eqx.filter_jit
  ... def step(model, opt_state, x, y):
  ...   loss, grads, value_fn = co_eqx.value_and_grad(loss_fn, model, x, y)
  ...   model, opt_state = co_eqx.update(tx, grads, opt_state, model, value=loss,
  ...                                    value_fn=value_fn)
  ...   return model, opt_state, loss
  >>> model, opt_state, loss = step(model, opt_state, x, y)
  >>> bool(loss_fn(model, x, y) <= loss)
  True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["init", "params_of", "update", "value_and_grad"]


def _eqx():
    try:
        import equinox as eqx
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError('complexity_optax.equinox needs equinox: pip install '
                          '"complexity-optax[equinox]"') from e
    return eqx


def params_of(model: Any) -> Any:
    """The trainable part of `model`: its inexact (floating/complex) arrays, `None` elsewhere."""
    eqx = _eqx()
    return eqx.filter(model, eqx.is_inexact_array)


def init(tx: Any, model: Any) -> Any:
    """`tx.init` on the trainable arrays of `model` (`params_of`)."""
    return tx.init(params_of(model))


def value_and_grad(
    loss_fn: Callable[..., Any],
    model: Any,
    *args: Any,
    state: Any = None,
    **kwargs: Any,
) -> tuple[Any, Any, Callable[[Any], Any]]:
    r"""The loss, its gradient in the trainable arrays, and the loss as their pure function.

    With $\theta$ = `params_of(model)` and $s$ the static rest,

    $$
    \text{value\_fn}(\theta') = \texttt{loss\_fn}(\text{combine}(\theta', s), *args),
    \qquad \text{grads} = \nabla\text{value\_fn}(\theta).
    $$

    Args:
      loss_fn: `loss_fn(model, *args, **kwargs) -> loss`; with `state=`,
        `loss_fn(model, state, *args, **kwargs) -> (loss, new_state)`.
      model: the `eqx.Module`.
      *args: the batch (and any dropout key), passed on to `loss_fn`.
      state: an `eqx.nn.State` for stateful layers, or `None`.
      **kwargs: passed on to `loss_fn`.

    Returns:
      `(value, grads, value_fn)`, or `(value, grads, value_fn, new_state)` with `state=`:
      `grads` has the structure of `params_of(model)` (`None` at static leaves), `value_fn`
      takes such a tree (as `update` passes it to the transformation) and holds `state` fixed.

    **Skipped steps.** `new_state` is the state `loss_fn` returned only if the value, every
    gradient entry and every floating entry of that state are finite; otherwise it is `state`,
    exactly as passed in. A non-finite value or gradient (a NaN or inf in the batch) is exactly
    when `trust_region`, `cubic_regularization` and `saddle_free_newton` skip the step, so a bad
    batch then changes neither the parameters nor the `eqx.nn.BatchNorm` running statistics.
    """
    import jax

    eqx = _eqx()
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def forward(p):
        m = eqx.combine(p, static)
        if state is None:
            return loss_fn(m, *args, **kwargs), None
        return loss_fn(m, state, *args, **kwargs)

    (loss, new_state), grads = jax.value_and_grad(forward, has_aux=True)(params)

    def value_fn(p):
        return forward(p)[0]

    if state is None:
        return loss, grads, value_fn
    # A bad batch (NaN/inf) makes the loss or gradient non-finite and the second-order methods
    # skip the step; its new state (running statistics through the NaN) is dropped with it.
    return loss, grads, value_fn, _state_if_finite(loss, grads, new_state, state)


def _state_if_finite(loss: Any, grads: Any, new_state: Any, old_state: Any) -> Any:
    """`new_state` if the loss, the gradient and the new state's floating entries are finite,
    else `old_state` (the same structure), selected exactly, leaf by leaf, inside the trace."""
    import jax
    import jax.numpy as jnp

    from complexity_optax._src.common.tree import all_finite

    ok = jnp.all(jnp.isfinite(jnp.asarray(loss))) & all_finite(grads) & all_finite(new_state)
    if jax.tree.structure(new_state) != jax.tree.structure(old_state):
        raise ValueError("loss_fn must return a new state with the structure of state= (got "
                         f"{jax.tree.structure(new_state)}, expected "
                         f"{jax.tree.structure(old_state)})")
    return jax.tree.map(lambda new, old: jnp.where(ok, new, old) if hasattr(new, "dtype")
                        else new, new_state, old_state)


def update(tx: Any, grads: Any, opt_state: Any, model: Any, **extra_args: Any) -> tuple[Any, Any]:
    """One optax step on an `eqx.Module`: returns `(new_model, new_opt_state)`.

    `tx.update(grads, opt_state, params_of(model), **extra_args)`, then
    `eqx.apply_updates(model, updates)`; `extra_args` (`value=`, `value_fn=`, ...) go to
    `tx.update` as given.
    """
    import optax

    eqx = _eqx()
    tx = optax.with_extra_args_support(tx)
    updates, opt_state = tx.update(grads, opt_state, params_of(model), **extra_args)
    return eqx.apply_updates(model, updates), opt_state
