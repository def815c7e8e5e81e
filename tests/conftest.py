# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Shared pytest configuration of ``tests/`` (the root ``conftest.py`` sets ``JAX_PLATFORMS``).

Tests run in float32 by default; a test that needs float64 uses ``with jax.enable_x64(True):``
locally, so that no global state leaks between tests. Keep shapes few and small: JAX compiles
once per shape and function. End-to-end runs (subprocesses, notebooks, the CLI, the docs build)
carry ``pytest.mark.integration``; anything over ~30 s carries ``pytest.mark.slow``.
"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
