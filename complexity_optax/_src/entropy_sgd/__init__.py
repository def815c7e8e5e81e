# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Entropy-SGD (Chaudhari et al. 2017): descent on the local entropy via inner Langevin steps."""
