# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Regularised Newton methods on Krylov subspaces: adaptive cubic regularisation (ARC) and
saddle-free Newton."""
