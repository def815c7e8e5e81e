# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The shared test contract (`contract`): the registry of every public transformation.

Importable by the tests, the docs generators and downstream projects that wrap these optimizers.
"""
