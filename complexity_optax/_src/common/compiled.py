# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`compiled_call`: the spectral tools' and subproblem solvers' eager entry, now
`functions.call` (the function as a pytree under `jax.jit`, jax's own cache)."""

from complexity_optax._src.common.functions import call as compiled_call

__all__ = ["compiled_call"]
