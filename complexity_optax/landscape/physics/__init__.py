# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Spin-glass and complexity physics: p-spin Hamiltonians, ABC complexity, Gaussian-field
formulas."""
