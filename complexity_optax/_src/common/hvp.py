# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Exact Hessian-vector products on pytrees (forward-over-reverse).

Two entry points:

* `hvp` computes one product `H v` in a single forward-over-reverse pass.
* `value_grad_and_hvp` linearises the gradient once and returns a cheap `hvp_fn`, for
  solvers (truncated CG) that need many products at one point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from complexity_optax._src.common.convolutions import on_cpu_backend
from complexity_optax._src.common.types import PyTree


def hvp(fun: Callable[..., jax.Array], params: PyTree, vector: PyTree, *args: Any) -> PyTree:
    r"""Hessian-vector product of a scalar function, by forward-over-reverse differentiation.

    Computes

    $$
    H v = \frac{d}{dt}\, \nabla_\theta f(\theta + t v, \ldots)\Big|_{t=0},
    $$

    that is `jax.jvp(jax.grad(fun), (params,), (vector,))`, with `*args` passed to `fun`
    after `params` (they are held fixed). The cost is a small constant times one gradient.

    Args:
      fun: scalar function `fun(params, *args)`.
      params: the point (any pytree of arrays).
      vector: the direction, a pytree with the structure, shapes and dtypes of `params`.
      *args: extra arguments of `fun` (for example a batch); not differentiated.

    Returns:
      `H v`, a pytree like `params`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import hvp
      >>> f = lambda x: jnp.sum(x ** 3)          # H = diag(6 x)
      >>> hvp(f, jnp.array([1.0, 2.0]), jnp.array([1.0, 1.0]))
      Array([ 6., 12.], dtype=float32)

    References:
      Pearlmutter, "Fast exact multiplication by the Hessian", Neural Computation, 1994.
    """
    grad_fn = on_cpu_backend(jax.grad(lambda p: fun(p, *args)))
    return jax.jvp(grad_fn, (params,), (vector,))[1]


def value_grad_and_hvp(
    fun: Callable[..., jax.Array], params: PyTree, *args: Any, has_aux: bool = False
) -> tuple[jax.Array, PyTree, Callable[[PyTree], PyTree]]:
    r"""Value, gradient, and a reusable Hessian-vector product at one point.

    Linearises $\theta \mapsto (\nabla f(\theta), f(\theta))$ once with `jax.linearize`
    (value carried as auxiliary output). The returned `hvp_fn(v) = H v` replays only the
    tangent (JVP) pass over the stored residuals, so a truncated-CG solver that needs many
    products at the same point does not redo the forward and backward passes.

    Args:
      fun: scalar function `fun(params, *args)`.
      params: the point (any pytree of arrays).
      *args: extra arguments of `fun`; held fixed.
      has_aux: `fun` returns `(value, aux)`; then the result is
        `(value, grad, hvp_fn, aux)`.

    Returns:
      `(value, grad, hvp_fn)`: $f(\theta)$, $\nabla f(\theta)$ (a pytree like
      `params`) and the linear map $v \mapsto \nabla^2 f(\theta) v$.

    Examples:
      >>> import jax.numpy as jnp
      >>> from complexity_optax import value_grad_and_hvp
      >>> f = lambda x, a: a * jnp.sum(x ** 2)   # H = 2 a I
      >>> value, grad, hvp_fn = value_grad_and_hvp(f, jnp.array([1.0, 2.0]), 3.0)
      >>> value, grad
      (Array(15., dtype=float32), Array([ 6., 12.], dtype=float32))
      >>> hvp_fn(jnp.array([1.0, 0.0]))
      Array([6., 0.], dtype=float32)

    References:
      Pearlmutter, "Fast exact multiplication by the Hessian", Neural Computation, 1994;
      the JAX autodiff cookbook (forward-over-reverse Hessian-vector products).
    """

    if has_aux:
        @on_cpu_backend
        def grad_with_value_aux(p: PyTree) -> tuple[PyTree, Any]:
            (value, aux), grad = jax.value_and_grad(fun, has_aux=True)(p, *args)
            return grad, (value, aux)

        grad, hvp_fn, (value, aux) = jax.linearize(grad_with_value_aux, params, has_aux=True)
        return value, grad, hvp_fn, aux

    @on_cpu_backend
    def grad_with_value(p: PyTree) -> tuple[PyTree, jax.Array]:
        value, grad = jax.value_and_grad(fun)(p, *args)
        return grad, value

    grad, hvp_fn, value = jax.linearize(grad_with_value, params, has_aux=True)
    return value, grad, hvp_fn
