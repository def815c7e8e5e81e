# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Ellipsoidal trust regions on exact Hessian-vector products (Kohler, Adolphs & Lucchi 2019).

`hvp` (HVPs via `jax.linearize`), `steihaug` (truncated CG) and `lanczos_subproblem`
(GLTR-style) with their dispatch `subproblem`, `ellipsoids` (the diagonal norms) and
`shape` (the radius units), `rule` (ratio, acceptance, radius update, safeguards, validation,
presets: one rule for every entry point), `step` (the one step all entry points run; statuses
are `common.status`, shared with ARC and saddle-free Newton), `transformation`
(the mini-batch optax transformation), `minimize` (the full-batch solver),
and `optimistix_solver` (`TrustRegionMinimiser`, needs optimistix). The Moré-Garbow-Hillstrom
test problems of the tests and the benchmark are `complexity_optax.testing.mgh_problems`.
"""
