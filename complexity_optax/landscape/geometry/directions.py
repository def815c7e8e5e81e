# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Loss along directions in parameter space: 1D and 2D slices (Li et al. 2018).

A slice evaluates $L(\theta + \alpha d_1)$ on a line, or $L(\theta + \alpha d_1 + \beta d_2)$ on
a grid, for directions $d$ shaped like the parameters $\theta$ (any pytree). The directions are
either random with *filter normalisation* (`random_direction`) so that slices of networks with
different weight scales are comparable, or given (e.g. the top Hessian eigenvectors from
`top_eigenvalues(..., return_vectors=True)`, unpacked by `eigenvector_directions`).

Every slice is one jitted program (`lax.map` over the points, so memory stays at a few
parameter-sized buffers; `batch_size` vmaps that many points at a time).

References:
  Li, Xu, Taylor, Studer and Goldstein, *Visualizing the loss landscape of neural nets*,
  NeurIPS 2018 (arXiv:1712.09913).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from complexity_optax._src.common import checks, functions
from complexity_optax._src.common.convolutions import on_cpu_backend
from complexity_optax._src.common.types import PyTree

__all__ = [
    "eigenvector_directions",
    "filter_normalize",
    "loss_slice_1d",
    "loss_slice_2d",
    "random_direction",
]

NORMALIZATIONS = ("filter", "layer", "none")
KERNEL_LAYOUTS = ("flax", "torch")


def _filter_norms(x: jax.Array, kernel_layout: str = "flax") -> jax.Array:
    """Norms of the filters of one leaf, broadcastable against it: one per output index.

    A flax kernel stores inputs first and outputs last (`Dense`: `[in, out]`, `Conv`:
    `[h, w, in, out]`), so a filter (one output unit or channel) is a slice along the last axis.
    A PyTorch weight stores outputs first (`Linear`: `[out, in]`, `Conv2d`: `[out, in, h, w]`),
    so there a filter is a slice along the first axis.
    """
    output_axis = x.ndim - 1 if kernel_layout == "flax" else 0
    axes = tuple(a for a in range(x.ndim) if a != output_axis)
    return jnp.sqrt(jnp.sum(jnp.square(x), axis=axes, keepdims=True))


def filter_normalize(direction: PyTree, params: PyTree, *, normalization: str = "filter",
                     ignore_vectors: bool = True, kernel_layout: str = "flax") -> PyTree:
    r"""Rescales a direction so that each filter has the norm of the matching filter of `params`.

    For every leaf with at least two axes and every filter $f$ (one output unit or channel: a
    slice along the output axis, the last one for flax kernels, the first for PyTorch weights):

    $$
    d_f \leftarrow \frac{d_f}{\lVert d_f\rVert}\,\lVert\theta_f\rVert .
    $$

    `normalization="layer"` does the same with one norm per leaf; `"none"` leaves `direction`
    as it is. Leaves with fewer than two axes (biases, normalisation scales) are set to zero
    when `ignore_vectors` (Li et al.'s choice), else normalised as a whole. A zero filter of the
    direction stays zero (no division by zero).

    Args:
      direction: a pytree like `params`.
      params: the parameters $\theta$ whose scale the direction takes.
      normalization: `"filter"`, `"layer"` or `"none"`.
      ignore_vectors: whether leaves with fewer than two axes get a zero direction.
      kernel_layout: where the output axis of a kernel is, which decides what a filter is:
        `"flax"` (default: outputs last, `Dense` `[in, out]`, `Conv` `[h, w, in, out]`) or
        `"torch"` (outputs first, `Linear` `[out, in]`, `Conv2d` `[out, in, h, w]`). A
        PyTorch-layout weight normalised as `"flax"` gets one norm per *input* column, the
        wrong filters. Applies to every leaf of the pytree; only `"filter"` uses it.

    Returns:
      The normalised direction, a pytree like `params`.

    Examples:
      >>> import jax.numpy as jnp
      >>> params = {"w": jnp.array([[3.0, 0.0], [4.0, 1.0]]), "b": jnp.ones(2)}
      >>> d = filter_normalize({"w": jnp.ones((2, 2)), "b": jnp.ones(2)}, params)
      >>> [round(float(v), 4) for v in jnp.linalg.norm(d["w"], axis=0)], d["b"].tolist()
      ([5.0, 1.0], [0.0, 0.0])
      >>> d = filter_normalize({"w": jnp.ones((2, 2))}, {"w": params["w"]}, kernel_layout="torch")
      >>> [round(float(v), 4) for v in jnp.linalg.norm(d["w"], axis=1)]  # rows are filters
      [3.0, 4.1231]

    References:
      Li et al., *Visualizing the loss landscape of neural nets*, NeurIPS 2018, §4.
    """
    checks.check_choice("normalization", normalization, NORMALIZATIONS)
    checks.check_choice("kernel_layout", kernel_layout, KERNEL_LAYOUTS)
    if normalization == "none":
        return direction

    def one(d, p):
        d = jnp.asarray(d)
        p = jnp.asarray(p).astype(d.dtype)
        if d.ndim < 2:
            if ignore_vectors:
                return jnp.zeros_like(d)
            d_norm, p_norm = jnp.linalg.norm(d), jnp.linalg.norm(p)
        elif normalization == "filter":
            d_norm = _filter_norms(d, kernel_layout)
            p_norm = _filter_norms(p, kernel_layout)
        else:
            d_norm, p_norm = jnp.linalg.norm(d), jnp.linalg.norm(p)
        safe = jnp.where(d_norm > 0, d_norm, 1.0)
        return jnp.where(d_norm > 0, d / safe * p_norm, 0.0).astype(d.dtype)

    return jax.tree.map(one, direction, params)


