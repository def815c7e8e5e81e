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

Schedules (callables) pass unchecked: they are checked by the code that evaluates them.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

INT32_MAX = 2**31 - 1
"""The largest value of an int32 step counter: integer limits compared with one must not exceed it."""

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
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    if isinstance(value, numbers.Real):
        values = np.asarray(float(value), np.float64)
    else:
        values = concrete_values(value)
    if values is None:
        if is_traced(value) or callable(value):
            return None
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
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
      ValueError: radius must be at least 1.1754944e-38 in magnitude (smaller non-zero values underflow to 0 in float32), got 1e-39
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
      TypeError: mask must be None, a callable params -> pytree of bools, or a pytree of bools; got 'abc' of type str
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
