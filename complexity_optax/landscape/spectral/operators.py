# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Curvature operators on pytrees: Hessian, generalised Gauss–Newton and empirical Fisher.

Each constructor takes a function of the parameters, the point `params` and the data as a
sequence of batches (tuples of arrays of equal shapes), and returns a `LinearOperator`: a plain
`v -> A v` callable (usable by every spectral tool and by the trust region) whose product is
the average over the batches,

$$
A v = \frac{1}{B}\sum_{b=1}^{B} A_b\, v .
$$

The batches are stacked once and the per-batch product runs inside a `lax.scan`: one compiled
body however many batches there are. Called eagerly, a product is one compiled program, compiled
once for all the products (see `linear_operator.compiled_call`). For the full data
set as one batch, pass `[batch]`.

* `hessian_operator`: $H_b v = \nabla^2_\theta L(\theta; b)\, v$ by forward-over-reverse.
* `gauss_newton_operator`: $G_b v = J_b^\top H^{\text{out}}_b J_b v$, with $J_b$ the Jacobian of
  the model's outputs and $H^{\text{out}}_b$ the Hessian of the loss in the outputs (one JVP, one
  output-space HVP, one VJP). Positive semi-definite for a convex output loss.
* `fisher_operator`: the empirical Fisher $F_b v = \frac{1}{n}\sum_i g_i\,(g_i^\top v)$ with
  $g_i = \nabla_\theta \ell_i$ the per-example gradients (one JVP of the per-example losses for
  the $n$ numbers $g_i^\top v$, one VJP to combine them): the per-example gradients are never
  formed.

References:
  Pearlmutter, *Fast exact multiplication by the Hessian*, Neural Computation 6(1), 1994;
  Schraudolph, *Fast curvature matrix-vector products for second-order gradient descent*,
  Neural Computation 14(7), 2002 (Gauss–Newton products); Martens, *New insights and
  perspectives on the natural gradient method*, JMLR 21, 2020 (GGN and empirical Fisher);
  Kunstner, Hennig & Balles, *Limitations of the empirical Fisher approximation for natural
  gradient descent*, NeurIPS 2019.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common.convolutions import on_cpu_backend
from complexity_optax._src.common.types import PyTree
from complexity_optax.landscape.spectral.linear_operator import (
    LinearOperator,
    compiled_call,
    template,
)


def _as_tuple(batch: Any) -> tuple:
    """A batch as a tuple of arrays (a lone array is a one-element batch)."""
    return tuple(batch) if isinstance(batch, (list, tuple)) else (batch,)


def stack_batches(batches: Any) -> tuple:
    """The batches as one tuple of arrays with a leading batch-index axis.

    `batches` is a list/tuple/iterator of batches, each a tuple of arrays (e.g. `(x, y)`)
    with the same shapes in every batch.

    Examples:
      >>> import jax.numpy as jnp
      >>> xs, ys = stack_batches([(jnp.zeros((2, 3)), jnp.zeros(2))] * 4)
      >>> xs.shape, ys.shape
      ((4, 2, 3), (4, 2))
    """
    batches = list(batches)
    if not batches:
        raise ValueError("batches must contain at least one batch, got none")
    batches = [_as_tuple(b) for b in batches]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *batches)


def _batch_data(batches: Any) -> tuple[tuple, bool]:
    """`(data, single)`: one batch as it is (its arrays, no stacking copy: an eager product pays
    no device copy of the data per operator), several stacked by `stack_batches`."""
    batches = list(batches)
    if len(batches) != 1:
        return stack_batches(batches), False
    return jax.tree.map(lambda a: a if isinstance(a, jax.Array) else jnp.asarray(a),
                        _as_tuple(batches[0])), True


def _batch_mean(per_batch: Callable[[Any, tuple], Any], data: tuple, single: bool,
                v: Any) -> Any:
    """`mean_b per_batch(v, batch_b)` by `lax.scan` over the stacked batches.

    One batch (`single`) is applied directly, not in a one-trip scan (a loop body costs XLA a
    copy of the carry; its convolutions are brought to the fast layout by `_operator` either
    way).
    """
    if single:
        return per_batch(v, data)
    count = jax.tree.leaves(data)[0].shape[0]

    def body(total, batch):
        return optax.tree.add(total, per_batch(v, batch)), None

    total, _ = jax.lax.scan(body, optax.tree.zeros_like(v), data)
    return optax.tree.scale(1.0 / count, total)


def _operator(per_batch: Callable[[Any, tuple], Any], batches: Iterable[tuple],
              params: PyTree) -> LinearOperator:
    """The `LinearOperator` `v -> mean_b per_batch(v, batch_b)`; eagerly one compiled program.

    On the CPU backend the product's convolutions run in XLA's canonical layout
    (`canonical_convolutions`): the spectral tools call it inside loop bodies.
    """
    per_batch = on_cpu_backend(per_batch)
    data, single = _batch_data(batches)

    def matvec(v):
        return compiled_call(lambda v: _batch_mean(per_batch, data, single, v), v)

    return LinearOperator(matvec, template(params))


def _cast_like(tree: Any, like: Any) -> Any:
    return jax.tree.map(lambda x, t: x.astype(t.dtype), tree, like)