def random_direction(key: jax.Array, params: PyTree, *, normalization: str = "filter",
                     ignore_vectors: bool = True, kernel_layout: str = "flax") -> PyTree:
    r"""A Gaussian direction shaped like `params`, filter-normalised (Li et al. 2018).

    Draws $d \sim N(0, I)$ leaf by leaf (one key per leaf, in float32 and then cast, so one key
    gives the same direction in every dtype) and applies `filter_normalize`.

    Args:
      key: a `jax.random` key.
      params: the parameters (any pytree of floating arrays).
      normalization: `"filter"` (default), `"layer"` or `"none"`.
      ignore_vectors: zero direction on leaves with fewer than two axes (default, as Li et al.).
      kernel_layout: `"flax"` (default, outputs last) or `"torch"` (outputs first); see
        `filter_normalize`.

    Returns:
      A pytree like `params`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> params = {"w": jnp.full((3, 2), 2.0), "b": jnp.ones(2)}
      >>> d = random_direction(jax.random.key(0), params)
      >>> [round(float(v), 4) for v in jnp.linalg.norm(d["w"], axis=0)]  # ‖θ_f‖ = 2√3
      [3.4641, 3.4641]

    References:
      Li et al., *Visualizing the loss landscape of neural nets*, NeurIPS 2018.
    """
    checks.check_choice("normalization", normalization, NORMALIZATIONS)
    checks.check_choice("kernel_layout", kernel_layout, KERNEL_LAYOUTS)
    if not jax.tree.leaves(params):
        raise ValueError("params must contain at least one array leaf")
    return _random_direction(key, params, normalization=normalization,
                             ignore_vectors=ignore_vectors, kernel_layout=kernel_layout)


@functools.partial(jax.jit, static_argnames=("normalization", "ignore_vectors", "kernel_layout"))
def _random_direction(key, params, *, normalization, ignore_vectors, kernel_layout):
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))
    draws = [jax.random.normal(k, jnp.shape(p), jnp.float32).astype(jnp.result_type(p))
             for k, p in zip(keys, leaves, strict=False)]
    return filter_normalize(jax.tree.unflatten(treedef, draws), params,
                            normalization=normalization, ignore_vectors=ignore_vectors,
                            kernel_layout=kernel_layout)


def eigenvector_directions(eigenvectors: PyTree) -> list[PyTree]:
    r"""Splits stacked eigenvectors (leaves with a leading axis $k$) into $k$ directions.

    `top_eigenvalues(matvec, params, key, k=2, return_vectors=True).eigenvectors` gives the top
    Hessian eigenvectors as one pytree whose leaves have a leading axis $k$; this returns them
    as a list of $k$ pytrees like `params`, for `loss_slice_1d` / `loss_slice_2d`. Eigenvectors
    have unit norm over all parameters, so their coordinates are in parameter-space distance.

    Args:
      eigenvectors: a pytree whose leaves share a leading axis of length $k$.

    Returns:
      A list of $k$ pytrees.

    Examples:
      >>> import jax.numpy as jnp
      >>> [d["w"].tolist() for d in eigenvector_directions({"w": jnp.eye(2)})]
      [[1.0, 0.0], [0.0, 1.0]]
    """
    leaves = jax.tree.leaves(eigenvectors)
    if not leaves or any(jnp.ndim(leaf) < 1 for leaf in leaves):
        raise ValueError("eigenvectors must be a pytree of arrays with a leading axis k")
    k = int(jnp.shape(leaves[0])[0])
    return [jax.tree.map(lambda v, i=i: v[i], eigenvectors) for i in range(k)]


def _axpy_tree(params, pairs):
    """θ + Σ c_i d_i in each leaf's dtype."""
    out = params
    for coeff, d in pairs:
        out = jax.tree.map(lambda p, v, c=coeff: p + (c * v).astype(jnp.result_type(p)), out, d)
    return out


def _check_batch(batch_size) -> None:
    if batch_size is not None:
        checks.check_int("batch_size", batch_size, minimum=1)


def _coordinates(name: str, values) -> jax.Array:
    values = jnp.asarray(values)
    if values.ndim != 1 or values.shape[0] < 1:
        raise ValueError(f"{name} must be a non-empty 1-d array, got shape {values.shape}")
    if not jnp.issubdtype(values.dtype, jnp.floating):
        values = values.astype(jnp.float32)
    return values


