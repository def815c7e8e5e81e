# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""User functions as pytrees, so that `jax.jit` reuses a compilation for a new closure.

`jax.jit` caches a compiled program on the static part of its arguments. A Python function is
static by identity, so `lambda v: hvp(loss, params, v)` written anew at every call (over new
parameters of the same shapes) traces and compiles again every time. `as_pytree` turns such a
function into a pytree: its code (and everything else that is not an array) is the static part,
compared by value, and the arrays it closes over (in closure cells, `functools.partial`
arguments, or nested closures) are its leaves, traced like any argument. Two closures of the same
code over arrays of the same shapes and dtypes then have the same tree structure, and jax's own
cache serves the second call: no home-made executable cache, nothing re-traced.

What counts as static, compared by value: the code object, the function's module (the identity
of its globals dict), every non-array value in its closure (ints, floats, strings, tuples of
them, `jax.ShapeDtypeStruct`s...) and every non-array module-level value its code reads by name
(a helper function by identity: redefining it in a notebook compiles anew). Unhashable
non-array values (a list, a mutable object) are static by identity. Arrays (`jax.Array`,
`numpy.ndarray`) are leaves, whether closed over or read as module-level globals (a notebook's
`H = ...; hvp = lambda v: H @ v`: a new `H` is this call's value, never the first call's): a
closure over a *Python float* that changes at every call compiles per value (pass an array to
avoid it). Arrays read by a *helper* function the code calls are that helper's business, as
with `jax.jit`: they are captured when the program is traced.
Registered pytrees (`jax.tree_util.Partial`, an Equinox module, a `LinearOperator`) are
flattened as such.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> def make(a):
  ...     return lambda x: jnp.sum(a * x)
  >>> f1, f2 = as_pytree(make(jnp.ones(3))), as_pytree(make(2 * jnp.ones(3)))
  >>> jax.tree.structure(f1) == jax.tree.structure(f2)
  True
  >>> call = jax.jit(lambda f, x: f(x))
  >>> float(call(f1, jnp.ones(3))), float(call(f2, jnp.ones(3)))
  (3.0, 6.0)
  >>> call._cache_size()
  1
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

__all__ = ["PytreeFunction", "as_pytree", "call"]


def _is_array(x: Any) -> bool:
    return isinstance(x, (jax.Array, np.ndarray))  # a tracer is a jax.Array too


class _Static:
    """A non-array value in the static part: equal by type and value when hashable, else by
    identity (the object is kept alive with the key)."""

    __slots__ = ("_hash", "_key", "value")

    def __init__(self, value: Any, identity: bool = False):
        self.value = value
        if identity:  # a module's globals dict
            self._key = (type(value), id(value))
        else:
            try:
                self._key = (type(value), value)
                hash(self._key)
            except TypeError:
                self._key = (type(value), _data_key(value))
        self._hash = hash(self._key)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, _Static) or self._hash != other._hash:
            return False
        a, b = self._key, other._key
        if a[0] is not b[0]:
            return False
        try:
            return bool(a[1] == b[1])
        except Exception:  # noqa: BLE001 - a value whose == is not a bool: compare identity
            return a[1] is b[1]


def _data_key(value: Any) -> Any:
    """A value key for an unhashable container of hashable data, else the identity.

    By value: a dict of hashable data, and any container (a list, a tuple of dicts...) that
    holds a `jax.ShapeDtypeStruct`: the template of a pytree of parameters, rebuilt at every
    call, whatever the parameters' structure (a list of layer dicts is as common as a dict).
    By identity: other lists and mutable objects, the caller's own (a counter the function
    appends to)."""
    if isinstance(value, (dict, list, tuple)):
        leaves, treedef = jax.tree.flatten(value)
        if leaves and all(isinstance(leaf, _DATA) for leaf in leaves) and (
                isinstance(value, dict)
                or any(isinstance(leaf, jax.ShapeDtypeStruct) for leaf in leaves)):
            return (treedef, tuple(leaves))
    return id(value)


