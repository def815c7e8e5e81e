# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Construction-time validation of hyperparameters.

Every public constructor validates its hyperparameters eagerly, in Python, before any closure is
built, and raises a ``ValueError`` (bad value) or ``TypeError`` (bad kind) whose message starts
with the parameter's name. Values that are not concrete Python/NumPy numbers (schedules, traced
arrays under ``jit``) are not range-checked here: they are checked where they become concrete.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np


def concrete_float(value: Any) -> float | None:
    """Returns ``value`` as a Python float if it is a concrete scalar, else ``None``.

    Callables (schedules) and traced values give ``None``; bools are rejected as a ``TypeError``
    by the callers that need numbers, since ``True`` as a learning rate is always a mistake.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray) and value.shape == ():
        return float(value)
    try:  # A concrete (non-traced) jax scalar.
        import jax

        if isinstance(value, jax.Array) and value.shape == () and not isinstance(
            value, jax.core.Tracer
        ):
            return float(value)
    except Exception:  # pragma: no cover - defensive: tracers raise on float().
        return None
    return None


def scalar(value: Any) -> Any:
    """``value`` as a Python float when concrete; a traced value (``inject_hyperparams``) as is."""
    x = concrete_float(value)
    return value if x is None else x


def _is_array(value: Any) -> bool:
    """Whether ``value`` is a jax array (possibly traced, e.g. under ``inject_hyperparams``)."""
    import jax

    return isinstance(value, (jax.Array, jax.core.Tracer))


def _number(name: str, value: Any) -> float | None:
    """The concrete value of a real hyperparameter; ``None`` for a traced or callable one."""
    x = concrete_float(value)
    if x is None and (_is_array(value) or callable(value)) and not isinstance(value, bool):
        return None
    if isinstance(value, bool) or x is None:
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    if x is not None and math.isnan(x):
        raise ValueError(f"{name} must not be NaN, got {value!r}")
    return x  # type: ignore[return-value]


def check_positive(name: str, value: Any, *, allow_zero: bool = False, allow_inf: bool = False) -> None:
    """Raises unless ``value`` > 0 (or ≥ 0 with ``allow_zero``); schedules pass unchecked."""
    if callable(value):
        return
    x = _number(name, value)
    if x is None:
        return
    if math.isinf(x) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {value!r}")
    if allow_zero and x < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    if not allow_zero and x <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


def check_in_interval(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> None:
    """Raises unless ``value`` lies in the interval between ``low`` and ``high``."""
    if callable(value):
        return
    x = _number(name, value)
    if x is None:
        return
    ok_low = x >= low if low_inclusive else x > low
    ok_high = x <= high if high_inclusive else x < high
    if not (ok_low and ok_high):
        lb = "[" if low_inclusive else "("
        hb = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must lie in {lb}{low}, {high}{hb}, got {value!r}")


def check_int(name: str, value: Any, *, minimum: int | None = None) -> None:
    """Raises unless ``value`` is an integer (not a bool) that is at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raises unless ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


NO_PARAMS_MSG = (
    "You are using a transformation that requires the current value of parameters, but you are "
    "not passing `params` when calling `update`.")
"""The error for a missing ``params`` (optax's wording, without importing ``optax._src``)."""


def is_traced(value: Any) -> bool:
    """Whether ``value`` is a tracer (e.g. a hyperparameter injected by ``inject_hyperparams``)."""
    import jax

    return isinstance(value, jax.core.Tracer)
