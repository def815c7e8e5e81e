# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
r"""Smooth unconstrained test problems (Moré, Garbow & Hillstrom 1981) as JAX functions.

Each problem is a sum of squares $f(x) = \sum_i r_i(x)^2$ with the standard starting point of
the paper; scalable ones take `n`. Used by the tests and by `benchmarks/trust_region.py`
(the same definitions, so the benchmark measures what the tests check).

References:
  Moré, Garbow & Hillstrom, "Testing unconstrained optimization software", ACM TOMS 7(1),
  1981, pp. 17-41.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

__all__ = ["PROBLEMS", "Problem", "get_problem"]


class Problem(NamedTuple):
    """A test problem: `fun(x)`, `x0(n)`, whether `n` is free, the default `n`."""

    name: str
    fun: Callable
    x0: Callable[[int], np.ndarray]
    scalable: bool
    n: int


def _sumsq(r):
    return jnp.sum(jnp.square(r))


def rosenbrock(x):
    return jnp.sum(100.0 * (x[1::2] - x[::2] ** 2) ** 2 + (1.0 - x[::2]) ** 2)


def freudenstein_roth(x):
    x1, x2 = x[0], x[1]
    return _sumsq(jnp.stack([-13.0 + x1 + ((5.0 - x2) * x2 - 2.0) * x2,
                             -29.0 + x1 + ((x2 + 1.0) * x2 - 14.0) * x2]))


def powell_badly_scaled(x):
    x1, x2 = x[0], x[1]
    return _sumsq(jnp.stack([1e4 * x1 * x2 - 1.0, jnp.exp(-x1) + jnp.exp(-x2) - 1.0001]))


def brown_badly_scaled(x):
    x1, x2 = x[0], x[1]
    return _sumsq(jnp.stack([x1 - 1e6, x2 - 2e-6, x1 * x2 - 2.0]))


def beale(x):
    x1, x2 = x[0], x[1]
    y = jnp.asarray([1.5, 2.25, 2.625], x.dtype)
    i = jnp.arange(1, 4, dtype=x.dtype)
    return _sumsq(y - x1 * (1.0 - x2**i))


def helical_valley(x):
    x1, x2, x3 = x[0], x[1], x[2]
    theta = jnp.arctan(x2 / x1) / (2 * jnp.pi) + jnp.where(x1 < 0, 0.5, 0.0)
    return _sumsq(jnp.stack([10.0 * (x3 - 10.0 * theta),
                             10.0 * (jnp.sqrt(x1**2 + x2**2) - 1.0), x3]))


def box_3d(x):
    t = 0.1 * jnp.arange(1, 11, dtype=x.dtype)
    r = (jnp.exp(-t * x[0]) - jnp.exp(-t * x[1])
         - x[2] * (jnp.exp(-t) - jnp.exp(-10.0 * t)))
    return _sumsq(r)


def wood(x):
    x1, x2, x3, x4 = x[0], x[1], x[2], x[3]
    return (100 * (x2 - x1**2) ** 2 + (1 - x1) ** 2 + 90 * (x4 - x3**2) ** 2 + (1 - x3) ** 2
            + 10.1 * ((x2 - 1) ** 2 + (x4 - 1) ** 2) + 19.8 * (x2 - 1) * (x4 - 1))


def extended_powell_singular(x):
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    return jnp.sum((a + 10 * b) ** 2 + 5 * (c - d) ** 2 + (b - 2 * c) ** 4
                   + 10 * (a - d) ** 4)


def variably_dimensioned(x):
    n = x.shape[0]
    j = jnp.arange(1, n + 1, dtype=x.dtype)
    s = jnp.sum(j * (x - 1.0))
    return jnp.sum((x - 1.0) ** 2) + s**2 + s**4


def penalty_1(x):
    return 1e-5 * jnp.sum((x - 1.0) ** 2) + (jnp.sum(x**2) - 0.25) ** 2


def trigonometric(x):
    n = x.shape[0]
    i = jnp.arange(1, n + 1, dtype=x.dtype)
    r = n - jnp.sum(jnp.cos(x)) + i * (1.0 - jnp.cos(x)) - jnp.sin(x)
    return _sumsq(r)


def broyden_tridiagonal(x):
    left = jnp.concatenate([jnp.zeros(1, x.dtype), x[:-1]])
    right = jnp.concatenate([x[1:], jnp.zeros(1, x.dtype)])
    return _sumsq((3.0 - 2.0 * x) * x - left - 2.0 * right + 1.0)


def discrete_boundary_value(x):
    n = x.shape[0]
    h = 1.0 / (n + 1)
    t = h * jnp.arange(1, n + 1, dtype=x.dtype)
    left = jnp.concatenate([jnp.zeros(1, x.dtype), x[:-1]])
    right = jnp.concatenate([x[1:], jnp.zeros(1, x.dtype)])
    return _sumsq(2 * x - left - right + h**2 * (x + t + 1.0) ** 3 / 2)


def _const(values):
    return lambda n: np.asarray(values, np.float64)


PROBLEMS: dict[str, Problem] = {p.name: p for p in (
    Problem("rosenbrock", rosenbrock, lambda n: np.tile([-1.2, 1.0], n // 2), True, 2),
    Problem("freudenstein_roth", freudenstein_roth, _const([0.5, -2.0]), False, 2),
    Problem("powell_badly_scaled", powell_badly_scaled, _const([0.0, 1.0]), False, 2),
    Problem("brown_badly_scaled", brown_badly_scaled, _const([1.0, 1.0]), False, 2),
    Problem("beale", beale, _const([1.0, 1.0]), False, 2),
    Problem("helical_valley", helical_valley, _const([-1.0, 0.0, 0.0]), False, 3),
    Problem("box_3d", box_3d, _const([0.0, 10.0, 20.0]), False, 3),
    Problem("wood", wood, _const([-3.0, -1.0, -3.0, -1.0]), False, 4),
    Problem("extended_powell_singular", extended_powell_singular,
            lambda n: np.tile([3.0, -1.0, 0.0, 1.0], n // 4), True, 4),
    Problem("variably_dimensioned", variably_dimensioned,
            lambda n: 1.0 - np.arange(1, n + 1) / n, True, 10),
    Problem("penalty_1", penalty_1, lambda n: np.arange(1.0, n + 1), True, 10),
    Problem("trigonometric", trigonometric, lambda n: np.full(n, 1.0 / n), True, 10),
    Problem("broyden_tridiagonal", broyden_tridiagonal, lambda n: np.full(n, -1.0), True, 10),
    Problem("discrete_boundary_value", discrete_boundary_value,
            lambda n: (np.arange(1, n + 1) / (n + 1)) * (np.arange(1, n + 1) / (n + 1) - 1),
            True, 10),
)}


def get_problem(name: str) -> Problem:
    """The problem called `name` (a key of `PROBLEMS`).

    Examples:
      >>> get_problem("beale").x0(2)
      array([1., 1.])
    """
    return PROBLEMS[name]