_DATA = (jax.ShapeDtypeStruct, int, float, complex, str, bytes, bool, np.dtype)


def _split(value: Any) -> tuple[list, Any]:
    """`(array leaves, static description)` of `value` (functions converted first).

    A value that holds no array and is not a function (a counter list, a config dict) stays one
    static object, by value or identity: the function gets that very object back, so mutating it
    works as in Python.
    """
    converted = jax.tree.map(_convert_callable, value, is_leaf=callable)
    leaves, treedef = jax.tree.flatten(converted)
    if not callable(value) and not any(map(_is_array, leaves)) and not _holds_functions(value):
        leaves, treedef = [value], jax.tree.structure(0)
    dynamic = [leaf for leaf in leaves if _is_array(leaf)]
    static = tuple(None if _is_array(leaf) else _Static(leaf) for leaf in leaves)
    return dynamic, (treedef, static)


def _holds_functions(value: Any) -> bool:
    """A tuple (a `NamedTuple` too) that holds functions: optax's `chain` keeps its members'
    `init`/`update` in tuples, so a new optimizer of the same code and hyper-parameters is
    described by value, not by the identity of the tuple (a tuple cannot be mutated)."""
    return isinstance(value, tuple) and any(
        callable(x) and not _is_array(x) for x in jax.tree.leaves(value, is_leaf=callable))


def _join(dynamic: list, description: Any) -> Any:
    treedef, static = description
    it = iter(dynamic)
    return jax.tree.unflatten(treedef, [next(it) if s is None else s.value for s in static])


def _count(description: Any) -> int:
    return sum(s is None for s in description[1])


@jax.tree_util.register_pytree_node_class
class PytreeFunction:
    """A Python function as a pytree: static code, array leaves (see the module docstring).

    `referenced` describes the module-level names the code reads: `(names of array globals,
    ((name, _Static(value)), ...) for the others)`; the array globals are leaves after the
    closure's."""

    def __init__(self, code: types.CodeType, globals_: dict, name: str, defaults: Any,
                 kwdefaults: Any, cells: tuple, leaves: list, referenced: tuple = ((), ())):
        self.code, self.globals, self.name = code, globals_, name
        self.defaults, self.kwdefaults, self.cells = defaults, kwdefaults, cells
        self.leaves = leaves
        self.referenced = referenced

    def function(self) -> types.FunctionType:
        """The plain Python function (cells and array globals rebuilt from the leaves)."""
        values, start = [], 0
        for description in self.cells:
            n = _count(description)
            values.append(_join(self.leaves[start:start + n], description))
            start += n
        closure = tuple(types.CellType(v) for v in values) or None
        array_names = self.referenced[0]
        globals_ = self.globals
        if array_names:  # the arrays it reads as globals: this call's values (maybe traced)
            globals_ = dict(globals_)
            globals_.update(zip(array_names, self.leaves[start:], strict=True))
        fn = types.FunctionType(self.code, globals_, self.name, self.defaults.value, closure)
        fn.__kwdefaults__ = self.kwdefaults.value
        return fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function()(*args, **kwargs)

    def tree_flatten(self):
        aux = (self.code, _Static(self.globals, identity=True), self.name, self.defaults,
               self.kwdefaults,
               self.cells, self.referenced)
        return self.leaves, aux

    @classmethod
    def tree_unflatten(cls, aux, leaves):
        code, globals_, name, defaults, kwdefaults, cells, referenced = aux
        return cls(code, globals_.value, name, defaults, kwdefaults, cells, list(leaves),
                   referenced)


