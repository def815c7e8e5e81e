# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Root pytest configuration: shared by ``tests/`` and the doctests of ``complexity_optax/``.

The README's test command collects both (``testpaths`` and ``--doctest-modules`` in
``pyproject.toml``). Every run is CPU-only and headless unless the caller says otherwise, so that
the docstring examples give the same numbers on every machine.
"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

# ``python -m complexity_optax`` is the CLI entry point, not a module with examples.
collect_ignore = ["complexity_optax/__main__.py"]
