# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Construction-time validation of hyperparameters: the one validation path.

Every public constructor validates its hyperparameters eagerly, in Python, before any closure is
built, and raises a `ValueError` (bad value) or `TypeError` (bad kind) whose message starts
with the parameter's name.

* **Arrays of any shape.** A concrete NumPy or jax array is checked element by element (a 1-d
  array of learning rates is range-checked like a scalar).
* **Traced values.** A tracer (a hyperparameter injected by `optax.inject_hyperparams` inside
  `jit`) has no value in Python and cannot be checked where it is traced. It is checked by the
  first *concrete* call: `optax.inject_hyperparams(f)(x=…).init(params)` called outside `jit`
  runs `f` with the concrete values, so a bad injected value raises there, at init. No
  `jax.debug` callback or `checkify` is involved.
* **The compute dtype.** Hyperparameters are used in float32. A finite value whose magnitude
  exceeds float32's largest (e.g. `1e39`) is rejected instead of becoming `inf`; a non-zero
  value below float32's smallest normal number (e.g. `1e-39`, flushed to 0 on most
  accelerators) is rejected where 0 is invalid. Pass `dtype=None` to skip this.
* **Integer limits.** `check_int` takes a `maximum`; `INT32_MAX` bounds the
  integers compared with an int32 step counter.

Schedules (callables) pass unchecked at construction: `scalar_schedule` wraps a step-count
schedule so that its output is checked (a scalar real number) where it is evaluated, with an error
that names the parameter.

* **Scalars.** `check_scalar` rejects a concrete (or traced) array with more than one element where
  the hyperparameter is one number; `check_pytree` rejects a pytree argument (a gradient, a start
  point) that is empty, of size 0, or not floating; `as_key` turns an int seed (in the int64
  range that `jax.random.key` takes) or a key into a typed key, naming the parameter otherwise.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

INT32_MAX = 2**31 - 1
"""The largest value of an int32 step counter: integer limits compared with one must not
exceed it."""

_DEFAULT_DTYPE = np.float32


