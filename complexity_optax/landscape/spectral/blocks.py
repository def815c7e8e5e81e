# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Block (per-layer) operators: the diagonal block $A_{BB} = P_B A P_B^\top$ of a selection.

For a subset $B$ of the parameter leaves (a layer, the biases, ...), $P_B$ keeps the leaves in
$B$. The block $A_{BB}$ acts on a pytree that holds only those leaves: it embeds $v_B$ with
zeros elsewhere, applies $A$ and keeps the $B$ leaves of the result. It is a `LinearOperator`, so
every spectral tool gives the block's spectrum, trace, index or density, as in the per-layer
Hessian spectra of PyHessian and of Sagun et al.

References:
  Yao, Gholami, Keutzer & Mahoney, *PyHessian: neural networks through the lens of the
  Hessian*, IEEE BigData 2020 (block spectra); Sagun, Evci, Güney, Dauphin & Bottou, *Empirical
  analysis of the Hessian of over-parametrized neural networks*, ICLR workshop 2018.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from complexity_optax._src.common import checks
from complexity_optax._src.common.types import MatVec
from complexity_optax.landscape.spectral import linear_operator as _linop
from complexity_optax.landscape.spectral.linear_operator import LinearOperator


def leaf_paths(like: Any) -> list[str]:
    """The `jax.tree_util.keystr` path of every leaf, in `jax.tree.leaves` order.

    Examples:
      >>> import jax.numpy as jnp
      >>> leaf_paths({"dense": {"w": jnp.zeros(2), "b": jnp.zeros(1)}})
      ["['dense']['b']", "['dense']['w']"]
    """
    return [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(like)[0]]


def block_operator(matvec: MatVec, like: Any, select: Any) -> LinearOperator:
    """The diagonal block of `A` on the selected leaves, as a `LinearOperator`.

    Args:
      matvec: a symmetric linear map `v -> A v` on pytrees shaped like `like`.
      like: the full pytree template (`None` when `matvec` is a `LinearOperator`).
      select: which leaves form the block: a pytree of bools with the structure of `like`,
        or a predicate `select(path) -> bool` on each leaf's `keystr` path (e.g.
        `lambda path: "conv" in path`).

    Returns:
      A `LinearOperator` on dicts `{path: leaf}` of the selected leaves.

    Examples:
      >>> import jax.numpy as jnp
      >>> a = jnp.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
      >>> def matvec(t):
      ...     out = a @ jnp.concatenate([t["u"], t["v"]])
      ...     return {"u": out[:1], "v": out[1:]}
      >>> block = block_operator(matvec, {"u": jnp.zeros(1), "v": jnp.zeros(2)},
      ...                        lambda path: "v" in path)
      >>> block({"['v']": jnp.array([1.0, 0.0])})             # the lower-right 2 × 2 block
      {"['v']": Array([3., 1.], dtype=float32)}

    References:
      Yao et al., IEEE BigData 2020.
    """
    like = _linop.template(_linop.resolve_like(matvec, like))
    paths = leaf_paths(like)
    leaves, treedef = jax.tree.flatten(like)
    if callable(select):
        chosen = [bool(select(path)) for path in paths]
    else:
        chosen = [bool(flag) for flag in treedef.flatten_up_to(select)]
    if not any(chosen):
        raise ValueError("select must choose at least one leaf, got none")
    block_like = {path: leaf
                  for path, leaf, keep in zip(paths, leaves, chosen, strict=False) if keep}

    def block_matvec(v_block: dict) -> dict:
        full = [v_block[path] if keep else jnp.zeros(leaf.shape, leaf.dtype)
                for path, leaf, keep in zip(paths, leaves, chosen, strict=False)]
        out = jax.tree.leaves(matvec(jax.tree.unflatten(treedef, full)))
        return {path: leaf for path, leaf, keep in zip(paths, out, chosen, strict=False) if keep}

    return LinearOperator(block_matvec, block_like)


def layer_blocks(matvec: MatVec, like: Any, depth: int = 1) -> dict[str, LinearOperator]:
    """One `block_operator` per group of leaves sharing their first `depth` path keys.

    For `{"dense1": {"w", "b"}, "dense2": {...}}` and `depth=1` this gives the per-layer
    blocks `{"['dense1']": ..., "['dense2']": ...}`. `depth` is an integer `>= 0` (`0`: one
    block of every leaf, keyed `""`); anything else is a `TypeError`/`ValueError` naming it.

    Examples:
      >>> import jax.numpy as jnp
      >>> blocks = layer_blocks(lambda t: t, {"a": {"w": jnp.zeros(2)}, "b": jnp.zeros(3)})
      >>> sorted(blocks)
      ["['a']", "['b']"]
    """
    checks.check_int("depth", depth, minimum=0)
    like = _linop.template(_linop.resolve_like(matvec, like))
    flat = jax.tree_util.tree_flatten_with_path(like)[0]
    groups: dict[str, None] = {}
    for path, _ in flat:
        groups.setdefault(jax.tree_util.keystr(path[:depth]), None)

    def selector(group: str) -> Callable[[str], bool]:
        return lambda p: p.startswith(group)

    return {group: block_operator(matvec, like, selector(group)) for group in groups}


__all__ = ["block_operator", "layer_blocks", "leaf_paths"]
