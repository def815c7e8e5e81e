# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Type aliases used across the package (one definition each)."""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["PyTree", "MatVec"]

PyTree = Any
"""A JAX pytree of arrays (the parameters, a gradient, a probe vector)."""

MatVec = Callable[[Any], Any]
"""A linear operator on pytrees, ``v -> A v`` (e.g. a Hessian-vector product)."""
