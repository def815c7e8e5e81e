# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""One compiled program per eager call of a numerical routine (`compiled_call`).

Used by the public spectral tools and the trust-region subproblem solvers, whose bodies are
loops over a user's matvec: eagerly, op-by-op execution would compile every `jnp` op and
re-trace every `lax` loop body on each call.
"""

from __future__ import annotations

import collections
import hashlib
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.extend import core as jax_core

from complexity_optax._src.common.checks import is_traced

__all__ = ["compiled_call"]

_COMPILED_CACHE_SIZE = 256
_compiled_cache: collections.OrderedDict[tuple, Any] = collections.OrderedDict()


def compiled_call(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)`, run as one compiled XLA program when called eagerly.

    `args` are pytrees of arrays (keys, vectors, numeric hyperparameters that may be traced;
    `None` leaves are kept); `fn` holds everything else in its closure (the `matvec`, `like`,
    static ints), so it is usually a fresh local function. `fn` is traced once
    (`jax.make_jaxpr`); the arrays it closes over (an operator's matrix, a network's
    parameters and data) become arguments of the program, not constants compiled into it.

    * Eagerly, the program is lowered and compiled once per distinct program: a later call whose
      lowered StableHLO, argument types and placements are the same (the same operator code on
      the same shapes, with any closed-over values) runs the cached executable, where an eager
      `lax.fori_loop` would re-trace and re-compile its body on every call.
    * Under a transformation (`jit`, `vmap`, `grad`: a traced argument or closed-over value, or
      a staging trace) it is `fn(*args)`: the caller's trace already makes one program, and the
      program is exactly what it was without this wrapper (the same fusion and memory).
    * Under `jax.disable_jit()` it is `fn(*args)`, op by op.

    Examples:
      >>> import jax.numpy as jnp
      >>> a = jnp.array([[2.0, 1.0], [1.0, 3.0]])
      >>> compiled_call(lambda v: a @ v, jnp.ones(2))
      Array([3., 4.], dtype=float32)
    """
    # Under `jit` even a fresh constant is a tracer: then the caller's trace is the program.
    if (jax.config.jax_disable_jit or any(map(is_traced, jax.tree.leaves(args)))
            or is_traced(jnp.zeros(()))):
        return fn(*args)
    closed, out_shape = jax.make_jaxpr(fn, return_shape=True)(*args)
    jaxpr, consts = closed.jaxpr, list(closed.consts)
    operands = (consts, jax.tree.leaves(args))

    def program(consts, flat):
        return jax_core.jaxpr_as_fun(jax_core.ClosedJaxpr(jaxpr, consts))(*flat)

    program.__name__ = getattr(fn, "__name__", "program")

    leaves = jax.tree.leaves(operands)
    if any(map(is_traced, leaves)) or closed.effects:  # a traced closure, or effects
        return fn(*args)
    lowered = jax.jit(program).lower(*operands)
    text = lowered.as_text()
    if "callback" in text:  # host callbacks are bound to the Python callable: no reuse
        out = lowered.compile()(*operands)
    else:
        key = (hashlib.sha256(text.encode()).hexdigest(), repr(closed.in_avals),
               repr(closed.out_avals), repr([jax.typeof(c) for c in consts]),
               tuple(getattr(x, "sharding", None) for x in leaves),
               str(jax.config.jax_default_device))
        executable = _compiled_cache.pop(key, None) or lowered.compile()
        _compiled_cache[key] = executable
        while len(_compiled_cache) > _COMPILED_CACHE_SIZE:
            _compiled_cache.popitem(last=False)
        out = executable(*operands)
    return jax.tree.unflatten(jax.tree.structure(out_shape), out)
