# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Matrix-free spectral numerics on pytrees: Hutchinson, Lanczos, SLQ densities, diagonal share."""