def concrete_float(value: Any) -> float | None:
    """Returns `value` as a Python float if it is a concrete scalar, else `None`.

    Callables (schedules) and traced values give `None`; bools are rejected as a `TypeError`
    by the callers that need numbers, since `True` as a learning rate is always a mistake.
    Only shape-`()` arrays count (use `concrete_values` for arrays of any shape).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    values = concrete_values(value)
    if values is not None and values.shape == ():
        return float(values)
    return None


def concrete_values(value: Any) -> np.ndarray | None:
    """The values of a concrete real NumPy/jax array of any shape as float64, else `None`.

    `None` for tracers, callables, Python scalars and non-real dtypes (bool, complex, object).

    Examples:
      >>> import jax.numpy as jnp
      >>> concrete_values(jnp.array([1.0, -2.0])).tolist()
      [1.0, -2.0]
      >>> concrete_values(3.0) is None
      True
    """
    host = isinstance(value, np.ndarray) or (
        isinstance(value, np.generic) and not isinstance(value, np.bool_))
    if host or (_is_array(value) and not is_traced(value)):
        arr = np.asarray(value)
    else:
        return None
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(
            arr.dtype, np.floating) or arr.dtype.name == "bfloat16"):
        return None
    return arr.astype(np.float64)


def scalar(value: Any) -> Any:
    """`value` as a Python float when concrete; a traced value (`inject_hyperparams`) as is."""
    x = concrete_float(value)
    return value if x is None else x


def _is_array(value: Any) -> bool:
    """Whether `value` is a jax array (possibly traced, e.g. under `inject_hyperparams`)."""
    import jax

    return isinstance(value, (jax.Array, jax.core.Tracer))


def _numbers(name: str, value: Any) -> np.ndarray | None:
    """The concrete values (float64 array, any shape) of a real hyperparameter.

    `None` for a traced or callable one; a `TypeError` for a bool or a non-number; a
    `ValueError` for NaN.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    if isinstance(value, numbers.Real):
        values = np.asarray(float(value), np.float64)
    else:
        values = concrete_values(value)
    if values is None:
        if is_traced(value) or callable(value):
            return None
        raise TypeError(
            f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    if np.any(np.isnan(values)):
        raise ValueError(f"{name} must not be NaN, got {value!r}")
    return values


def _number(name: str, value: Any) -> float | None:
    """The concrete value of a real scalar hyperparameter; `None` for a traced or callable one.

    (Kept for the callers that need one float; arrays of several values give their first.)
    """
    values = _numbers(name, value)
    if values is None:
        return None
    return float(values.reshape(-1)[0]) if values.size else None


def _show(value: Any) -> str:
    return repr(value) if np.ndim(value) == 0 else f"{value!r} (shape {np.shape(value)})"


def check_representable(name: str, value: Any, dtype: Any = _DEFAULT_DTYPE, *,
                        nonzero: bool = False, factor: float = 1.0) -> None:
    """Raises unless every finite `factor · value` fits `dtype` without overflow.

    With `nonzero`, also raises for a non-zero value below the dtype's smallest normal number
    (it would flush to 0). Infinities are left to the callers (they decide whether inf is allowed).

    Examples:
      >>> check_representable("strength", 1e39)
      Traceback (most recent call last):
      ...
      ValueError: strength must fit in float32 (|x| <= 3.4028235e+38), got 1e+39
    """
    if dtype is None or callable(value):
        return
    values = _numbers(name, value)
    if values is None or values.size == 0:
        return
    info = np.finfo(dtype)
    finite = values[np.isfinite(values)]
    with np.errstate(over="ignore"):
        scaled = np.abs(finite) * abs(factor)
    if np.any(scaled > float(info.max)):
        bound = float(info.max) / abs(factor)
        raise ValueError(
            f"{name} must fit in {np.dtype(dtype).name} (|x| <= {bound:.8g}), got {_show(value)}")
    if nonzero and np.any((finite != 0) & (np.abs(finite) < float(info.tiny))):
        raise ValueError(
            f"{name} must be at least {float(info.tiny):.8g} in magnitude (smaller non-zero "
            f"values underflow to 0 in {np.dtype(dtype).name}), got {_show(value)}")


def check_positive(name: str, value: Any, *, allow_zero: bool = False, allow_inf: bool = False,
                   dtype: Any = _DEFAULT_DTYPE) -> None:
    """Raises unless `value` > 0 (or ≥ 0 with `allow_zero`); schedules pass unchecked.

    Arrays are checked element-wise; finite values that overflow `dtype` (default float32) are
    rejected, and so, unless `allow_zero`, are positive values that underflow to 0 in it.
    """
    if callable(value):
        return
    values = _numbers(name, value)
    if values is None or values.size == 0:
        return
    if np.any(np.isinf(values)) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {_show(value)}")
    if allow_zero and np.any(values < 0):
        raise ValueError(f"{name} must be >= 0, got {_show(value)}")
    if not allow_zero and np.any(values <= 0):
        raise ValueError(f"{name} must be > 0, got {_show(value)}")
    check_representable(name, value, dtype, nonzero=not allow_zero)


def check_in_interval(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    dtype: Any = _DEFAULT_DTYPE,
) -> None:
    """Raises unless `value` (every element of an array) lies between `low` and `high`."""
    if callable(value):
        return
    values = _numbers(name, value)
    if values is None or values.size == 0:
        return
    ok_low = values >= low if low_inclusive else values > low
    ok_high = values <= high if high_inclusive else values < high
    if not np.all(ok_low & ok_high):
        lb = "[" if low_inclusive else "("
        hb = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must lie in {lb}{low}, {high}{hb}, got {_show(value)}")
    check_representable(name, value, dtype)


def float_dtype(value: Any) -> np.dtype:
    """The floating dtype jax computes `value` in: its own (canonical) one, else the default float.

    A floating array keeps its dtype (float64 becomes float32 unless `jax_enable_x64`); anything
    else (a Python number, a list, an integer array) is computed in `jnp.result_type(float)`.

    Examples:
      >>> float_dtype(np.float16(1.0))
      dtype('float16')
    """
    import jax
    import jax.numpy as jnp

    dtype = getattr(value, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jnp.floating):
        return np.dtype(jax.dtypes.canonicalize_dtype(dtype))
    return np.dtype(jnp.result_type(float))


def check_real(name: str, value: Any, *, sign: int = 0, nonzero: bool = False,
               allow_inf: bool = False, dtype: Any = "auto") -> np.ndarray | None:
    """Raises unless every concrete value of the array-like `value` is a valid real number.

    The check of the numeric arguments of the theory functions (`landscape.physics`): numbers or
    array-likes of any shape (lists included), evaluated elementwise.

    * A bool, a string, a callable, `None`, a complex number: `TypeError`.
    * NaN: `ValueError`; so is ±∞ unless `allow_inf`.
    * `sign=1`: every value `> 0`; `sign=-1`: `< 0`; `nonzero`: `≠ 0`.
    * `dtype` (default `"auto"`: the dtype jax computes `value` in, `float_dtype`): a finite value
      whose magnitude exceeds the dtype's largest (`1e39` in float32) is a `ValueError`, and,
      where 0 is invalid (`sign` or `nonzero`), so is a non-zero value below its smallest normal
      number (`1e-39`: flushed to 0). `dtype=None` skips this, for the arguments whose huge
      values round to the right limit (points where ±∞ is valid too).

    A traced value (under `jit`, `grad`, `vmap`) has no value to check: the result is `None`,
    and the caller masks invalid values to NaN. Otherwise the values, as float64.

    Examples:
      >>> check_real("radius", 1e-39, sign=1)
      Traceback (most recent call last):
      ...
      ValueError: radius must be at least 1.1754944e-38 in magnitude (smaller non-zero values
      underflow to 0 in float32), got 1e-39
      >>> check_real("x", [0.5, float("inf")], allow_inf=True).tolist()
      [0.5, inf]
    """
    import jax

    if any(is_traced(leaf) for leaf in jax.tree.leaves(value)):
        return None
    bad_type = TypeError(f"{name} must be a real number or array, got {value!r}")
    if isinstance(value, (bool, np.bool_, str, bytes)) or callable(value):
        raise bad_type
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise bad_type from None
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
            or arr.dtype.name == "bfloat16") or arr.dtype == np.bool_:
        raise bad_type
    values = arr.astype(np.float64)

    def fail(what: str, mask: np.ndarray) -> ValueError:
        shown = (repr(value) if values.size == 1
                 else f"an array containing {float(values[mask].flat[0])!r}")
        return ValueError(f"{name} must {what}, got {shown}")

    if np.any(np.isnan(values)):
        raise fail("not be NaN", np.isnan(values))
    if not allow_inf and np.any(np.isinf(values)):
        raise fail("be finite", np.isinf(values))
    if sign > 0 and np.any(values <= 0):
        raise fail("be > 0", values <= 0)
    if sign < 0 and np.any(values >= 0):
        raise fail("be < 0", values >= 0)
    if nonzero and np.any(values == 0):
        raise fail("be non-zero", values == 0)
    if dtype is None:
        return values
    import jax.numpy as jnp

    dtype = float_dtype(value) if isinstance(dtype, str) and dtype == "auto" else np.dtype(dtype)
    info = jnp.finfo(dtype)
    magnitude = np.where(np.isfinite(values), np.abs(values), 0.0)
    if np.any(magnitude > float(info.max)):
        raise fail(f"fit in {dtype.name} (|x| <= {float(info.max):.8g})",
                   magnitude > float(info.max))
    underflow = (magnitude > 0) & (magnitude < float(info.tiny))
    if (sign or nonzero) and np.any(underflow):
        raise fail(f"be at least {float(info.tiny):.8g} in magnitude (smaller non-zero values "
                   f"underflow to 0 in {dtype.name})", underflow)
    return values


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> None:
    """Raises unless `value` is an integer (not a bool) in `[minimum, maximum]`.

    Use `maximum=INT32_MAX` for a limit that is compared with an int32 step counter.

    Examples:
      >>> check_int("warmup_steps", 2**31, minimum=0, maximum=INT32_MAX)
      Traceback (most recent call last):
      ...
      ValueError: warmup_steps must be <= 2147483647 (an int32 step counter), got 2147483648
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        why = " (an int32 step counter)" if maximum == INT32_MAX else ""
        raise ValueError(f"{name} must be <= {maximum}{why}, got {value!r}")


def check_bool(name: str, value: Any) -> None:
    """Raises a `TypeError` naming `name` unless `value` is a Python bool (a flag that selects
    code, such as `throw=` or `sphere=`: 0, 1 or an array are refused).

    Examples:
      >>> check_bool("throw", "yes")
      Traceback (most recent call last):
      ...
      TypeError: throw must be a bool, got 'yes'
    """
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {value!r}")


def is_int_array(value: Any) -> bool:
    """Whether `value` is a scalar integer array (a count injected by `inject_hyperparams`, maybe
    traced): such a value is taken as it is, a Python int is checked (`check_int_or_array`)."""
    import jax.numpy as jnp

    dtype = getattr(value, "dtype", None)
    return dtype is not None and jnp.ndim(value) == 0 and bool(jnp.issubdtype(dtype, jnp.integer))


def check_int_or_array(name: str, value: Any, *, minimum: int | None = None,
                       maximum: int | None = None) -> None:
    """`check_int`, unless `value` is a scalar integer array (`is_int_array`): the one spelling of
    "a concrete int, or an injected int array" for counts such as `inner_steps`, `max_krylov`.

    Examples:
      >>> import jax.numpy as jnp
      >>> check_int_or_array("inner_steps", jnp.int32(5), minimum=1)   # injected: taken as is
      >>> check_int_or_array("inner_steps", 0, minimum=1)
      Traceback (most recent call last):
      ...
      ValueError: inner_steps must be >= 1, got 0
    """
    if not is_int_array(value):
        check_int(name, value, minimum=minimum, maximum=maximum)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raises unless `value` is one of `choices`."""
    choices = tuple(choices)
    try:
        ok = any(value is c or (bool(value == c) and isinstance(value, bool) == isinstance(
            c, bool)) for c in choices)
    except (TypeError, ValueError):  # incomparable (e.g. an array)
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def check_mask(name: str, mask: Any) -> None:
    """Raises unless `mask` is `None`, a callable, or a pytree whose leaves are all bools.

    (optax's mask semantics; a string, a number or a tree with non-bool leaves is a mistake that
    `optax.masked` would report obscurely, or not at all.)

    Examples:
      >>> check_mask("mask", "abc")
      Traceback (most recent call last):
      ...
      TypeError: mask must be None, a callable params -> pytree of bools, or a pytree of bools;
      got 'abc' of type str
    """
    if mask is None or callable(mask):
        return
    import jax

    leaves = jax.tree.leaves(mask)
    bad = [leaf for leaf in leaves if not (
        isinstance(leaf, (bool, np.bool_))
        or (hasattr(leaf, "dtype") and np.dtype(leaf.dtype) == np.bool_ and np.ndim(leaf) == 0))]
    if isinstance(mask, (str, bytes, numbers.Number)) or bad:
        shown = mask if not bad or isinstance(mask, (str, bytes, numbers.Number)) else bad[0]
        raise TypeError(
            f"{name} must be None, a callable params -> pytree of bools, or a pytree of bools; "
            f"got {shown!r} of type {type(shown).__name__}")


