# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Test material for this library and downstream projects: the shared test contract
(`contract`, the registry of every public transformation) and the Moré-Garbow-Hillstrom problem
set (`mgh_problems`).

Importable by the tests, the docs generators and downstream projects that wrap these optimizers.
"""