def _apply(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _convert_callable(x: Any) -> Any:
    return as_pytree(x) if callable(x) and not _is_array(x) else x


def as_pytree(fun: Callable[..., Any]) -> Any:
    """`fun` as a pytree whose leaves are the arrays it closes over (see the module docstring).

    A plain function becomes a `PytreeFunction`; a (nested) `functools.partial` or
    `jax.tree_util.Partial` becomes one `jax.tree_util.Partial` of a module-level apply with the
    converted function and the partial's arguments as leaves; a registered pytree is returned as
    it is; any other callable is static by identity.
    """
    if isinstance(fun, PytreeFunction):
        return fun
    if isinstance(fun, functools.partial):  # jax.tree_util.Partial is one too
        args, keywords = (), {}
        while isinstance(fun, functools.partial):
            args, keywords = fun.args + args, {**fun.keywords, **keywords}
            fun = fun.func
        return jax.tree_util.Partial(_apply, as_pytree(fun), *args, **keywords)
    if isinstance(fun, types.FunctionType):
        try:
            return _closure_to_pytree(fun)
        except RecursionError:  # a closure that refers to itself
            return _opaque(fun)
    if jax.tree.structure(fun) != jax.tree.structure(object()):  # a registered pytree
        # Its callable fields become pytrees too: a `LinearOperator(matvec, like)` built anew
        # at every call (`hessian_operator(loss, params, batches)` in a notebook) holds a new
        # `matvec` closure each time, which would otherwise be a static leaf compared by
        # identity, and every eager call would compile again.
        return jax.tree.map(_convert_callable, fun,
                            is_leaf=lambda x: x is not fun and callable(x))
    return _opaque(fun)


def _closure_to_pytree(fun: types.FunctionType) -> Any:
    cells, leaves = [], []
    for cell in fun.__closure__ or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell (a name assigned after the closure was made)
            return _opaque(fun)
        dynamic, description = _split(contents)
        cells.append(description)
        leaves.extend(dynamic)
    array_names, others = [], []
    for name in _global_names(fun.__code__):
        if name not in fun.__globals__:
            continue  # a builtin, or an attribute name (co_names holds both)
        value = fun.__globals__[name]
        if _is_array(value):
            array_names.append(name)
            leaves.append(value)
        else:
            others.append((name, _Static(value)))
    return PytreeFunction(fun.__code__, fun.__globals__, fun.__name__,
                          _Static(fun.__defaults__), _Static(fun.__kwdefaults__), tuple(cells),
                          leaves, (tuple(array_names), tuple(others)))


@functools.lru_cache(maxsize=4096)
def _global_names(code: types.CodeType) -> tuple[str, ...]:
    """The names `code` (and the functions and comprehensions nested in it) may read as
    globals: `co_names` (it also lists attribute names; those not in the module's dict are
    skipped by the caller)."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.update(_global_names(const))
    return tuple(sorted(names))


@jax.tree_util.register_pytree_node_class
class _Opaque:
    """Any other callable: static by value if hashable, else by identity."""

    def __init__(self, static: _Static):
        self.static = static

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.static.value(*args, **kwargs)

    def tree_flatten(self):
        return [], self.static

    @classmethod
    def tree_unflatten(cls, static, leaves):
        return cls(static)


def _opaque(fun: Callable[..., Any]) -> _Opaque:
    return _Opaque(_Static(fun))


@jax.jit
def _jitted_apply(fn: Any, args: tuple) -> Any:
    return fn(*args)


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` as one compiled program, reused by jax's cache for a new `fn` of the same code
    over arrays of the same shapes (`as_pytree`). Under a transformation (`jit`, `vmap`, `grad`)
    or `jax.disable_jit()` it is just `fn(*args)`: the caller's trace is the program.

    Examples:
      >>> import jax.numpy as jnp
      >>> a = jnp.array([[2.0, 1.0], [1.0, 3.0]])
      >>> call(lambda v: a @ v, jnp.ones(2))
      Array([3., 4.], dtype=float32)
    """
    if jax.config.jax_disable_jit or any(isinstance(x, jax.core.Tracer)
                                         for x in jax.tree.leaves(args)):
        return fn(*args)
    converted = as_pytree(fn)
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(converted)):
        return fn(*args)  # a closure over a tracer: inside someone's trace
    return _jitted_apply(converted, args)