def check_scalar_value(name: str, value: Any) -> None:
    """Raises unless `value` has exactly one element (a scalar loss, or shape `(1,)`).

    Shapes are static under `jit`, so this raises at trace time with a clear message instead of
    a reshape error deep inside a schedule.
    """
    size = int(np.prod(np.shape(value))) if not hasattr(value, "size") else int(value.size)
    if size != 1:
        raise ValueError(
            f"{name} must be a scalar (this step's mean loss), got an array of shape "
            f"{tuple(np.shape(value))}; reduce per-example losses first, e.g. value=losses.mean()")


NO_PARAMS_MSG = (
    "You are using a transformation that requires the current value of parameters, but you are "
    "not passing `params` when calling `update`.")
"""The error for a missing ``params`` (optax's wording, without importing ``optax._src``)."""


def is_traced(value: Any) -> bool:
    """Whether `value` is a tracer (e.g. a hyperparameter injected by `inject_hyperparams`)."""
    import jax

    return isinstance(value, jax.core.Tracer)


SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1
"""The int seeds `jax.random.key` takes (int64); others are a `ValueError` naming the parameter."""


def check_scalar(name: str, value: Any) -> None:
    """Raises a `ValueError` unless an array-valued `value` has exactly one element.

    Python numbers, callables (schedules) and `None` pass; a concrete or traced array of shape
    `()` or `(1,)` passes; any other shape (a vector of learning rates, a size-0 array) is an
    error here instead of a broadcasting error deep inside an update.

    Examples:
      >>> import numpy as np
      >>> check_scalar("learning_rate", np.ones(2))
      Traceback (most recent call last):
      ...
      ValueError: learning_rate must be a scalar, got an array of shape (2,)
    """
    if value is None or callable(value) or isinstance(value, (numbers.Number, str, bytes)):
        return
    shape = getattr(value, "shape", None)
    if shape is None:
        return
    if int(np.prod(shape)) != 1:
        raise ValueError(f"{name} must be a scalar, got an array of shape {tuple(shape)}")


