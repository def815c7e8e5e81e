# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The plain (heavy-ball) SGD step shared by the ready-made optimizers."""

from __future__ import annotations

import optax

from complexity_optax._src.common import checks

__all__ = ["check_momentum", "sgd_scaling"]


def check_momentum(momentum: float | None) -> None:
    if momentum is not None:
        checks.check_in_interval("momentum", momentum, 0.0, 1.0, high_inclusive=False)


def sgd_scaling(
    learning_rate: optax.ScalarOrSchedule, momentum: float | None
) -> list[optax.GradientTransformation]:
    """`[trace(momentum)], scale_by_learning_rate(lr)`: the (heavy-ball) SGD step -lr·g."""
    links = [] if momentum is None else [optax.trace(decay=momentum)]
    return links + [optax.scale_by_learning_rate(learning_rate)]
