# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""AnnealSGD (Chaudhari & Soatto 2015): `field` (the annealed external field), `anneal_sgd`."""