def scalar_output(name: str, out: Any, what: str = "schedule") -> Any:
    """`out`, the value a schedule returned for `name`, as a shape-`()` jax array.

    A `TypeError` (naming `name`) unless it is a real number, a `ValueError` unless it has exactly
    one element. Shapes and dtypes are static, so under `jit` this raises at trace time.
    """
    import jax.numpy as jnp

    if isinstance(out, (str, bytes)) or out is None or callable(out):
        raise TypeError(f"{name}: the {what} must return a real number, got {out!r}")
    try:
        arr = jnp.asarray(out)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: the {what} must return a real number, got {out!r}") from None
    if arr.dtype == jnp.bool_ or not (jnp.issubdtype(arr.dtype, jnp.integer)
                                      or jnp.issubdtype(arr.dtype, jnp.floating)):
        raise TypeError(f"{name}: the {what} must return a real number, got dtype {arr.dtype}")
    if arr.size != 1:
        raise ValueError(f"{name}: the {what} must return a scalar, got an array of shape "
                         f"{tuple(arr.shape)}")
    return jnp.reshape(arr, ())


def is_stateful_schedule(value: Any) -> bool:
    """Whether `value` is an optax stateful schedule (`init`, `update`, `__call__`)."""
    return all(callable(getattr(value, attr, None)) for attr in ("init", "update", "__call__"))


