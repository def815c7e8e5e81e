# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Type aliases used across the package (one definition each)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["MatVec", "PyTree"]

PyTree = Any
"""A JAX pytree of arrays (the parameters, a gradient, a probe vector)."""

MatVec = Callable[[Any], Any]
"""A linear operator on pytrees, ``v -> A v`` (e.g. a Hessian-vector product)."""
