# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Flax NNX helpers: a correct loss-of-parameters for every `value_fn` method.

`trust_region` (and `two_step_annealing`'s exact M step) call `value_fn(params)` several times in
one update: at trial points, inside Hessian-vector products. For an NNX model with `BatchNorm`
and `Dropout` the natural `value_fn` built from the live model is wrong in one of three ways: it
mutates the model inside a JAX transform (`TraceContextError`), it draws a different dropout mask
from the one the gradient used, or it advances the batch statistics at every trial point.

`value_and_grad` computes the loss and gradient of `loss_fn(model, *args)` once, as a pure
function of the parameters on a frozen copy of everything else (batch statistics, RNG counters),
and returns that same pure function as `value_fn`: the same dropout mask and batch-statistics
mode as the gradient, at any parameters. The model's non-parameter state is then advanced once,
as one ordinary forward pass would have advanced it, but only if the batch was good: when the
loss or the gradient is not finite (a NaN or inf in the batch), the step that every
`complexity_optax` second-order method then skips leaves the batch statistics and RNG counters
exactly as they were too (see `value_and_grad`).

After second-order steps, the running batch statistics lag the weights (they were accumulated
along the way, from weights the big steps left behind); `recalibrate_batch_stats` recomputes
them at the current weights from a few batches.

Flax is imported lazily: `import complexity_optax` does not need it.

Examples:
  >>> import jax.numpy as jnp, optax
  >>> from flax import nnx
  >>> import complexity_optax as co
  >>> from complexity_optax import nnx as co_nnx
  >>> class Net(nnx.Module):
  ...     def __init__(self, rngs):
  ...         self.lin = nnx.Linear(4, 3, rngs=rngs)
  ...         self.bn = nnx.BatchNorm(3, rngs=rngs)
  ...         self.drop = nnx.Dropout(0.5, rngs=rngs)
  ...     def __call__(self, x):
  ...         return self.drop(self.bn(self.lin(x)))
  >>> model = Net(nnx.Rngs(0))
  >>> optimizer = nnx.Optimizer(model, co.trust_region(), wrt=nnx.Param)
  >>> x, y = jnp.ones((8, 4)), jnp.zeros((8, 3))
  >>> loss_fn = lambda m, x, y: jnp.mean((m(x) - y) ** 2)
  >>> @nnx.jit
  ... def step(model, optimizer, x, y):
  ...     loss, grads, value_fn = co_nnx.value_and_grad(loss_fn, model, x, y)
  ...     same = value_fn(nnx.state(model, nnx.Param))       # the same mask: the same loss
  ...     optimizer.update(model, grads, value=loss, value_fn=value_fn)
  ...     return loss, same
  >>> loss, same = step(model, optimizer, x, y)
  >>> bool(loss == same)
  True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["recalibrate_batch_stats", "value_and_grad"]


def _nnx():
    try:
        from flax import nnx
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError('complexity_optax.nnx needs flax >= 0.11: pip install '
                          '"complexity-optax[demo]"') from e
    return nnx


def _as_pure(nnx, state):
    """`nnx.as_pure` (flax >= 0.12), else `nnx.pure` (flax 0.11)."""
    return getattr(nnx, "as_pure", None)(state) if hasattr(nnx, "as_pure") else nnx.pure(state)


def _commit_if_finite(loss: Any, grads: Any, new_state: Any, old_state: Any) -> Any:
    """`new_state` if the loss, the gradient and the new state's floating entries are all
    finite, else `old_state` (same structure), selected leaf by leaf inside the trace."""
    import jax
    import jax.numpy as jnp

    from complexity_optax._src.common.tree import all_finite

    ok = jnp.isfinite(jnp.asarray(loss)).all() & all_finite(grads) & all_finite(new_state)

    def pick(new, old):
        # jnp.where also selects typed PRNG keys (the dropout RNG state); a leaf that is not an
        # array (none in an nnx.State of pure arrays, but harmless) is taken as it is.
        return jnp.where(ok, new, old) if hasattr(new, "dtype") else new

    return jax.tree.map(pick, new_state, old_state)


def value_and_grad(
    loss_fn: Callable[..., Any],
    model: Any,
    *args: Any,
    wrt: Any = None,
    has_aux: bool = False,
    **kwargs: Any,
) -> tuple[Any, Any, Callable[[Any], Any]]:
    r"""The loss, its gradient, and the same loss as a pure function of the parameters.

    With $\theta$ the variables selected by `wrt` and $s$ the rest of the model's state (batch
    statistics, RNG counters, ...), frozen at its value on entry:

    $$
    \text{value\_fn}(\theta') = \texttt{loss\_fn}(\text{merge}(\theta', s), *args),
    \qquad \text{value} = \text{value\_fn}(\theta),
    \qquad \text{grads} = \nabla\text{value\_fn}(\theta).
    $$

    So `value_fn` uses exactly the dropout mask and the batch-statistics mode (train mode: the
    batch's own statistics) of the gradient, at any $\theta'$, and never mutates the model:
    pass it as `value_fn=` to `trust_region` or `two_step_annealing`. Afterwards the model's
    non-parameter state is advanced as one forward pass in `loss_fn` advanced it (new running
    statistics, the next dropout keys). Call it inside `nnx.jit` (or outside any transform).

    **Skipped steps.** The new state $s'$ is committed only when the step can be taken:

    $$
    s \leftarrow \begin{cases} s' & \text{if } \text{value},\ \text{grads} \text{ and } s'
    \text{ are finite (every entry)}, \\ s & \text{otherwise (kept bit for bit).}\end{cases}
    $$

    A non-finite value or gradient is exactly when `trust_region`, `cubic_regularization` and
    `saddle_free_newton` skip the step (zero update), so a bad batch (a NaN or inf row) changes
    neither the parameters nor the running statistics, nor the RNG counters. A new state with a
    non-finite floating entry (an overflowed running variance) is never committed either; the
    optimizer still takes the step if the loss and gradient are finite. The skip condition, to
    test it yourself: `jnp.isfinite(value) & all(jnp.isfinite(g).all() for g in
    jax.tree.leaves(grads))`.

    Args:
      loss_fn: `loss_fn(model, *args, **kwargs) -> scalar loss` (or `(loss, aux)` with
        `has_aux`), as for `nnx.value_and_grad`.
      model: the `nnx.Module`.
      *args: the batch (passed on to `loss_fn`).
      wrt: the variables to differentiate (an `nnx` filter); default `nnx.Param`. Use the same
        filter as `nnx.Optimizer(..., wrt=...)`.
      has_aux: whether `loss_fn` returns `(loss, aux)`.
      **kwargs: passed on to `loss_fn`.

    Returns:
      `(value, grads, value_fn)`: `value` is the loss (or `(loss, aux)`), `grads` an
      `nnx.State` like `nnx.state(model, wrt)` (what `nnx.Optimizer.update` takes), and
      `value_fn(params) -> loss` with `params` an `nnx.State` like `grads` (or its
      `nnx.as_pure` arrays, as `nnx.Optimizer` passes them to the transformation).
    """
    import jax

    nnx = _nnx()
    wrt = nnx.Param if wrt is None else wrt
    graphdef, params, rest = nnx.split(model, wrt, ...)
    # Pure arrays: nnx.merge then builds new Variables inside the transform instead of writing
    # to the live model's (which would be a TraceContextError).
    rest = _as_pure(nnx, rest)

    def forward(p):
        copy = nnx.merge(graphdef, p, rest)
        out = loss_fn(copy, *args, **kwargs)
        loss, aux = out if has_aux else (out, None)
        _, _, new_rest = nnx.split(copy, wrt, ...)
        return loss, (aux, _as_pure(nnx, new_rest))

    (loss, (aux, new_rest)), grads = jax.value_and_grad(forward, has_aux=True)(params)
    # A bad batch (NaN/inf entries) makes the loss or the gradient non-finite, and the
    # second-order methods then skip the step; its forward pass must not be committed either
    # (it would write the NaN into the running statistics). The selection is exact: on a skip
    # every entry of the state is the one on entry, bit for bit.
    nnx.update(model, _commit_if_finite(loss, grads, new_rest, rest))

    def value_fn(p):
        return forward(p)[0]

    return ((loss, aux) if has_aux else loss), grads, value_fn


def recalibrate_batch_stats(
    model: Any,
    batches: Iterable[Any],
    *,
    forward: Callable[..., Any] | None = None,
) -> Any:
    r"""Recomputes every `nnx.BatchNorm`'s running statistics at the current weights.

    Each batch is run through the model with the batch norms in train mode and dropout off;
    the running mean and variance become the averages over the batches of the per-batch
    statistics (equal weights),

    $$
    \bar\mu = \frac1B\sum_b \mu_b, \qquad \bar\sigma^2 = \frac1B\sum_b \sigma_b^2 .
    $$

    Use it after second-order steps (`trust_region`), whose few large steps leave the
    exponential moving averages of `BatchNorm` behind the weights, before evaluating. The
    parameters are not changed; the model's train/eval mode is restored.

    Args:
      model: the `nnx.Module`.
      batches: an iterable of inputs (or of tuples whose first element is the input).
      forward: `forward(model, batch)` runs the model on one batch; default `model(batch)` (or
        `model(batch[0])` for a tuple).

    Returns:
      The model (updated in place).
    """
    import jax
    import jax.numpy as jnp

    nnx = _nnx()
    modules = [m for _, m in (nnx.iter_modules(model) if hasattr(nnx, "iter_modules")
                              else model.iter_modules())]  # flax 0.12 / 0.11
    norms = [m for m in modules if isinstance(m, nnx.BatchNorm)]
    if not norms:
        return model
    if forward is None:
        def forward(m, batch):
            return m(batch[0] if isinstance(batch, (tuple, list)) else batch)

    saved = [(bn.momentum, bn.use_running_average) for bn in norms]
    drops = [m for m in modules if isinstance(m, nnx.Dropout)]
    saved_drops = [d.deterministic for d in drops]
    try:
        for bn in norms:
            bn.momentum, bn.use_running_average = 0.0, False  # running stats := batch stats
        for d in drops:
            d.deterministic = True

        @nnx.jit
        def batch_stats(m, batch):
            forward(m, batch)
            return nnx.state(m, nnx.BatchStat)

        total, count = None, 0
        for batch in batches:
            stats = _as_pure(nnx, batch_stats(model, batch))
            total = stats if total is None else jax.tree.map(jnp.add, total, stats)
            count += 1
        if count == 0:
            raise ValueError("batches must hold at least one batch")
        nnx.update(model, jax.tree.map(lambda s: s / count, total))
    finally:
        for bn, (momentum, use_running) in zip(norms, saved, strict=False):
            bn.momentum, bn.use_running_average = momentum, use_running
        for d, det in zip(drops, saved_drops, strict=False):
            d.deterministic = det
    return model