def scalar_schedule(name: str, value: Any) -> Any:
    """`value`, or, for a step-count schedule `count -> value`, the schedule wrapped so that each
    value it returns is checked by `scalar_output` (an error naming `name`, not a reshape error).

    Numbers, arrays and stateful schedules are returned as they are.

    Examples:
      >>> import jax.numpy as jnp
      >>> scalar_schedule("learning_rate", lambda count: jnp.ones(2))(0)
      Traceback (most recent call last):
      ...
      ValueError: learning_rate: the schedule must return a scalar, got an array of shape (2,)
    """
    if not callable(value) or is_stateful_schedule(value) or getattr(
            value, "_checked_scalar_schedule", None) == name:
        return value

    @functools.wraps(value)
    def schedule(count):
        return scalar_output(name, value(count))

    schedule._checked_scalar_schedule = name
    return schedule


def check_pytree(name: str, tree: Any, *, allow_empty: bool = False) -> None:
    """Raises unless `tree` is a pytree of floating arrays (a gradient, a start point).

    * A leaf that is not an array or a number (a string, `None` as the whole tree): `TypeError`.
    * A leaf of a non-floating dtype (int, bool, complex): `TypeError`.
    * No leaves, or only leaves of size 0: `ValueError`, unless `allow_empty`.

    Examples:
      >>> check_pytree("grad", {})
      Traceback (most recent call last):
      ...
      ValueError: grad must hold at least one element, got an empty pytree {}
    """
    import jax
    import jax.numpy as jnp

    leaves = jax.tree.leaves(tree)
    for leaf in leaves:
        if isinstance(leaf, (str, bytes, bool, np.bool_)) or not (
                hasattr(leaf, "dtype") or isinstance(leaf, numbers.Real)):
            raise TypeError(f"{name} must be a pytree of floating arrays, got a leaf {leaf!r} of "
                            f"type {type(leaf).__name__}")
        dtype = jnp.result_type(leaf)
        if not jnp.issubdtype(dtype, jnp.floating):
            raise TypeError(f"{name} must be a pytree of floating arrays, got a leaf of dtype "
                            f"{dtype}")
    if not allow_empty and sum(int(np.size(leaf)) for leaf in leaves) == 0:
        raise ValueError(f"{name} must hold at least one element, got an empty pytree "
                         f"{tree!r}" if not leaves else
                         f"{name} must hold at least one element, got only size-0 leaves")


def tree_size(tree: Any) -> int:
    """The number of scalars in `tree` (static: shapes are known under `jit`)."""
    import jax

    return sum(int(np.size(leaf)) for leaf in jax.tree.leaves(tree))