def hessian_operator(loss_fn: Callable[..., jax.Array], params: PyTree,
                     batches: Iterable[tuple]) -> LinearOperator:
    r"""The Hessian of `loss_fn(params, *batch)` averaged over the batches.

    $H v = \frac{1}{B}\sum_b \frac{d}{dt}\nabla_\theta L(\theta + t v; b)\big|_{t=0}$, one
    forward-over-reverse pass per batch.

    Args:
      loss_fn: scalar `loss_fn(params, *batch)`.
      params: the point (any pytree of arrays).
      batches: a sequence of batches, each a tuple of arrays (equal shapes across batches).

    Returns:
      A `LinearOperator` `v -> H v` on pytrees like `params`.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss = lambda w, x: 0.5 * jnp.sum((x @ w) ** 2)          # H = xᵀx
      >>> x = jnp.array([[1.0, 0.0], [0.0, 2.0]])
      >>> op = hessian_operator(loss, jnp.zeros(2), [(x,), (2 * x,)])
      >>> op(jnp.array([1.0, 1.0]))                                  # mean of xᵀx and 4xᵀx
      Array([ 2.5, 10. ], dtype=float32)

    References:
      Pearlmutter, Neural Computation 6(1), 1994.
    """

    def per_batch(v, batch):
        grad = jax.grad(lambda p: loss_fn(p, *batch))
        return jax.jvp(grad, (params,), (_cast_like(v, params),))[1]

    return _operator(per_batch, batches, params)


def gauss_newton_operator(model_fn: Callable[..., Any], output_loss_fn: Callable[..., jax.Array],
                          params: PyTree, batches: Iterable[tuple]) -> LinearOperator:
    r"""The generalised Gauss–Newton matrix $J^\top H^{\text{out}} J$ averaged over the batches.

    For a batch `(inputs, targets)`: $z = f(\theta, \text{inputs})$ the model's outputs,
    $J = \partial z / \partial\theta$ and $H^{\text{out}} = \nabla_z^2\,
    \ell(z, \text{targets})$; then $G v = J^\top \big(H^{\text{out}} (J v)\big)$ by a JVP of the
    model, an HVP of the output loss in $z$ and a VJP of the model.

    Args:
      model_fn: `model_fn(params, inputs) -> outputs` (any pytree of outputs).
      output_loss_fn: scalar `output_loss_fn(outputs, targets)` (e.g. the mean cross-entropy
        of logits).
      params: the point.
      batches: a sequence of `(inputs, targets)` tuples (equal shapes across batches).

    Returns:
      A `LinearOperator` `v -> G v`.

    Examples:
      >>> import jax.numpy as jnp
      >>> model = lambda w, x: x @ w
      >>> loss = lambda z, y: 0.5 * jnp.sum((z - y) ** 2)           # H_out = I: G = xᵀx
      >>> x = jnp.array([[1.0, 2.0], [0.0, 1.0]])
      >>> op = gauss_newton_operator(model, loss, jnp.ones(2), [(x, jnp.zeros(2))])
      >>> op(jnp.array([1.0, 0.0]))
      Array([1., 2.], dtype=float32)

    References:
      Schraudolph, Neural Computation 14(7), 2002; Martens, JMLR 21, 2020.
    """

    def per_batch(v, batch):
        inputs, targets = batch[0], batch[1]
        outputs, model_vjp = jax.vjp(lambda p: model_fn(p, inputs), params)
        jv = jax.jvp(lambda p: model_fn(p, inputs), (params,), (_cast_like(v, params),))[1]
        grad_out = jax.grad(lambda z: output_loss_fn(z, targets))
        hjv = jax.jvp(grad_out, (outputs,), (jv,))[1]
        return model_vjp(hjv)[0]

    return _operator(per_batch, batches, params)


def fisher_operator(per_example_loss_fn: Callable[..., jax.Array], params: PyTree,
                    batches: Iterable[tuple]) -> LinearOperator:
    r"""The empirical Fisher $\frac{1}{n}\sum_i g_i g_i^\top$ averaged over the batches.

    `per_example_loss_fn(params, *batch)` returns the vector $(\ell_1, \dots, \ell_n)$;
    $c = J_\ell v = (g_i^\top v)_i$ is one JVP and $\frac{1}{n} J_\ell^\top c$ one VJP.

    Args:
      per_example_loss_fn: `per_example_loss_fn(params, *batch) -> (n,)` per-example losses.
      params: the point.
      batches: a sequence of batches (tuples of arrays, equal shapes across batches).

    Returns:
      A `LinearOperator` `v -> F v`.

    Examples:
      >>> import jax.numpy as jnp
      >>> losses = lambda w, x: x @ w                 # g_i = x_i: F = xᵀx / n
      >>> x = jnp.array([[1.0, 0.0], [1.0, 1.0]])
      >>> op = fisher_operator(losses, jnp.zeros(2), [(x,)])
      >>> op(jnp.array([0.0, 2.0]))
      Array([1., 1.], dtype=float32)

    References:
      Martens, JMLR 21, 2020; Kunstner, Hennig & Balles, NeurIPS 2019.
    """

    def per_batch(v, batch):
        def losses_fn(p):
            return per_example_loss_fn(p, *batch)
        losses, losses_vjp = jax.vjp(losses_fn, params)
        c = jax.jvp(losses_fn, (params,), (_cast_like(v, params),))[1]
        return losses_vjp(c / losses.shape[0])[0]

    return _operator(per_batch, batches, params)


__all__ = ["fisher_operator", "gauss_newton_operator", "hessian_operator", "stack_batches"]
