# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Convolutions in the layout XLA's CPU backend runs fast, inside loop bodies too.

XLA's CPU backend runs a convolution through its fast (Eigen) kernel only in the canonical
layout: batch, spatial dimensions, feature for the input and the output (`NHWC`), spatial
dimensions, input feature, output feature for the kernel (`HWIO`). Outside a loop its
`ConvCanonicalization` pass inserts the transposes that bring any convolution there; inside a
`while` body (every Lanczos, CG or Hutchinson loop) it does not, and a convolution in another
layout falls back to a naive loop nest ([jax-ml/jax#12868](https://github.com/jax-ml/jax/issues/12868)).
A forward-over-reverse Hessian-vector product always has such convolutions, whatever the
model's own layout: reverse mode writes the kernel's gradient as a convolution with batch and
feature swapped. On a small CNN and 512 MNIST digits one product took 0.83 s inside a loop
against 0.10 s alone (`benchmarks/landscape_torch.py`).

`canonical_convolutions(fun)` traces `fun` and evaluates its program with every
`conv_general_dilated` (without feature or batch groups) replaced by the same convolution
between explicit transposes to and from the canonical layout, inside nested `jit`, `scan`,
`while`, `cond` and `checkpoint` bodies too. It is exact: a transpose moves values, and the
convolution sums the same products. Differentiating the result keeps the layout, since the
JVP of a convolution is a convolution with the same dimension numbers. The Hessian-vector
products of the library (`hvp`, `value_grad_and_hvp` and the landscape's curvature operators)
apply it on the CPU backend; a function without convolutions is evaluated unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
from jax import lax
from jax.extend import core as jex_core

__all__ = ["canonical_convolutions"]

_CONV = lax.conv_general_dilated_p
#: primitives whose bodies are rewritten too (their jaxpr-valued parameters)
_NESTED = frozenset({"jit", "pjit", "closed_call", "scan", "while", "cond", "remat2",
                     "checkpoint"})


def _canonical_specs(num_spatial: int) -> lax.ConvDimensionNumbers:
    """`NHWC`/`HWIO`/`NHWC` for `num_spatial` spatial dimensions, as dimension numbers."""
    spatial = tuple(range(1, num_spatial + 1))
    return lax.ConvDimensionNumbers(
        lhs_spec=(0, num_spatial + 1) + spatial,
        rhs_spec=(num_spatial + 1, num_spatial) + tuple(range(num_spatial)),
        out_spec=(0, num_spatial + 1) + spatial)


def _transpose(x: jax.Array, perm: Sequence[int]) -> jax.Array:
    perm = tuple(perm)
    return x if perm == tuple(range(x.ndim)) else lax.transpose(x, perm)


def _canonical_convolution(lhs: jax.Array, rhs: jax.Array, *,
                           dimension_numbers: lax.ConvDimensionNumbers,
                           **params: Any) -> jax.Array:
    """`conv_general_dilated(lhs, rhs)` computed in the canonical layout.

    Dimension numbers list, for each operand, the axis that holds (batch, feature, spatial...)
    (kernel: output feature, input feature, spatial...); strides, padding and dilations refer
    to the spatial dimensions in that order, which the transposes keep.
    """
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    num_spatial = len(lhs_spec) - 2
    canonical = _canonical_specs(num_spatial)
    lhs = _transpose(lhs, (lhs_spec[0], *lhs_spec[2:], lhs_spec[1]))
    rhs = _transpose(rhs, (*rhs_spec[2:], rhs_spec[1], rhs_spec[0]))
    out = _CONV.bind(lhs, rhs, dimension_numbers=canonical, **params)
    back = [0] * len(out_spec)  # output axis out_spec[i] holds the canonical axis of role i
    for role, axis in enumerate(out_spec):
        back[axis] = canonical.out_spec[role]
    return _transpose(out, back)


def _is_rewritten(eqn: Any) -> bool:
    return (eqn.primitive is _CONV and eqn.params["feature_group_count"] == 1
            and eqn.params["batch_group_count"] == 1)


def _has_convolution(jaxpr: Any) -> bool:
    if any(_is_rewritten(eqn) for eqn in jaxpr.eqns):
        return True
    return any(_has_convolution(sub) for sub in jex_core.subjaxprs(jaxpr))


def _rewrite_closed(closed: Any) -> Any:
    """A `ClosedJaxpr` with the same signature whose convolutions are canonical."""
    if not _has_convolution(closed.jaxpr):
        return closed
    avals = [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in closed.jaxpr.invars]
    return jax.make_jaxpr(functools.partial(_evaluate, closed.jaxpr, closed.consts))(*avals)


def _rewrite_param(value: Any) -> Any:
    if isinstance(value, jex_core.ClosedJaxpr):
        return _rewrite_closed(value)
    if isinstance(value, jex_core.Jaxpr):  # an open body (checkpoint): kept if it needs consts
        if not _has_convolution(value):
            return value
        closed = _rewrite_closed(jex_core.ClosedJaxpr(value, ()))
        return value if closed.consts else closed.jaxpr
    if isinstance(value, tuple) and value and all(
            isinstance(v, jex_core.ClosedJaxpr) for v in value):  # cond's branches
        return tuple(_rewrite_closed(v) for v in value)
    return value


def _evaluate(jaxpr: Any, consts: Sequence[Any], *args: Any) -> list[Any]:
    """`jaxpr` evaluated with its convolutions (nested ones too) in the canonical layout."""
    env: dict[Any, Any] = {}

    def read(var: Any) -> Any:
        return var.val if isinstance(var, jex_core.Literal) else env[var]

    env.update(zip(jaxpr.constvars, consts, strict=True))
    env.update(zip(jaxpr.invars, args, strict=True))
    for eqn in jaxpr.eqns:
        operands = [read(v) for v in eqn.invars]
        if _is_rewritten(eqn):
            outs = [_canonical_convolution(*operands, **eqn.params)]
        else:
            params = eqn.params
            if eqn.primitive.name in _NESTED:
                params = {k: _rewrite_param(v) for k, v in params.items()}
            outs = eqn.primitive.bind(*operands, **eqn.primitive.get_bind_params(params))
            if not eqn.primitive.multiple_results:
                outs = [outs]
        env.update(zip(eqn.outvars, outs, strict=True))
    return [read(v) for v in jaxpr.outvars]


def canonical_convolutions(fun: Callable[..., Any]) -> Callable[..., Any]:
    r"""`fun` with its convolutions computed in XLA CPU's canonical (`NHWC`/`HWIO`) layout.

    The result computes the same values as `fun` (a transpose moves values; the convolution
    sums the same products) and differentiates the same way. Use it for a function that runs
    inside a loop body (`lax.while_loop`, `fori_loop`, `scan`) on the CPU backend, where XLA
    leaves a convolution in any other layout on a naive loop nest: on a small CNN's
    Hessian-vector product, 0.83 s per product in a loop becomes 0.075 s. A function without
    convolutions is evaluated unchanged. Grouped convolutions (`feature_group_count` or
    `batch_group_count` above 1) are left as they are.

    Args:
      fun: any function of arrays and pytrees of arrays that `jax.make_jaxpr` can trace.

    Returns:
      A function with `fun`'s signature and outputs (outputs that are not traced, a Python
      int in an auxiliary dict say, are returned as `fun` returns them).

    Raises:
      TypeError: `fun` is not callable.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from complexity_optax import canonical_convolutions
      >>> def conv(x, w):                        # NCHW input, OIHW kernel (PyTorch's layout)
      ...     return jax.lax.conv_general_dilated(x, w, (1, 1), "SAME",
      ...                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
      >>> x, w = jnp.ones((1, 2, 4, 4)), jnp.ones((3, 2, 3, 3))
      >>> bool(jnp.array_equal(canonical_convolutions(conv)(x, w), conv(x, w)))
      True
      >>> program = str(jax.make_jaxpr(canonical_convolutions(conv))(x, w))
      >>> program.count("transpose"), "lhs_spec=(0, 3, 1, 2)" in program   # NHWC input
      (3, True)

    References:
      XLA's `ConvCanonicalization` pass (CPU backend) and
      [jax-ml/jax#12868](https://github.com/jax-ml/jax/issues/12868).
    """

    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")

    @functools.wraps(fun)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        flat, tree = jax.tree.flatten((args, kwargs))
        outputs = {}

        def flat_fun(*leaves: Any) -> list[Any]:
            call_args, call_kwargs = jax.tree.unflatten(tree, leaves)
            out_leaves, outputs["tree"] = jax.tree.flatten(fun(*call_args, **call_kwargs))
            # what is not traced (a Python int in an aux dict, a constant) is returned as it is
            outputs["kept"] = [None if isinstance(x, jax.core.Tracer) else x for x in out_leaves]
            return [x for x in out_leaves if isinstance(x, jax.core.Tracer)]

        closed = jax.make_jaxpr(flat_fun)(*flat)
        if _has_convolution(closed.jaxpr):
            traced = iter(_evaluate(closed.jaxpr, closed.consts, *flat))
        else:
            traced = iter(jex_core.jaxpr_as_fun(closed)(*flat))
        return jax.tree.unflatten(outputs["tree"], [next(traced) if x is None else x
                                                    for x in outputs["kept"]])

    return wrapped


def on_cpu_backend(fun: Callable[..., Any]) -> Callable[..., Any]:
    """`canonical_convolutions(fun)` when JAX's default backend is the CPU, else `fun`."""
    return canonical_convolutions(fun) if jax.default_backend() == "cpu" else fun
