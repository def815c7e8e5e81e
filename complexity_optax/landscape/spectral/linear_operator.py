# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The one operator type of the spectral tools: a symmetric `v -> A v` on pytrees.

Every spectral tool takes `(matvec, like, key, ...)`. `matvec` is any callable on pytrees
shaped like `like` (an HVP closure, a dense `a @ v`); a `LinearOperator` is such a callable
that also carries its `like`, so `like=None` may be passed with it. The curvature operators
(`hessian_operator`, `gauss_newton_operator`, `fisher_operator`) and `block_operator` return one.

Internally each tool works in the *compute dtype* (float32 for bfloat16/float16 inputs, the
input dtype otherwise): probes are cast to the input dtype before `matvec` is called and its
result is cast up again, so low-precision parameters give the float32 answer up to the rounding
of the product itself.

Called eagerly, each tool runs its numerical body as one compiled XLA program (`compiled_call`,
that is `common.functions.call`): the argument checks run first, in Python, on concrete values;
then the body, with the operator and everything it closes over passed as a pytree (code static,
arrays as leaves), goes through one `jax.jit`, so a later call with the same operator code on
arrays of the same shapes, whatever their values, runs the cached program without tracing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from complexity_optax._src.common import tree as tree_lib
from complexity_optax._src.common.functions import call as compiled_call
from complexity_optax._src.common.types import MatVec


class LinearOperator(NamedTuple):
    """A symmetric linear map on pytrees together with the shapes and dtypes it acts on.

    It is a plain callable `v -> A v` (so it can be handed to the trust region or any solver),
    and the spectral tools accept it with `like=None`.

    Attributes:
      matvec: the map `v -> A v`.
      like: a pytree of `jax.ShapeDtypeStruct` (or arrays) with the shapes and dtypes of `v`.

    Examples:
      >>> import jax.numpy as jnp
      >>> op = LinearOperator(lambda v: 2.0 * v, jnp.zeros(3))
      >>> op(jnp.ones(3))
      Array([2., 2., 2.], dtype=float32)
    """

    matvec: MatVec
    like: Any

    def __call__(self, v: Any) -> Any:
        return self.matvec(v)


def _struct(x: Any) -> jax.ShapeDtypeStruct:
    if isinstance(x, jax.ShapeDtypeStruct):
        return x
    if isinstance(x, jax.Array):  # no array op: an eager tool builds this at every call
        return jax.ShapeDtypeStruct(x.shape, x.dtype)
    x = jnp.asarray(x)  # NumPy and Python values: the dtype jax gives them
    return jax.ShapeDtypeStruct(x.shape, x.dtype)


def template(like: Any) -> Any:
    """`like` as a pytree of `jax.ShapeDtypeStruct` (values dropped).

    Examples:
      >>> import numpy as np
      >>> template({"w": np.zeros((2, 3)), "b": 1.0})["w"]
      ShapeDtypeStruct(shape=(2, 3), dtype=float32)
    """
    return jax.tree.map(_struct, like)


def resolve_like(matvec: MatVec, like: Any) -> Any:
    """`like`, or the `like` carried by a `LinearOperator` when `like` is `None`."""
    if like is None:
        like = getattr(matvec, "like", None)
        if like is None:
            raise ValueError("like must be a pytree (or matvec a LinearOperator), got None")
    return like


def compute_dtype_of(like: Any) -> jnp.dtype:
    """The common dtype the tools compute in: at least float32 (bfloat16/float16 promoted)."""
    dtype = jnp.result_type(*[leaf.dtype for leaf in jax.tree.leaves(like)])
    return tree_lib.compute_dtype(dtype)


def input_eps(like: Any) -> jax.Array:
    """The largest machine epsilon among the input leaves' dtypes (the matvec's own rounding)."""
    return max(float(jnp.finfo(leaf.dtype).eps) for leaf in jax.tree.leaves(like))


def in_compute_dtype(matvec: MatVec, like: Any) -> tuple[MatVec, Any]:
    """`(matvec_c, like_c)`: the operator and template in the compute dtype.

    `matvec_c(v)` casts `v` to the input dtypes, calls `matvec` and casts the result to the
    compute dtype; when every leaf is already float32 or wider it is `matvec` itself.

    Examples:
      >>> import jax.numpy as jnp
      >>> mv, like = in_compute_dtype(lambda v: 2 * v, jnp.zeros(2, jnp.bfloat16))
      >>> mv(jnp.ones(2)).dtype, like.dtype
      (dtype('float32'), dtype('float32'))
    """
    like = template(resolve_like(matvec, like))
    dtype = compute_dtype_of(like)
    like_c = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, dtype), like)
    if all(leaf.dtype == dtype for leaf in jax.tree.leaves(like)):
        return matvec, like_c

    def matvec_c(v):
        v_in = jax.tree.map(lambda x, t: x.astype(t.dtype), v, like)
        return jax.tree.map(lambda x: jnp.asarray(x).astype(dtype), matvec(v_in))

    return matvec_c, like_c


def nan_unless(ok: jax.Array, tree: Any) -> Any:
    """`tree` where `ok` holds, NaN everywhere otherwise (the honest-failure rule)."""
    return jax.tree.map(lambda x: jnp.where(ok, x, jnp.full_like(x, jnp.nan)), tree)


def tree_norm(tree: Any) -> jax.Array:
    """The Euclidean norm of a pytree (`optax.tree.norm`)."""
    return optax.tree.norm(tree)


__all__ = ["LinearOperator", "compiled_call", "in_compute_dtype", "resolve_like", "template"]
