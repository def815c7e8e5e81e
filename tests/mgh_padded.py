# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The Moré-Garbow-Hillstrom problems padded to one size and switched by index, so that a test
runs every problem through ONE compiled program (`lax.switch` on the index). The padding
coordinates have zero gradient and curvature, so solver iterates and step counts are those of
the unpadded problem. Used by `test_mgh_problems.py` and `test_second_order_entry_points.py`."""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from complexity_optax.testing.mgh_problems import PROBLEMS


class PaddedProblems(NamedTuple):
    cases: list  # (name, fun, n, x0) per problem
    names: list
    branches: list  # branches[i](x): problem i at the padded point x
    switched: object  # switched(x, index): problem `index` at the padded point x
    x0: object  # x0(i): the padded standard start of problem i


def padded_problems(size: int, extra: tuple = ()) -> PaddedProblems:
    """Every problem of `PROBLEMS` (scalable ones at n = `size`) plus the `extra`
    `(name, fun, n, x0)` cases, padded to `size`."""
    cases = [(p.name, p.fun, p.n if not p.scalable else size,
              p.x0(p.n if not p.scalable else size)) for p in PROBLEMS.values()]
    cases += list(extra)
    branches = [_padded(fun, n) for _, fun, n, _ in cases]

    def switched(x, index):
        return jax.lax.switch(index, branches, x)

    def x0(i):
        _, _, n, start = cases[i]
        return np.concatenate([start, np.zeros(size - n)])

    return PaddedProblems(cases, [c[0] for c in cases], branches, switched, x0)


def _padded(fun, n):
    return lambda x: fun(x[:n])
