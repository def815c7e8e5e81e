# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Pytree helpers that `optax.tree` does not provide (one home each)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["all_finite", "compute_dtype", "exact_upcast", "is_low_precision", "tree_dimension",
           "tree_norm", "upcast", "work_map", "working_precision"]


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


def is_low_precision(params: Any) -> bool:
    """Whether some leaf of `params` is narrower than float32 (bfloat16, float16).

    Then both entry points do the solver's arithmetic in float32 (`upcast`): the value, the
    gradient, the HVPs, the subproblem and the ratio, while the parameters, the trial point
    $\theta + s$ and the returned step stay in the parameters' own dtype. bfloat16 cannot
    resolve a step below $2^{-8}|\theta|$, nor a decrease below $2^{-8}|f|$.

    Examples:
      >>> import jax.numpy as jnp
      >>> is_low_precision({"w": jnp.zeros(2, jnp.bfloat16)}), is_low_precision(jnp.zeros(2))
      (True, False)
    """
    return any(compute_dtype(jnp.asarray(x).dtype) != jnp.asarray(x).dtype
               for x in jax.tree.leaves(params))


def exact_upcast(tree: Any) -> Any:
    r"""`upcast(tree)` that keeps every value of the narrow dtype exactly as stored.

    XLA may elide the rounding of a float32 value to bfloat16/float16 that is converted back to
    float32 at once (excess precision, `xla_allow_excess_precision`): `upcast(p + s)` may then
    be the unrounded float32 sum, so $f$ would be evaluated at a point that the caller never
    gets. Audit: a bfloat16 quadratic (cond 1e3, n = 20) had its best f at step 23, then
    accepted every step until max_steps = 300, alternating between two points
    (f = -1.5963469 and -1.5963545): each trial value was that of the unrounded point.
    `lax.reduce_precision` to the leaf's own exponent and mantissa widths is an explicit rounding
    that XLA keeps.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> x = jnp.array([1.0 + 2.0**-10], jnp.float32)
      >>> float(jax.jit(lambda x: exact_upcast(x.astype(jnp.bfloat16))[0])(x))
      1.0
    """
    def one(x):
        x = jnp.asarray(x)
        wide = compute_dtype(x.dtype)
        if wide == x.dtype:
            return x
        info = jnp.finfo(x.dtype)
        return jax.lax.reduce_precision(x.astype(wide), exponent_bits=info.nexp,
                                        mantissa_bits=info.nmant)

    return jax.tree.map(one, tree)


def work_map(params: Any) -> Callable[[Any], Any]:
    """The map from stored parameters to the solvers' arithmetic: `exact_upcast` for
    bfloat16/float16 leaves (`is_low_precision`), else the identity.

    Examples:
      >>> import jax.numpy as jnp
      >>> work_map(jnp.zeros(2, jnp.bfloat16))(jnp.ones(2, jnp.bfloat16)).dtype
      dtype('float32')
    """
    return exact_upcast if is_low_precision(params) else (lambda p: p)


def working_precision(params: Any) -> tuple[Any, Any, Callable[[Any], Any]]:
    """`(params dtype, compute dtype, work)` of a full-batch solve from `params`.

    The full-batch solvers (trust region, ARC, saddle-free Newton) compute in at least float32:
    with bfloat16/float16 parameters, `fun`, its HVPs, the subproblem and the ratio see float32
    values of the stored parameters (`work = work_map(params)`, so a rounded trial point is
    evaluated as rounded), while the iterates stay in the parameters' dtype. float32 and
    float64 are kept as they are.

    Examples:
      >>> import jax.numpy as jnp
      >>> stored, arithmetic, work = working_precision(jnp.zeros(2, jnp.bfloat16))
      >>> stored, arithmetic, work(jnp.ones(2, jnp.bfloat16)).dtype
      (dtype(bfloat16), dtype('float32'), dtype('float32'))
    """
    params_dtype = jnp.result_type(*jax.tree.leaves(params))
    return params_dtype, compute_dtype(params_dtype), work_map(params)


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