# `loss_fn` is a pytree (`functions.as_pytree`): its code is static, its arrays are traced.
@functools.partial(jax.jit, static_argnames=("batch_size",))
def _slice_1d(loss_fn, params, direction, alphas, args, *, batch_size):
    loss = on_cpu_backend(loss_fn)  # a `lax.map` body: convolutions in XLA CPU's fast layout

    def at(alpha):
        return loss(_axpy_tree(params, [(alpha, direction)]), *args)

    return jax.lax.map(at, alphas, batch_size=batch_size)


@functools.partial(jax.jit, static_argnames=("batch_size",))
def _slice_2d(loss_fn, params, d1, d2, alphas, betas, args, *, batch_size):
    a, b = jnp.meshgrid(alphas, betas, indexing="ij")

    loss = on_cpu_backend(loss_fn)

    def at(ab):
        return loss(_axpy_tree(params, [(ab[0], d1), (ab[1], d2)]), *args)

    flat = jax.lax.map(at, jnp.stack([a.ravel(), b.ravel()], axis=1), batch_size=batch_size)
    return flat.reshape(a.shape)


def loss_slice_1d(loss_fn: Callable[..., jax.Array], params: PyTree, direction: PyTree,
                  alphas: Any, *args: Any, batch_size: int | None = None) -> jax.Array:
    r"""The loss on a line: $L(\theta + \alpha d)$ for every $\alpha$ in `alphas`.

    At $\alpha = 0$ the parameters are `params` exactly, so the value there is `loss_fn(params,
    *args)` bit for bit (up to the compiler's fusion of `loss_fn`).

    Args:
      loss_fn: `loss_fn(params, *args) -> scalar`. Passed to the jitted slice as a pytree
        (`common.functions.as_pytree`): a new closure of the same code over arrays of the same
        shapes reuses the compiled program.
      params: the centre $\theta$ (any pytree).
      direction: $d$, a pytree like `params` (e.g. `random_direction`).
      alphas: 1-d array of coordinates.
      *args: passed to `loss_fn` (e.g. a batch `x, y`).
      batch_size: points evaluated together by `vmap` inside the `lax.map` (default 1 at a
        time: the least memory).

    Returns:
      The losses, shape `alphas.shape`.

    Examples:
      >>> import jax.numpy as jnp
      >>> def loss(p):
      ...     return 0.5 * jnp.sum(p["x"] ** 2)
      >>> loss_slice_1d(loss, {"x": jnp.ones(2)}, {"x": jnp.array([1.0, 0.0])},
      ...               jnp.array([-1.0, 0.0, 1.0])).tolist()
      [0.5, 1.0, 2.5]

    References:
      Goodfellow, Vinyals and Saxe, *Qualitatively characterizing neural network optimization
      problems*, ICLR 2015; Li et al., NeurIPS 2018.
    """
    _check_batch(batch_size)
    return _slice_1d(functions.as_pytree(loss_fn), params, direction,
                     _coordinates("alphas", alphas), tuple(args), batch_size=batch_size)


def loss_slice_2d(loss_fn: Callable[..., jax.Array], params: PyTree, direction1: PyTree,
                  direction2: PyTree, alphas: Any, betas: Any, *args: Any,
                  batch_size: int | None = None) -> jax.Array:
    r"""The loss on a plane: `out[i, j]` $= L(\theta + \alpha_i d_1 + \beta_j d_2)$.

    Args:
      loss_fn: `loss_fn(params, *args) -> scalar` (a new closure of the same code over arrays
        of the same shapes reuses the compiled program, see `loss_slice_1d`).
      params: the centre $\theta$.
      direction1: $d_1$, a pytree like `params`.
      direction2: $d_2$, a pytree like `params`.
      alphas: 1-d coordinates along $d_1$.
      betas: 1-d coordinates along $d_2$.
      *args: passed to `loss_fn`.
      batch_size: points evaluated together by `vmap` (default 1 at a time).

    Returns:
      The losses, shape `(len(alphas), len(betas))` (for a contour plot of `out.T` over
      `alphas` and `betas`).

    Examples:
      >>> import jax.numpy as jnp
      >>> def loss(p):
      ...     return jnp.sum(p ** 2)
      >>> loss_slice_2d(loss, jnp.zeros(2), jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]),
      ...               jnp.array([0.0, 1.0]), jnp.array([0.0, 2.0])).tolist()
      [[0.0, 4.0], [1.0, 5.0]]

    References:
      Li et al., *Visualizing the loss landscape of neural nets*, NeurIPS 2018.
    """
    _check_batch(batch_size)
    return _slice_2d(functions.as_pytree(loss_fn), params, direction1, direction2,
                     _coordinates("alphas", alphas), _coordinates("betas", betas), tuple(args),
                     batch_size=batch_size)