def as_key(key: Any, name: str = "key") -> Any:
    """`key` as a typed `jax.random` key.

    Takes an int seed in `[SEED_MIN, SEED_MAX]` (a Python int or a NumPy integer), a scalar
    integer array (possibly traced by `inject_hyperparams`), a typed key, or a raw `uint32[2]`
    key. Anything else is a `TypeError`, a seed out of range a `ValueError`, both naming `name`.

    Examples:
      >>> as_key(2**64)
      Traceback (most recent call last):
      ...
      ValueError: key must be an int seed in [-9223372036854775808, 9223372036854775807]
      (int64), got 18446744073709551616
    """
    import jax
    import jax.numpy as jnp

    if isinstance(key, (bool, np.bool_)):
        raise TypeError(f"{name} must be a jax.random key or an int seed, got {key!r}")
    if isinstance(key, (numbers.Integral, np.integer)):
        if not SEED_MIN <= int(key) <= SEED_MAX:
            raise ValueError(f"{name} must be an int seed in [{SEED_MIN}, {SEED_MAX}] (int64), "
                             f"got {key!r}")
        return jax.random.key(int(key))
    if not isinstance(key, (jax.Array, np.ndarray)):
        raise TypeError(f"{name} must be a jax.random key or an int seed, got "
                        f"{type(key).__name__}")
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    if jnp.issubdtype(key.dtype, jnp.integer) and key.shape == ():
        return jax.random.key(key)
    if key.dtype == jnp.uint32 and key.shape == (2,):
        return jax.random.wrap_key_data(key)
    raise TypeError(f"{name} must be a jax.random key or an int seed, got an array of dtype "
                    f"{key.dtype} and shape {key.shape}")


def check_callable(name: str, value: Any, what: str = "a callable") -> None:
    """Raises a `TypeError` naming `name` unless `value` is callable (e.g. `hvp_fn=None`)."""
    if not callable(value):
        raise TypeError(f"{name} must be {what}, got {value!r} of type {type(value).__name__}")


def check_like(name: str, tree: Any, like_name: str, like: Any) -> None:
    """Raises a `ValueError` naming `name` unless `tree` has the structure and leaf shapes of
    `like` (e.g. a diagonal preconditioner for a gradient)."""
    import jax

    leaves, treedef = jax.tree.flatten(tree)
    like_leaves, like_def = jax.tree.flatten(like)
    if treedef != like_def:
        raise ValueError(f"{name} must have the structure of {like_name}: got {treedef}, "
                         f"expected {like_def}")
    for leaf, ref in zip(leaves, like_leaves, strict=False):
        if np.shape(leaf) != np.shape(ref):
            raise ValueError(f"{name} must have the leaf shapes of {like_name}: got a leaf of "
                             f"shape {np.shape(leaf)} where {like_name} has {np.shape(ref)}")


def check_positive_tree(name: str, tree: Any) -> None:
    """Raises a `ValueError` naming `name` unless every concrete entry of `tree` is finite and
    `> 0` (a diagonal scaling; traced leaves pass: they are checked where they are concrete)."""
    import jax

    for leaf in jax.tree.leaves(tree):
        if isinstance(leaf, (bool, np.bool_, str, bytes)):
            raise TypeError(f"{name} must be a pytree of positive arrays, got a leaf {leaf!r}")
        values = np.asarray(float(leaf), np.float64) if isinstance(
            leaf, numbers.Real) else concrete_values(leaf)
        if values is None:
            if is_traced(leaf):
                continue
            raise TypeError(f"{name} must be a pytree of positive real arrays, got a leaf of "
                            f"type {type(leaf).__name__}")
        bad = ~(np.isfinite(values) & (values > 0))
        if np.any(bad):
            raise ValueError(f"{name} must have finite entries > 0, got "
                             f"{float(values[bad].flat[0])!r}")


def check_finite_tree(name: str, tree: Any) -> None:
    """Raises a `ValueError` naming `name` if a concrete leaf of `tree` has a NaN or ±inf
    (traced leaves pass: inside `jit` the callers guard non-finite values themselves)."""
    import jax

    for leaf in jax.tree.leaves(tree):
        values = concrete_values(leaf)
        if values is not None and not np.all(np.isfinite(values)):
            bad = values[~np.isfinite(values)]
            raise ValueError(f"{name} must be finite, got an entry {float(bad.flat[0])!r}")


def checked_matvec(name: str, matvec: Any, like_name: str) -> Any:
    """`matvec` wrapped so that each output must have the structure and leaf shapes of its input
    (an error naming `name`, raised at trace time, instead of a `dot_general` or pytree error
    deep inside a Krylov loop)."""

    def wrapped(v):
        out = matvec(v)
        try:
            check_like(f"{name}(v)", out, like_name, v)
        except ValueError as e:
            raise ValueError(f"{name} must map a pytree like {like_name} to one like it: "
                             f"{e}") from None
        return out

    return wrapped