def tree_dot(x: Any, y: Any, dtype: Any = None) -> jax.Array:
    r"""$x^\top y$ of two pytrees of one structure, in `dtype` (default: their result type): an
    elementwise product summed, leaf by leaf.

    A sum rather than `optax.tree.vdot`'s `jnp.vdot`: XLA fuses an elementwise reduction into the
    loop that produces its operands (a CG residual update, the HVP's last elementwise op), while
    a dot is a separate library call that needs them written out first (one more pass over n).
    The one tree dot of the Krylov solvers (Steihaug CG, the Lanczos subproblem, the Lanczos of
    ARC and saddle-free Newton).

    Examples:
      >>> import jax.numpy as jnp
      >>> float(tree_dot({"a": jnp.array([1.0, 2.0])}, {"a": jnp.array([3.0, 4.0])}))
      11.0
    """
    xs, ys = jax.tree.leaves(x), jax.tree.leaves(y)
    if dtype is None:
        dtype = jnp.result_type(*xs, *ys) if xs else jnp.float32
    terms = [jnp.sum(a.astype(dtype) * b.astype(dtype)) for a, b in zip(xs, ys, strict=True)]
    return sum(terms) if terms else jnp.zeros((), dtype)


def tree_norm(tree: Any) -> jax.Array:
    r"""$\lVert x\rVert_2$ of a whole pytree in at least float32, in one pass unless it would
    overflow or underflow.

    The plain sum of squares is one fused reduction per leaf. Squares below the smallest normal
    number are lost (at most $n$ of them, $n\,\text{tiny}$ in all), which is below eps relative
    once the sum is at least $n\,\text{tiny}/\text{eps}$. Only when the sum overflows or is
    smaller than that (a `lax.cond`, not paid otherwise) the two-pass form scaled by the largest
    entry $m$, $m\,\lVert x/m\rVert$, is computed. A NaN entry gives NaN; an empty tree 0.

    Examples:
      >>> import jax.numpy as jnp
      >>> float(tree_norm({"a": jnp.array([3.0]), "b": jnp.array([4.0])}))
      5.0
      >>> round(float(tree_norm(jnp.array([3e30, 4e30]))) / 1e30, 4)  # the squares overflow
      5.0
      >>> round(float(tree_norm(jnp.array([3e-30, 4e-30]))) * 1e30, 4)  # the squares underflow
      5.0
      >>> round(float(tree_norm({"a": jnp.zeros(0), "b": jnp.array([3e-30, 4e-30])})) * 1e30, 4)
      5.0
    """
    leaves = [jnp.asarray(x) for x in jax.tree.leaves(tree)]
    if not leaves:
        return jnp.zeros((), jnp.float32)
    dtype = compute_dtype(jnp.result_type(*leaves))
    leaves = [x for x in leaves if x.size] or [jnp.zeros((), dtype)]  # size-0 leaves add 0
    plain = sum(jnp.sum(jnp.square(x.astype(dtype))) for x in leaves)
    size = sum(x.size for x in leaves)
    info = jnp.finfo(dtype)
    smallest = jnp.asarray(float(info.tiny) / float(info.eps) * max(size, 1), dtype)
    resolved = (plain < jnp.inf) & (plain >= smallest)  # False for NaN: the scaled form says NaN

    def scaled(_):
        big = jnp.max(jnp.stack([jnp.max(jnp.abs(x)).astype(dtype) for x in leaves]))
        big = jnp.where((big > 0) & jnp.isfinite(big), big, 1.0)
        total = sum(jnp.sum(jnp.square(x.astype(dtype) / big)) for x in leaves)
        return big * jnp.sqrt(total)

    return jax.lax.cond(resolved, lambda _: jnp.sqrt(plain), scaled, None)
