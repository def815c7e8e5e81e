# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Ellipsoidal trust regions on exact Hessian-vector products (Kohler, Adolphs & Lucchi 2019).

``hvp`` (HVPs via ``jax.linearize``), ``steihaug`` (the CG subproblem solver), ``ellipsoids``
(the diagonal norms), ``rule`` (ratio, acceptance and radius update), ``transformation`` (the
mini-batch optax transformation) and ``minimize`` (the full-batch solver).
"""
