# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`optimised_jit`: `jax.jit` with XLA's LLVM optimisation passes back on, for the few tests whose
time goes into running compiled code rather than compiling it.

The root ``conftest.py`` turns those passes off for the whole run
(``--xla_backend_optimization_level=0`` and two more flags), which suits
the thousands of tiny functions the suite compiles. A function that then runs millions of
floating-point operations (a CNN's Hessian-vector products, a dense p-spin gradient over many
steps) is much slower without them: measured on the 2-core CI machine, 20 trust-region steps of
the NNX CNN took 1.0-1.4 s each without the passes and 0.07-0.09 s with them, and 1,000
Hutchinson products of the spectral tests' CNN 6.3 s against 3.4 s. Such tests compile their
heavy function with the passes on (the per-function ``compiler_options`` of `jax.jit`, which
override ``XLA_FLAGS`` for that compilation only).
"""

import functools

import jax

#: XLA's own defaults: optimisation level 2, the expensive LLVM passes on, the fusion emitters.
OPTIMISED = {"xla_backend_optimization_level": 2, "xla_llvm_disable_expensive_passes": False,
             "xla_cpu_use_fusion_emitters": True}

optimised_jit = functools.partial(jax.jit, compiler_options=OPTIMISED)
